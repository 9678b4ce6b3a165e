/**
 * Paired recorders, one interaction. When Teams invites two recorder legs to one call, each leg
 * is a capture (its own record, lifecycle, media session and signed manifest) and both join one
 * interaction whose id every instance derives from the call ({@link pairedInteractionId}). A leg
 * learns where its siblings run before choosing a media host, registers itself once answered,
 * and when the last capture finishes, the captures are merged and the interaction is sealed.
 * Every write to the interaction is conditional, so legs handled at once by different instances
 * never lose each other.
 */
import {
  mergeCaptures,
  pairedInteractionId,
  type InteractionCapture,
  type InteractionRecord,
  type PolicyInvite,
} from '@attest/core';
import type { SiblingPlacement } from './paired-leg-placement';
import type { StructuredLog } from '../logging/structured-log';

/** The interactions made of captures (`pairedinteractions` table). */
export interface PairedInteractionStore {
  get(tenantId: string, interactionId: string): Promise<InteractionRecord | undefined>;
  /**
   * Creates the interaction from `base` when absent, and puts `capture` in its captures
   * (replacing the capture of the same id). Conditional writes; returns the record as written.
   */
  upsertCapture(base: InteractionRecord, capture: InteractionCapture): Promise<InteractionRecord>;
  /** Sets the sealed fields once; false (nothing written) when the interaction is sealed already. */
  markSealed(sealed: InteractionRecord): Promise<boolean>;
}

/** The archive's side: signs and stores the interaction manifest and archives the record. */
export interface InteractionSealer {
  /** Returns the record as archived (with its manifest's name and hash). Idempotent. */
  sealInteraction(interaction: InteractionRecord): Promise<InteractionRecord>;
}

export interface PairedCaptureDeps {
  readonly store: PairedInteractionStore;
  readonly sealer: InteractionSealer;
}

/** A paired invite's leg: the interaction its capture belongs to and its place among the legs. */
export interface PairedLeg {
  readonly interactionId: string;
  readonly legIndex: number;
  readonly legCount: number;
}

/** The interaction a paired invite's capture belongs to; undefined for an unpaired invite. */
export function pairedInteractionOf(
  tenantId: string,
  analysis: PolicyInvite,
): PairedLeg | undefined {
  if (analysis.pairing === undefined || analysis.callChainId === undefined) return undefined;
  return {
    interactionId: pairedInteractionId(
      tenantId,
      analysis.callChainId,
      analysis.observedParticipantId,
    ),
    legIndex: analysis.pairing.legIndex,
    legCount: analysis.pairing.legCount,
  };
}

/**
 * Where the call's other legs run, as far as the interaction knows (never fails the invite);
 * without a store, nothing is known and the leg places itself by the call alone.
 */
export async function siblingPlacement(
  store: PairedInteractionStore | undefined,
  tenantId: string,
  paired: PairedLeg,
  callId: string,
): Promise<SiblingPlacement> {
  const interaction = await store?.get(tenantId, paired.interactionId).catch(() => undefined);
  const siblings = (interaction?.captures ?? []).filter((c) => c.callId !== callId);
  return {
    // The interaction's id is the same for every leg of the call, and only for them.
    pairKey: paired.interactionId,
    hostIds: siblings.flatMap((c) => (c.mediaHostId === undefined ? [] : [c.mediaHostId])),
    zones: siblings.flatMap((c) => (c.zone === undefined ? [] : [c.zone])),
    legIndex: paired.legIndex,
    legCount: paired.legCount,
  };
}

/** The interaction's own record as its first capture's invite shows it. */
export function interactionBaseOf(
  capture: InteractionRecord,
  interactionId: string,
): InteractionRecord {
  return {
    tenantId: capture.tenantId,
    interactionId,
    // The interaction has no call leg of its own: it names the first leg that created it.
    callId: capture.callId,
    callChainId: capture.callChainId,
    type: capture.type,
    direction: capture.direction,
    outcome: 'inProgress',
    invitedAt: capture.invitedAt,
    recordedUserIds: capture.recordedUserIds,
    ...(capture.meetingId === undefined ? {} : { meetingId: capture.meetingId }),
    ...(capture.joinWebUrl === undefined ? {} : { joinWebUrl: capture.joinWebUrl }),
    ...(capture.dialedNumber === undefined ? {} : { dialedNumber: capture.dialedNumber }),
    ...(capture.originNumber === undefined ? {} : { originNumber: capture.originNumber }),
    ...(capture.region === undefined ? {} : { region: capture.region }),
    recordingStatusHistory: [],
    gaps: [],
    captures: [],
  };
}

/** A capture as its leg's record shows it (in progress at the answer, final at the end). */
export function captureOf(
  leg: InteractionRecord,
  legIndex: number,
  zone?: string,
): InteractionCapture {
  const confirmed = leg.recordingStatusHistory.find(
    (change) => change.status === 'recording' && change.isConfirmed,
  );
  return {
    captureId: leg.interactionId,
    callId: leg.callId,
    legIndex,
    ...(leg.mediaHostId === undefined ? {} : { mediaHostId: leg.mediaHostId }),
    ...(zone === undefined ? {} : { zone }),
    ...(leg.answeredAt === undefined ? {} : { answeredAt: leg.answeredAt }),
    outcome: leg.outcome,
    ...(leg.outcomeReason === undefined ? {} : { outcomeReason: leg.outcomeReason }),
    ...(confirmed === undefined ? {} : { recordingConfirmedAt: confirmed.at }),
    ...(leg.endedAt === undefined ? {} : { endedAt: leg.endedAt }),
    gaps: leg.gaps,
    ...(leg.manifestBlobName === undefined
      ? {}
      : { manifestBlobName: leg.manifestBlobName, manifestSha256: leg.manifestSha256 }),
  };
}

/** An answered leg joins its interaction (created by whichever leg comes first). */
export async function joinInteraction(
  deps: PairedCaptureDeps,
  leg: InteractionRecord,
  legIndex: number,
  zone: string | undefined,
): Promise<InteractionRecord> {
  const interactionId = leg.pairedInteractionId;
  if (interactionId === undefined) throw new Error('the leg belongs to no paired interaction');
  return deps.store.upsertCapture(
    interactionBaseOf(leg, interactionId),
    captureOf(leg, legIndex, zone),
  );
}

/**
 * A leg's capture finished: its final state goes into the interaction and, when it was the last
 * capture still running, the captures are merged and the interaction is sealed (by whichever
 * leg finishes last; a repeat finds it sealed). Returns the sealed record when this call sealed.
 */
export async function finishCapture(
  deps: PairedCaptureDeps,
  leg: InteractionRecord,
  log: StructuredLog,
): Promise<InteractionRecord | undefined> {
  const interactionId = leg.pairedInteractionId;
  if (interactionId === undefined) return undefined;
  const known = await deps.store.get(leg.tenantId, interactionId);
  const previous = known?.captures?.find((c) => c.captureId === leg.interactionId);
  const capture = captureOf(leg, previous?.legIndex ?? 0, previous?.zone);
  const interaction = await deps.store.upsertCapture(
    known ?? interactionBaseOf(leg, interactionId),
    capture,
  );
  const captures = interaction.captures ?? [];
  if (captures.some((c) => c.outcome === 'inProgress')) return undefined;
  if (interaction.sealedAt !== undefined && interaction.manifestSha256 !== undefined) {
    log.warn('capture finished after its interaction was sealed', { interactionId });
    return undefined;
  }
  const merged = mergeCaptures(captures);
  const sealed = await deps.sealer.sealInteraction({
    ...interaction,
    outcome: merged.outcome,
    ...(merged.outcomeReason === undefined ? {} : { outcomeReason: merged.outcomeReason }),
    ...(merged.endedAt === undefined ? {} : { endedAt: merged.endedAt }),
    answeredAt: captures
      .map((c) => c.answeredAt)
      .filter((at): at is string => at !== undefined)
      .sort()[0],
    recordingStatusHistory: [],
    gaps: merged.gaps,
    coverage: merged.coverage,
    mediaHostId: undefined,
  });
  await deps.store.markSealed(sealed);
  log.info('paired interaction sealed', {
    interactionId,
    outcome: sealed.outcome,
    captureCount: captures.length,
    gapCount: merged.gaps.length,
  });
  return sealed;
}

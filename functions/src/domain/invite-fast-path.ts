/**
 * The invite fast path: answer a policy invite inside the webhook request (Durable queue polling
 * would cost seconds of Graph's 5 s deadline). Inserts the interaction row (which also tells a
 * duplicate delivered to another instance) while reserving a media session, answers with the
 * media host's config, then starts the call's lifecycle. Every invite ends in exactly one outcome,
 * recorded in one place ({@link recordInviteOutcome}): on the row and in the archive.
 */
import {
  analyseInvite,
  interactionIdForCall,
  lifecycleInstanceId,
  type CallNotification,
  type InteractionRecord,
} from '@attest/core';
import type { ArchiveIntake } from './archive-intake';
import {
  OrchestratorNames,
  type CallLifecycleInput,
  type CallLifecycleSettings,
} from './call-lifecycle.contract';
import type { MediaHostPool } from './media-host-pool';
import {
  interactionBaseOf,
  joinInteraction,
  pairedInteractionOf,
  type PairedLeg,
  siblingPlacement,
  type PairedInteractionStore,
} from './paired-captures';
import type {
  GraphCalls,
  InteractionPatch,
  InteractionStore,
  KnownInteractionRow,
  LifecycleClient,
  MediaHostControl,
} from './recorder-ports';
import type { StructuredLog } from '../logging/structured-log';

export interface InviteSettings {
  readonly servedTenantIds: readonly string[];
  readonly publicBaseUrl: string;
  readonly participantCapacity: number;
  readonly defaultRegion?: string;
  readonly lifecycle: CallLifecycleSettings;
}

export interface InviteDeps {
  readonly graph: GraphCalls;
  readonly pool: MediaHostPool;
  readonly mediaControl: MediaHostControl;
  readonly interactions: InteractionStore;
  readonly archive: ArchiveIntake;
  /** Paired recorders' interactions (absent: every leg is its own interaction). */
  readonly pairs?: PairedInteractionStore;
  readonly settings: InviteSettings;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * What became of an invite: a lifecycle started here; none will ever exist (rejected, not
 * recordable, answer failed); or another instance took it.
 */
export type InviteResult = 'lifecycle' | 'noLifecycle' | 'notMine';

/** An answer is retried only if the retry can still be sent this long after the invite arrived. */
const MAX_ANSWER_RETRY_WAIT_IN_MS = 2_500;

const isServed = (served: readonly string[], tenantId: string | undefined): boolean =>
  tenantId !== undefined && served.some((t) => t.toLowerCase() === tenantId.toLowerCase());

/**
 * Records an invite's outcome: the row's columns (when given) and the archive's copy, at once.
 * A failed row write fails the invite; a failed archive intake is logged (the archive's sweep
 * catches up from the row).
 */
async function recordInviteOutcome(
  deps: InviteDeps,
  record: InteractionRecord,
  rowPatch: InteractionPatch | undefined,
  log: StructuredLog,
): Promise<string | undefined> {
  const [etag] = await Promise.all([
    rowPatch === undefined
      ? undefined
      : deps.interactions.update(record.tenantId, record.interactionId, rowPatch),
    deps.archive
      .recordInvite(record)
      .catch(() => log.warn('archive intake failed', { step: 'recordInvite' })),
  ]);
  return etag;
}

/** The interaction record as the invite shows it (outcome `inProgress`). */
function inviteRecord(
  notification: CallNotification,
  callId: string,
  tokenTenantId: string,
  receivedAt: Date,
): {
  record: InteractionRecord;
  analysis: ReturnType<typeof analyseInvite>;
  paired?: ReturnType<typeof pairedInteractionOf>;
} {
  const analysis = analyseInvite(notification.call);
  const isPolicy = analysis.isPolicyInvite;
  const tenantId = analysis.tenantId ?? tokenTenantId;
  const paired = isPolicy ? pairedInteractionOf(tenantId, analysis) : undefined;
  const record: InteractionRecord = {
    tenantId,
    interactionId: interactionIdForCall(callId),
    callId,
    callChainId: isPolicy ? analysis.callChainId : undefined,
    type: isPolicy ? analysis.type : 'unknown',
    direction: isPolicy ? analysis.direction : 'unknown',
    outcome: 'inProgress',
    invitedAt: receivedAt.toISOString(),
    recordedUserIds: isPolicy ? analysis.recordedUserIds : [],
    ...(isPolicy
      ? {
          meetingId: analysis.meetingId,
          joinWebUrl: analysis.joinWebUrl,
          dialedNumber: analysis.dialedNumber,
          originNumber: analysis.originNumber,
          region: analysis.region,
        }
      : {}),
    recordingStatusHistory: [],
    gaps: [],
    ...(paired === undefined ? {} : { pairedInteractionId: paired.interactionId }),
  };
  return { record, analysis, paired };
}

/**
 * Handles one invite. Never leaves it unanswered: an unexpected failure rejects it `busy` (so a
 * paired recorder can take it) and records it as failed.
 */
export async function handleInvite(
  deps: InviteDeps,
  lifecycle: LifecycleClient,
  notification: CallNotification,
  callId: string,
  tokenTenantId: string,
  receivedAt: Date,
  log: StructuredLog,
  onAnswered: (known: KnownInteractionRow) => void = () => undefined,
): Promise<InviteResult> {
  const invite = inviteRecord(notification, callId, tokenTenantId, receivedAt);
  const { record } = invite;
  try {
    return await answerInvite(deps, lifecycle, invite, receivedAt, log, onAnswered);
  } catch (error) {
    log.error('invite handling failed; rejecting busy', {
      errorName: error instanceof Error ? error.name : 'unknown',
    });
    await deps.graph.reject(record.tenantId, callId, 'busy').catch(() => undefined);
    await recordInviteOutcome(
      deps,
      { ...record, outcome: 'failed', outcomeReason: 'inviteHandlingFailed' },
      { outcome: 'failed', outcomeReason: 'inviteHandlingFailed', callState: 'rejected' },
      log,
    ).catch(() => undefined);
    return 'noLifecycle';
  }
}

async function answerInvite(
  deps: InviteDeps,
  lifecycle: LifecycleClient,
  invite: ReturnType<typeof inviteRecord>,
  receivedAt: Date,
  log: StructuredLog,
  onAnswered: (known: KnownInteractionRow) => void,
): Promise<InviteResult> {
  const { record: base, analysis, paired } = invite;
  const { tenantId, interactionId, callId } = base;

  if (!analysis.isPolicyInvite || !isServed(deps.settings.servedTenantIds, tenantId)) {
    const reason = analysis.isPolicyInvite ? 'tenantNotServed' : analysis.reason;
    const record: InteractionRecord = { ...base, outcome: 'notRecordable', outcomeReason: reason };
    if (!(await deps.interactions.createIfAbsent(record, { callState: 'rejected' })))
      return 'noLifecycle';
    const rejected = await deps.graph.reject(
      tenantId,
      callId,
      analysis.isPolicyInvite ? 'forbidden' : 'none',
    );
    log.warn('invite not recordable', { reason, rejectResult: rejected.kind });
    await recordInviteOutcome(deps, record, undefined, log);
    return 'noLifecycle';
  }

  const extra: Record<string, string> = { callState: 'answering' };
  if (analysis.onBehalfOf?.id !== undefined) extra.onBehalfOfId = analysis.onBehalfOf.id;
  if (analysis.transferor?.id !== undefined) extra.transferorId = analysis.transferor.id;
  // The record insert (which also tells a duplicate delivered to another instance) and the media
  // session are independent: both run at once and the answer waits for both. Creating a session
  // is idempotent per call, so the loser of a duplicate race gets the winner's session back
  // (`isExisting`) and leaves it alone; a session it created itself elsewhere it aborts.
  const region = analysis.region ?? deps.settings.defaultRegion;
  // A paired leg keeps off its siblings' hosts and zones: those already known to the
  // interaction, else it takes a host of its own share of the hosts, which every leg splits
  // alike from the call (both invites may arrive at once, at different instances).
  const pairs = deps.pairs;
  const siblings =
    paired === undefined ? undefined : await siblingPlacement(pairs, tenantId, paired, callId);
  const reserving = deps.pool.reserve(
    {
      callId,
      tenantId,
      interactionId,
      callChainId: analysis.callChainId,
      recordedUserIds: analysis.recordedUserIds,
    },
    region,
    siblings,
  );
  const inserting = deps.interactions
    .createIfAbsent(base, extra)
    .then((isNew) => ({ isNew, at: deps.now() }));
  const abortOwn = async (why: string): Promise<void> => {
    const reserved = await reserving.catch(() => undefined);
    if (reserved?.kind !== 'reserved' || reserved.session.isExisting === true) return;
    await deps.mediaControl
      .abort(
        {
          hostId: reserved.host.hostId,
          controlUrl: reserved.host.controlUrl,
          sessionId: reserved.session.sessionId,
        },
        why,
      )
      .catch(() => undefined);
  };
  let inserted: { isNew: boolean; at: Date };
  try {
    inserted = await inserting;
  } catch (error) {
    await abortOwn('inviteNotRecorded');
    throw error;
  }
  if (!inserted.isNew) {
    await abortOwn('duplicateInvite');
    log.info('duplicate invite ignored');
    return 'notMine';
  }
  const insertedAt = inserted.at;
  const reservation = await reserving;
  if (reservation.kind === 'noCapacity') {
    // Reject at once so a paired recorder can take the call.
    const rejected = await deps.graph.reject(tenantId, callId, 'busy');
    const reason = reservation.hostCount === 0 ? 'noMediaHostRegistered' : 'noMediaHostCapacity';
    log.error('invite rejected busy: no media host capacity', {
      reason,
      hostCount: reservation.hostCount,
      staleHosts: reservation.skipped.stale,
      drainingHosts: reservation.skipped.draining,
      fullHosts: reservation.skipped.full,
      failedHosts: reservation.failedHosts,
      rejectResult: rejected.kind,
    });
    await recordInviteOutcome(
      deps,
      { ...base, outcome: 'rejectedBusy', outcomeReason: reason },
      {
        outcome: 'rejectedBusy',
        outcomeReason: reason,
        callState: 'rejected',
        endedAt: deps.now().toISOString(),
      },
      log,
    );
    return 'noLifecycle';
  }

  const reservedAt = deps.now();
  const { host, session } = reservation;
  const sessionRef = {
    hostId: host.hostId,
    controlUrl: host.controlUrl,
    sessionId: session.sessionId,
  };
  const answerOptions = {
    callbackUri: `${deps.settings.publicBaseUrl}/api/calling/${encodeURIComponent(callId)}`,
    mediaConfigBlob: session.mediaConfigBlob,
    // A meeting invite may look like a group call until `establishing`: group both.
    ...(analysis.isMultiParty && deps.settings.participantCapacity > 0
      ? { participantCapacity: deps.settings.participantCapacity }
      : {}),
  };
  let answer = await deps.graph.answer(tenantId, callId, answerOptions);
  // One retry fits in Graph's 5 s deadline when the wait is short; longer waits would miss it.
  const elapsedInMs = deps.now().getTime() - receivedAt.getTime();
  const retryInMs =
    answer.kind === 'throttled'
      ? answer.retryAfterInMs
      : answer.kind === 'failed' && answer.isRetryable
        ? 200
        : undefined;
  if (retryInMs !== undefined && elapsedInMs + retryInMs < MAX_ANSWER_RETRY_WAIT_IN_MS) {
    log.warn('answer retried', { kind: answer.kind, retryInMs });
    await deps.sleep(retryInMs);
    answer = await deps.graph.answer(tenantId, callId, answerOptions);
  }
  const answeredAt = deps.now();
  // Where the time went (a late answer is a common cause of a failed one): insert, media
  // session, Graph answer.
  const timings = {
    answerLatencyInMs: answeredAt.getTime() - receivedAt.getTime(),
    insertInMs: insertedAt.getTime() - receivedAt.getTime(),
    reserveInMs: reservedAt.getTime() - insertedAt.getTime(),
    graphAnswerInMs: answeredAt.getTime() - reservedAt.getTime(),
  };
  if (answer.kind !== 'ok') {
    await deps.mediaControl.abort(sessionRef, 'answerFailed').catch(() => undefined);
    const reason = `answerFailed:${answer.kind === 'failed' ? answer.status : answer.kind}`;
    log.error('answer failed', { reason, hostId: host.hostId, ...timings });
    await recordInviteOutcome(
      deps,
      { ...base, outcome: 'failed', outcomeReason: reason, mediaHostId: host.hostId },
      { outcome: 'failed', outcomeReason: reason, callState: 'ended', mediaHostId: host.hostId },
      log,
    );
    return 'noLifecycle';
  }
  log.info('invite answered', {
    hostId: host.hostId,
    sessionId: session.sessionId,
    region: host.region,
    ...timings,
    type: base.type,
  });

  const answered: InteractionRecord = {
    ...base,
    answeredAt: answeredAt.toISOString(),
    mediaHostId: host.hostId,
    region: host.region,
  };
  const input: CallLifecycleInput = {
    callId,
    tenantId,
    interactionId,
    session: sessionRef,
    answeredAt: answeredAt.toISOString(),
    settings: deps.settings.lifecycle,
    // The lifecycle completes this record and hands the final one to the archive.
    interaction: answered,
  };
  // Independent of each other, and all done before the invite's 202 (a sender that delivers a
  // call's notifications one after another, as the simulator does, holds `established` until
  // then): at once.
  const answeredPatch = {
    answeredAt: answeredAt.toISOString(),
    mediaHostId: host.hostId,
    mediaSessionId: session.sessionId,
    mediaControlUrl: host.controlUrl,
    lifecycleVersion: OrchestratorNames.callLifecycle,
    region: host.region,
    callState: 'answered',
  };
  const [started, etag] = await Promise.all([
    lifecycle.start(OrchestratorNames.callLifecycle, lifecycleInstanceId(callId), input),
    recordInviteOutcome(deps, answered, answeredPatch, log),
    paired === undefined || pairs === undefined
      ? undefined
      : joinPairedInteraction(deps, pairs, answered, paired, host.zone, log),
  ]);
  if (started === 'alreadyExists') log.warn('lifecycle already existed for a new invite');
  // This instance knows the row as it wrote it: `established` can claim without reading it.
  if (etag !== undefined) onAnswered({ row: { ...answered, ...answeredPatch }, etag });
  return 'lifecycle';
}

/**
 * An answered paired leg joins its interaction (the first creates it, in the archive too). A
 * failure is logged, not fatal: the leg is recorded on its own and its lifecycle's end joins it.
 */
async function joinPairedInteraction(
  deps: InviteDeps,
  pairs: PairedInteractionStore,
  leg: InteractionRecord,
  paired: PairedLeg,
  zone: string | undefined,
  log: StructuredLog,
): Promise<void> {
  try {
    const interaction = await joinInteraction(
      { store: pairs, sealer: deps.archive },
      leg,
      paired.legIndex,
      zone,
    );
    await deps.archive.recordInvite({
      ...interactionBaseOf(leg, paired.interactionId),
      captures: interaction.captures,
    });
    log.info('leg joined its paired interaction', {
      pairedInteractionId: paired.interactionId,
      legIndex: paired.legIndex,
      captureCount: interaction.captures?.length ?? 0,
    });
  } catch (error) {
    log.warn('leg could not join its paired interaction', {
      pairedInteractionId: paired.interactionId,
      errorName: error instanceof Error ? error.name : 'unknown',
    });
  }
}

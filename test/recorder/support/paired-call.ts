/**
 * A paired call whose first leg's media host is killed mid-call, for the portal's paired playback
 * test: two speakers, two recorder legs on two media hosts;
 * the host of leg 0 (the capture that covers an interval first) dies once its committed media
 * overlaps the other's by a second, so the interaction's timeline switches capture at the kill.
 */
import { TENANT } from '../../simulator/support/fixtures';
import { waitFor } from './recorder-stack';
import { pairedCalls, type LegRow } from './paired-calls';
import type { ChildMediaHost, PairedStack } from './paired-stack';

export interface PairedCallWithKill {
  /** The host killed mid-call (leg 0's). */
  readonly victim: ChildMediaHost;
  /** When it was killed, ms since the epoch. */
  readonly killedAt: number;
  /** The leg recorded to the end on the other host (its row, finished). */
  readonly survivor: LegRow;
  /** The interaction both captures belong to. */
  readonly interactionId: string;
}

/**
 * Places the call (25 s, both speaking: the kill waits for overlapping media and still leaves the
 * survivor seconds to record on a loaded machine), kills leg 0's host, and waits until both legs'
 * lifecycles have finished. Needs a stack of at least two media hosts with a concurrent-invitation
 * policy.
 */
export async function recordPairedCallWithKilledHost(
  paired: PairedStack,
): Promise<PairedCallWithKill> {
  const calls = pairedCalls(paired);
  const rowOf = async (callId: string) =>
    (await calls.api<{ interaction: LegRow }>('GET', `/api/calls/${encodeURIComponent(callId)}`))
      .body.interaction;
  const conversationId = await calls.traderCalls(25_000);
  const recording = await calls.recordingLegs(conversationId, 2);
  // Paired legs are ordered by their participant ids (the invite's `pairedRecorders`).
  const [first, second] = [...recording].sort((a, b) =>
    (a.myParticipantId ?? '') < (b.myParticipantId ?? '') ? -1 : 1,
  );
  const dying = await rowOf(first!.callId);
  const surviving = await rowOf(second!.callId);
  const victim = paired.mediaHosts.find((h) => h.hostId === dying.mediaHostId);
  if (victim === undefined || surviving.mediaHostId === victim.hostId)
    throw new Error('the two legs are not on two of the stack media hosts');
  // The victim dies once its committed media overlaps the survivor's by a second: a kill before
  // that (a loaded machine delays the survivor's start or the victim's commits by seconds) would
  // leave an interval no capture holds, a gap of the interaction these tests are not about.
  await paired.untilMediaOverlaps(TENANT, dying.interactionId, surviving.interactionId);
  victim.kill();
  const killedAt = Date.now();
  // The function app finds the host gone (two missed health checks a second apart) and tells
  // Teams that leg no longer records; the other leg records on to the call's end.
  await waitFor(
    async () =>
      (await calls.simOutcome(conversationId)).legs.some(
        (l) => l.callId === first!.callId && l.recordingStatus !== 'recording',
      )
        ? true
        : undefined,
    'the lost leg to stop recording',
    60_000,
  );
  const [, survivor] = await Promise.all([
    calls.finishedLeg(first!.callId),
    calls.finishedLeg(second!.callId),
  ]);
  if (survivor.pairedInteractionId === undefined)
    throw new Error('the surviving leg belongs to no paired interaction');
  return { victim, killedAt, survivor, interactionId: survivor.pairedInteractionId };
}

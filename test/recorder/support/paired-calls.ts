/**
 * Calls through a paired stack and what the tests read back: the simulator's view of a call and
 * its legs, a leg's stored row once its lifecycle finished, the sealed interaction, and the
 * check that two legs built one recorded interaction.
 */
import type { CoverageInterval, InteractionCapture, RecordingGap } from '@attest/core';
import { TENANT, USERS } from '../../simulator/support/fixtures';
import type { PairedStack } from './paired-stack';
import { waitFor } from './recorder-stack';

export interface SimLeg {
  callId: string;
  state: string;
  recordingStatus: string;
  /** The leg's own participant id: paired legs are ordered by it. */
  myParticipantId?: string;
}
export interface SimOutcome {
  state: string;
  endReason: string | null;
  participants: { userId: string | null; status: string }[];
  legs: SimLeg[];
}
export interface LegRow {
  interactionId: string;
  outcome: string;
  outcomeReason?: string;
  mediaHostId?: string;
  pairedInteractionId?: string;
  gaps: RecordingGap[];
  manifestSha256?: string;
  callChainId?: string;
}
export interface Interaction {
  interactionId: string;
  callChainId: string;
  outcome: string;
  gaps: RecordingGap[];
  captures?: InteractionCapture[];
  coverage?: CoverageInterval[];
  manifestSha256?: string;
}

export function pairedCalls(paired: PairedStack) {
  const control = <T>(method: string, path: string, body?: unknown) =>
    paired.stack.control<T>(method, path, body);
  const api = <T>(method: string, path: string, body?: unknown) =>
    paired.stack.api<T>(method, path, { token: paired.adminToken, body });
  const simOutcome = async (conversationId: string): Promise<SimOutcome> =>
    (await control<SimOutcome>('GET', `/_sim/calls/${conversationId}`)).body;
  const sealedInteraction = (interactionId: string): Promise<Interaction> =>
    waitFor(
      async () => {
        const view = await api<{ interaction: Interaction }>(
          'GET',
          `/api/archive/interactions/${TENANT}/${interactionId}`,
        );
        return view.status === 200 && view.body.interaction.manifestSha256 !== undefined
          ? view.body.interaction
          : undefined;
      },
      `interaction ${interactionId} to be sealed`,
      60_000,
    );

  return {
    control,
    api,
    simOutcome,
    /** A P2P call of the recorded trader to an unrecorded colleague, both talking. */
    async traderCalls(durationInMs: number): Promise<string> {
      const started = await control<{ conversationId: string }>('POST', '/_sim/calls', {
        tenantId: TENANT,
        kind: 'p2p',
        durationInMs,
        participants: [
          {
            user: USERS.trader,
            role: 'caller',
            timeline: [{ atInMs: 0, action: 'speak', durationInMs: durationInMs - 500 }],
          },
          {
            user: USERS.unrecorded,
            role: 'callee',
            timeline: [{ atInMs: 500, action: 'speak', durationInMs: durationInMs - 1500 }],
          },
        ],
      });
      if (started.status !== 201)
        throw new Error(`the simulator did not start the call: ${started.status}`);
      return started.body.conversationId;
    },
    recordingLegs(conversationId: string, count: number): Promise<SimLeg[]> {
      return waitFor(
        async () => {
          const legs = (await simOutcome(conversationId)).legs.filter(
            (l) => l.recordingStatus === 'recording',
          );
          return legs.length >= count ? legs : undefined;
        },
        `${count} recording legs`,
        60_000,
      );
    },
    /** The leg's stored row once its lifecycle finished. */
    finishedLeg(callId: string): Promise<LegRow> {
      return waitFor(
        async () => {
          const view = await api<{
            interaction?: LegRow;
            orchestration?: { runtimeStatus: string };
          }>('GET', `/api/calls/${encodeURIComponent(callId)}`);
          return view.status === 200 && view.body.orchestration?.runtimeStatus === 'Completed'
            ? view.body.interaction
            : undefined;
        },
        `call ${callId} to finish`,
        90_000,
      );
    },
    sealedInteraction,
    /**
     * Both legs on different media hosts, as captures of one sealed interaction whose outcome is
     * `recorded`, with a merged timeline naming the covering capture of every interval and no gap
     * in the recorded window. Returns the interaction.
     */
    async expectOneRecordedInteraction(rows: readonly LegRow[]): Promise<Interaction> {
      const [a, b] = rows as [LegRow, LegRow];
      expect(a.mediaHostId).toBeDefined();
      expect(b.mediaHostId).toBeDefined();
      expect(a.mediaHostId).not.toBe(b.mediaHostId);
      expect(a.pairedInteractionId).toMatch(/^ix-/);
      expect(b.pairedInteractionId).toBe(a.pairedInteractionId);
      const interaction = await sealedInteraction(a.pairedInteractionId!);
      expect(interaction.outcome).toBe('recorded');
      expect(interaction.captures?.map((c) => c.captureId).sort()).toEqual(
        [a.interactionId, b.interactionId].sort(),
      );
      expect(new Set(interaction.captures?.map((c) => c.mediaHostId)).size).toBe(2);
      expect(interaction.captures?.every((c) => c.manifestSha256 !== undefined)).toBe(true);
      // Every interval of the recorded window names the capture that covers it.
      expect(interaction.coverage?.length).toBeGreaterThan(0);
      expect(interaction.coverage?.every((i) => i.captureId !== undefined)).toBe(true);
      expect(inWindow(interaction.gaps)).toEqual([]);
      return interaction;
    },
  };
}

/** The gaps inside the recorded window (the span before the recording status is expected). */
export const inWindow = (gaps: readonly RecordingGap[]): RecordingGap[] =>
  gaps.filter((g) => g.reason !== 'beforeRecordingStatus');

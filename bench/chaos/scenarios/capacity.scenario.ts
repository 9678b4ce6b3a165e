/**
 * 150 % of capacity: the only media host taking calls has room for 2 sessions and 3 calls arrive
 * at once. The third must be rejected `busy` (fast: the figure is the slowest reject, invite
 * delivered → reject received, in ms), the two admitted calls recorded with zero gaps.
 */
import type { ChaosScenario } from '../scenario';
import { finishedCall, startCall, waitUntil } from '../calls';
import { startChildMediaHost, withOnlyChildHost } from '../child-media-host';
import type { ChaosStack } from '../stack';

const CAPACITY = 2;
const CALLS = 3;

interface SimCall {
  readonly legs: { readonly callId: string; readonly outcome: string }[];
}
interface CallView {
  readonly interaction?: { readonly gaps?: readonly { readonly reason: string }[] };
}

/**
 * The span from `established` to the recording-status 200, when no media may be stored (Graph's
 * rule): every call has it; it says nothing about capacity.
 */
const PROTOCOL_GAP = 'beforeRecordingStatus';

export const capacity150: ChaosScenario<ChaosStack> = {
  name: 'capacity-150',
  description: `${CALLS} calls at once on a media host with room for ${CAPACITY}: the excess rejected busy, no gap on admitted calls`,
  async run(context) {
    const stack = await context.stack();
    const host = await startChildMediaHost(stack, {
      hostId: 'chaos-media-small',
      maxSessions: CAPACITY,
    });
    try {
      const legs = await withOnlyChildHost(stack, async () => {
        const conversations = await Promise.all(
          Array.from({ length: CALLS }, () => startCall(stack, 6_000)),
        );
        // Every leg answered or rejected before the drain ends.
        return Promise.all(
          conversations.map((conversationId) =>
            waitUntil(async () => {
              const sim = await stack.control<SimCall>('GET', `/_sim/calls/${conversationId}`);
              const leg = sim.body.legs[0];
              return leg !== undefined && leg.outcome !== 'pending'
                ? { conversationId, callId: leg.callId }
                : undefined;
            }, 'each invite to be answered or rejected'),
          ),
        );
      });
      const rejects = stack.sim.graph.requests.filter(
        (r) => r.operation === 'reject' && legs.some((l) => l.callId === r.callId),
      );
      const busy = rejects.filter(
        (r) => (r.body as { reason?: string } | undefined)?.reason === 'busy',
      );
      const rejectLatencies = busy.map((r) => {
        const invite = stack.sim.deliverer.records.find(
          (d) => d.callId === r.callId && d.kind === 'invite',
        );
        return invite === undefined ? Number.NaN : Date.parse(r.at) - Date.parse(invite.at);
      });
      const admitted = legs.filter((l) => !rejects.some((r) => r.callId === l.callId));
      const admin = await stack.userToken('admin');
      const gapReasons: string[] = [];
      const outcomes: string[] = [];
      for (const leg of admitted) {
        const call = await finishedCall(stack, leg.conversationId, leg.callId);
        outcomes.push(call.outcome);
        const view = await stack.api<CallView>(
          'GET',
          `/api/calls/${encodeURIComponent(leg.callId)}`,
          {
            token: admin,
          },
        );
        gapReasons.push(...(view.body.interaction?.gaps ?? []).map((g) => g.reason));
      }
      const gaps = gapReasons.filter((r) => r !== PROTOCOL_GAP).length;
      return {
        isPassed:
          busy.length === CALLS - CAPACITY &&
          admitted.length === CAPACITY &&
          outcomes.every((o) => o === 'recorded') &&
          gaps === 0,
        figures: {
          calls: CALLS,
          capacity: CAPACITY,
          rejectedBusy: busy.length,
          slowestBusyRejectInMs: rejectLatencies.length === 0 ? null : Math.max(...rejectLatencies),
          admitted: admitted.length,
          admittedOutcomes: outcomes.join(','),
          gapsOnAdmitted: gaps,
          beforeRecordingStatusGaps: gapReasons.length - gaps,
          gapReasons: [...new Set(gapReasons)].join(',') || null,
        },
      };
    } finally {
      await host.stop();
    }
  },
};

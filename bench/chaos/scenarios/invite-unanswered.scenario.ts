/**
 * An invite not answered within 5 s: Graph throttles the recorder's answer (429, Retry-After
 * 10 s), so Teams' 5 s deadline passes. The policy requires the recorder before the call is
 * established, so the call must be cancelled; the completeness report must list the invite with
 * its outcome and reason (the evidence).
 */
import type { ChaosScenario } from '../scenario';
import { startCall, waitUntil } from '../calls';
import { USERS, type ChaosStack } from '../stack';

interface SimOutcome {
  readonly state: string;
  readonly endReason: string | null;
  readonly participants: { readonly userId: string | null; readonly status: string }[];
  readonly legs: { readonly callId: string; readonly outcome: string }[];
}
interface CompletenessAnswer {
  readonly report?: {
    readonly items: readonly { interactionId: string; outcome: string; reason?: string }[];
  };
}

export const inviteUnanswered: ChaosScenario<ChaosStack> = {
  name: 'invite-unanswered',
  description:
    'the answer is throttled past the 5 s deadline: the call is cancelled per policy and the invite is in the completeness report',
  async run(context) {
    const stack = await context.stack();
    const from = new Date(Date.now() - 60_000).toISOString();
    await stack.control('POST', '/_sim/throttle', {
      count: 3,
      retryAfterInS: 10,
      operation: 'answer',
    });
    let outcome: SimOutcome;
    try {
      const conversationId = await startCall(stack);
      outcome = await waitUntil(async () => {
        const answer = await stack.control<SimOutcome>('GET', `/_sim/calls/${conversationId}`);
        return answer.body.legs[0]?.outcome === 'timedOut' || answer.body.state === 'ended'
          ? answer.body
          : undefined;
      }, 'the invite deadline');
    } finally {
      await stack.control('POST', '/_sim/throttle', { count: 0, retryAfterInS: 1 });
    }
    const callId = outcome.legs[0]?.callId ?? '';
    context.progress('waiting for the invite to reach the completeness report');
    const admin = await stack.userToken('admin');
    const item = await waitUntil(
      async () => {
        const to = new Date(Date.now() + 60_000).toISOString();
        const report = await stack.api<CompletenessAnswer>(
          'GET',
          `/api/archive/reports/completeness?from=${from}&to=${to}`,
          { token: admin },
        );
        return report.body.report?.items.find(
          (i) => i.interactionId === callId && i.outcome !== 'inProgress',
        );
      },
      'the completeness report to list the invite',
      60_000,
    );
    const trader = outcome.participants.find((p) => p.userId === USERS.trader);
    const isCancelled = outcome.legs[0]?.outcome === 'timedOut' && trader?.status !== 'recorded';
    return {
      isPassed: isCancelled && item.outcome !== 'recorded',
      figures: {
        legOutcome: outcome.legs[0]?.outcome ?? null,
        callState: outcome.state,
        endReason: outcome.endReason,
        traderStatus: trader?.status ?? null,
        reportOutcome: item.outcome,
        reportReason: item.reason ?? null,
      },
    };
  },
};

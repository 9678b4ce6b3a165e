/**
 * Duplicated and replayed webhooks: a recorded call's invite is delivered again, twice at once
 * while the call runs and once after it ended (signed, as Teams would retry). Effects counted:
 * answers sent to Graph for the leg, lifecycles, and the stored outcome, which must not change.
 */
import type { ChaosScenario } from '../scenario';
import { finishedCall, legOf, startCall } from '../calls';
import type { ChaosStack } from '../stack';

export const replayedWebhooks: ChaosScenario<ChaosStack> = {
  name: 'replayed-webhooks',
  description:
    'an invite delivered twice at once during the call and again after it: one answer, one outcome',
  async run(context) {
    const stack = await context.stack();
    const conversationId = await startCall(stack);
    const callId = await legOf(stack, conversationId);
    const invite = stack.sim.deliverer.records.find(
      (d) => d.callId === callId && d.kind === 'invite',
    );
    if (invite === undefined) throw new Error('the invite delivery was not found');
    const replay = () =>
      stack.control('POST', '/_sim/notifications', { callId, body: invite.body });
    const during = await Promise.all([replay(), replay()]);
    const first = await finishedCall(stack, conversationId, callId);
    const after = await replay();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const again = await finishedCall(stack, conversationId, callId);
    const answers = stack.sim.graph.requests.filter(
      (r) => r.callId === callId && r.operation === 'answer',
    ).length;
    const replaysDelivered = [...during, after].filter((r) => r.status < 300).length;
    return {
      isPassed:
        answers === 1 && first.outcome === again.outcome && first.outcome.startsWith('recorded'),
      figures: {
        replaysDelivered,
        answersSent: answers,
        outcomeBefore: first.outcome,
        outcomeAfter: again.outcome,
      },
    };
  },
};

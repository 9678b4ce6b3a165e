/**
 * The OpenID metadata endpoints (Teams' webhook keys, Entra's tenant keys) answer 503 while two
 * calls are recorded and an admin reads the call list: the recorder keeps verifying with the keys
 * it has, so answers keep flowing and the calls are recorded.
 */
import type { ChaosScenario } from '../scenario';
import { recordCall } from '../calls';
import type { ChaosStack } from '../stack';

export const metadataDown: ChaosScenario<ChaosStack> = {
  name: 'openid-metadata-down',
  description:
    'OpenID metadata and keys answer 503 during two calls: invites still answered, calls recorded',
  async run(context) {
    const stack = await context.stack();
    const answersBefore = stack.sim.graph.requests.filter((r) => r.operation === 'answer').length;
    stack.sim.entra.isMetadataUnavailable = true;
    let calls;
    let adminStatus: number;
    try {
      calls = await Promise.all([recordCall(stack), recordCall(stack)]);
      adminStatus = (
        await stack.api('GET', '/api/calls', { token: await stack.userToken('admin') })
      ).status;
    } finally {
      stack.sim.entra.isMetadataUnavailable = false;
    }
    const answers =
      stack.sim.graph.requests.filter((r) => r.operation === 'answer').length - answersBefore;
    // Gaps here would come from the loaded machine, not from the metadata: both count as captured.
    const captured = calls.filter((c) => c.outcome.startsWith('recorded')).length;
    return {
      isPassed: answers === 2 && captured === 2 && adminStatus === 200,
      figures: {
        calls: calls.length,
        answersSent: answers,
        captured,
        outcomes: calls.map((c) => c.outcome).join(','),
        adminApiStatus: adminStatus,
        metadataRequestsRefused: stack.sim.entra.metadataRequestsRefused,
      },
    };
  },
};

/** Calls the portal's browser suites place through the simulator, and waits on their state. */
import { TENANT } from '../../simulator/support/fixtures';
import { waitFor } from '../../recorder/support/recorder-stack';
import type { PortalStack } from './portal-stack';

export interface CallView {
  interaction?: {
    interactionId: string;
    outcome: string;
    mediaSessionId?: string;
    sealedAt?: string;
  };
  orchestration?: { runtimeStatus: string };
}

export interface Leg {
  readonly callId: string;
  readonly recordingStatus: string;
  readonly state: string;
}

export function scenarios(portal: PortalStack) {
  const startCall = async (spec: Record<string, unknown>): Promise<string> => {
    const started = await portal.stack.control<{ conversationId: string }>('POST', '/_sim/calls', {
      tenantId: TENANT,
      ...spec,
    });
    if (started.status !== 201) throw new Error(`the simulator answered ${started.status}`);
    return started.body.conversationId;
  };
  const legOf = async (conversationId: string, predicate: (l: Leg) => boolean) =>
    waitFor(
      async () => {
        const outcome = await portal.stack.control<{ legs: Leg[] }>(
          'GET',
          `/_sim/calls/${conversationId}`,
        );
        return outcome.body.legs.find(predicate);
      },
      'a call leg',
      30_000,
    );
  const callView = async (callId: string) =>
    portal.stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(callId)}`, {
      token: portal.adminToken,
    });
  const finished = (callId: string) =>
    waitFor(
      async () => {
        const view = await callView(callId);
        return view.status === 200 && view.body.orchestration?.runtimeStatus === 'Completed'
          ? view.body
          : undefined;
      },
      `call ${callId} to finish`,
      60_000,
    );
  const sealed = (callId: string) =>
    waitFor(
      async () => ((await callView(callId)).body.interaction?.sealedAt ? true : undefined),
      'the seal',
      60_000,
    );
  return { startCall, legOf, callView, finished, sealed };
}

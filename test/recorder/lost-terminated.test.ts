/**
 * A call that ends while the function app is down: Teams' `terminated` finds nothing listening
 * and is not redelivered. When the app starts again, its start-up call check has every running
 * lifecycle ask Graph for its call; this one learns the call is gone and ends at once, recorded,
 * instead of at its next keepAlive (15 minutes, the default kept here, so a lifecycle waiting for
 * it never ends within the test). Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import type { MediaSessionStatus } from '@attest/core';
import { CONTROL_KEY } from '../media-host/media-host-fixtures';
import { TENANT, USERS } from '../simulator/support/fixtures';
import { startRecorderStackWithMedia, waitFor, type RecorderStack } from './support/recorder-stack';

interface SimCall {
  state: string;
  legs: { callId: string; recordingStatus: string }[];
}
interface CallView {
  interaction?: {
    outcome: string;
    mediaSessionId?: string;
    gaps: { reason: string }[];
  };
  orchestration?: { runtimeStatus: string };
}
interface GraphRequest {
  operation: string;
  callId?: string;
  status: number;
}

jest.setTimeout(180_000);

describe('a call that ends while the function app is down', () => {
  let stack: RecorderStack;
  let adminToken: string;

  beforeAll(async () => {
    ({ stack, adminToken } = await startRecorderStackWithMedia());
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('ends its lifecycle when the app is back, recorded, without waiting for the keepAlive', async () => {
    const started = await stack.control<{ conversationId: string }>('POST', '/_sim/calls', {
      tenantId: TENANT,
      kind: 'p2p',
      // Ended by the test while the app is down, long before this.
      durationInMs: 600_000,
      participants: [
        {
          user: USERS.trader,
          role: 'caller',
          timeline: [{ atInMs: 0, action: 'speak', durationInMs: 600_000 }],
        },
        { user: USERS.unrecorded, role: 'callee' },
      ],
    });
    expect(started.status).toBe(201);
    const { conversationId } = started.body;
    const simCall = async (): Promise<SimCall> =>
      (await stack.control<SimCall>('GET', `/_sim/calls/${conversationId}`)).body;
    const leg = await waitFor(
      async () => (await simCall()).legs.find((l) => l.recordingStatus === 'recording'),
      'recording to be confirmed',
      60_000,
    );
    const callView = async (): Promise<CallView> =>
      (
        await stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(leg.callId)}`, {
          token: adminToken,
        })
      ).body;
    const sessionId = await waitFor(
      async () => (await callView()).interaction?.mediaSessionId,
      'the media session id',
    );
    // Media stored before the outage: the recording has something to seal.
    await waitFor(
      async () => {
        const status = await fetch(`${stack.media!.controlUrl}/v1/sessions/${sessionId}`, {
          headers: { authorization: `Bearer ${CONTROL_KEY}` },
        });
        const session = status.ok ? ((await status.json()) as MediaSessionStatus) : undefined;
        return session !== undefined && session.bytesCommitted > 0 ? true : undefined;
      },
      'media to be committed',
      60_000,
    );

    await stack.stopFunctionApp();
    expect((await stack.control('POST', `/_sim/calls/${conversationId}/end`)).status).toBe(200);
    await waitFor(
      async () => ((await simCall()).state === 'ended' ? true : undefined),
      'the call to end in Teams',
    );
    await stack.startFunctionApp();

    const finished = await waitFor(
      async () => {
        const view = await callView();
        return view.orchestration?.runtimeStatus === 'Completed' ? view : undefined;
      },
      'the lifecycle to end after the restart',
      90_000,
    );
    expect(finished.interaction?.outcome).toBe('recorded');
    const requests = (await stack.control<GraphRequest[]>('GET', '/_sim/graph-requests')).body
      .filter((r) => r.callId === leg.callId)
      .map((r) => `${r.operation} ${r.status}`);
    // It asked Graph for the call once the app was back, and never needed a keepAlive.
    expect(requests.some((r) => /^getCall (200|404)$/.test(r))).toBe(true);
    expect(requests.filter((r) => r.startsWith('keepAlive'))).toEqual([]);
  });
});

/**
 * End to end through the local stack: the Teams simulator delivers signed invites and
 * notifications to the function app in the local Functions host (local durable engine), which
 * answers on a real media host. Asserts on the simulator's view and on the stored records.
 * Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { TENANT, USERS } from '../simulator/support/fixtures';
import { startRecorderStack, waitFor, type RecorderStack } from './support/recorder-stack';

interface SimLeg { callId: string; state: string; outcome: string; recordingStatus: string; terminatedResult: { code: number; subcode: number } | null }
interface SimOutcome { state: string; endReason: string | null; participants: { userId: string | null; status: string; notice: { kind: string } | null }[]; legs: SimLeg[] }
interface CallView {
  interaction?: Record<string, unknown> & { outcome: string; recordingStatusHistory: { status: string; isConfirmed: boolean }[] };
  orchestration?: { runtimeStatus: string };
  participants: { participantId: string; identityId?: string; msis: string[] }[];
  streams: { kind: string; msi: string; bytes: number }[];
}

describe('recorder end to end', () => {
  let stack: RecorderStack;
  let adminToken: string;

  beforeAll(async () => {
    stack = await startRecorderStack();
    await stack.startMedia();
    adminToken = await stack.adminToken();
    // The first heartbeat registers the media host.
    await waitFor(async () => {
      const hosts = await stack.api<{ value: unknown[] }>('GET', '/api/mediahosts', { token: adminToken });
      return hosts.status === 200 && hosts.body.value.length > 0 ? true : undefined;
    }, 'the media host heartbeat');
  });
  afterAll(async () => {
    await stack?.close();
  });

  const startCall = async (spec: Record<string, unknown>): Promise<string> => {
    const started = await stack.control<{ conversationId: string }>('POST', '/_sim/calls', { tenantId: TENANT, ...spec });
    expect(started.status).toBe(201);
    return started.body.conversationId;
  };
  const simOutcome = async (conversationId: string): Promise<SimOutcome> => (await stack.control<SimOutcome>('GET', `/_sim/calls/${conversationId}`)).body;
  const callView = async (callId: string): Promise<{ status: number; body: CallView }> => stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(callId)}`, { token: adminToken });
  const finished = async (callId: string): Promise<CallView> =>
    waitFor(async () => {
      const view = await callView(callId);
      return view.status === 200 && view.body.orchestration?.runtimeStatus === 'Completed' ? view.body : undefined;
    }, `call ${callId} to finish`, 40_000);

  it('records a P2P VoIP call of a recorded caller: answer, recording notice, sealed interaction', async () => {
    const conversationId = await startCall({
      kind: 'p2p',
      durationInMs: 3000,
      participants: [
        { user: USERS.trader, role: 'caller', timeline: [{ atInMs: 0, action: 'speak', durationInMs: 1500 }] },
        { user: USERS.unrecorded, role: 'callee', timeline: [{ atInMs: 1500, action: 'speak', durationInMs: 1000 }] },
      ],
    });
    const leg = await waitFor(async () => (await simOutcome(conversationId)).legs.find((l) => l.recordingStatus === 'recording'), 'recording to be confirmed');
    const during = await simOutcome(conversationId);
    expect(during.participants.find((p) => p.userId === USERS.trader)).toMatchObject({ status: 'recorded', notice: { kind: 'visual' } });

    const view = await finished(leg.callId);
    const ended = await simOutcome(conversationId);
    expect(ended).toMatchObject({ state: 'ended', endReason: 'completed' });
    expect(view.interaction).toMatchObject({
      tenantId: TENANT,
      type: 'p2p',
      direction: 'outbound',
      outcome: 'recorded',
      recordedUserIds: [USERS.trader],
      resultCode: expect.any(Number),
    });
    expect(view.interaction?.recordingStatusHistory).toEqual([expect.objectContaining({ status: 'recording', isConfirmed: true })]);
    expect(view.streams.length).toBeGreaterThan(0);
    expect(view.streams.every((s) => s.bytes > 0)).toBe(true);
    expect(view.participants.map((p) => p.identityId).sort()).toEqual([USERS.trader, USERS.unrecorded].sort());
  });
});

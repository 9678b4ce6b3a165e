/**
 * End to end through the local stack: the recording status set on the webhook's fast path, its
 * idempotency, Graph throttling, the lifecycle's fallback, and honest outcomes for calls that
 * stored no media. Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { TENANT, USERS } from '../simulator/support/fixtures';
import { startRecorderStackWithMedia, waitFor, type RecorderStack } from './support/recorder-stack';

/** The simulator's deadline for the recording status after it delivered `established`. */
const RECORDING_STATUS_DEADLINE_IN_MS = 2_000;

interface SimLeg {
  callId: string;
  recordingStatus: string;
}
interface Gap {
  reason: string;
  startedAt: string;
  endedAt: string;
  streamId?: string;
}
interface CallView {
  interaction?: Record<string, unknown> & {
    outcome: string;
    outcomeReason?: string;
    gaps: Gap[];
    recordingStatusHistory: { status: string; isConfirmed: boolean }[];
  };
  orchestration?: { runtimeStatus: string };
  streams: { bytes: number }[];
}
interface GraphRequest {
  operation: string;
  callId?: string;
  status: number;
  at: string;
}
interface Delivery {
  callId: string;
  kind: string;
  at: string;
}

describe('recording start end to end', () => {
  let stack: RecorderStack;
  let adminToken: string;

  beforeAll(async () => {
    ({ stack, adminToken } = await startRecorderStackWithMedia());
  });
  afterAll(async () => {
    await stack?.close();
  });

  const traderCalls = async (
    durationInMs: number,
    options: { isSilent?: boolean; delivery?: Record<string, boolean> } = {},
  ): Promise<string> => {
    const started = await stack.control<{ conversationId: string }>('POST', '/_sim/calls', {
      tenantId: TENANT,
      kind: 'p2p',
      durationInMs,
      ...(options.delivery === undefined ? {} : { delivery: options.delivery }),
      participants: [
        {
          user: USERS.trader,
          role: 'caller',
          ...(options.isSilent === true
            ? {}
            : {
                timeline: [{ atInMs: 0, action: 'speak', durationInMs: durationInMs - 500 }],
              }),
        },
        { user: USERS.unrecorded, role: 'callee' },
      ],
    });
    expect(started.status).toBe(201);
    return started.body.conversationId;
  };
  const legOf = async (conversationId: string): Promise<SimLeg> =>
    waitFor(async () => {
      const call = await stack.control<{ legs: SimLeg[] }>('GET', `/_sim/calls/${conversationId}`);
      return call.body.legs[0];
    }, 'the recorder leg');
  const finished = async (callId: string): Promise<CallView> =>
    waitFor(
      async () => {
        const view = await stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(callId)}`, {
          token: adminToken,
        });
        return view.status === 200 && view.body.orchestration?.runtimeStatus === 'Completed'
          ? view.body
          : undefined;
      },
      `call ${callId} to finish`,
      40_000,
    );
  const graphRequests = async (callId: string): Promise<GraphRequest[]> =>
    (await stack.control<GraphRequest[]>('GET', '/_sim/graph-requests')).body.filter(
      (r) => r.callId === callId,
    );
  const statusCodes = async (callId: string): Promise<number[]> =>
    (await graphRequests(callId))
      .filter((r) => r.operation === 'updateRecordingStatus')
      .map((r) => r.status);
  const logged = (callId: string, message: string): boolean =>
    stack.logs.records.some((r) => {
      const text = JSON.stringify(r);
      return text.includes(callId) && text.includes(message);
    });

  it('sets the recording status on the fast path, within the simulator deadline', async () => {
    const leg = await legOf(await traderCalls(2500));
    const view = await finished(leg.callId);
    const deliveries = (await stack.control<Delivery[]>('GET', '/_sim/deliveries')).body;
    const established = deliveries.find((d) => d.callId === leg.callId && d.kind === 'established');
    const status = (await graphRequests(leg.callId)).find(
      (r) => r.operation === 'updateRecordingStatus',
    );
    expect(established).toBeDefined();
    expect(Date.parse(status!.at) - Date.parse(established!.at)).toBeLessThan(
      RECORDING_STATUS_DEADLINE_IN_MS,
    );
    expect(logged(leg.callId, 'recording started on the fast path')).toBe(true);
    expect(view.interaction).toMatchObject({ outcome: 'recorded' });
    expect(view.interaction?.recordingStatusHistory).toEqual([
      expect.objectContaining({ status: 'recording', isConfirmed: true }),
    ]);
    expect(view.interaction?.gaps.map((g) => g.reason)).toEqual(['beforeRecordingStatus']);
    expect(view.streams.some((s) => s.bytes > 0)).toBe(true);
  });

  it('sends it once for a duplicate established and for established before establishing', async () => {
    const leg = await legOf(
      await traderCalls(3000, { delivery: { establishedBeforeEstablishing: true } }),
    );
    await waitFor(
      async () => ((await statusCodes(leg.callId)).length > 0 ? true : undefined),
      'the recording status',
    );
    const injected = await stack.control('POST', '/_sim/notifications', {
      callId: leg.callId,
      body: {
        value: [
          {
            '@odata.type': '#microsoft.graph.commsNotification',
            changeType: 'updated',
            resourceUrl: `/communications/calls/${leg.callId}`,
            resourceData: { '@odata.type': '#microsoft.graph.call', state: 'established' },
          },
        ],
      },
    });
    expect(injected.status).toBe(200);
    const view = await finished(leg.callId);
    expect(await statusCodes(leg.callId)).toEqual([200]);
    expect(view.interaction?.outcome).toBe('recorded');
  });

  it('retries a 429 on the fast path after its Retry-After, then persists', async () => {
    await stack.control('POST', '/_sim/throttle', {
      count: 1,
      retryAfterInS: 1,
      operation: 'updateRecordingStatus',
    });
    const leg = await legOf(await traderCalls(4000));
    const view = await finished(leg.callId);
    expect(await statusCodes(leg.callId)).toEqual([429, 200]);
    expect(logged(leg.callId, 'recording started on the fast path')).toBe(true);
    expect(view.interaction?.outcome).toBe('recorded');
  });

  it('lets the lifecycle set the status when the fast path cannot wait for Retry-After', async () => {
    await stack.control('POST', '/_sim/throttle', {
      count: 1,
      retryAfterInS: 4,
      operation: 'updateRecordingStatus',
    });
    const leg = await legOf(await traderCalls(8000));
    const view = await finished(leg.callId);
    expect(await statusCodes(leg.callId)).toEqual([429, 200]);
    expect(logged(leg.callId, 'fast path did not set the recording status')).toBe(true);
    expect(logged(leg.callId, 'recording started on the fast path')).toBe(false);
    expect(view.interaction?.outcome).toBe('recorded');
    const before = view.interaction?.gaps.find((g) => g.reason === 'beforeRecordingStatus');
    expect(Date.parse(before!.endedAt) - Date.parse(before!.startedAt)).toBeGreaterThanOrEqual(
      4_000,
    );
  });

  it('says so when the call ends before the recording status, with no media stored', async () => {
    await stack.control('POST', '/_sim/throttle', {
      count: 1,
      retryAfterInS: 5,
      operation: 'updateRecordingStatus',
    });
    const leg = await legOf(await traderCalls(1500));
    const view = await finished(leg.callId);
    expect(view.interaction).toMatchObject({
      outcome: 'failed',
      outcomeReason: 'endedBeforeRecordingStatus',
    });
    expect(view.interaction?.gaps.map((g) => g.reason)).toEqual(['beforeRecordingStatus']);
    expect(view.streams).toEqual([]);
  });

  it('ends noMedia with a gap when no media arrives after the recording status', async () => {
    const leg = await legOf(await traderCalls(2500, { isSilent: true }));
    const view = await finished(leg.callId);
    expect(await statusCodes(leg.callId)).toEqual([200]);
    expect(view.interaction).toMatchObject({
      outcome: 'noMedia',
      outcomeReason: 'noMediaReceived',
    });
    expect(view.interaction?.gaps).toContainEqual(
      expect.objectContaining({ reason: 'noMediaReceived' }),
    );
    expect(view.streams.filter((s) => s.bytes > 0)).toEqual([]);
  });
});

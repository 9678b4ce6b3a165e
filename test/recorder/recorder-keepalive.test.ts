/**
 * A long call through the local stack, with the lifecycle's intervals shortened by configuration
 * (the timing itself is covered with a controlled clock by the orchestrator's unit tests): the
 * lifecycle keeps the call alive with Graph on its interval, continues as new when its event
 * budget is spent, and the call is still recorded in full across the executions.
 * Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { TENANT, USERS } from '../simulator/support/fixtures';
import { startRecorderStackWithMedia, waitFor, type RecorderStack } from './support/recorder-stack';

interface SimLeg {
  callId: string;
  recordingStatus: string;
}
interface SimOutcome {
  state: string;
  endReason: string | null;
  endedAt?: string;
  legs: SimLeg[];
}
interface CallView {
  interaction?: {
    outcome: string;
    recordingStatusHistory: { status: string; isConfirmed: boolean }[];
    gaps: unknown[];
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

describe('recorder lifecycle over a long call', () => {
  let stack: RecorderStack;
  let adminToken: string;

  beforeAll(async () => {
    ({ stack, adminToken } = await startRecorderStackWithMedia({
      env: {
        ATTEST_RECORDER_KEEPALIVE_INTERVAL_MS: '1000',
        ATTEST_RECORDER_MAX_EVENTS_PER_EXECUTION: '10',
      },
    }));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('sends keepAlive on its interval and continues as new without losing the call', async () => {
    // Mute and unmute every 400 ms: a roster notification each, on top of the lifecycle's ticks.
    const toggles = Array.from({ length: 14 }, (_, i) => ({
      atInMs: 300 + i * 400,
      action: i % 2 === 0 ? 'mute' : 'unmute',
    }));
    const started = await stack.control<{ conversationId: string }>('POST', '/_sim/calls', {
      tenantId: TENANT,
      kind: 'p2p',
      durationInMs: 7000,
      participants: [
        {
          user: USERS.trader,
          role: 'caller',
          timeline: [{ atInMs: 0, action: 'speak', durationInMs: 6000 }, ...toggles],
        },
        { user: USERS.unrecorded, role: 'callee' },
      ],
    });
    expect(started.status).toBe(201);
    const outcome = async (): Promise<SimOutcome> =>
      (await stack.control<SimOutcome>('GET', `/_sim/calls/${started.body.conversationId}`)).body;
    const leg = await waitFor(
      async () => (await outcome()).legs.find((l) => l.recordingStatus === 'recording'),
      'recording to be confirmed',
    );
    const view = await waitFor(
      async () => {
        const response = await stack.api<CallView>(
          'GET',
          `/api/calls/${encodeURIComponent(leg.callId)}`,
          { token: adminToken },
        );
        return response.status === 200 && response.body.orchestration?.runtimeStatus === 'Completed'
          ? response.body
          : undefined;
      },
      'the call to finish',
      40_000,
    );

    expect(await outcome()).toMatchObject({ state: 'ended', endReason: 'completed' });
    const requests = (
      await stack.control<GraphRequest[]>('GET', '/_sim/graph-requests')
    ).body.filter((r) => r.callId === leg.callId);
    // A keepAlive that crosses the end of the call (sent after the platform ended it, before
    // `terminated` reached the lifecycle) is answered 404 and ends the lifecycle as `callGone`:
    // every keepAlive sent while the call was up is answered 200.
    const endedAt = (await outcome()).endedAt ?? new Date().toISOString();
    const keepAlives = requests.filter((r) => r.operation === 'keepAlive' && r.at < endedAt);
    expect(keepAlives.length).toBeGreaterThanOrEqual(3);
    expect(keepAlives.every((r) => r.status === 200)).toBe(true);
    const continued = stack.logs.records.filter(
      (r) =>
        r.message === 'orchestration continued as new' && r.instanceId === `call-${leg.callId}`,
    );
    expect(continued.length).toBeGreaterThanOrEqual(1);
    // One recording, confirmed once, sealed with media, across executions.
    // Nothing missing inside the recorded window; the span before Graph's 200 is listed.
    expect(view.interaction).toMatchObject({
      outcome: 'recorded',
      gaps: [expect.objectContaining({ reason: 'beforeRecordingStatus' })],
    });
    expect(view.interaction?.recordingStatusHistory).toEqual([
      expect.objectContaining({ status: 'recording', isConfirmed: true }),
    ]);
    expect(view.streams.length).toBeGreaterThan(0);
    expect(view.streams.every((s) => s.bytes > 0)).toBe(true);
  });
});

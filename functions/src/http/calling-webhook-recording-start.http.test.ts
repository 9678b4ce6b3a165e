/** The recording-status fast path as the calling webhook runs it on `established`. */
import { Fakes, NOW, invite, request, stateUpdate } from '../testing/calling-webhook-fakes';

const answered = async (f: Fakes, handler = f.handler()) => {
  f.isFastPathOn = true;
  await handler(request(invite()), f.context());
  return handler;
};
const statusRequests = (f: Fakes) => f.graphCalls.filter((c) => c.op === 'updateRecordingStatus');
const payloads = (f: Fakes) => f.raises.map((r) => r.payload as Record<string, unknown>);

describe('calling webhook: recording-status fast path', () => {
  it('sets the recording status on established, then persists, and reports it to the lifecycle', async () => {
    const f = new Fakes();
    const handler = await answered(f);
    const response = await handler(request(stateUpdate('call-1', 'Established')), f.context());
    expect(response.status).toBe(202);
    expect(statusRequests(f)).toEqual([
      { op: 'updateRecordingStatus', callId: 'call-1', arg: 'recording' },
    ]);
    expect(f.persisting).toEqual([{ sessionId: 's-call-1', at: NOW.toISOString() }]);
    expect(payloads(f)).toEqual([
      expect.objectContaining({
        kind: 'recordingStart',
        establishedAt: NOW.toISOString(),
        graph: { kind: 'ok', status: 200 },
        confirmedAt: NOW.toISOString(),
        persisted: { ok: true, state: 'persisting' },
      }),
    ]);
    expect(f.rows.get('call-1')).toMatchObject({
      callState: 'established',
      recordingStatusHistory: [{ status: 'recording', isConfirmed: true }],
    });
  });

  it('sends it once for a duplicate established; the repeat goes to the lifecycle as it came', async () => {
    const f = new Fakes();
    const handler = await answered(f);
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    expect(statusRequests(f)).toHaveLength(1);
    expect(f.persisting).toHaveLength(1);
    expect(payloads(f).map((p) => p.kind)).toEqual(['recordingStart', 'callState']);
  });

  it('sends it once when established overtakes establishing', async () => {
    const f = new Fakes();
    const handler = await answered(f);
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    await handler(request(stateUpdate('call-1', 'Establishing')), f.context());
    expect(statusRequests(f)).toHaveLength(1);
    expect(payloads(f).map((p) => p.kind)).toEqual(['recordingStart']);
  });

  it('sends it once when two instances receive established for the same call', async () => {
    const f = new Fakes();
    await answered(f);
    const [one, two] = [f.handler(), f.handler()];
    await Promise.all([
      one(request(stateUpdate('call-1', 'Established')), f.context()),
      two(request(stateUpdate('call-1', 'Established')), f.context()),
    ]);
    expect(statusRequests(f)).toHaveLength(1);
    expect(f.persisting).toHaveLength(1);
  });

  it('retries a 429 after its Retry-After within the budget, then persists', async () => {
    const f = new Fakes();
    const sleeps: number[] = [];
    const handler = await answered(f, f.handler(sleeps));
    f.recordingStatuses = [{ kind: 'throttled', retryAfterInMs: 1_000 }];
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    expect(sleeps).toEqual([1_000]);
    expect(statusRequests(f)).toHaveLength(2);
    expect(payloads(f)[0]).toMatchObject({ graph: { kind: 'ok' }, persisted: { ok: true } });
  });

  it('retries a 5xx, and reports a Retry-After beyond the budget without persisting', async () => {
    const f = new Fakes();
    const sleeps: number[] = [];
    const handler = await answered(f, f.handler(sleeps));
    f.recordingStatuses = [
      { kind: 'failed', status: 503, isRetryable: true },
      { kind: 'throttled', retryAfterInMs: 60_000 },
    ];
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    expect(sleeps).toEqual([200]);
    expect(statusRequests(f)).toHaveLength(2);
    expect(f.persisting).toEqual([]);
    expect(payloads(f)).toEqual([
      expect.objectContaining({
        kind: 'recordingStart',
        graph: { kind: 'throttled', retryAfterInMs: 60_000 },
      }),
    ]);
  });

  it('reports a media host that did not start persisting after the 200', async () => {
    const f = new Fakes();
    const handler = await answered(f);
    f.isPersistingFailing = true;
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    expect(payloads(f)[0]).toMatchObject({
      graph: { kind: 'ok' },
      persisted: { ok: false, reason: 'ATT_INTERNAL' },
    });
    expect(f.rows.get('call-1')?.callState).toBe('answered');
  });

  it('claims without reading the row when this instance answered the invite', async () => {
    const f = new Fakes();
    const handler = await answered(f);
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    expect(f.claimReads).toBe(0);
    expect(statusRequests(f)).toHaveLength(1);
    expect(f.rows.get('call-1')?.recordingStartClaimedAt).toBe(NOW.toISOString());
  });

  it('reads the row before claiming when it was written since this instance answered', async () => {
    const f = new Fakes();
    const handler = await answered(f);
    await f.interactions.update('tenant-a', 'call-1', { callState: 'answered' });
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    expect(f.claimReads).toBe(1);
    expect(statusRequests(f)).toHaveLength(1);
  });

  it('keeps claiming without a read after establishing wrote a meeting’s facts', async () => {
    const f = new Fakes();
    const handler = await answered(f);
    await handler(
      request({
        value: [
          {
            changeType: 'updated',
            resourceUrl: '/communications/calls/call-1',
            resourceData: {
              '@odata.type': '#microsoft.graph.call',
              state: 'establishing',
              chatInfo: { threadId: '19:meeting_q@thread.v2' },
            },
          },
        ],
      }),
      f.context(),
    );
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    expect(f.claimReads).toBe(0);
    expect(f.rows.get('call-1')).toMatchObject({
      type: 'meeting',
      recordingStartClaimedAt: NOW.toISOString(),
    });
  });

  it('reads the row for a repeated established and sends the status once', async () => {
    const f = new Fakes();
    const handler = await answered(f);
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    expect(f.claimReads).toBe(1);
    expect(statusRequests(f)).toHaveLength(1);
  });

  it('waits for an invite another instance is still answering, then sets the status', async () => {
    const f = new Fakes();
    f.isFastPathOn = true;
    // Graph sends `established` right after the answer: instance A is still handling the invite.
    let releaseAnswer = (): void => undefined;
    const answerGate = new Promise<void>((resolve) => (releaseAnswer = resolve));
    const answer = f.graph.answer;
    f.graph.answer = async (...args) => {
      await answerGate;
      return answer(...args);
    };
    const inviting = f.handler()(request(invite()), f.context());
    while (f.rows.get('call-1') === undefined) await new Promise(setImmediate);
    const sleeps: number[] = [];
    const instanceB = f.handler(sleeps, async () => {
      releaseAnswer();
      await inviting;
    });
    const response = await instanceB(request(stateUpdate('call-1', 'Established')), f.context());
    expect(response.status).toBe(202);
    expect(sleeps).toEqual([50]);
    expect(statusRequests(f)).toHaveLength(1);
    expect(f.persisting).toEqual([{ sessionId: 's-call-1', at: NOW.toISOString() }]);
    expect(payloads(f)).toEqual([
      expect.objectContaining({ kind: 'recordingStart', graph: { kind: 'ok', status: 200 } }),
    ]);
  });

  it('stops waiting for an invite whose answer does not finish, and forwards established', async () => {
    const f = new Fakes();
    f.isFastPathOn = true;
    const answer = f.graph.answer;
    f.graph.answer = () => new Promise(() => undefined);
    void f.handler()(request(invite()), f.context());
    while (f.rows.get('call-1') === undefined) await new Promise(setImmediate);
    f.graph.answer = answer;
    const sleeps: number[] = [];
    await f.handler(sleeps)(request(stateUpdate('call-1', 'Established')), f.context());
    // 20 reads 50 ms apart (the 1 s budget), then the raise's own retries find no lifecycle.
    expect(sleeps).toEqual([...Array<number>(20).fill(50), 5, 5]);
    expect(statusRequests(f)).toEqual([]);
    expect(f.raises).toEqual([]);
  });

  it('leaves a call whose lifecycle predates the fast path to that lifecycle', async () => {
    const f = new Fakes();
    const handler = f.handler();
    await handler(request(invite()), f.context());
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    expect(statusRequests(f)).toEqual([]);
    expect(payloads(f)).toEqual([expect.objectContaining({ kind: 'callState' })]);
  });

  it('leaves the recording start to the lifecycle when the claim cannot be written', async () => {
    const f = new Fakes();
    const handler = await answered(f);
    f.interactions.claimRecordingStart = () => Promise.reject(new Error('storage down'));
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    expect(statusRequests(f)).toEqual([]);
    expect(payloads(f)).toEqual([
      expect.objectContaining({ kind: 'callState', state: 'established' }),
    ]);
  });
});

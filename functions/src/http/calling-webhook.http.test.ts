import type { GraphResult } from '../domain/recorder-ports';
import {
  Fakes,
  NOW,
  invite,
  request,
  settings,
  stateUpdate,
} from '../testing/calling-webhook-fakes';

describe('calling webhook', () => {
  it('answers 401 with a problem body and stores nothing when the token is rejected', async () => {
    const f = new Fakes();
    f.isTokenValid = false;
    const response = await f.handler()(request(invite()), f.context());
    expect(response).toMatchObject({
      status: 401,
      jsonBody: { code: 'ATT_UNAUTHORIZED', status: 401 },
    });
    expect(f.rows.size).toBe(0);
    expect(f.graphCalls).toHaveLength(0);
  });

  it('rate-limits the log line for repeated auth failures', async () => {
    const f = new Fakes();
    f.isTokenValid = false;
    const handler = f.handler();
    await handler(request(invite()), f.context());
    await handler(request(invite()), f.context());
    expect(f.lines.filter((l) => String(l[1]).includes('webhook token rejected'))).toHaveLength(1);
  });

  it('answers 400 with a problem body for a body that is not JSON', async () => {
    const f = new Fakes();
    const response = await f.handler()(request('{not json'), f.context());
    expect(response).toMatchObject({ status: 400, jsonBody: { code: 'ATT_INVALID_NOTIFICATION' } });
  });

  it('answers 400 for JSON that is not a notification batch', async () => {
    const f = new Fakes();
    expect(await f.handler()(request({ foo: 1 }), f.context())).toMatchObject({ status: 400 });
    expect(
      await f.handler()(request({ value: [{ changeType: 'boom' }] }), f.context()),
    ).toMatchObject({ status: 400 });
  });

  it('answers a policy invite on a media host and starts the lifecycle', async () => {
    const f = new Fakes();
    const response = await f.handler()(request(invite()), f.context());
    expect(response.status).toBe(202);
    expect(f.sessions).toEqual([
      expect.objectContaining({
        callId: 'call-1',
        tenantId: 'tenant-a',
        recordedUserIds: ['user-1'],
        callChainId: 'chain-1',
      }),
    ]);
    expect(f.graphCalls).toEqual([
      {
        op: 'answer',
        callId: 'call-1',
        arg: { callbackUri: 'https://rec.example/api/calling/call-1', mediaConfigBlob: '{"v":1}' },
      },
    ]);
    expect(f.starts).toEqual([
      expect.objectContaining({ name: 'callLifecycleV4', instanceId: 'call-call-1' }),
    ]);
    expect(f.starts[0]?.input).toMatchObject({
      session: { hostId: 'mh-1', sessionId: 's-call-1' },
      settings,
    });
    expect(f.rows.get('call-1')).toMatchObject({
      outcome: 'inProgress',
      callState: 'answered',
      mediaHostId: 'mh-1',
      recordedUserIds: ['user-1'],
      type: 'p2p',
    });
  });

  it('keeps display names out of log lines', async () => {
    const f = new Fakes();
    await f.handler()(request(invite()), f.context());
    expect(JSON.stringify(f.lines)).not.toContain('Someone');
    expect(f.lines.some((l) => String(l[1]).includes('"callId":"call-1"'))).toBe(true);
  });

  it('sets participantCapacity when answering a meeting', async () => {
    const f = new Fakes();
    await f.handler()(
      request(invite('m-1', { chatInfo: { threadId: '19:meeting_x@thread.v2' } })),
      f.context(),
    );
    expect(f.graphCalls[0]?.arg).toMatchObject({ participantCapacity: 200 });
  });

  it('marks the interaction as a meeting when establishing reveals the meeting thread', async () => {
    const f = new Fakes();
    const handler = f.handler();
    await handler(
      request(invite('g-1', { applicationMetadata: { botData: { isMultiParty: true } } })),
      f.context(),
    );
    expect(f.graphCalls[0]?.arg).toMatchObject({ participantCapacity: 200 });
    expect(f.rows.get('g-1')?.type).toBe('groupCall');
    await handler(
      request({
        value: [
          {
            changeType: 'updated',
            resourceUrl: '/communications/calls/g-1',
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
    expect(f.rows.get('g-1')).toMatchObject({
      type: 'meeting',
      meetingId: '19:meeting_q@thread.v2',
    });
  });

  it('raises the meeting facts establishing revealed to the lifecycle, which owns the record', async () => {
    const f = new Fakes();
    const handler = f.handler();
    await handler(request(invite('g-2')), f.context());
    await handler(
      request({
        value: [
          {
            changeType: 'updated',
            resourceUrl: '/communications/calls/g-2',
            resourceData: {
              '@odata.type': '#microsoft.graph.call',
              state: 'establishing',
              chatInfo: { threadId: '19:meeting_r@thread.v2' },
            },
          },
        ],
      }),
      f.context(),
    );
    expect(f.raises.map((r) => r.payload)).toContainEqual(
      expect.objectContaining({
        kind: 'meeting',
        meeting: expect.objectContaining({ meetingId: '19:meeting_r@thread.v2' }) as unknown,
      }),
    );
    expect(f.starts[0]?.input).toMatchObject({
      interaction: { callId: 'g-2', outcome: 'inProgress' },
    });
  });

  it('retries a throttled answer once when Retry-After fits the deadline', async () => {
    const f = new Fakes();
    const results: GraphResult[] = [
      { kind: 'throttled', retryAfterInMs: 1_000 },
      { kind: 'ok', status: 202 },
    ];
    f.graph.answer = (_t, callId, options) => {
      f.graphCalls.push({ op: 'answer', callId, arg: options });
      return Promise.resolve(results.shift() ?? { kind: 'ok', status: 202 });
    };
    const sleeps: number[] = [];
    await f.handler(sleeps)(request(invite()), f.context());
    expect(sleeps).toEqual([1_000]);
    expect(f.graphCalls.filter((c) => c.op === 'answer')).toHaveLength(2);
    expect(f.starts).toHaveLength(1);
  });

  it('records a failed answer without starting a lifecycle when Retry-After is too long', async () => {
    const f = new Fakes();
    f.graphAnswer = { kind: 'throttled', retryAfterInMs: 10_000 };
    await f.handler()(request(invite()), f.context());
    expect(f.graphCalls.filter((c) => c.op === 'answer')).toHaveLength(1);
    expect(f.starts).toHaveLength(0);
    expect(f.rows.get('call-1')).toMatchObject({
      outcome: 'failed',
      outcomeReason: 'answerFailed:throttled',
    });
  });

  it('ignores at once the notifications of a call it answered without a lifecycle, instead of retrying the raise', async () => {
    const f = new Fakes();
    f.graphAnswer = { kind: 'throttled', retryAfterInMs: 10_000 };
    const sleeps: number[] = [];
    const handler = f.handler(sleeps);
    await handler(request(invite()), f.context());
    let raiseCalls = 0;
    f.lifecycle.raise = () => {
      raiseCalls += 1;
      return Promise.resolve('notFound');
    };
    const response = await handler(request(stateUpdate('call-1', 'Terminated')), f.context());
    expect(response.status).toBe(202);
    expect(raiseCalls).toBe(0);
    expect(sleeps).toEqual([]);
    // A call this instance never saw still waits for a lifecycle that may be starting elsewhere.
    await handler(request(stateUpdate('call-2', 'Established')), f.context());
    expect(raiseCalls).toBe(3);
  });

  it('gives a duplicate invite no second effect', async () => {
    const f = new Fakes();
    const handler = f.handler();
    await handler(request(invite()), f.context());
    const again = await handler(request(invite()), f.context());
    expect(again.status).toBe(202);
    expect(f.graphCalls.filter((c) => c.op === 'answer')).toHaveLength(1);
    expect(f.starts).toHaveLength(1);
    // The repeat may ask the media host again, which hands back the live session untouched.
    expect(f.aborted).toEqual([]);
    expect(f.rows.get('call-1')).toMatchObject({
      callState: 'answered',
      mediaSessionId: 's-call-1',
    });
  });

  it('ignores a repeat that arrives while the invite is still being answered, without touching the media host', async () => {
    const f = new Fakes();
    const handler = f.handler();
    const [first, second] = await Promise.all([
      handler(request(invite()), f.context()),
      handler(request(invite()), f.context()),
    ]);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(f.sessions).toHaveLength(1);
    expect(f.graphCalls.filter((c) => c.op === 'answer')).toHaveLength(1);
  });

  it("leaves the winner's session alone when another instance already took the same invite", async () => {
    const f = new Fakes();
    // Two instances (two handlers): the second loses the insert race, its create returns the live session.
    await f.handler()(request(invite()), f.context());
    await f.handler()(request(invite()), f.context());
    expect(f.aborted).toEqual([]);
    expect(f.graphCalls.filter((c) => c.op === 'answer')).toHaveLength(1);
    // A session the loser created itself (another host, or the call's session already over) is aborted.
    f.aborted.push('s-call-1');
    await f.handler()(request(invite()), f.context());
    expect(f.aborted).toEqual(['s-call-1', 's-call-1']);
    expect(f.graphCalls.filter((c) => c.op === 'answer')).toHaveLength(1);
  });

  it('rejects busy at once and records why when no media host is alive', async () => {
    const f = new Fakes();
    f.hosts = f.hosts.map((h) => ({
      ...h,
      receivedAt: new Date(NOW.getTime() - 60_000).toISOString(),
    }));
    await f.handler()(request(invite()), f.context());
    expect(f.graphCalls).toEqual([{ op: 'reject', callId: 'call-1', arg: 'busy' }]);
    expect(f.rows.get('call-1')).toMatchObject({
      outcome: 'rejectedBusy',
      outcomeReason: 'noMediaHostCapacity',
    });
    expect(f.starts).toHaveLength(0);
    expect(f.lines.some((l) => l[0] === 'error' && String(l[1]).includes('rejected busy'))).toBe(
      true,
    );
  });

  it('skips draining and full hosts', async () => {
    const f = new Fakes();
    f.hosts = [
      { ...f.hosts[0]!, hostId: 'draining', isDraining: true },
      { ...f.hosts[0]!, hostId: 'full', capacity: { maxSessions: 1, activeSessions: 1 } },
    ];
    await f.handler()(request(invite()), f.context());
    expect(f.graphCalls[0]).toMatchObject({ op: 'reject', arg: 'busy' });
  });

  it('rejects and records an invite from a tenant that is not served', async () => {
    const f = new Fakes();
    await f.handler()(request(invite('c-x', { tenantId: 'tenant-z' })), f.context());
    expect(f.graphCalls).toEqual([{ op: 'reject', callId: 'c-x', arg: 'forbidden' }]);
    expect(f.rows.get('c-x')).toMatchObject({
      outcome: 'notRecordable',
      outcomeReason: 'tenantNotServed',
    });
  });

  it('forwards state notifications to the lifecycle with a delivery id that is the same for a repeated delivery', async () => {
    const f = new Fakes();
    const handler = f.handler();
    await handler(request(invite()), f.context());
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    await handler(request(stateUpdate('call-1', 'Established')), f.context());
    await handler(request(stateUpdate('call-1', 'Terminated')), f.context());
    // The lifecycle ignores a delivery id it has seen (tested with the orchestrator).
    expect(f.raises).toHaveLength(3);
    expect(f.raises[0]).toMatchObject({
      instanceId: 'call-call-1',
      payload: { kind: 'callState', state: 'established', at: NOW.toISOString() },
    });
    const ids = f.raises.map((r) => (r.payload as { deliveryId: string }).deliveryId);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('raises only the call states the lifecycle acts on', async () => {
    const f = new Fakes();
    const handler = f.handler();
    await handler(request(invite()), f.context());
    for (const state of ['Establishing', 'established', 'hold', 'terminating', 'Terminated']) {
      expect(await handler(request(stateUpdate('call-1', state)), f.context())).toMatchObject({
        status: 202,
      });
    }
    expect(f.raises.map((r) => (r.payload as { state: string }).state)).toEqual([
      'established',
      'terminated',
    ]);
  });

  it('waits briefly for a lifecycle that is still starting', async () => {
    const f = new Fakes();
    const sleeps: number[] = [];
    let calls = 0;
    const raise = f.lifecycle.raise.bind(f.lifecycle);
    f.lifecycle.raise = (id, name, payload) =>
      ++calls < 3 ? Promise.resolve('notFound') : (f.existing.add(id), raise(id, name, payload));
    await f.handler(sleeps)(request(stateUpdate('call-9', 'established')), f.context());
    expect(sleeps).toEqual([5, 5]);
    expect(f.raises).toHaveLength(1);
  });

  it('holds a notification that overtakes its invite until the lifecycle is started, without polling', async () => {
    const f = new Fakes();
    const sleeps: number[] = [];
    let releaseAnswer: () => void = () => undefined;
    f.graph.answer = (_t, callId) => {
      f.graphCalls.push({ op: 'answer', callId });
      return new Promise((resolve) => (releaseAnswer = () => resolve({ kind: 'ok', status: 202 })));
    };
    const handler = f.handler(sleeps);
    const answering = handler(request(invite('call-7')), f.context());
    await new Promise((resolve) => setImmediate(resolve));
    // `established` arrives while the answer is still on its way.
    const establishing = handler(request(stateUpdate('call-7', 'established')), f.context());
    await new Promise((resolve) => setImmediate(resolve));
    expect(f.raises).toHaveLength(0);
    releaseAnswer();
    await Promise.all([answering, establishing]);
    expect(f.starts).toHaveLength(1);
    expect(f.raises).toEqual([
      expect.objectContaining({
        instanceId: 'call-call-7',
        payload: expect.objectContaining({ state: 'established' }),
      }),
    ]);
    expect(sleeps).toEqual([]);
  });

  it('accepts a participant joining under participantCapacity', async () => {
    const f = new Fakes();
    const response = await f.handler()(
      request({
        value: [
          {
            changeType: 'created',
            resourceUrl: '/communications/calls/call-1',
            resourceData: {
              '@odata.type': '#microsoft.graph.participantJoiningNotification',
              call: { '@odata.id': '/communications/calls/call-1' },
            },
          },
        ],
      }),
      f.context(),
    );
    expect(response).toMatchObject({
      status: 200,
      jsonBody: { '@odata.type': '#microsoft.graph.acceptJoinResponse' },
    });
  });

  const joining = (participantId: string, userId: string) =>
    request({
      value: [
        {
          changeType: 'created',
          resourceUrl: '/communications/calls/call-1/participantJoiningNotification',
          resourceData: {
            '@odata.type': '#microsoft.graph.participantJoiningNotification',
            call: { '@odata.id': '/communications/calls/call-1' },
            participantId,
            joiningParticipant: {
              '@odata.type': '#microsoft.graph.participant',
              id: participantId,
              info: { identity: { user: { id: userId, displayName: 'Joiner' } } },
            },
          },
        },
      ],
    });
  const left = (participantId: string) =>
    request({
      value: [
        {
          changeType: 'deleted',
          resourceUrl: '/communications/calls/call-1/participantLeftNotification',
          resourceData: {
            '@odata.type': '#microsoft.graph.participantLeftNotification',
            call: { '@odata.id': '/communications/calls/call-1' },
            participantId,
          },
        },
      ],
    });

  it('adds the joining user to the recorded users with the start of their presence, once', async () => {
    const f = new Fakes();
    const handler = f.handler();
    await handler(request(invite()), f.context());
    expect(await handler(joining('p-9', 'user-2'), f.context())).toMatchObject({
      status: 200,
      jsonBody: { '@odata.type': '#microsoft.graph.acceptJoinResponse' },
    });
    await handler(joining('p-9', 'user-2'), f.context());
    expect(f.rows.get('call-1')).toMatchObject({
      recordedUserIds: ['user-1', 'user-2'],
      joinedRecordedUsers: [
        { userId: 'user-2', participantId: 'p-9', joinedAt: NOW.toISOString() },
      ],
    });
  });

  it("ends the joined user's presence when that participant leaves, and only theirs", async () => {
    const f = new Fakes();
    const handler = f.handler();
    await handler(request(invite()), f.context());
    await handler(joining('p-9', 'user-2'), f.context());
    await handler(left('p-other'), f.context());
    expect(f.rows.get('call-1')?.joinedRecordedUsers?.[0]?.leftAt).toBeUndefined();
    await handler(left('p-9'), f.context());
    expect(f.rows.get('call-1')).toMatchObject({
      recordedUserIds: ['user-1', 'user-2'],
      joinedRecordedUsers: [{ userId: 'user-2', participantId: 'p-9', leftAt: NOW.toISOString() }],
    });
  });

  it('still accepts a join whose user cannot be recorded, and says so in an error line', async () => {
    const f = new Fakes();
    const response = await f.handler()(joining('p-9', 'user-2'), f.context());
    expect(response.status).toBe(200);
    expect(
      f.lines.some((l) => l[0] === 'error' && String(l[1]).includes('joining user not added')),
    ).toBe(true);
  });

  it('rejects busy when the answer path fails unexpectedly', async () => {
    const f = new Fakes();
    f.control.createSession = () => Promise.reject(new Error('boom'));
    f.interactions.update = () => Promise.reject(new Error('storage down'));
    const response = await f.handler()(request(invite()), f.context());
    expect(response.status).toBe(202);
    expect(f.graphCalls.at(-1)).toMatchObject({ op: 'reject', arg: 'busy' });
  });
});

/**
 * End to end through the local stack: the Teams simulator delivers signed invites and
 * notifications to the function app in the local Functions host (local durable engine), which
 * answers on a real media host. Asserts on the simulator's view and on the stored records.
 * Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { TENANT, USERS } from '../simulator/support/fixtures';
import { startRecorderStackWithMedia, waitFor, type RecorderStack } from './support/recorder-stack';

interface SimLeg {
  callId: string;
  state: string;
  outcome: string;
  recordingStatus: string;
  terminatedResult: { code: number; subcode: number } | null;
}
interface SimOutcome {
  state: string;
  endReason: string | null;
  participants: { userId: string | null; status: string; notice: { kind: string } | null }[];
  legs: SimLeg[];
}
interface CallView {
  interaction?: Record<string, unknown> & {
    outcome: string;
    recordingStatusHistory: { status: string; isConfirmed: boolean }[];
  };
  orchestration?: { runtimeStatus: string };
  participants: { participantId: string; identityId?: string; msis: string[] }[];
  streams: { kind: string; msi: string; bytes: number }[];
}

describe('recorder end to end', () => {
  let stack: RecorderStack;
  let adminToken: string;

  beforeAll(async () => {
    ({ stack, adminToken } = await startRecorderStackWithMedia());
  });
  afterAll(async () => {
    await stack?.close();
  });

  const startCall = async (spec: Record<string, unknown>): Promise<string> => {
    const started = await stack.control<{ conversationId: string }>('POST', '/_sim/calls', {
      tenantId: TENANT,
      ...spec,
    });
    expect(started.status).toBe(201);
    return started.body.conversationId;
  };
  const simOutcome = async (conversationId: string): Promise<SimOutcome> =>
    (await stack.control<SimOutcome>('GET', `/_sim/calls/${conversationId}`)).body;
  const callView = async (callId: string): Promise<{ status: number; body: CallView }> =>
    stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(callId)}`, { token: adminToken });
  const finished = async (callId: string): Promise<CallView> =>
    waitFor(
      async () => {
        const view = await callView(callId);
        return view.status === 200 && view.body.orchestration?.runtimeStatus === 'Completed'
          ? view.body
          : undefined;
      },
      `call ${callId} to finish`,
      40_000,
    );

  it('records a P2P VoIP call of a recorded caller: answer, recording notice, sealed interaction', async () => {
    const conversationId = await startCall({
      kind: 'p2p',
      durationInMs: 3000,
      participants: [
        {
          user: USERS.trader,
          role: 'caller',
          timeline: [{ atInMs: 0, action: 'speak', durationInMs: 1500 }],
        },
        {
          user: USERS.unrecorded,
          role: 'callee',
          timeline: [{ atInMs: 1500, action: 'speak', durationInMs: 1000 }],
        },
      ],
    });
    const leg = await waitFor(
      async () =>
        (await simOutcome(conversationId)).legs.find((l) => l.recordingStatus === 'recording'),
      'recording to be confirmed',
    );
    const during = await simOutcome(conversationId);
    expect(during.participants.find((p) => p.userId === USERS.trader)).toMatchObject({
      status: 'recorded',
      notice: { kind: 'visual' },
    });

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
    expect(view.interaction?.recordingStatusHistory).toEqual([
      expect.objectContaining({ status: 'recording', isConfirmed: true }),
    ]);
    expect(view.streams.length).toBeGreaterThan(0);
    expect(view.streams.every((s) => s.bytes > 0)).toBe(true);
    expect(view.participants.map((p) => p.identityId).sort()).toEqual(
      [USERS.trader, USERS.unrecorded].sort(),
    );
  });

  interface GraphRequest {
    operation: string;
    callId?: string;
    status: number;
    body: unknown;
    verdict: { isValid?: boolean; valid?: boolean } | null;
  }
  const graphRequests = async (callId: string): Promise<GraphRequest[]> =>
    (await stack.control<GraphRequest[]>('GET', '/_sim/graph-requests')).body.filter(
      (r) => r.callId === callId,
    );
  const recordedLeg = async (conversationId: string): Promise<SimLeg> =>
    waitFor(
      async () =>
        (await simOutcome(conversationId)).legs.find((l) => l.recordingStatus === 'recording'),
      'recording to be confirmed',
    );
  const talk = (atInMs: number, durationInMs = 800) => [{ atInMs, action: 'speak', durationInMs }];
  /** A P2P call of the recorded trader (talking from the start) to an unrecorded callee. */
  const traderCalls = (
    durationInMs: number,
    options: { talkInMs?: number; delivery?: Record<string, boolean> } = {},
  ): Promise<string> =>
    startCall({
      kind: 'p2p',
      durationInMs,
      ...(options.delivery === undefined ? {} : { delivery: options.delivery }),
      participants: [
        // Talking the whole call: the outcome then says whether media after the recording status
        // was stored, however late (under load) the status came.
        {
          user: USERS.trader,
          role: 'caller',
          timeline: talk(0, options.talkInMs ?? durationInMs),
        },
        { user: USERS.unrecorded, role: 'callee' },
      ],
    });

  it('records a P2P call of a recorded callee as inbound', async () => {
    const conversationId = await startCall({
      kind: 'p2p',
      durationInMs: 2500,
      participants: [
        { user: USERS.unrecorded, role: 'caller', timeline: talk(0) },
        { user: USERS.trader, role: 'callee', timeline: talk(1000) },
      ],
    });
    const leg = await recordedLeg(conversationId);
    const view = await finished(leg.callId);
    expect(view.interaction).toMatchObject({
      type: 'p2p',
      direction: 'inbound',
      outcome: 'recorded',
      recordedUserIds: [USERS.trader],
    });
  });

  it('records an inbound PSTN call and stores the origin number', async () => {
    const conversationId = await startCall({
      kind: 'pstn',
      durationInMs: 2500,
      participants: [
        { phone: '+442071838750', role: 'caller', timeline: talk(0) },
        { user: USERS.trader, role: 'callee', timeline: talk(1000) },
      ],
    });
    const leg = await recordedLeg(conversationId);
    const view = await finished(leg.callId);
    expect(view.interaction).toMatchObject({
      type: 'pstn',
      direction: 'inbound',
      outcome: 'recorded',
      originNumber: '+442071838750',
    });
  });

  it('records an outbound PSTN call and stores the dialed number', async () => {
    const conversationId = await startCall({
      kind: 'pstn',
      durationInMs: 2500,
      participants: [
        { user: USERS.trader, role: 'caller', timeline: talk(0) },
        { phone: '+14255550123', role: 'callee', timeline: talk(1000) },
      ],
    });
    const leg = await recordedLeg(conversationId);
    const view = await finished(leg.callId);
    expect(view.interaction).toMatchObject({
      type: 'pstn',
      direction: 'outbound',
      outcome: 'recorded',
      dialedNumber: '+14255550123',
    });
  });

  it('records a group call for each recorded participant, related by call chain id', async () => {
    const conversationId = await startCall({
      kind: 'group',
      durationInMs: 3000,
      participants: [
        { user: USERS.unrecorded, role: 'caller', timeline: talk(0) },
        { user: USERS.trader, role: 'callee', timeline: talk(800) },
        { user: USERS.colleague, role: 'callee', timeline: talk(1600) },
      ],
    });
    await waitFor(async () => {
      const legs = (await simOutcome(conversationId)).legs;
      return legs.length >= 2 && legs.every((l) => l.recordingStatus === 'recording')
        ? legs
        : undefined;
    }, 'both recorded legs');
    const legs = (await simOutcome(conversationId)).legs;
    const views = await Promise.all(legs.map((l) => finished(l.callId)));
    for (const view of views)
      expect(view.interaction).toMatchObject({ type: 'groupCall', outcome: 'recorded' });
    expect(new Set(views.map((v) => v.interaction?.callChainId)).size).toBe(1);
    expect(views.flatMap((v) => v.interaction?.recordedUserIds as string[]).sort()).toEqual(
      [USERS.trader, USERS.colleague].sort(),
    );
    const first = await callView(legs[0]!.callId);
    expect(
      (first.body as unknown as { relatedInteractionIds: string[] }).relatedInteractionIds,
    ).toEqual([legs[1]!.callId]);
  });

  it('records a meeting with a lobby and a screen share, with participantCapacity on the answer', async () => {
    const conversationId = await startCall({
      kind: 'meeting',
      subject: 'Quarterly review',
      durationInMs: 4000,
      participants: [
        {
          user: USERS.unrecorded,
          role: 'organizer',
          timeline: [
            ...talk(0),
            { atInMs: 1500, action: 'shareOn' },
            { atInMs: 3000, action: 'shareOff' },
          ],
        },
        {
          user: USERS.trader,
          role: 'attendee',
          isInLobby: true,
          timeline: [{ atInMs: 500, action: 'admit' }, ...talk(1000)],
        },
      ],
    });
    const leg = await recordedLeg(conversationId);
    const view = await finished(leg.callId);
    expect(view.interaction).toMatchObject({
      type: 'meeting',
      outcome: 'recorded',
      recordedUserIds: [USERS.trader],
    });
    expect(typeof view.interaction?.meetingId).toBe('string');
    const answer = (await graphRequests(leg.callId)).find((r) => r.operation === 'answer');
    expect(answer?.body).toMatchObject({ participantCapacity: 200 });
    const organizer = view.participants.find(
      (p) => p.identityId === USERS.unrecorded,
    ) as unknown as { role?: string };
    expect(organizer?.role).toBe('presenter');
    const sim = await simOutcome(conversationId);
    expect(sim.participants.find((p) => p.userId === USERS.trader)?.status).toBe('recorded');
  });

  it('gives a duplicate invite no second effect', async () => {
    const conversationId = await traderCalls(2000, { delivery: { duplicateInvite: true } });
    const leg = await recordedLeg(conversationId);
    const view = await finished(leg.callId);
    expect(view.interaction?.outcome).toBe('recorded');
    expect((await graphRequests(leg.callId)).filter((r) => r.operation === 'answer')).toHaveLength(
      1,
    );
  });

  it('records a call whose established notification arrives before establishing', async () => {
    const conversationId = await traderCalls(2000, {
      delivery: { establishedBeforeEstablishing: true },
    });
    const leg = await recordedLeg(conversationId);
    const view = await finished(leg.callId);
    expect(view.interaction?.outcome).toBe('recorded');
  });

  it('honours Retry-After when Graph throttles updateRecordingStatus', async () => {
    await stack.control('POST', '/_sim/throttle', {
      count: 1,
      retryAfterInS: 1,
      operation: 'updateRecordingStatus',
    });
    const conversationId = await traderCalls(4000, { talkInMs: 3000 });
    const leg = await recordedLeg(conversationId);
    const view = await finished(leg.callId);
    const statuses = (await graphRequests(leg.callId))
      .filter((r) => r.operation === 'updateRecordingStatus')
      .map((r) => r.status);
    expect(statuses).toEqual([429, 200]);
    expect(view.interaction?.outcome).toBe('recorded');
    expect(view.interaction?.recordingStatusHistory).toEqual([
      expect.objectContaining({ status: 'recording', isConfirmed: true }),
    ]);
  });

  it('marks the gap and sets failed status when the media host dies mid-call', async () => {
    const conversationId = await traderCalls(6000, { talkInMs: 5000 });
    const leg = await recordedLeg(conversationId);
    // Let persistence start first, so the loss is detected mid-recording (health checks / events).
    await waitFor(
      async () =>
        (await callView(leg.callId)).body.interaction?.callState === 'established'
          ? true
          : undefined,
      'persistence to start',
    );
    await stack.media?.close();
    stack.media = undefined;
    const view = await finished(leg.callId);
    expect(view.interaction).toMatchObject({ outcome: 'failed', outcomeReason: 'mediaHostLost' });
    // The span from established to Graph's 200 is listed too (before the recorded window).
    expect(view.interaction?.gaps).toEqual([
      expect.objectContaining({ reason: 'beforeRecordingStatus' }),
      expect.objectContaining({ reason: 'mediaHostLost' }),
    ]);
    expect(view.interaction?.recordingStatusHistory.map((c) => c.status)).toEqual([
      'recording',
      'failed',
    ]);
    const urs = (await graphRequests(leg.callId))
      .filter((r) => r.operation === 'updateRecordingStatus')
      .map((r) => (r.body as { status: string }).status);
    expect(urs).toEqual(['recording', 'failed']);
    // The simulator applies the policy to a recorder that reported `failed` (RequiredDuringCall: true).
    const sim = await waitFor(async () => {
      const o = await simOutcome(conversationId);
      return o.state === 'ended' ? o : undefined;
    }, 'the simulator to end the call');
    expect(sim.legs[0]?.recordingStatus).toBe('failed');
    expect(sim.endReason).not.toBe('completed');
    expect(stack.logs.records.some((r) => JSON.stringify(r).includes('media host lost'))).toBe(
      true,
    );
  });

  it('rejects busy at once when no media host is alive, and the policy decides the call', async () => {
    // The host closed in the previous test; wait until its last heartbeat is stale.
    await waitFor(async () => {
      const hosts = await stack.api<{ value: { isStale: boolean }[] }>('GET', '/api/mediahosts', {
        token: adminToken,
      });
      return hosts.body.value.every((h) => h.isStale) ? true : undefined;
    }, 'the media host to go stale');
    const conversationId = await traderCalls(2000);
    const sim = await waitFor(async () => {
      const o = await simOutcome(conversationId);
      return o.legs.length > 0 &&
        o.legs.every((l) => l.outcome !== 'pending' && l.outcome !== 'invited')
        ? o
        : undefined;
    }, 'the invite to be decided');
    const leg = sim.legs[0]!;
    const requests = await graphRequests(leg.callId);
    expect(requests.map((r) => r.operation)).toEqual(['reject']);
    expect(requests[0]?.body).toMatchObject({ reason: 'busy' });
    const view = await waitFor(async () => {
      const v = await callView(leg.callId);
      return v.body.interaction?.outcome === 'rejectedBusy' ? v.body : undefined;
    }, 'the busy outcome');
    expect(view.interaction).toMatchObject({
      outcome: 'rejectedBusy',
      outcomeReason: 'noMediaHostCapacity',
    });
    const ended = await waitFor(async () => {
      const o = await simOutcome(conversationId);
      return o.state === 'ended' ? o : undefined;
    }, 'the policy to end the call');
    expect(ended.endReason).not.toBe('completed');
  });

  it('lists live and recent calls for an admin and refuses callers without the admin role', async () => {
    const recent = await stack.api<{ value: { outcome: string }[] }>(
      'GET',
      '/api/calls?state=recent',
      { token: adminToken },
    );
    expect(recent.status).toBe(200);
    expect(recent.body.value.length).toBeGreaterThan(5);
    const busy = await stack.api<{ value: unknown[] }>('GET', '/api/calls?state=rejectedBusy', {
      token: adminToken,
    });
    expect(busy.body.value).toHaveLength(1);
    expect((await stack.api('GET', '/api/calls?state=bogus', { token: adminToken })).status).toBe(
      400,
    );
    expect((await stack.api('GET', '/api/calls')).status).toBe(401);
    const { USERS: users } = await import('../simulator/support/fixtures');
    const plain = await stack.control<{ access_token: string }>('POST', '/_sim/users/token', {
      tenantId: TENANT,
      userId: users.trader,
    });
    expect((await stack.api('GET', '/api/calls', { token: plain.body.access_token })).status).toBe(
      403,
    );
  });
});

/**
 * The simulated policy engine end to end, driven by an injected clock: the 5-second answer
 * deadline, the four Required* flags, concurrent and paired invites, participantCapacity grouping,
 * the keepAlive timeout, and Teams' delivery quirks. Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { requireLocalCaTrust } from './support/local-ca';
import {
  ManualClock,
  startTeamsSimulator,
  type CallSpec,
  type TeamsSimulator,
} from '../../local/src/simulator';
import type { CompliancePolicy } from '../../local/src/simulator/policy/model';
import {
  BOT_APP,
  BOT_SECRET,
  PAIRED_INSTANCE,
  TENANT,
  USERS,
  application,
  testDirectory,
} from './support/fixtures';
import { startTestMediaListener, type TestMediaListener } from './support/test-media-listener';
import {
  startTestRecorder,
  waitUntil,
  type InviteAction,
  type TestRecorder,
} from './support/test-recorder';

const silent = (): void => undefined;

interface LegView {
  callId: string;
  state: string;
  outcome: string;
  slot: number;
  applicationInstanceId: string;
  terminatedResult: { code: number; subcode: number } | null;
}
interface ParticipantView {
  userId: string | null;
  status: string;
  statusReason: string | null;
  isPresent: boolean;
}
interface OutcomeView {
  state: string;
  endReason: string | null;
  participants: ParticipantView[];
  legs: LegView[];
}

describe('policy enforcement with an injected clock', () => {
  let sim: TeamsSimulator;
  let media: TestMediaListener;
  let recorder: TestRecorder;
  let clock: ManualClock;
  let decide: (callId: string, index: number) => InviteAction = () => 'answer';

  beforeAll(async () => {
    requireLocalCaTrust();
    clock = new ManualClock();
    sim = await startTeamsSimulator({
      clock,
      log: silent,
      behaviour: { mediaPacing: 'fast', streamVideo: false },
      directory: testDirectory('http://127.0.0.1:9/unused'),
    });
    media = await startTestMediaListener();
    recorder = await startTestRecorder({
      simulatorUrl: sim.url,
      tenantId: TENANT,
      appId: BOT_APP,
      appSecret: BOT_SECRET,
      mediaEndpoint: media.endpoint,
      participantCapacity: 10,
      onInvite: (callId, index) => decide(callId, index),
    });
  });
  afterAll(async () => {
    await sim.close();
    await recorder.close();
    await media.close();
  });

  const usePolicy = (policy: Partial<CompliancePolicy>): void =>
    sim.setDirectory(testDirectory(recorder.webhookUrl, policy));
  const view = (id: string): OutcomeView => sim.engine.outcome(id) as unknown as OutcomeView;
  const user = (id: string, userId: string): ParticipantView =>
    view(id).participants.find((p) => p.userId === userId)!;
  const p2p = (durationInMs?: number): CallSpec => ({
    kind: 'p2p',
    tenantId: TENANT,
    ...(durationInMs ? { durationInMs } : {}),
    participants: [
      { user: USERS.trader, role: 'caller' },
      { user: USERS.unrecorded, role: 'callee' },
    ],
  });
  const meeting = (): CallSpec => ({
    kind: 'meeting',
    tenantId: TENANT,
    participants: [
      { user: USERS.unrecorded, role: 'organizer' },
      { user: USERS.trader, role: 'attendee' },
    ],
  });
  const invitesDelivered = async (id: string, count: number): Promise<void> => {
    await waitUntil(() => {
      const callIds = new Set(view(id).legs.map((l) => l.callId));
      return (
        sim.deliverer.records.filter(
          (r) => r.kind === 'invite' && callIds.has(r.callId) && r.status !== undefined,
        ).length >= count
      );
    }, `${count} invite(s) delivered`);
  };
  const established = async (id: string): Promise<void> => {
    await waitUntil(() => {
      const callIds = new Set(
        view(id)
          .legs.filter((l) => l.outcome === 'accepted')
          .map((l) => l.callId),
      );
      return (
        callIds.size > 0 &&
        sim.deliverer.records.some(
          (r) => r.kind === 'roster' && callIds.has(r.callId) && r.status !== undefined,
        )
      );
    }, 'the call to be established');
  };

  beforeEach(() => {
    decide = () => 'answer';
    usePolicy({});
  });

  it('keeps the invite open until the 5-second deadline, then cancels a call whose recorder is required', async () => {
    decide = () => 'ignore';
    const id = sim.engine.startCall(p2p());
    await invitesDelivered(id, 1);
    clock.advance(4999);
    expect(view(id)).toMatchObject({ state: 'active', legs: [{ outcome: 'pending' }] });
    expect(user(id, USERS.trader).status).toBe('pendingRecorder');
    clock.advance(1);
    expect(view(id)).toMatchObject({
      state: 'ended',
      endReason: 'blocked',
      legs: [{ outcome: 'timedOut', terminatedResult: { code: 408, subcode: 8544 } }],
    });
    expect(user(id, USERS.trader)).toMatchObject({
      status: 'blocked',
      statusReason: 'requiredBeforeCallEstablishment',
    });
  });

  it('refuses an answer that arrives after the deadline with 404 itemNotFound', async () => {
    decide = () => 'ignore';
    const id = sim.engine.startCall(p2p());
    await invitesDelivered(id, 1);
    clock.advance(5000);
    const response = await recorder.graph(
      'POST',
      `/communications/calls/${view(id).legs[0]!.callId}/answer`,
      {
        callbackUri: `${recorder.url}/cb`,
        acceptedModalities: ['audio'],
        mediaConfig: { '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob: '{}' },
      },
    );
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'itemNotFound' } });
  });

  it('lets the call proceed unrecorded when RequiredBeforeCallEstablishment is false', async () => {
    usePolicy({ applications: [application({ requiredBeforeCallEstablishment: false })] });
    decide = () => 'ignore';
    const id = sim.engine.startCall(p2p());
    await invitesDelivered(id, 1);
    clock.advance(5000);
    expect(view(id).state).toBe('active');
    expect(user(id, USERS.trader)).toMatchObject({
      status: 'proceededUnrecorded',
      isPresent: true,
    });
  });

  it('cancels the call when the only recorder rejects the invite', async () => {
    decide = () => 'reject';
    const id = sim.engine.startCall(p2p());
    await waitUntil(() => view(id).state === 'ended', 'the call to be cancelled');
    expect(view(id)).toMatchObject({ endReason: 'blocked', legs: [{ outcome: 'rejected' }] });
  });

  it('keeps the policy user out of a meeting that goes on for others (RequiredBeforeMeetingJoin)', async () => {
    decide = () => 'ignore';
    const id = sim.engine.startCall(meeting());
    await invitesDelivered(id, 1);
    clock.advance(5000);
    expect(view(id).state).toBe('active');
    expect(user(id, USERS.trader)).toMatchObject({
      status: 'blocked',
      statusReason: 'requiredBeforeMeetingJoin',
      isPresent: false,
    });
    expect(user(id, USERS.unrecorded)).toMatchObject({ status: 'notUnderPolicy', isPresent: true });
  });

  it('ends the call when the recorder leaves and RequiredDuringCall is true', async () => {
    const id = sim.engine.startCall(p2p());
    await established(id);
    const callId = view(id).legs[0]!.callId;
    expect((await recorder.graph('DELETE', `/communications/calls/${callId}`)).status).toBe(204);
    expect(view(id)).toMatchObject({ state: 'ended', endReason: 'droppedByPolicy' });
    expect(user(id, USERS.trader)).toMatchObject({
      status: 'ejected',
      statusReason: 'requiredDuringCall',
    });
  });

  it('keeps the call going unrecorded when the recorder leaves and RequiredDuringCall is false', async () => {
    usePolicy({ applications: [application({ requiredDuringCall: false })] });
    const id = sim.engine.startCall(p2p());
    await established(id);
    await recorder.graph('DELETE', `/communications/calls/${view(id).legs[0]!.callId}`);
    expect(view(id).state).toBe('active');
    expect(user(id, USERS.trader).status).toBe('continuedUnrecorded');
  });

  it('ejects the policy user from the meeting when the recorder leaves (RequiredDuringMeeting)', async () => {
    const id = sim.engine.startCall(meeting());
    await established(id);
    await recorder.graph('DELETE', `/communications/calls/${view(id).legs[0]!.callId}`);
    expect(view(id).state).toBe('active');
    expect(user(id, USERS.trader)).toMatchObject({
      status: 'ejected',
      statusReason: 'requiredDuringMeeting',
      isPresent: false,
    });
    expect(user(id, USERS.unrecorded).isPresent).toBe(true);
  });

  it('ends the recorder leg with 408/8537 after 45 minutes without keepAlive', async () => {
    const id = sim.engine.startCall(p2p());
    await established(id);
    const callId = view(id).legs[0]!.callId;
    clock.advance(30 * 60 * 1000);
    expect((await recorder.graph('POST', `/communications/calls/${callId}/keepAlive`)).status).toBe(
      200,
    );
    clock.advance(45 * 60 * 1000 - 1);
    expect(view(id).legs[0]!.state).toBe('established');
    clock.advance(1);
    expect(view(id).legs[0]).toMatchObject({
      state: 'terminated',
      terminatedResult: { code: 408, subcode: 8537 },
    });
    expect(view(id)).toMatchObject({ state: 'ended', endReason: 'droppedByPolicy' });
  });

  it('records with one of two concurrent invitations answered and the other rejected', async () => {
    usePolicy({ applications: [application({ concurrentInvitationCount: 2 })] });
    decide = (_callId, index) => (index % 2 === 0 ? 'reject' : 'answer');
    const id = sim.engine.startCall(p2p());
    await established(id);
    const legs = view(id).legs;
    expect(legs.map((l) => l.slot).sort()).toEqual([0, 1]);
    expect(legs.map((l) => l.outcome).sort()).toEqual(['accepted', 'rejected']);
    expect(user(id, USERS.trader).status).toBe('recorded');
  });

  it('records when only the paired application answers, and names the sibling in botData', async () => {
    usePolicy({ applications: [application({ pairedApplicationInstanceId: PAIRED_INSTANCE })] });
    const seen: string[] = [];
    decide = (callId) => {
      seen.push(callId);
      return seen.length === 1 ? 'ignore' : 'answer';
    };
    const id = sim.engine.startCall(p2p());
    await established(id);
    clock.advance(5000);
    const legs = view(id).legs;
    expect(legs.map((l) => l.applicationInstanceId).sort()).toEqual(
      [PAIRED_INSTANCE, application().applicationInstanceId].sort(),
    );
    expect(user(id, USERS.trader).status).toBe('recorded');
    expect(view(id).state).toBe('active');
    const invites = sim.deliverer.records.filter(
      (r) => r.kind === 'invite' && legs.some((l) => l.callId === r.callId),
    );
    const botData = invites.map(
      (r) =>
        (
          r.body as {
            value: {
              resourceData: { applicationMetadata: { botData: { pairedRecorders: unknown[] } } };
            }[];
          }
        ).value[0]!.resourceData.applicationMetadata.botData,
    );
    expect(botData.some((b) => b.pairedRecorders.length === 1)).toBe(true);
  });

  it('groups a second policy user into the answered leg through participantJoiningNotification', async () => {
    const id = sim.engine.startCall({
      kind: 'meeting',
      tenantId: TENANT,
      participants: [
        { user: USERS.trader, role: 'organizer' },
        { user: USERS.colleague, role: 'attendee', timeline: [{ atInMs: 1000, action: 'join' }] },
      ],
    });
    await established(id);
    clock.advance(1000);
    await waitUntil(
      () => user(id, USERS.colleague).status === 'recorded',
      'the second policy user to be recorded',
    );
    const legs = view(id).legs as (LegView & { observedParticipantIds: string[] })[];
    expect(legs).toHaveLength(1);
    expect(legs[0]!.observedParticipantIds).toHaveLength(2);
    expect(
      sim.deliverer.records.some(
        (r) => r.kind === 'participantJoining' && r.callId === legs[0]!.callId && r.isDelivered,
      ),
    ).toBe(true);
  });

  it('does not invite for a rerouted call unless RecordReroutedCalls is set', () => {
    const spec: CallSpec = {
      ...p2p(),
      reroute: { kind: 'forward' },
      participants: [
        { user: USERS.unrecorded, role: 'caller' },
        { user: USERS.trader, role: 'callee' },
      ],
    };
    const skipped = sim.engine.startCall(spec);
    expect(user(skipped, USERS.trader)).toMatchObject({
      status: 'notRecordable',
      statusReason: 'reroutedNotRecorded',
    });
    expect(view(skipped).legs).toHaveLength(0);
    usePolicy({ recordReroutedCalls: true });
    const recorded = sim.engine.startCall(spec);
    expect(view(recorded).legs).toHaveLength(1);
  });

  it('delivers duplicate invites and established before establishing when the scenario asks', async () => {
    const id = sim.engine.startCall({
      ...p2p(),
      delivery: { duplicateInvite: true, establishedBeforeEstablishing: true },
    });
    await established(id);
    const callId = view(id).legs[0]!.callId;
    await waitUntil(
      () =>
        sim.deliverer.records.filter(
          (r) => r.callId === callId && r.kind.startsWith('establish') && r.status !== undefined,
        ).length === 2,
      'state updates',
    );
    const kinds = sim.deliverer.records.filter((r) => r.callId === callId).map((r) => r.kind);
    expect(kinds.slice(0, 2)).toEqual(['invite', 'inviteDuplicate']);
    expect(kinds.indexOf('established')).toBeLessThan(kinds.indexOf('establishing'));
    expect(
      recorder.graphStatuses.filter((s) => s.callId === callId && s.op === 'answer'),
    ).toHaveLength(1);
  });

  it('ends the call when the recorder reports failed and RequiredDuringCall is true', async () => {
    const id = sim.engine.startCall(p2p());
    await established(id);
    const callId = view(id).legs[0]!.callId;
    await waitUntil(
      () =>
        recorder.graphStatuses.some((s) => s.callId === callId && s.op === 'updateRecordingStatus'),
      'recording status',
    );
    const response = await recorder.graph(
      'POST',
      `/communications/calls/${callId}/updateRecordingStatus`,
      { clientContext: 'c', status: 'failed' },
    );
    expect(response.status).toBe(200);
    await waitUntil(() => view(id).state === 'ended', 'the call to end');
    expect(view(id)).toMatchObject({
      endReason: 'droppedByPolicy',
      legs: [{ terminatedResult: { code: 500, subcode: 7106 } }],
    });
  });

  it('suppresses the audio notice for the phone party of a 1:1 call when the policy disables it', async () => {
    usePolicy({ disableComplianceRecordingAudioNotificationForCalls: true });
    const id = sim.engine.startCall({
      kind: 'pstn',
      tenantId: TENANT,
      participants: [
        { user: USERS.trader, role: 'caller' },
        { phone: '+14255550177', role: 'callee' },
      ],
    });
    await established(id);
    await waitUntil(
      () =>
        (sim.engine.outcome(id) as { participants: { notice: unknown }[] }).participants.every(
          (p) => p.notice !== null,
        ),
      'notices',
    );
    const notices = (
      sim.engine.outcome(id) as { participants: { kind: string; notice: { kind: string } }[] }
    ).participants.map((p) => [p.kind, p.notice.kind]);
    expect(notices).toEqual([
      ['user', 'visual'],
      ['phone', 'suppressed'],
    ]);
  });

  it('plays the audio notice to a phone party when the policy does not disable it', async () => {
    const id = sim.engine.startCall({
      kind: 'pstn',
      tenantId: TENANT,
      participants: [
        { user: USERS.trader, role: 'callee' },
        { phone: '+14255550178', role: 'caller' },
      ],
    });
    await established(id);
    await waitUntil(
      () =>
        (sim.engine.outcome(id) as { participants: { notice: unknown }[] }).participants.every(
          (p) => p.notice !== null,
        ),
      'notices',
    );
    expect(
      (sim.engine.outcome(id) as { participants: { notice: { kind: string } }[] }).participants[1]!
        .notice.kind,
    ).toBe('audio');
  });

  it('invites for a policy user waiting in the lobby only once admitted', () => {
    const id = sim.engine.startCall({
      kind: 'meeting',
      tenantId: TENANT,
      participants: [
        { user: USERS.unrecorded, role: 'organizer' },
        {
          user: USERS.trader,
          role: 'attendee',
          isInLobby: true,
          timeline: [{ atInMs: 2000, action: 'admit' }],
        },
      ],
    });
    expect(view(id).legs).toHaveLength(0);
    clock.advance(2000);
    expect(view(id).legs).toHaveLength(1);
    expect(user(id, USERS.trader).status).toBe('pendingRecorder');
  });

  it('refuses a scenario name that is a path', async () => {
    const response = await fetch(`${sim.url}/_sim/scenarios/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.controlToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scenario: '../../etc/passwd' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'SIM_INVALID_REQUEST' });
  });

  it('ends the recorder leg (200/5003) when the control API makes the observed user leave a meeting', async () => {
    const id = sim.engine.startCall(meeting());
    await established(id);
    const response = await fetch(`${sim.url}/_sim/calls/${id}/participants/1/leave`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.controlToken}` },
    });
    expect(response.status).toBe(200);
    expect(view(id)).toMatchObject({
      state: 'active',
      legs: [{ state: 'terminated', terminatedResult: { code: 200, subcode: 5003 } }],
    });
  });

  it('never invites for an emergency call', () => {
    const id = sim.engine.startCall({ ...p2p(), notRecordable: 'emergencyCall' });
    expect(user(id, USERS.trader)).toMatchObject({
      status: 'notRecordable',
      statusReason: 'emergencyCall',
    });
  });
});

import type { SimulatedEntra } from '../entra/entra';
import type { Directory, Tenant } from '../policy/model';
import type { CallSpec } from '../scenarios/scenario';
import { ManualClock } from '../util/clock';
import type { DeliveryRecord, DeliveryRequest, WebhookDeliverer } from '../webhook/deliverer';
import { CallEngine, DEFAULT_BEHAVIOUR, type EngineBehaviour } from './call-engine';

const TENANT = 'tenant-1';
const APP_ID = 'bot-app';

const tenant: Tenant = {
  id: TENANT,
  displayName: 'Contoso',
  users: [
    { id: 'alice', displayName: 'Alice' },
    { id: 'bob', displayName: 'Bob' },
  ],
  groups: [],
  policies: [
    {
      identity: 'Tag:rec',
      enabled: true,
      applications: [
        {
          applicationInstanceId: 'inst-a',
          requiredBeforeCallEstablishment: true,
          requiredDuringCall: true,
          requiredBeforeMeetingJoin: true,
          requiredDuringMeeting: true,
          concurrentInvitationCount: 1,
        },
      ],
      warnUserOnRemoval: true,
      disableComplianceRecordingAudioNotificationForCalls: false,
      recordReroutedCalls: false,
    },
  ],
  assignments: { users: { alice: 'Tag:rec' }, groups: [] },
};

const directory: Directory = {
  tenants: [tenant],
  bots: [
    {
      appId: APP_ID,
      clientSecret: 'unused',
      homeTenantId: TENANT,
      displayName: 'Recorder',
      callingWebhookUrl: 'https://recorder.test/api/calling',
    },
  ],
  applicationInstances: [
    { id: 'inst-a', tenantId: TENANT, botAppId: APP_ID, displayName: 'Recorder account' },
  ],
};

const p2p: CallSpec = {
  kind: 'p2p',
  tenantId: TENANT,
  participants: [
    { user: 'alice', role: 'caller' },
    { user: 'bob', role: 'callee' },
  ],
};

/** A calling service whose webhooks are recorded in memory, with a manual clock. */
function harness(behaviour: Partial<EngineBehaviour> = {}) {
  const clock = new ManualClock();
  const delivered: DeliveryRequest[] = [];
  const deliverer = {
    deliver: (request: DeliveryRequest): Promise<DeliveryRecord> => {
      delivered.push(request);
      return Promise.resolve({
        id: String(delivered.length),
        callId: request.callId,
        kind: request.kind,
        at: new Date(clock.nowInMs()).toISOString(),
        url: request.url,
        finalUrl: request.url,
        redirects: [],
        status: 202,
        isDelivered: true,
        body: request.body,
      });
    },
  } as unknown as WebhookDeliverer;
  const entra = { signWebhookToken: () => Promise.resolve('signed') } as unknown as SimulatedEntra;
  const engine = new CallEngine({
    directory: () => directory,
    clock,
    entra,
    deliverer,
    baseUrl: () => 'https://graph.test',
    log: () => undefined,
    behaviour: { ...DEFAULT_BEHAVIOUR, ...behaviour },
  });
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  const outcome = (id: string) =>
    engine.outcome(id) as {
      state: string;
      endReason: string | null;
      participants: { userId: string | null; status: string; notice: unknown }[];
      legs: { callId: string; state: string; outcome: string; terminatedResult: unknown }[];
    };
  const inviteOf = async (id: string): Promise<string> => {
    await settle();
    const leg = outcome(id).legs[0];
    if (leg === undefined) throw new Error('no recorder leg');
    return leg.callId;
  };
  return { clock, engine, delivered, settle, outcome, inviteOf };
}

describe('CallEngine', () => {
  it('invites the policy user’s recorder and waits for its answer before admitting them', async () => {
    const { engine, delivered, outcome, inviteOf } = harness();
    const id = engine.startCall(p2p);
    await inviteOf(id);
    expect(delivered.map((d) => d.kind)).toEqual(['invite']);
    expect(outcome(id).participants.map((p) => p.status)).toEqual([
      'pendingRecorder',
      'notUnderPolicy',
    ]);
  });

  it('admits the policy user recorded once the recorder answers and the leg is established', async () => {
    const { engine, delivered, outcome, inviteOf, settle } = harness();
    const id = engine.startCall(p2p);
    const callId = await inviteOf(id);
    expect(engine.answer(callId, APP_ID, {})).toEqual({ kind: 'ok', status: 202 });
    await settle();
    expect(outcome(id).participants[0]?.status).toBe('recorded');
    expect(outcome(id).legs[0]?.state).toBe('established');
    expect(delivered.map((d) => d.kind)).toEqual([
      'invite',
      'establishing',
      'established',
      // The admission (the user is now in) and the establishment each send the roster.
      'roster',
      'roster',
    ]);
  });

  it('blocks a 1:1 call when the required recorder does not answer within the deadline', async () => {
    const { clock, engine, outcome, inviteOf } = harness();
    const id = engine.startCall(p2p);
    await inviteOf(id);
    clock.advance(DEFAULT_BEHAVIOUR.answerDeadlineInMs);
    expect(outcome(id)).toMatchObject({ state: 'ended', endReason: 'blocked' });
    expect(outcome(id).legs[0]).toMatchObject({
      outcome: 'timedOut',
      terminatedResult: { code: 408, subcode: 8544 },
    });
  });

  it('refuses a second answer with 409 and another application with 403', async () => {
    const { engine, inviteOf } = harness();
    const callId = await inviteOf(engine.startCall(p2p));
    engine.answer(callId, APP_ID, {});
    expect(engine.answer(callId, APP_ID, {})).toMatchObject({ status: 409, code: 'Conflict' });
    expect(engine.keepAlive(callId, 'other-app')).toMatchObject({ status: 403 });
  });

  it('ends the call when an established recorder misses its keepAlive and recording is required', async () => {
    const { clock, engine, outcome, inviteOf, settle } = harness({ keepAliveTimeoutInMs: 60_000 });
    const id = engine.startCall(p2p);
    const callId = await inviteOf(id);
    engine.answer(callId, APP_ID, {});
    await settle();
    clock.advance(30_000);
    expect(engine.keepAlive(callId, APP_ID)).toEqual({ kind: 'ok', status: 200 });
    clock.advance(59_000);
    expect(outcome(id).state).toBe('active');
    clock.advance(1_000);
    expect(outcome(id)).toMatchObject({ state: 'ended', endReason: 'droppedByPolicy' });
    expect(outcome(id).legs[0]?.terminatedResult).toMatchObject({ code: 408, subcode: 8537 });
  });

  it('shows every present participant the recording notice once the recorder records', async () => {
    const { engine, outcome, inviteOf, settle } = harness();
    const id = engine.startCall(p2p);
    const callId = await inviteOf(id);
    engine.answer(callId, APP_ID, {});
    await settle();
    expect(outcome(id).participants.map((p) => p.notice)).toEqual([null, null]);
    const result = engine.updateRecordingStatus(callId, APP_ID, { status: 'recording' });
    expect(result).toMatchObject({ kind: 'ok', status: 200 });
    expect(outcome(id).participants.map((p) => p.notice)).toEqual([
      expect.objectContaining({ kind: 'visual' }),
      expect.objectContaining({ kind: 'visual' }),
    ]);
    await engine.close();
  });

  it('ends the 1:1 call when the recorder hangs up on a required recording', async () => {
    const { engine, outcome, inviteOf, settle } = harness();
    const id = engine.startCall(p2p);
    const callId = await inviteOf(id);
    engine.answer(callId, APP_ID, {});
    await settle();
    expect(engine.hangUp(callId, APP_ID)).toEqual({ kind: 'ok', status: 204 });
    expect(outcome(id)).toMatchObject({ state: 'ended', endReason: 'droppedByPolicy' });
  });
});

/**
 * Graph request validation: the schema validator on good and bad bodies, Graph-style 400s for
 * invalid requests (logged with their verdict), throttling and the concurrent-call limit.
 * Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { requireLocalCaTrust } from './support/local-ca';
import { join } from 'node:path';
import { ManualClock, startTeamsSimulator, type TeamsSimulator } from '../../local/src/simulator';
import { GraphSchemaId, SchemaValidator } from '../../local/src/simulator/graph/schema-validator';
import { graphSchemaDir } from '../../local/src/simulator/graph/calls-api';
import { BOT_APP, BOT_SECRET, TENANT, USERS, testDirectory } from './support/fixtures';
import { startTestRecorder, waitUntil, type TestRecorder } from './support/test-recorder';

const silent = (): void => undefined;
const goodAnswer = {
  callbackUri: 'https://recorder.example/api/calling/notification',
  acceptedModalities: ['audio', 'video'],
  mediaConfig: { '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob: '{"v":1}' },
  participantCapacity: 200,
  callOptions: {
    '@odata.type': '#microsoft.graph.incomingCallOptions',
    isContentSharingNotificationEnabled: true,
  },
};

describe('Graph JSON Schema validator', () => {
  const validator = SchemaValidator.fromDirectory(graphSchemaDir());

  it.each([
    ['a full policy-recording answer', GraphSchemaId.answer, goodAnswer],
    [
      'updateRecordingStatus recording',
      GraphSchemaId.updateRecordingStatus,
      { clientContext: 'c', status: 'recording' },
    ],
    ['reject busy', GraphSchemaId.reject, { reason: 'busy' }],
    [
      'an acceptJoinResponse',
      GraphSchemaId.participantJoiningResponse,
      { '@odata.type': '#microsoft.graph.acceptJoinResponse' },
    ],
  ])('accepts %s', (_name, schema, body) => {
    expect(validator.validate(schema, body)).toEqual({ valid: true });
  });

  it.each([
    [
      'mediaConfig without @odata.type',
      GraphSchemaId.answer,
      { ...goodAnswer, mediaConfig: { blob: 'x' } },
      '/mediaConfig/@odata.type',
    ],
    [
      'mediaConfig naming the abstract type',
      GraphSchemaId.answer,
      { ...goodAnswer, mediaConfig: { '@odata.type': '#microsoft.graph.mediaConfig' } },
      '/mediaConfig/@odata.type',
    ],
    [
      'an unknown modality',
      GraphSchemaId.answer,
      { ...goodAnswer, acceptedModalities: ['audio', 'hologram'] },
      '/acceptedModalities/1',
    ],
    [
      'a non-integer participantCapacity',
      GraphSchemaId.answer,
      { ...goodAnswer, participantCapacity: 2.5 },
      '/participantCapacity',
    ],
    [
      'a misspelt recording status',
      GraphSchemaId.updateRecordingStatus,
      { status: 'Recording' },
      '/status',
    ],
    ['a null status', GraphSchemaId.updateRecordingStatus, { status: null }, '/status'],
    ['a PascalCase reject reason', GraphSchemaId.reject, { reason: 'Busy' }, '/reason'],
    [
      'a blob that is not a string',
      GraphSchemaId.answer,
      {
        ...goodAnswer,
        mediaConfig: { '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob: 42 },
      },
      '/mediaConfig/blob',
    ],
  ])('rejects %s, naming the field', (_name, schema, body, path) => {
    const verdict = validator.validate(schema, body);
    expect(verdict.valid).toBe(false);
    if (!verdict.valid) expect(verdict.errors.map((e) => e.path)).toContain(path);
  });

  it('loads the schemas from the path the built simulator uses too', () => {
    expect(graphSchemaDir()).toBe(
      join(__dirname, '..', '..', 'local', 'src', 'simulator', 'graph', 'schemas'),
    );
  });
});

describe('Graph calls API request handling', () => {
  let sim: TeamsSimulator;
  let recorder: TestRecorder;
  const clock = new ManualClock();

  beforeAll(async () => {
    requireLocalCaTrust();
    sim = await startTeamsSimulator({
      clock,
      log: silent,
      directory: testDirectory('http://127.0.0.1:9/unused'),
    });
    recorder = await startTestRecorder({
      simulatorUrl: sim.url,
      tenantId: TENANT,
      appId: BOT_APP,
      appSecret: BOT_SECRET,
      mediaEndpoint: 'tls://127.0.0.1:9',
      onInvite: () => 'ignore',
    });
    sim.setDirectory(testDirectory(recorder.webhookUrl));
  });
  afterAll(async () => {
    await sim.close();
    await recorder.close();
  });

  const pendingCall = async (): Promise<string> => {
    const id = sim.engine.startCall({
      kind: 'p2p',
      tenantId: TENANT,
      participants: [
        { user: USERS.trader, role: 'caller' },
        { user: USERS.unrecorded, role: 'callee' },
      ],
    });
    const callId = (sim.engine.outcome(id) as { legs: { callId: string }[] }).legs[0]!.callId;
    await waitUntil(
      () => sim.deliverer.records.some((r) => r.callId === callId && r.status !== undefined),
      'the invite',
    );
    return callId;
  };

  it('answers an invalid answer body with Graph 400 BadRequest and logs the verdict', async () => {
    const callId = await pendingCall();
    const response = await recorder.graph('POST', `/communications/calls/${callId}/answer`, {
      acceptedModalities: ['audio'],
      mediaConfig: { blob: 'x' },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: { code: string; message: string; innerError: Record<string, string> };
    };
    expect(body.error.code).toBe('BadRequest');
    expect(body.error.message).toMatch(/mediaConfig/);
    expect(Object.keys(body.error.innerError).sort()).toEqual([
      'client-request-id',
      'date',
      'request-id',
    ]);
    const logged = sim.graph.requests.at(-1)!;
    expect(logged).toMatchObject({
      operation: 'answer',
      callId,
      status: 400,
      errorCode: 'BadRequest',
      verdict: { valid: false },
    });
    expect(sim.engine.getLeg(callId)?.outcome).toBe('pending');
  });

  it('requires callbackUri on answer although the schema leaves it optional', async () => {
    const callId = await pendingCall();
    const withoutCallback: Partial<typeof goodAnswer> = { ...goodAnswer };
    delete withoutCallback.callbackUri;
    const response = await recorder.graph(
      'POST',
      `/communications/calls/${callId}/answer`,
      withoutCallback,
    );
    expect(response.status).toBe(400);
    expect(sim.graph.requests.at(-1)?.verdict).toEqual({
      valid: false,
      errors: [{ path: '/callbackUri', message: 'is required' }],
    });
  });

  it('answers a body that is not JSON with 400 and does not crash', async () => {
    const callId = await pendingCall();
    const token = (await (
      await fetch(`${sim.url}/${TENANT}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: BOT_APP,
          client_secret: BOT_SECRET,
          scope: 'https://graph.microsoft.com/.default',
        }),
      })
    ).json()) as { access_token: string };
    const response = await fetch(`${sim.url}/v1.0/communications/calls/${callId}/answer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.access_token}` },
      body: '{not json',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'BadRequest' } });
  });

  it('throttles on demand with 429 and Retry-After, then serves the retry', async () => {
    const callId = await pendingCall();
    sim.graph.throttle = { remaining: 1, retryAfterInS: 7, operation: 'answer' };
    const body = { ...goodAnswer, callbackUri: `${recorder.url}/cb` };
    const throttled = await recorder.graph('POST', `/communications/calls/${callId}/answer`, body);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(await throttled.json()).toMatchObject({ error: { code: 'TooManyRequests' } });
    expect(
      (await recorder.graph('POST', `/communications/calls/${callId}/answer`, body)).status,
    ).toBe(202);
  });

  it('returns 200, a Location header and the operation for updateRecordingStatus', async () => {
    const callId = await pendingCall();
    await recorder.graph('POST', `/communications/calls/${callId}/answer`, {
      ...goodAnswer,
      callbackUri: `${recorder.url}/cb`,
    });
    await waitUntil(() => sim.engine.getLeg(callId)?.state === 'established', 'established');
    const response = await recorder.graph(
      'POST',
      `/communications/calls/${callId}/updateRecordingStatus`,
      { clientContext: 'ctx-1', status: 'notRecording' },
    );
    expect(response.status).toBe(200);
    const operation = (await response.json()) as { id: string };
    expect(operation).toMatchObject({
      '@odata.type': '#microsoft.graph.updateRecordingStatusOperation',
      clientContext: 'ctx-1',
      status: 'completed',
    });
    expect(response.headers.get('location')).toBe(
      `${sim.url}/v1.0/communications/calls/${callId}/operations/${operation.id}`,
    );
    const polled = await recorder.graph(
      'GET',
      `/communications/calls/${callId}/operations/${operation.id}`,
    );
    expect(polled.status).toBe(200);
    expect(await polled.json()).toEqual(operation);
  });

  it('enforces the concurrent calls limit per application with 429', async () => {
    sim.engine.setBehaviour({ maxConcurrentCallsPerApp: 0 });
    try {
      const callId = await pendingCall();
      const response = await recorder.graph('POST', `/communications/calls/${callId}/answer`, {
        ...goodAnswer,
        callbackUri: `${recorder.url}/cb`,
      });
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).not.toBeNull();
    } finally {
      sim.engine.setBehaviour({ maxConcurrentCallsPerApp: 100 });
    }
  });

  it('sends roster changes only, numbered, when the answer enables delta rosters', async () => {
    const conversationId = sim.engine.startCall({
      kind: 'group',
      tenantId: TENANT,
      participants: [
        { user: USERS.trader, role: 'caller' },
        { user: USERS.unrecorded, role: 'callee' },
        { guest: 'Visitor', role: 'attendee' },
      ],
    });
    const callId = (sim.engine.outcome(conversationId) as { legs: { callId: string }[] }).legs[0]!
      .callId;
    await waitUntil(
      () => sim.deliverer.records.some((r) => r.callId === callId && r.status !== undefined),
      'the invite',
    );
    const answered = await recorder.graph('POST', `/communications/calls/${callId}/answer`, {
      ...goodAnswer,
      callbackUri: `${recorder.url}/cb`,
      callOptions: {
        '@odata.type': '#microsoft.graph.incomingCallOptions',
        isDeltaRosterEnabled: true,
      },
    });
    expect(answered.status).toBe(202);
    type Entry = {
      id: string;
      isMuted?: boolean;
      removedState?: { reason: string };
      rosterSequenceNumber: number;
    };
    const rosters = (): Entry[][] =>
      recorder.received
        .flatMap((n) => n.body.value ?? [])
        .filter((i) => i.resourceUrl === `/communications/calls/${callId}/participants`)
        .map((i) => i.resourceData as unknown as Entry[]);
    await waitUntil(() => rosters().length >= 1, 'the first roster');
    expect(rosters()[0]!.map((e) => e.rosterSequenceNumber)).toEqual([1, 2, 3, 4]);
    const guestId = (
      sim.engine.outcome(conversationId) as { participants: { participantId: string }[] }
    ).participants[2]!.participantId;
    const deltaWith = (match: (e: Entry) => boolean): Entry[] | undefined =>
      rosters()
        .slice(1)
        .find((r) => r.some(match));

    expect(sim.engine.act(conversationId, 2, 'mute')).toBe(true);
    await waitUntil(
      () => deltaWith((e) => e.id === guestId && e.isMuted === true) !== undefined,
      'the mute delta',
    );
    const muted = deltaWith((e) => e.id === guestId && e.isMuted === true)!;
    expect(muted).toEqual([expect.objectContaining({ id: guestId, isMuted: true })]);
    expect(muted[0]!.rosterSequenceNumber).toBeGreaterThan(4);

    sim.engine.act(conversationId, 2, 'leave');
    await waitUntil(
      () => deltaWith((e) => e.id === guestId && e.removedState !== undefined) !== undefined,
      'the leave delta',
    );
    const left = deltaWith((e) => e.id === guestId && e.removedState !== undefined)!;
    expect(left).toEqual([
      expect.objectContaining({
        id: guestId,
        removedState: expect.objectContaining({ reason: 'left' }),
      }),
    ]);
    expect(left[0]!.rosterSequenceNumber).toBeGreaterThan(muted[0]!.rosterSequenceNumber);
  });

  it('lists every Graph request with its verdict through the control API', async () => {
    const response = await fetch(`${sim.url}/_sim/graph-requests`, {
      headers: { authorization: `Bearer ${sim.controlToken}` },
    });
    const requests = (await response.json()) as {
      operation: string;
      verdict: { valid: boolean } | null;
    }[];
    expect(requests.length).toBe(sim.graph.requests.length);
    expect(requests.some((r) => r.verdict?.valid === false)).toBe(true);
  });
});

/**
 * The control API's refusals, one table: every malformed body, missing or wrong bearer key and bad
 * session id answers 400/401 (404 for a well-formed id the host does not know, 413 for a body too
 * large) with a JSON problem body, and the controller and the session are never touched.
 */
import type {
  CreateMediaSessionResponse,
  MediaHostHealth,
  MediaSessionStatus,
  ProblemBody,
  SealSummary,
} from '@attest/core';
import { silentLogger } from '../logging/logger';
import type { MediaSession } from '../session/media-session';
import { startControlApi, type ControlApiServer, type SessionController } from './control-api.http';

const KEY = 'control-key-control-key-0123456789';
const SESSION_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const UNKNOWN_ID = '00000000-0000-0000-0000-000000000000';

/** A session whose every action is a spy; the table's requests must reach none of them. */
function fakeSession() {
  return {
    sessionId: SESSION_ID,
    status: jest.fn(() => ({ sessionId: SESSION_ID }) as unknown as MediaSessionStatus),
    startPersisting: jest.fn(() => Promise.resolve()),
    updateParticipants: jest.fn(() => Promise.resolve()),
    pausePersistence: jest.fn(() => Promise.resolve()),
    resumePersistence: jest.fn(() => Promise.resolve()),
    seal: jest.fn(() => Promise.reject(new Error('not in this test'))),
    abort: jest.fn(() => Promise.resolve()),
  };
}

const session = fakeSession();
const controller = {
  createSession: jest.fn(() => Promise.resolve({} as CreateMediaSessionResponse)),
  getSession: jest.fn((id: string) =>
    id === SESSION_ID ? (session as unknown as MediaSession) : undefined,
  ),
  health: jest.fn(() => ({ hostId: 'h' }) as MediaHostHealth),
  setDraining: jest.fn(() => ({ hostId: 'h' }) as MediaHostHealth),
  adoptSession: jest.fn(() => Promise.resolve({ sessionId: SESSION_ID } as SealSummary)),
} satisfies SessionController;
let api: ControlApiServer;

beforeAll(async () => {
  api = await startControlApi({
    host: '127.0.0.1',
    port: 0,
    controlKey: KEY,
    controller,
    logger: silentLogger,
    maxBodyBytes: 1024,
  });
});

afterAll(() => api.close());

beforeEach(() => jest.clearAllMocks());

type Auth = 'key' | 'none' | 'wrong' | 'empty' | 'basic' | 'no-scheme';

function authorization(auth: Auth): Record<string, string> {
  switch (auth) {
    case 'key':
      return { authorization: `Bearer ${KEY}` };
    case 'none':
      return {};
    case 'wrong':
      return { authorization: `Bearer ${KEY.slice(0, -1)}x` };
    case 'empty':
      return { authorization: 'Bearer ' };
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`x:${KEY}`).toString('base64')}` };
    case 'no-scheme':
      return { authorization: KEY };
  }
}

interface Row {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  /** A string is sent as it is; anything else as JSON. */
  readonly body?: unknown;
  readonly auth?: Auth;
  readonly status: 400 | 401 | 404 | 413;
  readonly message: RegExp;
}

const session_ = (action: string): string => `/v1/sessions/${SESSION_ID}/${action}`;
const participant = {
  msi: '7',
  participantId: 'p',
  kind: 'audio',
  identityKind: 'user',
};

const rows: readonly Row[] = [
  // 401: the key is checked before anything else is read.
  ...(['none', 'wrong', 'empty', 'basic', 'no-scheme'] as const).flatMap((auth): Row[] => [
    {
      name: `create, key ${auth}`,
      method: 'POST',
      path: '/v1/sessions',
      body: { callId: 'c', tenantId: 't', interactionId: 'i', recordedUserIds: [] },
      auth,
      status: 401,
      message: /control key/,
    },
    {
      name: `seal, key ${auth}`,
      method: 'POST',
      path: session_('seal'),
      auth,
      status: 401,
      message: /control key/,
    },
    {
      name: `bad id, key ${auth} (no hint the id is bad)`,
      method: 'GET',
      path: '/v1/sessions/not-a-session',
      auth,
      status: 401,
      message: /control key/,
    },
  ]),
  // 400: malformed bodies.
  {
    name: 'create, not JSON',
    method: 'POST',
    path: '/v1/sessions',
    body: '{"callId":',
    status: 400,
    message: /not valid JSON/,
  },
  {
    name: 'create, no body',
    method: 'POST',
    path: '/v1/sessions',
    body: '',
    status: 400,
    message: /JSON object/,
  },
  {
    name: 'create, an array',
    method: 'POST',
    path: '/v1/sessions',
    body: [],
    status: 400,
    message: /JSON object/,
  },
  {
    name: 'create, JSON null',
    method: 'POST',
    path: '/v1/sessions',
    body: 'null',
    status: 400,
    message: /JSON object/,
  },
  {
    name: 'create, recordedUserIds missing',
    method: 'POST',
    path: '/v1/sessions',
    body: { callId: 'c', tenantId: 't', interactionId: 'i' },
    status: 400,
    message: /recordedUserIds/,
  },
  {
    name: 'create, recordedUserIds of numbers',
    method: 'POST',
    path: '/v1/sessions',
    body: { callId: 'c', tenantId: 't', interactionId: 'i', recordedUserIds: [1] },
    status: 400,
    message: /recordedUserIds/,
  },
  {
    name: 'create, callId a number',
    method: 'POST',
    path: '/v1/sessions',
    body: { callId: 5, tenantId: 't', interactionId: 'i', recordedUserIds: [] },
    status: 400,
    message: /callId/,
  },
  {
    name: 'create, empty tenantId',
    method: 'POST',
    path: '/v1/sessions',
    body: { callId: 'c', tenantId: '', interactionId: 'i', recordedUserIds: [] },
    status: 400,
    message: /tenantId/,
  },
  {
    name: 'create, interactionId "..',
    method: 'POST',
    path: '/v1/sessions',
    body: { callId: 'c', tenantId: 't', interactionId: '..', recordedUserIds: [] },
    status: 400,
    message: /interactionId/,
  },
  {
    name: 'create, tenantId with a backslash',
    method: 'POST',
    path: '/v1/sessions',
    body: { callId: 'c', tenantId: 'a\\b', interactionId: 'i', recordedUserIds: [] },
    status: 400,
    message: /tenantId/,
  },
  {
    name: 'create, callId too long',
    method: 'POST',
    path: '/v1/sessions',
    body: { callId: 'c'.repeat(257), tenantId: 't', interactionId: 'i', recordedUserIds: [] },
    status: 400,
    message: /callId/,
  },
  {
    name: 'create, callChainId empty',
    method: 'POST',
    path: '/v1/sessions',
    body: { callId: 'c', tenantId: 't', interactionId: 'i', callChainId: '', recordedUserIds: [] },
    status: 400,
    message: /callChainId/,
  },
  {
    name: 'drain, isDraining a string',
    method: 'POST',
    path: '/v1/drain',
    body: { isDraining: 'yes' },
    status: 400,
    message: /isDraining/,
  },
  { name: 'drain, no body', method: 'POST', path: '/v1/drain', status: 400, message: /isDraining/ },
  {
    name: 'persist, no time',
    method: 'POST',
    path: session_('persist'),
    body: {},
    status: 400,
    message: /recordingConfirmedAt/,
  },
  {
    name: 'persist, not a time',
    method: 'POST',
    path: session_('persist'),
    body: { recordingConfirmedAt: 'soon' },
    status: 400,
    message: /recordingConfirmedAt/,
  },
  {
    name: 'participants, not an array',
    method: 'PUT',
    path: session_('participants'),
    body: { participants: {} },
    status: 400,
    message: /participants must be an array/,
  },
  {
    name: 'participants, an entry not an object',
    method: 'PUT',
    path: session_('participants'),
    body: { participants: [7] },
    status: 400,
    message: /participants\[0\] must be an object/,
  },
  {
    name: 'participants, msi not decimal',
    method: 'PUT',
    path: session_('participants'),
    body: { participants: [{ ...participant, msi: '0x7' }] },
    status: 400,
    message: /msi must be a decimal/,
  },
  {
    name: 'participants, msi too long',
    method: 'PUT',
    path: session_('participants'),
    body: { participants: [{ ...participant, msi: '12345678901' }] },
    status: 400,
    message: /msi must be a decimal/,
  },
  {
    name: 'participants, unknown kind',
    method: 'PUT',
    path: session_('participants'),
    body: { participants: [participant, { ...participant, kind: 'chat' }] },
    status: 400,
    message: /participants\[1\]\.kind/,
  },
  {
    name: 'participants, unknown identity kind',
    method: 'PUT',
    path: session_('participants'),
    body: { participants: [{ ...participant, identityKind: 'robot' }] },
    status: 400,
    message: /identityKind/,
  },
  {
    name: 'participants, no participantId',
    method: 'PUT',
    path: session_('participants'),
    body: { participants: [{ ...participant, participantId: undefined }] },
    status: 400,
    message: /participantId/,
  },
  {
    name: 'pause, no actor',
    method: 'POST',
    path: session_('pause'),
    body: { reason: 'pci' },
    status: 400,
    message: /actor/,
  },
  {
    name: 'pause, reason too long',
    method: 'POST',
    path: session_('pause'),
    body: { reason: 'r'.repeat(65), actor: 'u' },
    status: 400,
    message: /reason/,
  },
  {
    name: 'pause, body a string',
    method: 'POST',
    path: session_('pause'),
    body: '"pci"',
    status: 400,
    message: /JSON object/,
  },
  {
    name: 'resume, no body',
    method: 'POST',
    path: session_('resume'),
    status: 400,
    message: /JSON object/,
  },
  {
    name: 'abort, reason empty',
    method: 'POST',
    path: session_('abort'),
    body: { reason: '' },
    status: 400,
    message: /reason/,
  },
  // 400: bad ids.
  {
    name: 'status, id not a UUID',
    method: 'GET',
    path: '/v1/sessions/not-a-session',
    status: 400,
    message: /session id must be a UUID/,
  },
  {
    name: 'seal, id a UUID with a suffix',
    method: 'POST',
    path: `/v1/sessions/${SESSION_ID}x/seal`,
    status: 400,
    message: /UUID/,
  },
  {
    name: 'status, id with an encoded space',
    method: 'GET',
    path: `/v1/sessions/${SESSION_ID}%20`,
    status: 400,
    message: /UUID/,
  },
  {
    name: 'status, id broken percent-encoding',
    method: 'GET',
    path: '/v1/sessions/%E0%A4%A',
    status: 400,
    message: /percent-encoding/,
  },
  {
    name: 'status, id with an encoded slash',
    method: 'GET',
    path: `/v1/sessions/${SESSION_ID.slice(0, 8)}%2F${SESSION_ID.slice(9)}`,
    status: 400,
    message: /UUID/,
  },
  // 404: a well-formed id the host does not know, a route that does not exist.
  {
    name: 'status, unknown session',
    method: 'GET',
    path: `/v1/sessions/${UNKNOWN_ID}`,
    status: 404,
    message: /no such media session/,
  },
  {
    name: 'seal, unknown session',
    method: 'POST',
    path: `/v1/sessions/${UNKNOWN_ID}/seal`,
    status: 404,
    message: /no such media session/,
  },
  {
    name: 'unknown action',
    method: 'POST',
    path: session_('rewind'),
    status: 404,
    message: /no such route/,
  },
  {
    name: 'wrong method',
    method: 'DELETE',
    path: session_('seal'),
    status: 404,
    message: /no such route/,
  },
  // 413: a body past the limit.
  {
    name: 'create, body too large',
    method: 'POST',
    path: '/v1/sessions',
    body: { callId: 'c'.repeat(2000) },
    status: 413,
    message: /exceeds 1024 bytes/,
  },
];

async function call(row: Row): Promise<{ status: number; type: string | null; body: ProblemBody }> {
  const body =
    row.body === undefined
      ? undefined
      : typeof row.body === 'string'
        ? row.body
        : JSON.stringify(row.body);
  const response = await fetch(`${api.url}${row.path}`, {
    method: row.method,
    headers: { ...authorization(row.auth ?? 'key'), 'content-type': 'application/json' },
    ...(body !== undefined ? { body } : {}),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as ProblemBody,
  };
}

describe('control API refusals', () => {
  it.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const response = await call(row);
    expect(response.status).toBe(row.status);
    expect(response.type).toBe('application/json');
    expect(response.body).toEqual({
      code: expect.any(String) as string,
      message: expect.stringMatching(row.message) as string,
      status: row.status,
    });
    expect(response.body.code).toBe(
      {
        400: 'ATT_INVALID_REQUEST',
        401: 'ATT_UNAUTHORIZED',
        404: 'ATT_NOT_FOUND',
        413: 'ATT_PAYLOAD_TOO_LARGE',
      }[row.status],
    );
    // Nothing was created, changed or ended.
    expect(controller.createSession).not.toHaveBeenCalled();
    expect(controller.setDraining).not.toHaveBeenCalled();
    for (const action of [
      session.startPersisting,
      session.updateParticipants,
      session.pausePersistence,
      session.resumePersistence,
      session.seal,
      session.abort,
    ])
      expect(action).not.toHaveBeenCalled();
    // A refused key never reaches the session lookup either.
    if (row.status === 401) expect(controller.getSession).not.toHaveBeenCalled();
  });

  it('takes the same requests with the key and a good body (the table refuses for its reason alone)', async () => {
    const ok = (path: string, method: string, body?: unknown): Promise<Response> =>
      fetch(`${api.url}${path}`, {
        method,
        headers: { authorization: `bearer ${KEY}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    expect(
      (
        await ok('/v1/sessions', 'POST', {
          callId: 'c',
          tenantId: 't',
          interactionId: 'i',
          recordedUserIds: [],
        })
      ).status,
    ).toBe(201);
    expect((await ok(`/v1/sessions/${SESSION_ID.toUpperCase()}`, 'GET')).status).toBe(200);
    expect(controller.getSession).toHaveBeenLastCalledWith(SESSION_ID);
    expect(
      (await ok(session_('participants'), 'PUT', { participants: [participant] })).status,
    ).toBe(200);
    expect(session.updateParticipants).toHaveBeenCalledWith([participant]);
    expect((await ok(session_('pause'), 'POST', { reason: 'pci', actor: 'u' })).status).toBe(200);
    expect((await ok('/v1/drain', 'POST', { isDraining: true })).status).toBe(200);
  });
});

import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import {
  interactionIdForCall,
  LISTEN_SUBPROTOCOL,
  parseListenSubprotocols,
  verifyListenToken,
  type LedgerEntry,
} from '@attest/core';
import { StoreLiveCallLocator } from '../../functions/src/adapters/live-call-locator';
import { MemoryLedgerStore } from './support/memory-archive-stores';
import type { ArchiveRecord } from '../../functions/src/domain/archive-ports';
import type { MediaHostRecord } from '../../functions/src/domain/recorder-ports';
import type { TokenVerifier } from '../../functions/src/domain/token-verifier';
import { configuredScopes, createAdminAccess } from '../../functions/src/http/admin-access';
import {
  createLiveListenHandler,
  type LiveCall,
  type LiveCallLocator,
} from '../../functions/src/http/live-listen.http';

const T0 = Date.parse('2030-01-01T09:00:00.000Z');
const LISTEN_KEY = 'live-listen-key-for-tests-0123456789abcdef';
const SESSION = '0b7c6a4e-1d2f-4a3b-9c8d-7e6f5a4b3c2d';

/** Tokens are `Bearer <userId>`; the fake knows each user's roles and groups. */
const users: Record<string, { roles: string[]; groups: string[] }> = {
  supervisor: { roles: ['supervisor'], groups: ['g-trader-leads'] },
  otherSupervisor: { roles: ['supervisor'], groups: ['g-sales-leads'] },
  auditor: { roles: ['auditor'], groups: [] },
};
const verifier: TokenVerifier = {
  verify: (header) => {
    const userId = header?.replace(/^Bearer /, '') ?? '';
    const user = users[userId];
    if (user === undefined) return Promise.resolve({ isValid: false, reason: 'unknown token' });
    return Promise.resolve({
      isValid: true,
      token: {
        issuer: 'https://login.example/t',
        audience: 'attest',
        tenantId: 'tenant-1',
        subject: userId,
        roles: user.roles,
        expiresAt: new Date('2100-01-01'),
        claims: { groups: user.groups },
      },
    });
  },
};
const rbacScopes = { 'g-trader-leads': ['traders'], 'g-sales-leads': ['sales'] };

const liveCall: LiveCall = {
  tenantId: 'tenant-1',
  interactionId: 'int-call-1',
  sessionId: SESSION,
  groupIds: ['traders'],
  listenBaseUrl: 'wss://mh-1.media.example:7403',
};
const calls: LiveCallLocator = {
  getLiveCall: (callId) => Promise.resolve(callId === 'call-1' ? liveCall : undefined),
};

/** `null` = live listen-in not configured. */
function setup(listenKey: string | null = LISTEN_KEY) {
  const clock = { now: () => new Date(T0) };
  const ledger = new MemoryLedgerStore(clock);
  const handler = createLiveListenHandler({
    access: createAdminAccess({ verifier, ledger, scopes: configuredScopes(rbacScopes) }),
    calls,
    listenKey: listenKey ?? undefined,
    clock,
    newId: () => 'token-1',
  });
  const listen = async (user: string | undefined, callId = 'call-1'): Promise<HttpResponseInit> => {
    const request = new HttpRequest({
      method: 'POST',
      url: `http://localhost:7071/api/archive/calls/${callId}/listen`,
      headers: user === undefined ? {} : { authorization: `Bearer ${user}` },
      params: { callId },
    });
    return handler(
      request,
      new InvocationContext({ functionName: 'archiveLiveListen', logHandler: () => undefined }),
    );
  };
  const entries = async (): Promise<LedgerEntry[]> => {
    const out: LedgerEntry[] = [];
    for await (const entry of ledger.listEntries(0)) out.push(entry);
    return out;
  };
  return { listen, entries };
}

describe('live listen-in route', () => {
  it('gives a supervisor in scope a wss URL without a token and the subprotocols that carry one for the call’s session, and writes one granted entry', async () => {
    const { listen, entries } = setup();
    const response = await listen('supervisor');
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({ 'cache-control': 'no-store' });
    const body = response.jsonBody as { url: string; protocols: string[]; expiresAt: string };
    expect(body.expiresAt).toBe('2030-01-01T09:01:00.000Z');
    expect(body.url).toBe(`wss://mh-1.media.example:7403/v1/live/${SESSION}`);
    expect(new URL(body.url).search).toBe('');
    expect(body.protocols[0]).toBe(LISTEN_SUBPROTOCOL);
    const offered = parseListenSubprotocols(body.protocols.join(', '));
    expect(offered.isListenProtocolOffered).toBe(true);
    expect(verifyListenToken(offered.token!, Buffer.from(LISTEN_KEY, 'utf8'), T0)).toEqual({
      ok: true,
      claims: {
        sessionId: SESSION,
        userId: 'supervisor',
        expiresAtMs: T0 + 60_000,
        tokenId: 'token-1',
      },
    });
    const ledger = await entries();
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({
      kind: 'accessed',
      actor: 'supervisor',
      subjectType: 'interaction',
      subjectId: 'int-call-1',
      details: {
        action: 'liveListen',
        outcome: 'granted',
        callId: 'call-1',
        sessionId: SESSION,
        tokenId: 'token-1',
      },
    });
  });

  it('refuses a role without liveListen with 403 and records the refusal once', async () => {
    const { listen, entries } = setup();
    const response = await listen('auditor');
    expect(response.status).toBe(403);
    expect(response.jsonBody).toMatchObject({ code: 'ATT_FORBIDDEN' });
    const ledger = await entries();
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({
      actor: 'auditor',
      details: { action: 'liveListen', outcome: 'denied:noRole', callId: 'call-1' },
    });
  });

  it('refuses a supervisor whose scope does not cover the call with 403 and one entry', async () => {
    const { listen, entries } = setup();
    const response = await listen('otherSupervisor');
    expect(response.status).toBe(403);
    expect(JSON.stringify(response.jsonBody)).not.toContain('attest.token.');
    const ledger = await entries();
    expect(ledger.map((e) => e.details.outcome)).toEqual([expect.stringMatching(/^denied:/)]);
  });

  it('answers 404 with one entry when the call is not live', async () => {
    const { listen, entries } = setup();
    const response = await listen('supervisor', 'call-ended');
    expect(response.status).toBe(404);
    expect((await entries()).map((e) => e.details.outcome)).toEqual(['rejected:ATT_NOT_FOUND']);
  });

  it('answers 404 when live listen-in is not configured', async () => {
    const { listen } = setup(null);
    expect((await listen('supervisor')).status).toBe(404);
  });

  it('answers 401 without a valid token and records nothing', async () => {
    const { listen, entries } = setup();
    expect((await listen(undefined)).status).toBe(401);
    expect(await entries()).toEqual([]);
  });
});

describe('live call locator', () => {
  const interactionId = interactionIdForCall('call-9');
  const row = {
    tenantId: 'tenant-1',
    interactionId,
    callId: 'call-9',
    mediaHostId: 'mh-1',
    mediaSessionId: SESSION,
    callState: 'established',
  };
  const host = {
    hostId: 'mh-1',
    controlUrl: 'https://10.0.0.4:7400',
    listenUrl: 'wss://mh-1.media.example:7403',
  } as MediaHostRecord;
  const record = { groupIds: ['traders'] } as unknown as ArchiveRecord;
  const locator = (
    interaction: Record<string, unknown> | undefined,
    hostRecord: MediaHostRecord = host,
  ) =>
    new StoreLiveCallLocator(
      {
        findByInteractionId: (id) =>
          Promise.resolve(id === interactionId ? (interaction as never) : undefined),
      },
      { get: (id) => Promise.resolve(id === 'mh-1' ? hostRecord : undefined) },
      { get: () => Promise.resolve(record) },
    );

  it('finds the media session, the host’s listen address and the recorded users’ groups of a live call', async () => {
    expect(await locator(row).getLiveCall('call-9')).toEqual({
      tenantId: 'tenant-1',
      interactionId,
      sessionId: SESSION,
      groupIds: ['traders'],
      listenBaseUrl: 'wss://mh-1.media.example:7403',
    });
  });

  it('finds nothing on a host that offers no listen URL (no listen key)', async () => {
    const withoutListen = { ...host, listenUrl: undefined } as MediaHostRecord;
    expect(await locator(row, withoutListen).getLiveCall('call-9')).toBeUndefined();
  });

  it('finds nothing for an ended call or one without a media session', async () => {
    expect(await locator({ ...row, callState: 'ended' }).getLiveCall('call-9')).toBeUndefined();
    expect(
      await locator({ ...row, mediaSessionId: undefined }).getLiveCall('call-9'),
    ).toBeUndefined();
  });
});

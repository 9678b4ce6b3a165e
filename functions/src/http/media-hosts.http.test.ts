import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import type { LedgerEntryDraft, MediaHostHeartbeat } from '@attest/core';
import { MediaHostPool } from '../domain/media-host-pool';
import { rankMediaHosts } from '../domain/media-host-selection';
import type {
  LifecycleClient,
  MediaHostControl,
  MediaHostRecord,
  MediaHostRegistry,
} from '../domain/recorder-ports';
import type { TokenVerifier } from '../domain/token-verifier';
import { configuredScopes, createAdminAccess, type AdminAccess } from './admin-access';
import {
  createDrainMediaHostHandler,
  createHeartbeatHandler,
  createListMediaHostsHandler,
  createMediaHostEventHandler,
  type MediaHostsHttpDeps,
} from './media-hosts.http';

const NOW = new Date('2030-01-01T00:00:00Z');
const KEY = 'control-key-123';
const heartbeat: MediaHostHeartbeat = {
  hostId: 'mh-1',
  controlUrl: 'http://127.0.0.1:7000',
  region: 'EUNO',
  isDraining: false,
  version: '1',
  capacity: { maxSessions: 10, activeSessions: 2 },
  spoolBytes: 0,
  spoolLimitInBytes: 100,
  sentAt: NOW.toISOString(),
};

/** Tokens are `Bearer <userId>`; every ledger entry is kept. */
function fakeAdminAccess(
  users: Record<string, { roles: string[]; tenantId: string }>,
  options: { operatorTenantId?: string } = {},
): { access: AdminAccess; entries: LedgerEntryDraft[] } {
  const entries: LedgerEntryDraft[] = [];
  const verifier: TokenVerifier = {
    verify: (header) => {
      const userId = header?.replace(/^Bearer /, '') ?? '';
      const user = users[userId];
      return Promise.resolve(
        user === undefined
          ? { isValid: false, reason: 'unknown token' }
          : {
              isValid: true,
              token: {
                issuer: 'https://login.example/t',
                audience: 'attest',
                tenantId: user.tenantId,
                subject: userId,
                roles: user.roles,
                expiresAt: new Date('2100-01-01'),
                claims: {},
              },
            },
      );
    },
  };
  const access = createAdminAccess({
    verifier,
    ledger: { append: (draft) => Promise.resolve(void entries.push(draft) as never) },
    scopes: configuredScopes({}),
    ...options,
  });
  return { access, entries };
}

function setup(isAdmin = true) {
  const stored = new Map<string, MediaHostRecord>();
  const raised: { id: string; payload: unknown }[] = [];
  const claims = new Set<string>();
  const registry: MediaHostRegistry = {
    upsertHeartbeat: (hb, at) => {
      stored.set(hb.hostId, { ...stored.get(hb.hostId), ...hb, receivedAt: at.toISOString() });
      return Promise.resolve();
    },
    list: () => Promise.resolve([...stored.values()]),
    get: (id) => Promise.resolve(stored.get(id)),
    setDraining: (id, isDraining) => {
      const h = stored.get(id);
      if (h) stored.set(id, { ...h, isDrainingByAdmin: isDraining });
      return Promise.resolve(h !== undefined);
    },
  };
  const control = { setDraining: () => Promise.resolve() } as unknown as MediaHostControl;
  const lifecycle: LifecycleClient = {
    start: () => Promise.resolve('started'),
    raise: (id, _n, payload) => {
      raised.push({ id, payload });
      return Promise.resolve('raised');
    },
    getStatus: () => Promise.resolve(undefined),
  };
  // The fleet is the operators': an operator of the deployment's tenant, or a tenant's admin.
  const { access, entries } = fakeAdminAccess(
    {
      caller: isAdmin
        ? { roles: ['Attest.Operator'], tenantId: 'op' }
        : { roles: ['Attest.Admin'], tenantId: 't' },
    },
    { operatorTenantId: 'op' },
  );
  const deps: MediaHostsHttpDeps = {
    controlKey: KEY,
    registry,
    control,
    lifecycle: () => lifecycle,
    access,
    staleAfterInMs: 30_000,
    now: () => NOW,
    pool: new MediaHostPool(registry, control, { staleAfterInMs: 30_000, now: () => NOW }),
    deliveries: {
      tryClaim: (p, k) => {
        const had = claims.has(p + k);
        claims.add(p + k);
        return Promise.resolve(!had);
      },
      release: () => Promise.resolve(),
      purgeOlderThan: () => Promise.resolve(0),
    },
  };
  return { deps, stored, raised, entries };
}
const ctx = (): InvocationContext =>
  new InvocationContext({ functionName: 'test', logHandler: () => undefined });
const post = (path: string, body: unknown, key: string | null = KEY): HttpRequest =>
  new HttpRequest({
    method: 'POST',
    url: `http://localhost/api/${path}`,
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
    body: { string: typeof body === 'string' ? body : JSON.stringify(body) },
  });

describe('media host control plane', () => {
  it('stores a heartbeat with the time it was received', async () => {
    const { deps, stored } = setup();
    expect(
      (await createHeartbeatHandler(deps)(post('mediahosts/heartbeat', heartbeat), ctx())).status,
    ).toBe(204);
    expect(stored.get('mh-1')).toMatchObject({ region: 'EUNO', receivedAt: NOW.toISOString() });
  });

  it('keeps a wss listen URL and drops a plain ws one (listen-in leaves the machine)', async () => {
    const { deps, stored } = setup();
    const handler = createHeartbeatHandler(deps);
    await handler(
      post('mediahosts/heartbeat', { ...heartbeat, listenUrl: 'wss://mh-1.media.example:7403' }),
      ctx(),
    );
    expect(stored.get('mh-1')).toMatchObject({ listenUrl: 'wss://mh-1.media.example:7403' });
    await handler(
      post('mediahosts/heartbeat', {
        ...heartbeat,
        hostId: 'mh-2',
        listenUrl: 'ws://mh-2.media.example:7403',
      }),
      ctx(),
    );
    expect(stored.get('mh-2')).toBeDefined();
    expect(stored.get('mh-2')).not.toHaveProperty('listenUrl');
  });

  it('refuses a heartbeat without the control key', async () => {
    const { deps, stored } = setup();
    expect(
      (await createHeartbeatHandler(deps)(post('mediahosts/heartbeat', heartbeat, 'wrong'), ctx()))
        .status,
    ).toBe(401);
    expect(
      (await createHeartbeatHandler(deps)(post('mediahosts/heartbeat', heartbeat, null), ctx()))
        .status,
    ).toBe(401);
    expect(stored.size).toBe(0);
  });

  it('answers 400 naming the bad fields of a heartbeat', async () => {
    const { deps } = setup();
    const response = await createHeartbeatHandler(deps)(
      post('mediahosts/heartbeat', {
        ...heartbeat,
        capacity: { maxSessions: -1 },
        controlUrl: 'nope',
      }),
      ctx(),
    );
    expect(response).toMatchObject({ status: 400, jsonBody: { code: 'ATT_INVALID_REQUEST' } });
    expect(JSON.stringify((response as HttpResponseInit).jsonBody)).toContain(
      'controlUrl, capacity',
    );
  });

  it('logs, without raising, the media host events the lifecycle does not act on', async () => {
    const { deps, raised } = setup();
    for (const kind of ['connectionLost', 'connectionResumed', 'gapRecorded']) {
      const response = await createMediaHostEventHandler(deps)(
        post('mediahosts/events', { eventId: kind, hostId: 'mh-1', callId: 'c1', kind }),
        ctx(),
      );
      expect(response.status).toBe(202);
    }
    expect(raised).toEqual([]);
  });

  it('forwards a media host event to the call lifecycle once', async () => {
    const { deps, raised } = setup();
    const event = {
      eventId: 'e1',
      hostId: 'mh-1',
      sessionId: 's1',
      callId: 'c1',
      kind: 'persistenceFailed',
      at: NOW.toISOString(),
      reason: 'spoolFull',
    };
    await createMediaHostEventHandler(deps)(post('mediahosts/events', event), ctx());
    await createMediaHostEventHandler(deps)(post('mediahosts/events', event), ctx());
    expect(raised).toEqual([
      {
        id: 'call-c1',
        payload: expect.objectContaining({
          kind: 'mediaHost',
          eventKind: 'persistenceFailed',
          reason: 'spoolFull',
        }),
      },
    ]);
  });

  it('answers 400 for an event of an unknown kind', async () => {
    const { deps } = setup();
    expect(
      (
        await createMediaHostEventHandler(deps)(
          post('mediahosts/events', { eventId: 'e', hostId: 'h', callId: 'c', kind: 'exploded' }),
          ctx(),
        )
      ).status,
    ).toBe(400);
  });

  it('lets an admin list hosts with staleness and drain one', async () => {
    const { deps, stored } = setup();
    await createHeartbeatHandler(deps)(post('mediahosts/heartbeat', heartbeat), ctx());
    const list = await createListMediaHostsHandler(deps)(
      new HttpRequest({
        method: 'GET',
        url: 'http://localhost/api/mediahosts',
        headers: { authorization: 'Bearer caller' },
      }),
      ctx(),
    );
    expect((list as HttpResponseInit).jsonBody).toMatchObject({
      value: [{ hostId: 'mh-1', isStale: false }],
    });
    const drain = await createDrainMediaHostHandler(deps)(
      new HttpRequest({
        method: 'POST',
        url: 'http://localhost/api/mediahosts/mh-1/drain',
        headers: { authorization: 'Bearer caller' },
        params: { hostId: 'mh-1' },
        body: { string: '{"isDraining":true}' },
      }),
      ctx(),
    );
    expect(drain).toMatchObject({ status: 200, jsonBody: { hostId: 'mh-1', isDraining: true } });
    expect(stored.get('mh-1')?.isDrainingByAdmin).toBe(true);
  });

  it('refuses listing to a caller without the admin role', async () => {
    const { deps } = setup(false);
    expect(
      (
        await createListMediaHostsHandler(deps)(
          new HttpRequest({
            method: 'GET',
            url: 'http://localhost/api/mediahosts',
            headers: { authorization: 'Bearer caller' },
          }),
          ctx(),
        )
      ).status,
    ).toBe(403);
  });

  it("refuses a tenant's admin draining the shared fleet, and records the refusal", async () => {
    const { deps, stored, entries } = setup(false);
    await createHeartbeatHandler(deps)(post('mediahosts/heartbeat', heartbeat), ctx());
    const drain = await createDrainMediaHostHandler(deps)(
      new HttpRequest({
        method: 'POST',
        url: 'http://localhost/api/mediahosts/mh-1/drain',
        headers: { authorization: 'Bearer caller' },
        params: { hostId: 'mh-1' },
        body: { string: '{"isDraining":true}' },
      }),
      ctx(),
    );
    expect(drain).toMatchObject({ status: 403, jsonBody: { code: 'ATT_FORBIDDEN' } });
    expect(stored.get('mh-1')?.isDrainingByAdmin).toBeUndefined();
    expect(entries).toEqual([
      expect.objectContaining({
        actor: 'caller',
        details: expect.objectContaining({ outcome: 'denied:noRole' }),
      }),
    ]);
  });

  it('does not make an operator of a tenant that assigned itself the operator role', async () => {
    const { access } = fakeAdminAccess(
      { intruder: { roles: ['Attest.Operator'], tenantId: 'tenant-b' } },
      { operatorTenantId: 'op' },
    );
    const { deps } = setup();
    const list = await createListMediaHostsHandler({ ...deps, access })(
      new HttpRequest({
        method: 'GET',
        url: 'http://localhost/api/mediahosts',
        headers: { authorization: 'Bearer intruder' },
      }),
      ctx(),
    );
    expect(list.status).toBe(403);
  });

  it('records an operator draining a host as a configuration change', async () => {
    const { deps, entries } = setup();
    await createHeartbeatHandler(deps)(post('mediahosts/heartbeat', heartbeat), ctx());
    await createDrainMediaHostHandler(deps)(
      new HttpRequest({
        method: 'POST',
        url: 'http://localhost/api/mediahosts/mh-1/drain',
        headers: { authorization: 'Bearer caller' },
        params: { hostId: 'mh-1' },
        body: { string: '{"isDraining":true}' },
      }),
      ctx(),
    );
    expect(entries).toEqual([
      expect.objectContaining({
        kind: 'configurationChanged',
        actor: 'caller',
        subjectId: 'mediahosts/mh-1',
      }),
    ]);
  });
});

describe('rankMediaHosts', () => {
  const host = (id: string, overrides: Partial<MediaHostRecord> = {}): MediaHostRecord => ({
    ...heartbeat,
    hostId: id,
    receivedAt: NOW.toISOString(),
    ...overrides,
  });

  it('prefers the call region, then the least loaded host', () => {
    const { candidates } = rankMediaHosts(
      [
        host('far-idle', { region: 'USEA', capacity: { maxSessions: 10, activeSessions: 0 } }),
        host('near-busy', { capacity: { maxSessions: 10, activeSessions: 8 } }),
        host('near-idle', { capacity: { maxSessions: 10, activeSessions: 1 } }),
      ],
      { now: NOW, staleAfterInMs: 30_000, region: 'euno' },
    );
    expect(candidates.map((c) => c.hostId)).toEqual(['near-idle', 'near-busy', 'far-idle']);
  });

  it('skips stale, draining and full hosts and counts why', () => {
    const { candidates, skipped } = rankMediaHosts(
      [
        host('stale', { receivedAt: new Date(NOW.getTime() - 31_000).toISOString() }),
        host('drain', { isDrainingByAdmin: true }),
        host('full', { capacity: { maxSessions: 2, activeSessions: 1 } }),
      ],
      { now: NOW, staleAfterInMs: 30_000, pendingByHost: new Map([['full', 1]]) },
    );
    expect(candidates).toEqual([]);
    expect(skipped).toEqual({ stale: 1, draining: 1, full: 1 });
  });
});

import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import type { InteractionRecord, LedgerEntryDraft } from '@attest/core';
import type {
  InteractionFilter,
  InteractionStore,
  LifecycleClient,
} from '../domain/recorder-ports';
import type { TokenVerifier } from '../domain/token-verifier';
import { configuredScopes, createAdminAccess, type AdminAccess } from './admin-access';
import { createGetCallHandler, createListCallsHandler } from './calls-admin.http';

const record = (tenantId: string, interactionId: string): InteractionRecord => ({
  tenantId,
  interactionId,
  callId: interactionId,
  type: 'p2p',
  direction: 'inbound',
  outcome: 'recorded',
  invitedAt: '2030-01-01T00:00:00.000Z',
  recordedUserIds: ['u'],
  recordingStatusHistory: [],
  gaps: [],
});

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

function setup(callerTenant: string) {
  const rows = [record('tenant-a', 'call-a'), record('tenant-b', 'call-b')];
  const filters: InteractionFilter[] = [];
  const interactions = {
    findByInteractionId: (id: string) => Promise.resolve(rows.find((r) => r.interactionId === id)),
    list: (filter: InteractionFilter) => {
      filters.push(filter);
      return Promise.resolve(
        rows.filter((r) => filter.tenantId === undefined || r.tenantId === filter.tenantId),
      );
    },
    listParticipants: () => Promise.resolve([]),
    listStreams: () => Promise.resolve([]),
  } as unknown as InteractionStore;
  const lifecycle = {
    getStatus: () => Promise.resolve({ runtimeStatus: 'Completed' }),
  } as unknown as LifecycleClient;
  const { access, entries } = fakeAdminAccess({
    admin: { roles: ['Attest.Admin'], tenantId: callerTenant },
    officer: { roles: ['Attest.ComplianceOfficer'], tenantId: callerTenant },
  });
  const deps = {
    access,
    interactions,
    lifecycle: () => lifecycle,
    now: () => new Date('2030-01-01T12:00:00Z'),
  };
  return {
    getCall: createGetCallHandler(deps),
    listCalls: createListCallsHandler(deps),
    filters,
    entries,
  };
}

const get = (url: string, params: Record<string, string> = {}, user = 'admin') =>
  new HttpRequest({ method: 'GET', url, params, headers: { authorization: `Bearer ${user}` } });
const context = () => new InvocationContext({ functionName: 'calls' });

describe('calls admin API', () => {
  it('shows an admin the calls of their own tenant only', async () => {
    const { getCall, listCalls, filters } = setup('tenant-a');
    expect(
      await getCall(get('http://localhost/api/calls/call-a', { callId: 'call-a' }), context()),
    ).toMatchObject({ status: 200, jsonBody: { callId: 'call-a' } });
    // Another tenant's call is answered like one that does not exist.
    expect(
      await getCall(get('http://localhost/api/calls/call-b', { callId: 'call-b' }), context()),
    ).toMatchObject({ status: 404, jsonBody: { code: 'ATT_NOT_FOUND' } });
    const listed = (await listCalls(
      get('http://localhost/api/calls?state=recorded'),
      context(),
    )) as HttpResponseInit;
    expect(
      (listed.jsonBody as { value: InteractionRecord[] }).value.map((r) => r.interactionId),
    ).toEqual(['call-a']);
    expect(filters.every((f) => f.tenantId === 'tenant-a')).toBe(true);
  });

  it('answers 400 for an unknown state and a bad page size', async () => {
    const { listCalls } = setup('tenant-a');
    expect(await listCalls(get('http://localhost/api/calls?state=bogus'), context())).toMatchObject(
      { status: 400 },
    );
    expect(await listCalls(get('http://localhost/api/calls?top=0'), context())).toMatchObject({
      status: 400,
    });
  });

  it('records each decision in the ledger, the refusal of another tenant included', async () => {
    const { getCall, entries } = setup('tenant-a');
    await getCall(get('http://localhost/api/calls/call-a', { callId: 'call-a' }), context());
    await getCall(get('http://localhost/api/calls/call-b', { callId: 'call-b' }), context());
    expect(entries.map((e) => e.details?.outcome)).toEqual(['allowed', 'rejected:ATT_NOT_FOUND']);
    expect(entries.every((e) => e.tenantId === 'tenant-a')).toBe(true);
  });

  it('refuses a role without viewCalls and records it', async () => {
    const { listCalls, entries } = setup('tenant-a');
    const response = await listCalls(
      get('http://localhost/api/calls?state=recorded', {}, 'officer'),
      context(),
    );
    expect(response).toMatchObject({ status: 403, jsonBody: { code: 'ATT_FORBIDDEN' } });
    expect(entries.map((e) => e.details?.outcome)).toEqual(['denied:noRole']);
  });
});

/**
 * Scopes of compliance officers and supervisors come from Entra security groups: the token's
 * `groups` claim, or, when Entra replaced it with the overage claim, the caller's transitive
 * groups from Graph (`getMemberObjects`). A Graph failure refuses the caller (403) with a ledger
 * entry, never treats them as a member of no group. Real tokens from the simulator's Entra,
 * verified by the product's JWT verifier; Graph is the simulator's directory API.
 */
import { HttpRequest, type HttpResponseInit, InvocationContext } from '@azure/functions';
import { ClientSecretCredential } from '@azure/identity';
import type { LedgerEntry } from '@attest/core';
import { createGraphClient, GraphTokenCache } from '../../functions/src/adapters/graph-calls';
import { GraphMemberGroups } from '../../functions/src/adapters/graph-member-groups';
import { OpenIdJwtVerifier } from '../../functions/src/adapters/jwt-verifier';
import {
  configuredScopes,
  createAdminAccess,
  entraGroups,
} from '../../functions/src/http/admin-access';
import { startTeamsSimulator, type TeamsSimulator } from '../../local/src/simulator';
import type { Directory } from '../../local/src/simulator/policy/model';
import { MemoryLedgerStore } from '../archive/support/memory-archive-stores';
import { BOT_APP, BOT_SECRET, TENANT, testDirectory } from '../simulator/support/fixtures';

const OFFICER = '33333333-0000-4000-8000-0000000000a1';
const SUPERVISOR = '33333333-0000-4000-8000-0000000000a2';
const TRADE_OFFICERS = '66666666-0000-4000-8000-0000000000a1';
const DESK_LEADS = '66666666-0000-4000-8000-0000000000a2';
const ALL_LEADS = '66666666-0000-4000-8000-0000000000a3';
/** Officers' and supervisors' groups → the recorded-user groups they may reach. */
const rbacScopes = { [TRADE_OFFICERS]: ['traders'], [ALL_LEADS]: ['desk'] };

function directory(): Directory {
  const base = testDirectory('https://127.0.0.1:9/api/calling');
  const [tenant, ...rest] = base.tenants;
  return {
    ...base,
    tenants: [
      {
        ...tenant!,
        users: [
          ...tenant!.users,
          { id: OFFICER, displayName: 'Officer', portalRoles: ['complianceOfficer'] },
          { id: SUPERVISOR, displayName: 'Supervisor', portalRoles: ['supervisor'] },
        ],
        groups: [
          { id: TRADE_OFFICERS, displayName: 'Trade officers', memberIds: [OFFICER] },
          // Nested: the supervisor is in ALL_LEADS through DESK_LEADS.
          { id: DESK_LEADS, displayName: 'Desk leads', memberIds: [SUPERVISOR] },
          { id: ALL_LEADS, displayName: 'All leads', memberIds: [DESK_LEADS] },
        ],
      },
      ...rest,
    ],
  };
}

let sim: TeamsSimulator;
let verifier: OpenIdJwtVerifier;
beforeAll(async () => {
  sim = await startTeamsSimulator({ log: () => undefined, directory: directory() });
  verifier = new OpenIdJwtVerifier({
    openIdMetadataUrl: `${sim.url}/${TENANT}/v2.0/.well-known/openid-configuration`,
    issuers: [`${sim.url}/${TENANT}/v2.0`],
    audiences: [sim.entra.portalAudience],
    allowedTenantIds: [],
  });
  await verifier.warmUp();
});
afterAll(async () => {
  await sim?.close();
});

function setup() {
  const ledger = new MemoryLedgerStore({ now: () => new Date('2030-01-01T09:00:00.000Z') });
  const tokens = new GraphTokenCache({
    createCredential: (tenantId) =>
      new ClientSecretCredential(tenantId, BOT_APP, BOT_SECRET, {
        authorityHost: sim.url,
        disableInstanceDiscovery: true,
      }),
    refreshAheadInMs: 60_000,
  });
  const memberGroups = new GraphMemberGroups({
    clientFor: (tenantId) => createGraphClient(sim.url, () => tokens.getToken(tenantId)),
    timeoutInMs: 5_000,
  });
  const access = createAdminAccess({
    verifier,
    ledger,
    scopes: configuredScopes(rbacScopes, entraGroups(memberGroups)),
  });
  const handler = access.route('search', (_request, principal) =>
    Promise.resolve({ response: { status: 200, jsonBody: { scopes: principal.scopeGroupIds } } }),
  );
  const search = async (token: string) => {
    const response = await handler(
      new HttpRequest({
        method: 'GET',
        url: 'http://localhost:7071/api/archive/interactions',
        headers: { authorization: `Bearer ${token}` },
      }),
      new InvocationContext({ functionName: 'archiveSearch', logHandler: () => undefined }),
    );
    return {
      status: response.status,
      body: (response as HttpResponseInit).jsonBody as { scopes?: string[] },
    };
  };
  const entries = (): readonly LedgerEntry[] => ledger.entries;
  return { search, entries };
}

async function userToken(userId: string, isGroupsOverage = false): Promise<string> {
  const issued = await sim.entra.issueUserToken({ tenantId: TENANT, userId, isGroupsOverage });
  return issued!.access_token;
}

describe('scopes from Entra security groups', () => {
  beforeEach(() => {
    sim.directoryApi.fault = undefined;
    sim.directoryApi.requests.length = 0;
  });

  it('takes an officer scope from the groups claim without asking Graph', async () => {
    const { search } = setup();
    const answer = await search(await userToken(OFFICER));
    expect(answer).toEqual({ status: 200, body: { scopes: ['traders'] } });
    expect(sim.directoryApi.requests).toEqual([]);
  });

  it('lists nested groups in the claim (transitive membership)', async () => {
    const { search } = setup();
    expect((await search(await userToken(SUPERVISOR))).body.scopes).toEqual(['desk']);
  });

  it('reads the groups from Graph getMemberObjects when the token carries the overage claim', async () => {
    const { search } = setup();
    const token = await userToken(SUPERVISOR, true);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect([claims.groups, claims._claim_names]).toEqual([undefined, { groups: 'src1' }]);
    const answer = await search(token);
    expect(answer).toEqual({ status: 200, body: { scopes: ['desk'] } });
    expect(sim.directoryApi.requests).toEqual([
      { operation: 'getMemberObjects', tenantId: TENANT, userId: SUPERVISOR, status: 200 },
    ]);
  });

  it('refuses the caller with 403 and a ledger entry when Graph fails on overage', async () => {
    const { search, entries } = setup();
    sim.directoryApi.fault = { status: 503 };
    const answer = await search(await userToken(OFFICER, true));
    expect(answer.status).toBe(403);
    expect(entries().map((e) => [e.kind, e.actor, e.details.outcome])).toEqual([
      ['accessed', OFFICER, 'denied:groupsUnavailable'],
    ]);
    expect(sim.directoryApi.requests.map((r) => r.status)).toEqual([503]);
  });

  it('does not ask Graph for a caller without a scoped role', async () => {
    const { search } = setup();
    sim.directoryApi.fault = { status: 503 };
    const issued = await sim.entra.issueUserToken({
      tenantId: TENANT,
      userId: OFFICER,
      roles: ['auditor'],
      isGroupsOverage: true,
    });
    expect((await search(issued!.access_token)).status).toBe(200);
    expect(sim.directoryApi.requests).toEqual([]);
  });
});

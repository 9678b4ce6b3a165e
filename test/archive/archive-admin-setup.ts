/**
 * The archive admin API suites' common set-up: two sealed interactions of tenant-1 (`int-t1` of
 * user-trader on 1 January, `int-s1` of user-a on 2 January, group `sales`), the callers below
 * (tokens are `Bearer <userId>`), RBAC scopes by group, and a route call.
 */
import type { HttpResponseInit } from '@azure/functions';
import type { ArchiveAdminHandlers } from '../../functions/src/http/archive-admin.http';
import type { FakeUser } from '../support/admin-access-fake';
import {
  callRoute,
  createAdminHarness,
  type AdminHarness,
  type RouteCall,
} from './archive-admin-harness';

const T0 = '2030-01-01T00:00:00.000Z';

const users: Record<string, FakeUser> = {
  officer: { roles: ['Attest.ComplianceOfficer'], groups: ['g-officers'], tenantId: 'tenant-1' },
  officer2: { roles: ['complianceOfficer'], groups: ['g-officers'], tenantId: 'tenant-1' },
  salesOfficer: {
    roles: ['complianceOfficer'],
    groups: ['g-sales-officers'],
    tenantId: 'tenant-1',
  },
  auditor: { roles: ['auditor'], tenantId: 'tenant-1' },
  admin: { roles: ['admin'], tenantId: 'tenant-1' },
  supervisor: { roles: ['supervisor'], groups: ['g-trader-leads'], tenantId: 'tenant-1' },
  nobody: { roles: [], tenantId: 'tenant-1' },
};
const rbacScopes = {
  'g-officers': ['*'],
  'g-sales-officers': ['sales'],
  'g-trader-leads': ['traders'],
};

export async function setup(): Promise<AdminHarness> {
  const admin = await createAdminHarness(
    T0,
    users,
    [
      ['tenant-1', 'int-t1', 'user-trader', '2030-01-01T09:00:00.000Z', 'chain-int-t1'],
      ['tenant-1', 'int-s1', 'user-a', '2030-01-02T09:00:00.000Z', 'chain-int-s1'],
    ],
    rbacScopes,
  );
  // Records of user-a fall in group `staff`; make `sales` reachable for the scoped officer test.
  const record = (await admin.harness.records.get('tenant-1', 'int-s1'))!;
  await admin.harness.records.upsert({ ...record, groupIds: ['sales'] });
  return admin;
}

export type Call = RouteCall;

export async function call(
  handler: ArchiveAdminHandlers[keyof ArchiveAdminHandlers],
  request: Call,
): Promise<{ response: HttpResponseInit }> {
  return { response: await callRoute(handler, request) };
}

export const trader = { tenantId: 'tenant-1', interactionId: 'int-t1' };

/**
 * The admin routes the portal added: analytics for a tenant's admins, dispositions waiting for a
 * second officer, and the search's filters, order, pages and counts. Each is role-checked,
 * within the caller's tenant and scope, and leaves one ledger entry.
 */
import type { LedgerEntry } from '@attest/core';
import { callRoute, createAdminHarness, type AdminHarness } from './archive-admin-harness';

const T0 = '2030-01-10T00:00:00.000Z';
const users = {
  admin: { roles: ['Attest.Admin'], tenantId: 'tenant-1' },
  adminB: { roles: ['Attest.Admin'], tenantId: 'tenant-2' },
  officer: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-1', groups: ['g-all'] },
  officer2: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-1', groups: ['g-all'] },
  traderOfficer: {
    roles: ['Attest.ComplianceOfficer'],
    tenantId: 'tenant-1',
    groups: ['g-traders'],
  },
};
const scopes = { 'g-all': ['*'], 'g-traders': ['traders'] };

async function setup(): Promise<AdminHarness> {
  return createAdminHarness(
    T0,
    users,
    [
      ['tenant-1', 'int-1', 'user-trader', '2030-01-01T09:00:00.000Z'],
      ['tenant-1', 'int-2', 'user-staff', '2030-01-02T09:00:00.000Z'],
      ['tenant-1', 'int-3', 'user-staff', '2030-01-03T09:00:00.000Z'],
      ['tenant-2', 'int-9', 'user-trader', '2030-01-02T09:00:00.000Z'],
    ],
    scopes,
  );
}

async function lastEntry(admin: AdminHarness): Promise<LedgerEntry> {
  let last: LedgerEntry | undefined;
  for await (const entry of admin.harness.ledger.listEntries(0)) last = entry;
  return last!;
}

const week = { from: '2030-01-01T00:00:00Z', to: '2030-01-08T00:00:00Z' };

describe('GET archive/analytics', () => {
  it('aggregates the admin’s own tenant and records the access', async () => {
    const admin = await setup();
    const response = await callRoute(admin.handlers.analytics, { user: 'admin', query: week });
    expect(response.status).toBe(200);
    const body = response.jsonBody as {
      days: { day: string; calls: number }[];
      totals: { calls: number };
    };
    expect(body.totals.calls).toBe(3);
    expect(body.days.slice(0, 4).map((d) => d.calls)).toEqual([1, 1, 1, 0]);
    expect(admin.callLog.reads.map((r) => r.tenantId)).toEqual(['tenant-1']);
    expect(await lastEntry(admin)).toMatchObject({
      kind: 'accessed',
      actor: 'admin',
      tenantId: 'tenant-1',
      details: { action: 'viewAnalytics', outcome: 'allowed', calls: 3 },
    });
  });

  it('never counts another tenant’s calls', async () => {
    const admin = await setup();
    const response = await callRoute(admin.handlers.analytics, { user: 'adminB', query: week });
    expect((response.jsonBody as { totals: { calls: number } }).totals.calls).toBe(1);
  });

  it('answers CSV for a download', async () => {
    const admin = await setup();
    const response = await callRoute(admin.handlers.analytics, {
      user: 'admin',
      query: { ...week, format: 'csv', utcOffsetInMinutes: '60' },
    });
    expect(response.headers).toMatchObject({ 'content-type': 'text/csv; charset=utf-8' });
    const lines = (response.body as string).trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^day,calls,type:pstn,/);
    expect(lines[1]).toMatch(/^2030-01-01,1,1,/);
    // A UTC week seen from UTC+1 touches 8 calendar days: a header and 8 rows.
    expect(lines).toHaveLength(9);
  });

  it('refuses a compliance officer (analytics is the admins’) and records the refusal', async () => {
    const admin = await setup();
    const response = await callRoute(admin.handlers.analytics, { user: 'officer', query: week });
    expect(response.status).toBe(403);
    expect(admin.callLog.reads).toEqual([]);
    expect((await lastEntry(admin)).details).toMatchObject({
      action: 'viewAnalytics',
      outcome: 'denied:noRole',
    });
  });
});

describe('GET archive/dispositions', () => {
  const waitingOn = (admin: AdminHarness, interactionId: string, requestedBy: string) =>
    admin.events.waiting.push({
      instanceId: `disp-${interactionId}`,
      tenantId: 'tenant-1',
      interactionId,
      requestedBy,
      requestedAt: T0,
    });
  type Listed = { interactionId: string; isOwnRequest: boolean; canDecide: boolean };
  const list = async (admin: AdminHarness, user: string) => {
    const response = await callRoute(admin.handlers.listDispositions, { user });
    expect(response.status).toBe(200);
    return (response.jsonBody as { items: Listed[] }).items.map((i) => ({
      interactionId: i.interactionId,
      isOwnRequest: i.isOwnRequest,
      canDecide: i.canDecide,
    }));
  };

  it('never offers the requester their own request to decide; a second officer may', async () => {
    const admin = await setup();
    waitingOn(admin, 'int-2', 'officer');
    expect(await list(admin, 'officer')).toEqual([
      { interactionId: 'int-2', isOwnRequest: true, canDecide: false },
    ]);
    expect(await list(admin, 'officer2')).toEqual([
      { interactionId: 'int-2', isOwnRequest: false, canDecide: true },
    ]);
  });

  it('lists only what is in the officer’s scope', async () => {
    const admin = await setup();
    waitingOn(admin, 'int-1', 'system');
    waitingOn(admin, 'int-2', 'officer');
    expect((await list(admin, 'traderOfficer')).map((i) => i.interactionId)).toEqual(['int-1']);
  });

  it('refuses an admin (not a compliance officer)', async () => {
    const admin = await setup();
    const response = await callRoute(admin.handlers.listDispositions, { user: 'admin' });
    expect(response.status).toBe(403);
  });
});

describe('GET archive/interactions (filters, order, pages, counts)', () => {
  const ids = (body: unknown) =>
    (body as { items: { interactionId: string }[] }).items.map((i) => i.interactionId);

  it('pages the sorted matches and counts all of them', async () => {
    const admin = await setup();
    const response = await callRoute(admin.handlers.search, {
      user: 'officer',
      query: { sort: 'invitedAt', order: 'asc', limit: '2', offset: '1' },
    });
    expect(ids(response.jsonBody)).toEqual(['int-2', 'int-3']);
    expect(response.jsonBody).toMatchObject({
      count: 3,
      offset: 1,
      limit: 2,
      isTruncated: false,
      counts: { byType: { pstn: 3 } },
    });
  });

  it('answers the metadata with the participants the recorder’s roster holds, for the lanes’ names', async () => {
    const admin = await setup();
    const caller = {
      interactionId: 'int-3',
      participantId: 'p-1',
      identityKind: 'phone' as const,
      identityId: '+14255550100',
      displayName: 'Alex Wilber',
      msis: ['7'],
    };
    admin.callLog.participants.set('int-3', [caller]);
    const params = { tenantId: 'tenant-1', interactionId: 'int-3' };
    const answer = await callRoute(admin.handlers.viewMetadata, { user: 'officer', params });
    expect(answer.status).toBe(200);
    expect(answer.jsonBody).toMatchObject({ participants: [caller] });
    expect(await lastEntry(admin)).toMatchObject({
      actor: 'officer',
      subjectId: 'int-3',
      details: { action: 'viewMetadata', outcome: 'allowed' },
    });
  });

  it('finds interactions by a participant’s name from the recorder’s roster', async () => {
    const admin = await setup();
    admin.callLog.participants.set('int-3', [
      {
        interactionId: 'int-3',
        participantId: 'p-1',
        identityKind: 'user',
        identityId: 'oid-7',
        displayName: 'Alex Wilber',
        msis: ['7'],
      },
    ]);
    const byName = await callRoute(admin.handlers.search, {
      user: 'officer',
      query: { participant: 'wilber' },
    });
    expect(ids(byName.jsonBody)).toEqual(['int-3']);
    expect((await lastEntry(admin)).details).toMatchObject({
      action: 'search',
      resultCount: 1,
      query: { participant: 'wilber' },
    });
  });

  it('finds what a legal hold holds, and what it does not', async () => {
    const admin = await setup();
    const placed = await callRoute(admin.handlers.placeHold, {
      user: 'officer',
      method: 'POST',
      body: { matterId: 'M-9', description: 'd', scope: { interactionIds: ['int-2'] } },
    });
    expect(placed.status).toBe(201);
    const held = await callRoute(admin.handlers.search, {
      user: 'officer',
      query: { holdState: 'held' },
    });
    expect(ids(held.jsonBody)).toEqual(['int-2']);
    const notHeld = await callRoute(admin.handlers.search, {
      user: 'officer',
      query: { holdState: 'notHeld' },
    });
    expect(ids(notHeld.jsonBody)).toEqual(['int-3', 'int-1']);
  });

  it('counts only what the officer may see', async () => {
    const admin = await setup();
    const response = await callRoute(admin.handlers.search, { user: 'traderOfficer' });
    expect(ids(response.jsonBody)).toEqual(['int-1']);
    expect(response.jsonBody).toMatchObject({ count: 1 });
  });
});

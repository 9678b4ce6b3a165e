/**
 * Tenant isolation of the archive admin API: a caller of tenant B driven against every route
 * with tenant A's data gets 403/404 and an audit entry in its own tenant, never A's data; the
 * list routes answer with B's data only.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HttpResponseInit } from '@azure/functions';
import type { ArchiveAdminHandlers } from '../../functions/src/http/archive-admin.http';
import { verifyExport } from '../../functions/src/cli/verify-export';
import { responseBytes, unzipPackage } from '../support/export-download';
import {
  createAdminHarness,
  callRoute,
  type AdminHarness,
  type RouteCall,
} from './archive-admin-harness';
import { DAY_IN_MS } from './archive-fixtures';

const T0 = '2030-01-01T00:00:00.000Z';
const users = {
  officerA: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-a', groups: ['g-all'] },
  officerB: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-b', groups: ['g-all'] },
  auditorB: { roles: ['Attest.Auditor'], tenantId: 'tenant-b' },
  adminB: { roles: ['Attest.Admin'], tenantId: 'tenant-b' },
};
/** What must never reach tenant B: A's recorded user, A's matter, A's tenant id. */
const A_MARKERS = ['user-alpha', 'MATTER-A', 'tenant-a'];

async function setup(): Promise<AdminHarness> {
  const admin = await createAdminHarness(
    T0,
    users,
    [
      ['tenant-a', 'int-a1', 'user-alpha', '2030-01-01T09:00:00.000Z'],
      ['tenant-a', 'int-a2', 'user-shared', '2030-01-01T10:00:00.000Z'],
      ['tenant-b', 'int-b1', 'user-beta', '2030-01-01T09:30:00.000Z'],
      ['tenant-b', 'int-b2', 'user-shared', '2030-01-01T10:30:00.000Z'],
    ],
    { 'g-all': ['*'] },
  );
  // Tenant A's hold (id-1) covers its interactions of user-alpha and user-shared; its export is id-2.
  const hold = await callRoute(admin.handlers.placeHold, {
    method: 'POST',
    user: 'officerA',
    body: {
      matterId: 'MATTER-A',
      description: 'tenant A matter',
      scope: { recordedUserIds: ['user-alpha', 'user-shared'] },
    },
  });
  expect(hold.status).toBe(201);
  const exported = await callRoute(admin.handlers.export, {
    method: 'POST',
    user: 'officerA',
    body: { query: {} },
  });
  expect(exported.status).toBe(202);
  return admin;
}

const ofA = { tenantId: 'tenant-a', interactionId: 'int-a1' };
const matrix: [string, keyof ArchiveAdminHandlers, RouteCall][] = [
  ['metadata of A', 'viewMetadata', { user: 'officerB', params: ofA }],
  ['playback of A', 'media', { user: 'officerB', params: { ...ofA, streamId: 'audio-11' } }],
  [
    'download of A',
    'media',
    { user: 'officerB', params: { ...ofA, streamId: 'audio-11' }, query: { download: 'true' } },
  ],
  ['deletion of A', 'deleteInteraction', { method: 'DELETE', user: 'officerB', params: ofA }],
  [
    'a disposition decision on A',
    'decideDisposition',
    { method: 'POST', user: 'officerB', params: ofA, body: { isApproved: true } },
  ],
  [
    'release of A’s hold',
    'releaseHold',
    { method: 'POST', user: 'officerB', params: { holdId: 'id-1' } },
  ],
  ['status of A’s export', 'exportStatus', { user: 'officerB', params: { exportId: 'id-2' } }],
  ['download of A’s export', 'exportDownload', { user: 'officerB', params: { exportId: 'id-2' } }],
  ['export by A’s hold', 'export', { method: 'POST', user: 'officerB', body: { holdId: 'id-1' } }],
  [
    'resuming A’s export',
    'export',
    { method: 'POST', user: 'officerB', body: { query: {}, exportId: 'id-2' } },
  ],
  [
    'a hold naming A in its scope',
    'placeHold',
    {
      method: 'POST',
      user: 'officerB',
      body: {
        matterId: 'M-B',
        description: 'reaching across',
        scope: { tenantId: 'tenant-a', interactionIds: ['int-a1'] },
      },
    },
  ],
];

const text = (response: HttpResponseInit): string => JSON.stringify(response.jsonBody ?? '');

describe('tenant isolation: a caller of tenant B against tenant A', () => {
  it.each(matrix)(
    'refuses %s with 4xx and an audit entry in B, never data',
    async (_name, route, call) => {
      const { harness, handlers } = await setup();
      const before = harness.ledger.entries.length;
      const response = await callRoute(handlers[route], call);
      expect([400, 403, 404]).toContain(response.status);
      expect(response.jsonBody).toMatchObject({ status: response.status });
      for (const marker of ['user-alpha', 'MATTER-A']) expect(text(response)).not.toContain(marker);
      const written = harness.ledger.entries.slice(before);
      expect(written).toHaveLength(1);
      expect(written[0]).toMatchObject({ actor: 'officerB', tenantId: 'tenant-b' });
      expect(written[0]!.details.outcome).toMatch(/^(denied|rejected):/);
    },
  );

  it('leaves A’s hold active and A’s media in place after every attempt', async () => {
    const { harness, handlers } = await setup();
    for (const [, route, call] of matrix) await callRoute(handlers[route], call);
    expect((await harness.holds.get('tenant-a', 'id-1'))?.releasedAt).toBeUndefined();
    expect(await harness.blobs.listRecordingBlobs('tenant-a', 'int-a1')).toHaveLength(4);
    expect(await harness.holds.list('tenant-b')).toEqual([]);
  });

  const lists: [string, keyof ArchiveAdminHandlers, RouteCall][] = [
    ['search', 'search', { user: 'officerB' }],
    [
      'search for A’s user',
      'search',
      { user: 'officerB', query: { recordedUserId: 'user-alpha' } },
    ],
    ['hold list', 'listHolds', { user: 'adminB' }],
    ['ledger view', 'viewLedger', { user: 'auditorB' }],
    [
      'completeness report',
      'completenessReport',
      { user: 'adminB', query: { from: '2030-01-01T00:00:00Z', to: '2030-02-01T00:00:00Z' } },
    ],
    [
      'erasure of A’s user',
      'subjectErasure',
      { method: 'POST', user: 'officerB', params: { userId: 'user-alpha' } },
    ],
  ];
  it.each(lists)('answers the %s with B’s data only', async (_name, route, call) => {
    const { handlers } = await setup();
    const response = await callRoute(handlers[route], call);
    expect(response.status).toBe(200);
    for (const marker of A_MARKERS) expect(text(response)).not.toContain(marker);
    expect(text(response)).not.toContain('int-a');
  });

  it('shows B the ledger with A’s entries redacted to their links', async () => {
    const { handlers } = await setup();
    const response = await callRoute(handlers.viewLedger, { user: 'auditorB' });
    const { entries } = response.jsonBody as { entries: Record<string, unknown>[] };
    expect(entries.some((e) => e.isRedacted === true)).toBe(true);
    expect(
      entries.filter((e) => e.isRedacted !== true).every((e) => e.tenantId === 'tenant-b'),
    ).toBe(true);
  });

  it('does not let A’s hold block B’s erasure of a person both tenants recorded', async () => {
    const { harness, handlers } = await setup();
    harness.clock.advance(32 * DAY_IN_MS);
    const response = await callRoute(handlers.subjectErasure, {
      method: 'POST',
      user: 'officerB',
      params: { userId: 'user-shared' },
    });
    expect(response.jsonBody).toEqual({ deleted: ['int-b2'], refused: [] });
    expect(await harness.blobs.listRecordingBlobs('tenant-a', 'int-a2')).toHaveLength(4);
  });

  it('exports B’s data only, with A’s ledger entries redacted, and the package verifies', async () => {
    const { handlers, jobs } = await setup();
    const started = await callRoute(handlers.export, {
      method: 'POST',
      user: 'officerB',
      body: { query: {} },
    });
    const { exportId } = started.jsonBody as { exportId: string };
    await jobs.runAll();
    const download = await callRoute(handlers.exportDownload, {
      user: 'officerB',
      params: { exportId },
    });
    expect(download.status).toBe(200);
    const outputDir = await unzipPackage(await responseBytes(download.body), exportId);
    const index = JSON.parse(await readFile(path.join(outputDir, 'export.json'), 'utf8')) as {
      interactions: { tenantId: string }[];
    };
    expect(index.interactions.map((i) => i.tenantId)).toEqual(['tenant-b', 'tenant-b']);
    const ledgerText = await readFile(path.join(outputDir, 'ledger', 'entries.jsonl'), 'utf8');
    for (const marker of A_MARKERS) expect(ledgerText).not.toContain(marker);
    expect((await verifyExport(outputDir)).failures).toEqual([]);
  });
});

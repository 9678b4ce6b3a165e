/**
 * Bad input on every archive admin route: malformed ids, bodies and query parameters answer
 * 400/404/413 with a problem body, never 500, and leave every stored thing as it was. A new route
 * is covered by adding one row to `routes`.
 */
import type { ArchiveAdminHandlers } from '../../functions/src/http/archive-admin.http';
import { callRoute, createAdminHarness, type RouteCall } from './archive-admin-harness';

const T0 = '2030-01-01T00:00:00.000Z';
const users = {
  officer: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-1', groups: ['g-all'] },
  integration: { roles: ['Attest.Integration'], tenantId: 'tenant-1' },
};
const ofInteraction = { tenantId: 'tenant-1', interactionId: 'int-1' };

interface RouteRow {
  readonly handler: keyof ArchiveAdminHandlers;
  readonly call: RouteCall;
  /** The route parses a JSON body (a valid one is in `call.body`). */
  readonly hasBody?: boolean;
  /** Query values the route must refuse, each merged into the valid query. */
  readonly badQueries?: readonly Record<string, string>[];
  /** The caller, when not the compliance officer. */
  readonly user?: keyof typeof users;
}

/** One row per route, with valid input: each test breaks one part of it. */
const routes: Record<string, RouteRow> = {
  search: {
    handler: 'search',
    call: {},
    badQueries: [
      { sort: 'zzz' },
      { order: 'up' },
      { offset: '-1' },
      { offset: 'x' },
      { holdState: 'maybe' },
      { dialedNumber: 'ab' },
      { participant: 'x'.repeat(300) },
      { customData: 'k='.padEnd(300, 'v') },
    ],
  },
  viewMetadata: { handler: 'viewMetadata', call: { params: ofInteraction } },
  media: { handler: 'media', call: { params: { ...ofInteraction, streamId: 'audio-11' } } },
  deleteInteraction: {
    handler: 'deleteInteraction',
    call: { method: 'DELETE', params: ofInteraction },
  },
  changeRetentionClass: {
    handler: 'changeRetentionClass',
    call: {
      method: 'POST',
      params: ofInteraction,
      body: { retentionClass: 'mifid', reason: 'trade call' },
    },
    hasBody: true,
  },
  attachBusinessData: {
    handler: 'attachBusinessData',
    user: 'integration',
    call: {
      method: 'PUT',
      params: ofInteraction,
      headers: { 'if-match': '"bd-0"' },
      body: { desk: 'FX' },
    },
    hasBody: true,
  },
  viewBusinessData: { handler: 'viewBusinessData', call: { params: ofInteraction } },
  listHolds: { handler: 'listHolds', call: {} },
  placeHold: {
    handler: 'placeHold',
    call: {
      method: 'POST',
      body: { matterId: 'M-1', description: 'd', scope: { interactionIds: ['int-1'] } },
    },
    hasBody: true,
  },
  releaseHold: { handler: 'releaseHold', call: { method: 'POST', params: { holdId: 'hold-x' } } },
  decideDisposition: {
    handler: 'decideDisposition',
    call: { method: 'POST', params: ofInteraction, body: { isApproved: true } },
    hasBody: true,
  },
  listDispositions: { handler: 'listDispositions', call: {} },
  analytics: {
    handler: 'analytics',
    call: { query: { from: '2030-01-01T00:00:00Z', to: '2030-01-08T00:00:00Z' } },
    badQueries: [
      { from: 'yesterday' },
      { to: '2029-12-31T00:00:00Z' },
      { to: '2031-06-01T00:00:00Z' },
      { utcOffsetInMinutes: '9999' },
      { utcOffsetInMinutes: '1.5' },
      { format: 'xml' },
    ],
  },
  viewLedger: { handler: 'viewLedger', call: {} },
  completenessReport: {
    handler: 'completenessReport',
    call: { query: { from: '2030-01-01T00:00:00Z', to: '2030-02-01T00:00:00Z' } },
  },
  export: { handler: 'export', call: { method: 'POST', body: { query: {} } }, hasBody: true },
  exportStatus: { handler: 'exportStatus', call: { params: { exportId: 'exp-1' } } },
  exportDownload: { handler: 'exportDownload', call: { params: { exportId: 'exp-1' } } },
  subjectExport: { handler: 'subjectExport', call: { method: 'POST', params: { userId: 'u-1' } } },
  subjectErasure: {
    handler: 'subjectErasure',
    call: { method: 'POST', params: { userId: 'u-1' } },
  },
};

const BAD_IDS = [
  '..',
  '../..',
  'a/b',
  '..%2F..%2Fholds',
  '%2F',
  'a\\b',
  'tab\there',
  'nul\u0000',
  'x'.repeat(300),
];

const BAD_BODIES: [string, string][] = [
  ['not JSON', '{"matterId":'],
  ['an array', '[]'],
  ['a string', '"x"'],
  ['null', 'null'],
  ['an unknown member', JSON.stringify({ isApproved: true, query: {}, extra: 1 })],
  ['wrong types', JSON.stringify({ matterId: 1, isApproved: 'yes', query: 'all', scope: [] })],
  [
    'a hold scope with wrong element types',
    JSON.stringify({ matterId: 'M', description: 'd', scope: { recordedUserIds: 'x' } }),
  ],
  [
    'a hold scope with numbers and objects',
    JSON.stringify({
      matterId: 'M',
      description: 'd',
      scope: { recordedUserIds: [1, 2], interactionIds: [{}] },
    }),
  ],
  ['a huge body', JSON.stringify({ matterId: 'M', description: 'd'.repeat(70_000) })],
];

async function setup() {
  const admin = await createAdminHarness(
    T0,
    users,
    [['tenant-1', 'int-1', 'u-1', '2030-01-01T09:00:00.000Z']],
    { 'g-all': ['*'] },
  );
  const snapshot = async () => ({
    holds: JSON.stringify(await admin.harness.holds.list('tenant-1')),
    record: JSON.stringify(await admin.harness.records.get('tenant-1', 'int-1')),
    blobs: (await admin.harness.blobs.listRecordingBlobs('tenant-1', 'int-1')).length,
    exports: admin.jobs.jobs.size,
    decisions: admin.events.raised.length,
  });
  return { ...admin, snapshot };
}

type Case = [string, string, RouteCall];

const cases: Case[] = Object.entries(routes).flatMap(([name, row]) => {
  const base = { ...row.call, user: row.user ?? 'officer' };
  const out: Case[] = [
    [name, 'an unknown query parameter', { ...base, query: { ...base.query, zzz: '1' } }],
  ];
  for (const param of Object.keys(row.call.params ?? {}))
    for (const bad of BAD_IDS)
      out.push([
        name,
        `${param} ${JSON.stringify(bad.slice(0, 20))}`,
        { ...base, params: { ...row.call.params, [param]: bad } },
      ]);
  for (const bad of row.badQueries ?? [])
    out.push([
      name,
      `the query ${JSON.stringify(bad).slice(0, 40)}`,
      { ...base, query: { ...base.query, ...bad } },
    ]);
  if (row.hasBody === true)
    for (const [label, body] of BAD_BODIES)
      out.push([name, `a body that is ${label}`, { ...base, body }]);
  return out;
});

describe('bad input on every archive admin route', () => {
  it.each(cases)(
    '%s: %s answers 4xx with a problem body and changes nothing',
    async (name, _what, call) => {
      const admin = await setup();
      const before = await admin.snapshot();
      const response = await callRoute(admin.handlers[routes[name]!.handler], call);
      expect([400, 404, 413]).toContain(response.status);
      expect(response.jsonBody).toMatchObject({
        status: response.status,
        code: expect.any(String),
      });
      expect(await admin.snapshot()).toEqual(before);
    },
  );

  it('covers every route the admin API has', async () => {
    const { handlers } = await setup();
    expect(Object.keys(handlers).sort()).toEqual(
      Object.values(routes)
        .map((r) => r.handler)
        .sort(),
    );
  });
});

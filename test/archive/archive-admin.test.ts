import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { createCompletenessActivities } from '../../functions/src/activities/completeness.activities';
import {
  createExportActivities,
  type ExportActivities,
} from '../../functions/src/activities/export.activities';
import { createGdprActivities } from '../../functions/src/activities/gdpr.activities';
import {
  MemoryExportPackageStore,
  type MemoryRecordingBlobStore,
} from './support/memory-archive-stores';
import { responseBytes, unzipPackage } from '../support/export-download';
import type { TokenVerifier } from '../../functions/src/domain/token-verifier';
import {
  createArchiveAdminHandlers,
  type ArchiveAdminHandlers,
  type ExportJobs,
  type ExportJobStatus,
} from '../../functions/src/http/archive-admin.http';
import type { ExportJobRequest } from '../../functions/src/domain/archive-names';
import { verifyExport } from '../../functions/src/cli/verify-export';
import {
  createHarness,
  DAY_IN_MS,
  kek,
  ledgerKeys,
  manifestKeys,
  memoryBlobWriter,
  runDisposition,
  testPolicy,
  writeSealedRecording,
  type ArchiveHarness,
} from './archive-fixtures';
import { FakeDispositionEvents } from './archive-admin-harness';
import { MemoryCallLog } from './support/memory-call-log';

const T0 = '2030-01-01T00:00:00.000Z';

/** Tokens are `Bearer <userId>`; the fake knows each user's roles. */
const users: Record<string, { roles: string[]; groups?: string[] }> = {
  officer: { roles: ['Attest.ComplianceOfficer'], groups: ['g-officers'] },
  officer2: { roles: ['complianceOfficer'], groups: ['g-officers'] },
  salesOfficer: { roles: ['complianceOfficer'], groups: ['g-sales-officers'] },
  auditor: { roles: ['auditor'] },
  admin: { roles: ['admin'] },
  supervisor: { roles: ['supervisor'], groups: ['g-trader-leads'] },
  nobody: { roles: [] },
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
        claims: { groups: user.groups ?? [] },
      },
    });
  },
};
const rbacScopes = {
  'g-officers': ['*'],
  'g-sales-officers': ['sales'],
  'g-trader-leads': ['traders'],
};

/** Exports are queued by the handlers and run when the test says so (a durable orchestration in the app). */
class FakeExportJobs implements ExportJobs {
  readonly jobs = new Map<string, { request: ExportJobRequest; status: ExportJobStatus }>();
  constructor(private readonly exports: ExportActivities) {}
  start(request: ExportJobRequest): Promise<'started' | 'alreadyRunning'> {
    if (this.jobs.get(request.exportId)?.status.state === 'running')
      return Promise.resolve('alreadyRunning');
    this.jobs.set(request.exportId, {
      request,
      status: {
        exportId: request.exportId,
        state: 'running',
        tenantId: request.tenantId,
        createdBy: request.createdBy,
      },
    });
    return Promise.resolve('started');
  }
  status(exportId: string): Promise<ExportJobStatus | undefined> {
    return Promise.resolve(this.jobs.get(exportId)?.status);
  }
  async runAll(): Promise<void> {
    for (const job of this.jobs.values()) {
      if (job.status.state !== 'running') continue;
      const result = await this.exports.runExport(job.request);
      job.status = {
        ...job.status,
        state: 'completed',
        result,
        progress: {
          phase: 'done',
          done: result.interactionCount + result.absentCount,
          total: result.interactionCount + result.absentCount,
        },
      };
    }
  }
}

async function setup(): Promise<{
  harness: ArchiveHarness;
  handlers: ArchiveAdminHandlers;
  events: FakeDispositionEvents;
  jobs: FakeExportJobs;
}> {
  const harness = createHarness(T0);
  for (const [id, user, day] of [
    ['int-t1', 'user-trader', '01'],
    ['int-s1', 'user-a', '02'],
  ] as const) {
    const fixture = await writeSealedRecording(
      memoryBlobWriter(harness.blobs as MemoryRecordingBlobStore),
      {
        tenantId: 'tenant-1',
        interactionId: id,
        recordedUserIds: [user],
        invitedAt: `2030-01-${day}T09:00:00.000Z`,
        type: 'pstn',
        callChainId: `chain-${id}`,
      },
    );
    await harness.activities.recordSealed(fixture.interaction);
  }
  // Records of user-a fall in group `staff`; make `sales` reachable for the scoped officer test.
  const record = (await harness.records.get('tenant-1', 'int-s1'))!;
  await harness.records.upsert({ ...record, groupIds: ['sales'] });
  const events = new FakeDispositionEvents();
  let next = 0;
  const packages = new MemoryExportPackageStore();
  const exports = createExportActivities({
    records: harness.records,
    holds: harness.holds,
    ledger: harness.ledger,
    blobs: harness.blobs,
    packages,
    kekPrivateKey: kek.privateKey,
    ledgerSigningKey: ledgerKeys.privateKey,
    manifestPublicKeyPem: manifestKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    clock: harness.clock,
  });
  const jobs = new FakeExportJobs(exports);
  const handlers = createArchiveAdminHandlers({
    verifier,
    rbacScopes,
    records: harness.records,
    callLog: new MemoryCallLog(),
    holds: harness.holds,
    ledger: harness.ledger,
    blobs: harness.blobs,
    archive: harness.activities,
    exportJobs: jobs,
    completeness: createCompletenessActivities({
      records: harness.records,
      ledgerSigningKey: ledgerKeys.privateKey,
      clock: harness.clock,
    }),
    gdpr: createGdprActivities({
      records: harness.records,
      holds: harness.holds,
      archive: harness.activities,
      policy: testPolicy,
      clock: harness.clock,
    }),
    dispositions: events,
    kekPrivateKey: kek.privateKey,
    packages,
    clock: harness.clock,
    newId: () => `id-${(next += 1)}`,
  });
  return { harness, handlers, events, jobs };
}

interface Call {
  readonly method?: string;
  readonly user?: string;
  readonly params?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly body?: unknown;
}

async function call(
  handler: ArchiveAdminHandlers[keyof ArchiveAdminHandlers],
  request: Call,
): Promise<{ response: HttpResponseInit; logs: unknown[][] }> {
  const logs: unknown[][] = [];
  const context = new InvocationContext({
    functionName: 'archiveAdmin',
    logHandler: (level, ...args) => logs.push([level, ...args]),
  });
  const httpRequest = new HttpRequest({
    method: request.method ?? 'GET',
    url: 'http://localhost:7071/api/archive/test',
    headers: request.user === undefined ? {} : { authorization: `Bearer ${request.user}` },
    params: request.params ?? {},
    query: request.query ?? {},
    ...(request.body === undefined
      ? {}
      : {
          body: {
            string: typeof request.body === 'string' ? request.body : JSON.stringify(request.body),
          },
        }),
  });
  return { response: await handler(httpRequest, context), logs };
}

const trader = { tenantId: 'tenant-1', interactionId: 'int-t1' };

describe('archive admin API', () => {
  it('answers 401 without a valid token and writes no ledger entry', async () => {
    const { harness, handlers } = await setup();
    const before = harness.ledger.entries.length;
    const { response } = await call(handlers.search, { user: 'stranger' });
    expect(response).toEqual({
      status: 401,
      jsonBody: {
        code: 'ATT_UNAUTHORIZED',
        message: 'a valid bearer token is required',
        status: 401,
      },
    });
    expect(harness.ledger.entries).toHaveLength(before);
  });

  const allowedReads: [string, keyof ArchiveAdminHandlers, Call][] = [
    ['search', 'search', { user: 'auditor', query: { type: 'pstn' } }],
    ['metadata view', 'viewMetadata', { user: 'supervisor', params: trader }],
    ['playback', 'media', { user: 'auditor', params: { ...trader, streamId: 'audio-11' } }],
    [
      'download',
      'media',
      { user: 'officer', params: { ...trader, streamId: 'audio-11' }, query: { download: 'true' } },
    ],
    ['hold list', 'listHolds', { user: 'admin' }],
    ['ledger view', 'viewLedger', { user: 'auditor' }],
    [
      'completeness report',
      'completenessReport',
      { user: 'admin', query: { from: '2030-01-01T00:00:00Z', to: '2030-02-01T00:00:00Z' } },
    ],
    [
      'hold',
      'placeHold',
      {
        method: 'POST',
        user: 'officer',
        body: { matterId: 'M-1', description: 'case', scope: { recordedUserIds: ['user-a'] } },
      },
    ],
    [
      'export',
      'export',
      { method: 'POST', user: 'officer', body: { query: { recordedUserId: 'user-trader' } } },
    ],
  ];
  it.each(allowedReads)(
    'writes exactly one ledger entry for an allowed %s',
    async (_name, route, request) => {
      const { harness, handlers } = await setup();
      const before = harness.ledger.entries.length;
      const { response } = await call(handlers[route], request);
      expect(response.status).toBeLessThan(300);
      expect(harness.ledger.entries).toHaveLength(before + 1);
      expect(harness.ledger.entries[before]!.actor).toBe(request.user);
    },
  );

  const deniedCalls: [string, keyof ArchiveAdminHandlers, Call, string][] = [
    [
      'an admin playing back media',
      'media',
      { user: 'admin', params: { ...trader, streamId: 'audio-11' } },
      'noRole',
    ],
    [
      'an auditor exporting',
      'export',
      { method: 'POST', user: 'auditor', body: { query: {} } },
      'noRole',
    ],
    [
      'an auditor placing a hold',
      'placeHold',
      { method: 'POST', user: 'auditor', body: {} },
      'noRole',
    ],
    [
      'a supervisor downloading',
      'media',
      {
        user: 'supervisor',
        params: { ...trader, streamId: 'audio-11' },
        query: { download: 'true' },
      },
      'noRole',
    ],
    [
      'a compliance officer outside their scope viewing metadata',
      'viewMetadata',
      { user: 'salesOfficer', params: trader },
      'outOfScope',
    ],
    [
      'a compliance officer outside their scope exporting',
      'export',
      { method: 'POST', user: 'salesOfficer', body: { query: {} } },
      'outOfScope',
    ],
    ['a user without a role searching', 'search', { user: 'nobody' }, 'noRole'],
  ];
  it.each(deniedCalls)(
    'answers 403 to %s and records the refusal once',
    async (_name, route, request, reason) => {
      const { harness, handlers } = await setup();
      const before = harness.ledger.entries.length;
      const { response } = await call(handlers[route], request);
      expect(response.status).toBe(403);
      expect(response.jsonBody).toMatchObject({ code: 'ATT_FORBIDDEN', status: 403 });
      expect(harness.ledger.entries).toHaveLength(before + 1);
      expect(harness.ledger.entries[before]).toMatchObject({
        kind: 'accessed',
        actor: request.user,
        details: { outcome: `denied:${reason}` },
      });
    },
  );

  it('filters search results to the caller scope', async () => {
    const { handlers } = await setup();
    const { response } = await call(handlers.search, { user: 'salesOfficer' });
    expect(
      (response.jsonBody as { items: { interactionId: string }[] }).items.map(
        (i) => i.interactionId,
      ),
    ).toEqual(['int-s1']);
  });

  it('searches by recorded user, time range, type and call chain id', async () => {
    const { handlers } = await setup();
    const ids = async (query: Record<string, string>) =>
      (
        (await call(handlers.search, { user: 'auditor', query })).response.jsonBody as {
          items: { interactionId: string }[];
        }
      ).items.map((i) => i.interactionId);
    expect(await ids({ recordedUserId: 'user-a' })).toEqual(['int-s1']);
    expect(await ids({ from: '2030-01-02T00:00:00Z', to: '2030-01-03T00:00:00Z' })).toEqual([
      'int-s1',
    ]);
    expect(await ids({ type: 'meeting' })).toEqual([]);
    expect(await ids({ callChainId: 'chain-int-t1' })).toEqual(['int-t1']);
  });

  it('answers 400 with a problem body for a bad query and records it', async () => {
    const { harness, handlers } = await setup();
    const before = harness.ledger.entries.length;
    const { response } = await call(handlers.search, {
      user: 'auditor',
      query: { from: 'yesterday' },
    });
    expect(response).toEqual({
      status: 400,
      jsonBody: {
        code: 'ATT_INVALID_REQUEST',
        message: 'from must be an ISO 8601 instant',
        status: 400,
      },
    });
    expect(harness.ledger.entries).toHaveLength(before + 1);
  });

  it('answers 400 to an overlong search parameter', async () => {
    const { handlers } = await setup();
    const { response } = await call(handlers.search, {
      user: 'auditor',
      query: { recordedUserId: 'u'.repeat(300) },
    });
    expect(response).toMatchObject({
      status: 400,
      jsonBody: { message: 'recordedUserId is longer than 256 characters' },
    });
  });

  it('refuses deletion before expiry through the API, and under hold after expiry', async () => {
    const { harness, handlers } = await setup();
    const early = await call(handlers.deleteInteraction, {
      method: 'DELETE',
      user: 'officer',
      params: { tenantId: 'tenant-1', interactionId: 'int-s1' },
    });
    expect(early.response).toMatchObject({
      status: 409,
      jsonBody: { code: 'ATT_RETENTION_LOCKED' },
    });
    await call(handlers.placeHold, {
      method: 'POST',
      user: 'officer',
      body: { matterId: 'M-9', description: 'd', scope: { interactionIds: ['int-s1'] } },
    });
    harness.clock.advance(32 * DAY_IN_MS);
    const held = await call(handlers.deleteInteraction, {
      method: 'DELETE',
      user: 'officer',
      params: { tenantId: 'tenant-1', interactionId: 'int-s1' },
    });
    expect(held.response).toMatchObject({ status: 409, jsonBody: { code: 'ATT_LEGAL_HOLD' } });
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-s1')).toHaveLength(4);
  });

  it('asks for a deletion at expiry and waits for a second person (two-person rule)', async () => {
    const { harness, handlers, events } = await setup();
    harness.clock.advance(32 * DAY_IN_MS);
    const before = harness.ledger.entries.length;
    const { response } = await call(handlers.deleteInteraction, {
      method: 'DELETE',
      user: 'officer',
      params: { tenantId: 'tenant-1', interactionId: 'int-s1' },
    });
    expect(response).toMatchObject({ status: 202, jsonBody: { state: 'awaitingApproval' } });
    expect(harness.ledger.entries.slice(before)).toEqual([
      expect.objectContaining({ kind: 'dispositionRequested', actor: 'officer' }),
    ]);
    expect(events.started).toEqual([
      {
        instanceId: 'disp-tenant-1-int-s1',
        input: expect.objectContaining({ mode: 'approval', requestedBy: 'officer' }) as unknown,
      },
    ]);
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-s1')).toHaveLength(4);
  });

  it('refuses the requester approving their own deletion, and records the refusal', async () => {
    const { harness, handlers, events } = await setup();
    harness.clock.advance(32 * DAY_IN_MS);
    const params = { tenantId: 'tenant-1', interactionId: 'int-s1' };
    await call(handlers.deleteInteraction, { method: 'DELETE', user: 'officer', params });
    const before = harness.ledger.entries.length;
    const self = await call(handlers.decideDisposition, {
      method: 'POST',
      user: 'officer',
      params,
      body: { isApproved: true },
    });
    expect(self.response).toMatchObject({ status: 403, jsonBody: { code: 'ATT_FORBIDDEN' } });
    expect(events.raised).toEqual([]);
    expect(harness.ledger.entries.slice(before)).toEqual([
      expect.objectContaining({
        actor: 'officer',
        details: expect.objectContaining({ outcome: 'denied:selfApproval' }) as unknown,
      }),
    ]);
    const second = await call(handlers.decideDisposition, {
      method: 'POST',
      user: 'officer2',
      params,
      body: { isApproved: true },
    });
    expect(second.response.status).toBe(202);
    expect(events.raised.map((r) => r.decision.decidedBy)).toEqual(['officer2']);
  });

  it("deletes once the second person approved, in that person's name", async () => {
    const { harness } = await setup();
    harness.clock.advance(32 * DAY_IN_MS);
    const { result } = await runDisposition(
      harness,
      {
        tenantId: 'tenant-1',
        interactionId: 'int-s1',
        mode: 'approval',
        requestedBy: 'officer',
        approvalTimeoutInMs: 14 * DAY_IN_MS,
        reminderIntervalInMs: 2 * DAY_IN_MS,
      },
      [
        // The same person twice is one person: the requester's approval does not count.
        {
          afterInMs: 1_000,
          payload: { decisionId: 'd-1', decidedBy: 'officer', isApproved: true },
        },
        {
          afterInMs: 2_000,
          payload: { decisionId: 'd-2', decidedBy: 'officer2', isApproved: true },
        },
      ],
    );
    expect(result).toMatchObject({ status: 'deleted' });
    expect(harness.ledger.entries.at(-1)).toMatchObject({ kind: 'deleted', actor: 'officer2' });
  });

  it("never deletes on the requester's approval alone, however often given", async () => {
    const { harness } = await setup();
    harness.clock.advance(32 * DAY_IN_MS);
    const self = (n: number) => ({
      afterInMs: n * 1_000,
      payload: { decisionId: `d-${n}`, decidedBy: 'officer', isApproved: true },
    });
    const { result } = await runDisposition(
      harness,
      {
        tenantId: 'tenant-1',
        interactionId: 'int-s1',
        mode: 'approval',
        requestedBy: 'officer',
        approvalTimeoutInMs: 14 * DAY_IN_MS,
        reminderIntervalInMs: 2 * DAY_IN_MS,
      },
      [self(1), self(2)],
    );
    expect(result).toEqual({ status: 'timedOut' });
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-s1')).toHaveLength(4);
  });

  it('refuses a GDPR erasure under hold and before expiry with the legal basis recorded', async () => {
    const { harness, handlers } = await setup();
    await call(handlers.placeHold, {
      method: 'POST',
      user: 'officer',
      body: { matterId: 'M-7', description: 'd', scope: { interactionIds: ['int-s1'] } },
    });
    const before = harness.ledger.entries.length;
    const held = await call(handlers.subjectErasure, {
      method: 'POST',
      user: 'officer',
      params: { userId: 'user-a' },
    });
    expect(held.response.jsonBody).toEqual({
      deleted: [],
      refused: [
        {
          tenantId: 'tenant-1',
          interactionId: 'int-s1',
          reason: 'legalHold',
          legalBasis: 'legal hold, matter M-7',
        },
      ],
    });
    expect(harness.ledger.entries.slice(before)).toEqual([
      expect.objectContaining({
        kind: 'erasureRefused',
        details: expect.objectContaining({ legalBasis: 'legal hold, matter M-7' }),
      }),
    ]);
    const young = await call(handlers.subjectErasure, {
      method: 'POST',
      user: 'officer',
      params: { userId: 'user-trader' },
    });
    expect(young.response.jsonBody).toMatchObject({
      refused: [
        { interactionId: 'int-t1', reason: 'notExpired', legalBasis: 'MiFID II Art. 16(7)' },
      ],
    });
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-s1')).toHaveLength(4);
  });

  it('honours an erasure once retention has ended', async () => {
    const { harness, handlers } = await setup();
    harness.clock.advance(32 * DAY_IN_MS);
    const { response } = await call(handlers.subjectErasure, {
      method: 'POST',
      user: 'officer',
      params: { userId: 'user-a' },
    });
    expect(response.jsonBody).toEqual({ deleted: ['int-s1'], refused: [] });
  });

  it('exports a data subject package that verifies, followed through the status route', async () => {
    const { handlers, jobs } = await setup();
    const { response } = await call(handlers.subjectExport, {
      method: 'POST',
      user: 'officer',
      params: { userId: 'user-trader' },
    });
    expect(response).toMatchObject({
      status: 202,
      headers: { location: '/api/archive/exports/id-1' },
      jsonBody: { exportId: 'id-1', state: 'running', statusUri: '/api/archive/exports/id-1' },
    });
    expect(
      (await call(handlers.exportStatus, { user: 'officer', params: { exportId: 'id-1' } }))
        .response,
    ).toMatchObject({ status: 200, jsonBody: { state: 'running' } });
    await jobs.runAll();
    const { response: done } = await call(handlers.exportStatus, {
      user: 'officer',
      params: { exportId: 'id-1' },
    });
    expect(done).toMatchObject({
      status: 200,
      jsonBody: { state: 'completed', progress: { phase: 'done', done: 1, total: 1 } },
    });
    const result = (done.jsonBody as { result: { interactionCount: number } }).result;
    expect(result.interactionCount).toBe(1);
    const download = await call(handlers.exportDownload, {
      user: 'officer',
      params: { exportId: 'id-1' },
    });
    const dir = await unzipPackage(await responseBytes(download.response.body), 'id-1');
    expect((await verifyExport(dir)).failures).toEqual([]);
  });

  it("resumes an export by its id, never runs one twice at once, and hides other tenants' exports", async () => {
    const { harness, handlers, jobs } = await setup();
    await call(handlers.export, { method: 'POST', user: 'officer', body: { query: {} } });
    const again = await call(handlers.export, {
      method: 'POST',
      user: 'officer',
      body: { query: {}, exportId: 'id-1' },
    });
    expect(again.response).toMatchObject({
      status: 202,
      jsonBody: { exportId: 'id-1', isAlreadyRunning: true },
    });
    expect(harness.ledger.entries.at(-1)).toMatchObject({
      kind: 'accessed',
      details: { action: 'export', outcome: 'alreadyRunning' },
    });
    expect(
      (
        await call(handlers.export, {
          method: 'POST',
          user: 'officer',
          body: { query: {}, exportId: 'never-started' },
        })
      ).response,
    ).toMatchObject({ status: 404 });
    jobs.jobs.set('other', {
      request: { exportId: 'other', createdBy: 'x', tenantId: 'tenant-2' },
      status: { exportId: 'other', state: 'running', tenantId: 'tenant-2' },
    });
    expect(
      (await call(handlers.exportStatus, { user: 'officer', params: { exportId: 'other' } }))
        .response,
    ).toMatchObject({ status: 404, jsonBody: { code: 'ATT_NOT_FOUND' } });
    expect(
      (await call(handlers.exportStatus, { user: 'auditor', params: { exportId: 'id-1' } }))
        .response,
    ).toMatchObject({ status: 403 });
    expect(
      (await call(handlers.exportStatus, { user: 'officer', params: { exportId: '../x' } }))
        .response,
    ).toMatchObject({ status: 400 });
  });

  it("relays a second person's disposition decision and records it once", async () => {
    const { harness, handlers, events } = await setup();
    const before = harness.ledger.entries.length;
    const { response } = await call(handlers.decideDisposition, {
      method: 'POST',
      user: 'officer2',
      params: trader,
      body: { isApproved: true },
    });
    expect(response.status).toBe(202);
    expect(events.raised).toEqual([
      {
        instanceId: 'disp-tenant-1-int-t1',
        decision: { decisionId: 'id-1', decidedBy: 'officer2', isApproved: true },
      },
    ]);
    expect(harness.ledger.entries.slice(before).map((e) => e.kind)).toEqual([
      'dispositionApproved',
    ]);
  });

  it('refuses an export id that could leave the export folder', async () => {
    const { handlers } = await setup();
    const { response } = await call(handlers.export, {
      method: 'POST',
      user: 'officer',
      body: { query: {}, exportId: '../../etc' },
    });
    expect(response).toMatchObject({
      status: 400,
      jsonBody: {
        code: 'ATT_INVALID_REQUEST',
        message: 'exportId must be 1 to 64 letters, digits or dashes',
      },
    });
  });

  it('releases a hold once', async () => {
    const { handlers } = await setup();
    await call(handlers.placeHold, {
      method: 'POST',
      user: 'officer',
      body: { matterId: 'M-1', description: 'd', scope: { recordedUserIds: ['user-a'] } },
    });
    expect(
      (
        await call(handlers.releaseHold, {
          method: 'POST',
          user: 'officer2',
          params: { holdId: 'id-1' },
        })
      ).response.status,
    ).toBe(200);
    expect(
      (
        await call(handlers.releaseHold, {
          method: 'POST',
          user: 'officer2',
          params: { holdId: 'id-1' },
        })
      ).response.status,
    ).toBe(409);
  });

  it('answers 400 for a hold without any scope criterion', async () => {
    const { handlers } = await setup();
    const { response } = await call(handlers.placeHold, {
      method: 'POST',
      user: 'officer',
      body: { matterId: 'M-1', description: 'd', scope: {} },
    });
    expect(response).toMatchObject({ status: 400, jsonBody: { code: 'ATT_INVALID_REQUEST' } });
  });
});

/**
 * The archive admin API over in-memory stores, for route-level tests: two tenants' sealed
 * interactions, exports that run when the test says so, and callers given by `users`.
 */
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { createCompletenessActivities } from '../../functions/src/activities/completeness.activities';
import {
  createExportActivities,
  type ExportActivities,
} from '../../functions/src/activities/export.activities';
import { createBusinessDataService } from '../../functions/src/archive/business-data.service';
import { createGdprActivities } from '../../functions/src/activities/gdpr.activities';
import {
  MemoryBusinessDataHistory,
  MemoryExportPackageStore,
  MemoryExportRequestStore,
  type MemoryRecordingBlobStore,
} from './support/memory-archive-stores';
import type {
  ExportPackageStore,
  RecordingBlobStore,
} from '../../functions/src/domain/archive-ports';
import type {
  DispositionDecision,
  DispositionInput,
  ExportJobRequest,
} from '../../functions/src/domain/archive-names';
import {
  createArchiveAdminHandlers,
  type ArchiveAdminHandlers,
  type DispositionEvents,
  type ExportJobs,
  type ExportJobStatus,
  type WaitingDisposition,
} from '../../functions/src/http/archive-admin.http';
import { MemoryCallLog } from './support/memory-call-log';
import { fakeVerifier, type FakeUser } from '../support/admin-access-fake';
import {
  createHarness,
  kek,
  ledgerKeys,
  manifestKeys,
  memoryBlobWriter,
  testPolicy,
  writeSealedRecording,
  type ArchiveHarness,
} from './archive-fixtures';

/** A disposition waiting for a decision; by default one the retention job (`system`) started. */
export class FakeDispositionEvents implements DispositionEvents {
  readonly raised: { instanceId: string; decision: DispositionDecision }[] = [];
  readonly started: { instanceId: string; input: DispositionInput }[] = [];
  isWaiting = true;
  requester = 'system';
  raiseDecision(instanceId: string, decision: DispositionDecision): Promise<boolean> {
    this.raised.push({ instanceId, decision });
    return Promise.resolve(this.isWaiting);
  }
  getRequester(): Promise<string | undefined> {
    return Promise.resolve(this.isWaiting ? this.requester : undefined);
  }
  startIfIdle(instanceId: string, input: DispositionInput): Promise<'started' | 'alreadyRunning'> {
    if (this.started.some((s) => s.instanceId === instanceId))
      return Promise.resolve('alreadyRunning');
    this.started.push({ instanceId, input });
    this.requester = input.requestedBy;
    this.isWaiting = true;
    return Promise.resolve('started');
  }
  /** The dispositions started through the API, while waiting; `waiting` adds others. */
  readonly waiting: WaitingDisposition[] = [];
  listWaiting(tenantId: string): Promise<readonly WaitingDisposition[]> {
    const started = this.isWaiting
      ? this.started.map((s) => ({
          instanceId: s.instanceId,
          tenantId: s.input.tenantId,
          interactionId: s.input.interactionId,
          requestedBy: s.input.requestedBy,
          requestedAt: '2030-01-01T00:00:00.000Z',
        }))
      : [];
    return Promise.resolve([...started, ...this.waiting].filter((w) => w.tenantId === tenantId));
  }
}

/** Exports are queued by the handlers and run when the test says so. */
export class FakeExportJobs implements ExportJobs {
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

export interface AdminHarness {
  readonly harness: ArchiveHarness;
  readonly handlers: ArchiveAdminHandlers;
  readonly events: FakeDispositionEvents;
  readonly jobs: FakeExportJobs;
  readonly packages: ExportPackageStore;
  /** The recorder's invite log: each sealed interaction, with no participants or streams. */
  readonly callLog: MemoryCallLog;
  /** Every version of business data attached through the API. */
  readonly businessDataHistory: MemoryBusinessDataHistory;
}

export interface AdminHarnessOptions {
  /** Where export packages go; default in memory. */
  readonly packages?: ExportPackageStore;
  /** Where recordings are, and how the fixtures write there; default in memory. */
  readonly recordings?: {
    readonly store: RecordingBlobStore;
    readonly writer: Parameters<typeof writeSealedRecording>[0];
  };
  /** Runs after each fixture is written and before the archive's intake seals it. */
  readonly beforeSeal?: (tenantId: string, interactionId: string) => Promise<void>;
}

/**
 * One sealed interaction per `[tenantId, interactionId, recordedUserId, invitedAt, callChainId?]`.
 */
export async function createAdminHarness(
  startAt: string,
  users: Readonly<Record<string, FakeUser>>,
  interactions: readonly (readonly [string, string, string, string, string?])[],
  rbacScopes: Readonly<Record<string, readonly string[]>> = {},
  options: AdminHarnessOptions = {},
): Promise<AdminHarness> {
  const harness = createHarness(startAt, options.recordings?.store);
  const callLog = new MemoryCallLog();
  const writer =
    options.recordings?.writer ?? memoryBlobWriter(harness.blobs as MemoryRecordingBlobStore);
  for (const [tenantId, interactionId, userId, invitedAt, callChainId] of interactions) {
    const fixture = await writeSealedRecording(writer, {
      tenantId,
      interactionId,
      recordedUserIds: [userId],
      invitedAt,
      type: 'pstn',
      ...(callChainId === undefined ? {} : { callChainId }),
    });
    await options.beforeSeal?.(tenantId, interactionId);
    await harness.activities.recordSealed(fixture.interaction);
    callLog.add(fixture.interaction);
  }
  const packages = options.packages ?? new MemoryExportPackageStore();
  const jobs = new FakeExportJobs(
    createExportActivities({
      records: harness.records,
      holds: harness.holds,
      ledger: harness.ledger,
      blobs: harness.blobs,
      packages,
      kekPrivateKey: kek.privateKey,
      ledgerSigningKey: ledgerKeys.privateKey,
      manifestPublicKeyPem: manifestKeys.publicKey
        .export({ type: 'spki', format: 'pem' })
        .toString(),
      requests: new MemoryExportRequestStore(),
      integrity: harness.integrity,
      clock: harness.clock,
    }),
  );
  const events = new FakeDispositionEvents();
  const businessDataHistory = new MemoryBusinessDataHistory();
  let next = 0;
  const handlers = createArchiveAdminHandlers({
    verifier: fakeVerifier(users),
    rbacScopes,
    records: harness.records,
    callLog,
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
      parties: harness.parties,
      archive: harness.activities,
      policy: testPolicy,
      clock: harness.clock,
    }),
    dispositions: events,
    kekPrivateKey: kek.privateKey,
    integrity: harness.integrity,
    businessData: createBusinessDataService({
      records: harness.records,
      history: businessDataHistory,
      ledger: harness.ledger,
      clock: harness.clock,
    }),
    packages,
    clock: harness.clock,
    newId: () => `id-${(next += 1)}`,
  });
  return { harness, handlers, events, jobs, packages, callLog, businessDataHistory };
}

export interface RouteCall {
  readonly method?: string;
  readonly user?: string;
  readonly params?: Record<string, string>;
  readonly query?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export async function callRoute(
  handler: ArchiveAdminHandlers[keyof ArchiveAdminHandlers],
  request: RouteCall,
): Promise<HttpResponseInit> {
  const context = new InvocationContext({
    functionName: 'archiveAdmin',
    logHandler: () => undefined,
  });
  const httpRequest = new HttpRequest({
    method: request.method ?? 'GET',
    url: 'http://localhost:7071/api/archive/test',
    headers: {
      ...(request.user === undefined ? {} : { authorization: `Bearer ${request.user}` }),
      ...request.headers,
    },
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
  return handler(httpRequest, context);
}

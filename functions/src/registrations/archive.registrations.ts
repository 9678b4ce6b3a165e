/**
 * Registers the archive's functions: the disposition orchestration and its activities, the
 * retention and checkpoint timers, and the admin API routes under `/api/archive/`.
 * The only archive file that calls `app.*` / `df.app.*`.
 */
import { app, type HttpHandler, type HttpMethod } from '@azure/functions';
import * as df from 'durable-functions';
import type { ArchiveService } from '../archive/archive.service';
import type { ExportActivities } from '../activities/export.activities';
import { DurableDispositionClient } from '../adapters/durable-disposition-client';
import { DurableExportJobs, type ExportJobSettings } from '../adapters/durable-export-jobs';
import { ArchiveActivityNames, ArchiveOrchestratorNames } from '../domain/archive-names';
import type { ExportRequestStore } from '../domain/archive-ports';
import type { ArchiveAdminDeps, ArchiveAdminHandlers } from '../http/archive-admin.http';
import { createArchiveAdminHandlers } from '../http/archive-admin.http';
import { createLiveCallsHandler, type LiveCallsDeps } from '../http/live-calls.http';
import { createLiveListenHandler, type LiveListenOptions } from '../http/live-listen.http';
import { dispositionOrchestrator } from '../orchestrators/disposition.orchestrator';
import { exportPackageOrchestrator } from '../orchestrators/export-package.orchestrator';
import type { RetentionSweepDeps } from '../timers/retention-sweep.timer';
import { createRetentionSweep } from '../timers/retention-sweep.timer';

export interface ArchiveRegistrationDeps {
  readonly archive: ArchiveService;
  /** The export steps, run as activities of `exportPackageV1`. */
  readonly exports: ExportActivities;
  readonly exportJobs: ExportJobSettings;
  /** Where the export starter records each request (the export steps check it). */
  readonly exportRequests: ExportRequestStore;
  /** Admin handler deps without the durable client's adapters, which exist only per invocation. */
  readonly admin: Omit<ArchiveAdminDeps, 'dispositions' | 'exportJobs'>;
  readonly sweep: Omit<RetentionSweepDeps, 'starter'>;
  /** `POST archive/calls/{callId}/listen` (live listen-in). */
  readonly liveListen: LiveListenOptions;
  /** `GET archive/live` (the calls a caller may listen in to). */
  readonly liveCalls: LiveCallsDeps;
  readonly checkpoint: () => Promise<unknown>;
  readonly retentionSchedule: string;
  readonly checkpointSchedule: string;
}

const routes: readonly {
  name: string;
  route: string;
  method: HttpMethod;
  handler: keyof ArchiveAdminHandlers;
}[] = [
  { name: 'archiveSearch', route: 'archive/interactions', method: 'GET', handler: 'search' },
  {
    name: 'archiveViewMetadata',
    route: 'archive/interactions/{tenantId}/{interactionId}',
    method: 'GET',
    handler: 'viewMetadata',
  },
  {
    name: 'archiveDeleteInteraction',
    route: 'archive/interactions/{tenantId}/{interactionId}',
    method: 'DELETE',
    handler: 'deleteInteraction',
  },
  {
    name: 'archiveMedia',
    route: 'archive/interactions/{tenantId}/{interactionId}/streams/{streamId}',
    method: 'GET',
    handler: 'media',
  },
  {
    name: 'archiveChangeRetentionClass',
    route: 'archive/interactions/{tenantId}/{interactionId}/retention',
    method: 'POST',
    handler: 'changeRetentionClass',
  },
  {
    name: 'archiveAttachBusinessData',
    route: 'archive/interactions/{tenantId}/{interactionId}/business-data',
    method: 'PUT',
    handler: 'attachBusinessData',
  },
  {
    name: 'archiveViewBusinessData',
    route: 'archive/interactions/{tenantId}/{interactionId}/business-data',
    method: 'GET',
    handler: 'viewBusinessData',
  },
  { name: 'archiveListHolds', route: 'archive/holds', method: 'GET', handler: 'listHolds' },
  { name: 'archivePlaceHold', route: 'archive/holds', method: 'POST', handler: 'placeHold' },
  {
    name: 'archiveReleaseHold',
    route: 'archive/holds/{holdId}/release',
    method: 'POST',
    handler: 'releaseHold',
  },
  {
    name: 'archiveDecideDisposition',
    route: 'archive/dispositions/{tenantId}/{interactionId}/decision',
    method: 'POST',
    handler: 'decideDisposition',
  },
  {
    name: 'archiveListDispositions',
    route: 'archive/dispositions',
    method: 'GET',
    handler: 'listDispositions',
  },
  { name: 'archiveAnalytics', route: 'archive/analytics', method: 'GET', handler: 'analytics' },
  { name: 'archiveViewLedger', route: 'archive/ledger', method: 'GET', handler: 'viewLedger' },
  {
    name: 'archiveCompleteness',
    route: 'archive/reports/completeness',
    method: 'GET',
    handler: 'completenessReport',
  },
  { name: 'archiveExport', route: 'archive/exports', method: 'POST', handler: 'export' },
  {
    name: 'archiveExportStatus',
    route: 'archive/exports/{exportId}',
    method: 'GET',
    handler: 'exportStatus',
  },
  {
    name: 'archiveExportDownload',
    route: 'archive/exports/{exportId}/download',
    method: 'GET',
    handler: 'exportDownload',
  },
  {
    name: 'archiveSubjectExport',
    route: 'archive/subjects/{userId}/export',
    method: 'POST',
    handler: 'subjectExport',
  },
  {
    name: 'archiveSubjectErasure',
    route: 'archive/subjects/{userId}/erasure',
    method: 'POST',
    handler: 'subjectErasure',
  },
];

export function registerArchive(deps: ArchiveRegistrationDeps): void {
  df.app.orchestration(ArchiveOrchestratorNames.disposition, dispositionOrchestrator);
  df.app.activity(ArchiveActivityNames.checkDisposition, {
    handler: (input: Parameters<ArchiveService['checkDisposition']>[0]) =>
      deps.archive.checkDisposition(input),
  });
  df.app.activity(ArchiveActivityNames.requestDispositionApproval, {
    handler: (input: Parameters<ArchiveService['requestDispositionApproval']>[0]) =>
      deps.archive.requestDispositionApproval(input),
  });
  df.app.activity(ArchiveActivityNames.recordDispositionOutcome, {
    handler: (input: Parameters<ArchiveService['recordDispositionOutcome']>[0]) =>
      deps.archive.recordDispositionOutcome(input),
  });
  df.app.activity(ArchiveActivityNames.disposeInteraction, {
    handler: (input: Parameters<ArchiveService['disposeInteraction']>[0]) =>
      deps.archive.disposeInteraction(input),
  });

  df.app.orchestration(ArchiveOrchestratorNames.exportPackage, exportPackageOrchestrator);
  df.app.activity(ArchiveActivityNames.prepareExport, {
    handler: (input: Parameters<ExportActivities['prepareExport']>[0]) =>
      deps.exports.prepareExport(input),
  });
  df.app.activity(ArchiveActivityNames.writeExportBatch, {
    handler: (input: Parameters<ExportActivities['writeExportBatch']>[0]) =>
      deps.exports.writeExportBatch(input),
  });
  df.app.activity(ArchiveActivityNames.finishExport, {
    handler: (input: Parameters<ExportActivities['finishExport']>[0]) =>
      deps.exports.finishExport(input),
  });

  df.app.client.timer('archiveRetentionSweep', {
    schedule: deps.retentionSchedule,
    // A run missed while the app was down fires at start; the sweep catches up every past day anyway.
    runOnStartup: false,
    handler: async (_timer, client, context) => {
      const sweep = createRetentionSweep({
        ...deps.sweep,
        starter: new DurableDispositionClient(client),
        onProgress: (summary) => context.info('retention sweep progress', { ...summary }),
      });
      const summary = await sweep();
      context.info('retention sweep finished', { ...summary });
    },
  });

  app.timer('archiveLedgerCheckpoint', {
    schedule: deps.checkpointSchedule,
    handler: async (_timer, context) => {
      const checkpoint = (await deps.checkpoint()) as { seq: number } | undefined;
      context.info('ledger checkpoint', {
        seq: checkpoint?.seq ?? -1,
        isWritten: checkpoint !== undefined,
      });
    },
  });

  app.http('archiveLiveListen', {
    route: 'archive/calls/{callId}/listen',
    methods: ['POST'],
    authLevel: 'anonymous',
    handler: createLiveListenHandler(deps.liveListen),
  });
  app.http('archiveLiveCalls', {
    route: 'archive/live',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: createLiveCallsHandler(deps.liveCalls),
  });

  // Routes that start or follow orchestrations get the durable client of their invocation.
  const durableRoutes = new Set<keyof ArchiveAdminHandlers>([
    'deleteInteraction',
    'decideDisposition',
    'listDispositions',
    'export',
    'exportStatus',
    'exportDownload',
    'subjectExport',
  ]);
  const noDurableClient = (): never => {
    throw new Error('this route has no durable client');
  };
  for (const route of routes) {
    if (durableRoutes.has(route.handler)) {
      df.app.client.http(route.name, {
        route: route.route,
        methods: [route.method],
        authLevel: 'anonymous',
        handler: (request, client, context) =>
          createArchiveAdminHandlers({
            ...deps.admin,
            dispositions: new DurableDispositionClient(client),
            exportJobs: new DurableExportJobs(
              client,
              deps.exportJobs,
              deps.exportRequests,
              deps.admin.clock,
            ),
          })[route.handler](request, context),
      });
      continue;
    }
    const handlers = createArchiveAdminHandlers({
      ...deps.admin,
      dispositions: {
        raiseDecision: noDurableClient,
        getRequester: noDurableClient,
        startIfIdle: noDurableClient,
        listWaiting: noDurableClient,
      },
      exportJobs: { start: noDurableClient, status: noDurableClient },
    });
    const handler: HttpHandler = handlers[route.handler];
    app.http(route.name, {
      route: route.route,
      methods: [route.method],
      authLevel: 'anonymous',
      handler,
    });
  }
}

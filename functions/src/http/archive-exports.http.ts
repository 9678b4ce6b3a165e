/**
 * Archive routes that take data out: exports by query or hold, their status, the finished
 * package's download, and data subject requests (export and erasure). Everything is selected
 * within the caller's tenant; an export of another tenant is absent (404).
 */
import {
  ExportPaths,
  LedgerEntryKind,
  LedgerSubjectType,
  sha256Hex,
  type LedgerEntryDraft,
} from '@attest/core';
import type { DataSubject } from '../activities/gdpr.activities';
import { isPhoneKey, partyKeyOf } from '../domain/party-keys';
import { z } from 'zod';
import type { ExportJobRequest } from '../domain/archive-names';
import { parseSearchQuery, SELECTION_PARAMETERS } from '../domain/archive-search';
import type { ArchiveAction, Principal } from '../domain/rbac';
import {
  accessEntry,
  deniedOutcome,
  refusalOf,
  type AdminAccess,
  type AdminOutcome,
} from './admin-access';
import { zipExportPackage } from '../adapters/export-package-zip';
import type { ArchiveAdminDeps, ExportJobStatus } from './archive-admin.http';
import { selectionRefusal } from './archive-scope';
import { badRequest, conflict, notFound } from './problem';
import { idSchema, parseBody } from './request-body';

type Deps = Pick<
  ArchiveAdminDeps,
  'records' | 'holds' | 'gdpr' | 'exportJobs' | 'packages' | 'newId'
>;

const EXPORT_ID = /^[A-Za-z0-9-]{1,64}$/;

/** The data subject of a `subjects/{userId}/...` route: a phone number or an identity id. */
function dataSubjectOf(request: {
  readonly params: Readonly<Record<string, string>>;
}): DataSubject {
  const raw = request.params.userId ?? '';
  const key = partyKeyOf(raw);
  if (key === undefined)
    throw badRequest(
      'name the data subject by phone number (E.164, for example +14255550100) or identity id',
    );
  return isPhoneKey(key) ? { key } : { key, identityId: raw.trim() };
}

/**
 * How the ledger names a data subject: an identity id as given (opaque), a phone number only by
 * its hash, so the append-only ledger never holds a number that an erasure must remove.
 */
const ledgerIdOf = (subject: DataSubject): string =>
  subject.identityId ?? `phone-sha256:${sha256Hex(subject.key)}`;
const EXPORT_ID_MESSAGE = 'exportId must be 1 to 64 letters, digits or dashes';

/** Where a finished export is downloaded (the portal links to it). */
export const exportDownloadUri = (exportId: string): string =>
  `/api/archive/exports/${exportId}/download`;

const exportBody = z.strictObject({
  query: z.record(z.string().max(64), z.union([z.string().max(256), z.number()])).optional(),
  holdId: idSchema.optional(),
  exportId: z.string().optional(),
});

export function createExportRoutes(deps: Deps, access: AdminAccess) {
  /** An export of another tenant is treated as absent (404). */
  async function ownExport(
    principal: Principal,
    exportId: string,
    isResume: boolean,
  ): Promise<ExportJobStatus> {
    const status = await deps.exportJobs.status(exportId);
    if (status === undefined || status.tenantId !== principal.tenantId)
      throw notFound(isResume ? `no export ${exportId} to resume` : `no export ${exportId}`);
    return status;
  }

  /** Starts (or resumes) an export orchestration: 202 with where to follow it. */
  async function startExport(
    principal: Principal,
    action: ArchiveAction,
    request: ExportJobRequest,
    details: Record<string, string | number | boolean>,
  ): Promise<AdminOutcome> {
    const started = await deps.exportJobs.start(request);
    const statusUri = `/api/archive/exports/${request.exportId}`;
    return {
      response: {
        status: 202,
        headers: { location: statusUri },
        jsonBody: {
          exportId: request.exportId,
          state: 'running',
          isAlreadyRunning: started === 'alreadyRunning',
          statusUri,
        },
      },
      entry: accessEntry(
        principal,
        action,
        started === 'alreadyRunning' ? 'alreadyRunning' : 'started',
        { type: LedgerSubjectType.export, id: request.exportId },
        details,
      ),
    };
  }

  const newRequest = (principal: Principal, exportId: string) => ({
    exportId,
    createdBy: principal.userId,
    tenantId: principal.tenantId,
  });

  function exportIdOf(request: { readonly params: Readonly<Record<string, string>> }): string {
    const exportId = request.params.exportId ?? '';
    if (!EXPORT_ID.test(exportId)) throw badRequest(EXPORT_ID_MESSAGE);
    return exportId;
  }

  return {
    /** POST archive/exports {query?: {...}, holdId?: string, exportId?: string (resume)} → 202 */
    export: access.route('export', async (request, principal) => {
      const body = await parseBody(request, exportBody);
      const { holdId, query: rawQuery } = body;
      if ((holdId === undefined) === (rawQuery === undefined))
        throw badRequest('give exactly one of query or holdId');
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(rawQuery ?? {})) {
        if (!(SELECTION_PARAMETERS as readonly string[]).includes(k))
          throw badRequest(
            `query.${k.slice(0, 40)} cannot select an export (use: ${SELECTION_PARAMETERS.join(', ')}; or a hold)`,
          );
        params.set(k, String(v));
      }
      const { query, problems } = parseSearchQuery(params, principal.tenantId);
      if (problems.length > 0) throw badRequest(problems.join('; '));
      const subject = { type: LedgerSubjectType.export, id: holdId ?? 'query' };
      const refusal = refusalOf(principal, 'export', subject);
      if (refusal !== undefined) return refusal;
      const outOfScope = await selectionRefusal(
        deps,
        principal,
        'export',
        holdId === undefined ? query : {},
        holdId,
      );
      if (outOfScope !== undefined) return deniedOutcome(principal, 'export', outOfScope, subject);
      // Giving the id of an interrupted export resumes it (the package keeps its progress file).
      const resumeId = body.exportId;
      if (resumeId !== undefined && !EXPORT_ID.test(resumeId)) throw badRequest(EXPORT_ID_MESSAGE);
      const exportId = resumeId ?? deps.newId();
      if (resumeId !== undefined) await ownExport(principal, exportId, true);
      return startExport(
        principal,
        'export',
        {
          ...newRequest(principal, exportId),
          ...(holdId === undefined ? { query } : { holdId }),
        },
        { ...(holdId === undefined ? {} : { holdId }), isResume: resumeId !== undefined },
      );
    }),

    /** GET archive/exports/{exportId}: state and progress of an export of the caller's tenant. */
    exportStatus: access.route('export', async (request, principal) => {
      const exportId = exportIdOf(request);
      const subject = { type: LedgerSubjectType.export, id: exportId };
      const refusal = refusalOf(principal, 'export', subject);
      if (refusal !== undefined) return refusal;
      const status = await ownExport(principal, exportId, false);
      const shown =
        status.state === 'completed'
          ? { ...status, downloadUri: exportDownloadUri(exportId) }
          : status;
      return {
        response: { status: 200, jsonBody: shown },
        entry: accessEntry(principal, 'export', 'status', subject, {
          state: status.state,
          done: status.progress?.done,
          total: status.progress?.total,
        }),
      };
    }),

    /**
     * GET archive/exports/{exportId}/download: the finished package as one zip, streamed from
     * the exports container. Only the officer who made the export may take it (its selection was
     * authorised against their scope, not another officer's); 409 while it is still running.
     */
    exportDownload: access.route('export', async (request, principal) => {
      const exportId = exportIdOf(request);
      const subject = { type: LedgerSubjectType.export, id: exportId };
      const refusal = refusalOf(principal, 'export', subject);
      if (refusal !== undefined) return refusal;
      const status = await ownExport(principal, exportId, false);
      if (status.createdBy !== principal.userId)
        return deniedOutcome(principal, 'export', 'notCreator', subject);
      if (status.state !== 'completed')
        throw conflict(`export ${exportId} is ${status.state}; download it once it has completed`);
      const ref = { tenantId: principal.tenantId, exportId };
      // Working files of an unfinished run (`.progress.json`, `.selection.json`) never leave.
      const files = (await deps.packages.list(ref)).filter((f) => !f.startsWith('.'));
      if (!files.includes(ExportPaths.index))
        throw notFound(`the package of export ${exportId} is no longer in storage`);
      const body = zipExportPackage(deps.packages, ref, files, {
        mtime: new Date(status.createdAt ?? 0),
      });
      return {
        response: {
          status: 200,
          headers: {
            'content-type': 'application/zip',
            'content-disposition': `attachment; filename="attest-export-${exportId}.zip"`,
            'cache-control': 'no-store',
          },
          body,
        },
        entry: accessEntry(principal, 'export', 'downloaded', subject, {
          fileCount: files.length,
        }),
      };
    }),

    /**
     * POST archive/subjects/{subject}/export: every interaction the data subject took part in,
     * named by phone number (`+14255550100`) or identity id (user, guest, application).
     */
    subjectExport: access.route('subjectExport', async (request, principal) => {
      const dataSubject = dataSubjectOf(request);
      const subject = { type: LedgerSubjectType.dataSubject, id: ledgerIdOf(dataSubject) };
      const refusal = refusalOf(principal, 'subjectExport', subject);
      if (refusal !== undefined) return refusal;
      const selection = {
        interactionIds: await deps.gdpr.interactionIdsOf(principal.tenantId, dataSubject),
      };
      const outOfScope = await selectionRefusal(
        deps,
        principal,
        'subjectExport',
        selection,
        undefined,
      );
      if (outOfScope !== undefined)
        return deniedOutcome(principal, 'subjectExport', outOfScope, subject);
      return startExport(
        principal,
        'subjectExport',
        { ...newRequest(principal, deps.newId()), query: selection },
        { dataSubjectId: subject.id, interactionCount: selection.interactionIds.length },
      );
    }),

    /**
     * POST archive/subjects/{subject}/erasure (phone number or identity id): deletes what may go,
     * refuses the rest with the legal basis.
     */
    subjectErasure: access.route('subjectErasure', async (request, principal) => {
      const dataSubject = dataSubjectOf(request);
      const subject = { type: LedgerSubjectType.dataSubject, id: ledgerIdOf(dataSubject) };
      const refusal = refusalOf(principal, 'subjectErasure', subject);
      if (refusal !== undefined) return refusal;
      const outOfScope = await selectionRefusal(
        deps,
        principal,
        'subjectErasure',
        { interactionIds: await deps.gdpr.interactionIdsOf(principal.tenantId, dataSubject) },
        undefined,
      );
      if (outOfScope !== undefined)
        return deniedOutcome(principal, 'subjectErasure', outOfScope, subject);
      const outcome = await deps.gdpr.requestErasure(
        principal.tenantId,
        dataSubject,
        principal.userId,
      );
      const entry: LedgerEntryDraft = {
        kind:
          outcome.refused.length > 0 ? LedgerEntryKind.erasureRefused : LedgerEntryKind.accessed,
        actor: principal.userId,
        tenantId: principal.tenantId,
        subjectType: LedgerSubjectType.dataSubject,
        subjectId: subject.id,
        details: {
          action: 'subjectErasure',
          deletedCount: outcome.deleted.length,
          refusedCount: outcome.refused.length,
          legalBasis: [...new Set(outcome.refused.map((r) => r.legalBasis))].join('; '),
        },
      };
      return { response: { status: 200, jsonBody: outcome }, entry };
    }),
  };
}

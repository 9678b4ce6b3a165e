/**
 * The archive's admin API (`/api/archive/...`). Every call that reads or changes archived data is
 * authorised by role and scope from the caller's Entra token and writes exactly one ledger entry:
 * the action itself (held, released, exported, deleted, dispositionApproved/Rejected,
 * erasureRefused) or an `accessed` entry with who, what, the query and the outcome. A refused
 * call answers 403 and is recorded too. A request without a valid token answers 401 and is not
 * recorded (there is nobody to record).
 */
import path from 'node:path';
import type {
  HttpHandler,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import {
  canonicalJson,
  ErrorCode,
  errorCodeOf,
  holdMatches,
  LedgerEntryKind,
  LedgerSubjectType,
  type KeyUnwrapperLike,
  type LedgerEntryDraft,
  type ProblemBody,
} from '@attest/core';
import type { ArchiveActivities } from '../activities/archive.activities';
import type { CompletenessActivities } from '../activities/completeness.activities';
import type { GdprActivities } from '../activities/gdpr.activities';
import { readPlaintextStream, readStoredManifest } from '../adapters/archive-media-reader';
import type {
  ArchiveRecord,
  ArchiveRecordStore,
  ArchiveSearchQuery,
  Clock,
  HoldStore,
  LedgerStore,
  RecordingBlobStore,
} from '../domain/archive-ports';
import {
  dispositionInstanceId,
  type DispositionDecision,
  type ExportJobProgress,
  type ExportJobRequest,
} from '../domain/archive-names';
import { parseSearchQuery } from '../domain/archive-search';
import {
  authorize,
  rolesFromClaims,
  scopeGroupsFor,
  type ArchiveAction,
  type Principal,
  type ScopedTarget,
} from '../domain/rbac';
import type { TokenVerifier } from '../domain/token-verifier';

/** Raises the approval event on a running disposition; false when none is running. */
export interface DispositionEvents {
  raiseDecision(instanceId: string, decision: DispositionDecision): Promise<boolean>;
}

/** Long-running exports (a durable orchestration per export in the function app). */
export interface ExportJobs {
  /** Starts the export, or resumes an interrupted one with the same id; never runs it twice at once. */
  start(request: ExportJobRequest): Promise<'started' | 'alreadyRunning'>;
  status(exportId: string): Promise<ExportJobStatus | undefined>;
}

export interface ExportJobStatus {
  readonly exportId: string;
  readonly state: 'running' | 'completed' | 'failed';
  readonly tenantId?: string;
  readonly createdBy?: string;
  readonly progress?: ExportJobProgress;
  readonly result?: unknown;
  readonly error?: string;
  readonly createdAt?: string;
  readonly lastUpdatedAt?: string;
}

export interface ArchiveAdminDeps {
  readonly verifier: TokenVerifier;
  readonly rbacScopes: Readonly<Record<string, readonly string[]>>;
  readonly records: ArchiveRecordStore;
  readonly holds: HoldStore;
  readonly ledger: LedgerStore;
  readonly blobs: RecordingBlobStore;
  readonly activities: ArchiveActivities;
  readonly completeness: CompletenessActivities;
  readonly gdpr: GdprActivities;
  readonly dispositions: DispositionEvents;
  readonly exportJobs: ExportJobs;
  /** Unwraps data keys for playback: the KEK private key (local) or Key Vault. */
  readonly kekPrivateKey: KeyUnwrapperLike | undefined;
  readonly exportDir: string;
  readonly clock: Clock;
  readonly newId: () => string;
}

const MAX_LEDGER_PAGE = 1000;
const EXPORT_ID = /^[A-Za-z0-9-]{1,64}$/;

function problem(status: number, code: string, message: string): HttpResponseInit {
  const body: ProblemBody = { code, message, status };
  return { status, jsonBody: body };
}

const statusByCode: Partial<Record<string, number>> = {
  [ErrorCode.InvalidRequest]: 400,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.RetentionLocked]: 409,
  [ErrorCode.LegalHold]: 409,
};

class ClientFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function jsonBody(request: HttpRequest): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await request.text());
  } catch {
    throw new ClientFault(400, ErrorCode.InvalidRequest, 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ClientFault(400, ErrorCode.InvalidRequest, 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '')
    throw new ClientFault(400, ErrorCode.InvalidRequest, `${name} must be a non-empty string`);
  return value;
}

function requiredString(body: Record<string, unknown>, name: string, maxLength = 200): string {
  const value = optionalString(body, name);
  if (value === undefined)
    throw new ClientFault(400, ErrorCode.InvalidRequest, `${name} is required`);
  if (value.length > maxLength)
    throw new ClientFault(
      400,
      ErrorCode.InvalidRequest,
      `${name} is longer than ${maxLength} characters`,
    );
  return value;
}

const targetOf = (record: ArchiveRecord): ScopedTarget => ({
  tenantId: record.interaction.tenantId,
  groupIds: record.groupIds,
});

export function createArchiveAdminHandlers(deps: ArchiveAdminDeps) {
  async function authenticate(request: HttpRequest): Promise<Principal | undefined> {
    const verification = await deps.verifier.verify(
      request.headers.get('authorization') ?? undefined,
    );
    if (!verification.isValid) return undefined;
    const { token } = verification;
    const groups = Array.isArray(token.claims.groups)
      ? token.claims.groups.filter((g): g is string => typeof g === 'string')
      : [];
    return {
      userId: token.subject,
      tenantId: token.tenantId,
      roles: rolesFromClaims(token.roles),
      scopeGroupIds: scopeGroupsFor(token.subject, groups, deps.rbacScopes),
    };
  }

  function accessEntry(
    principal: Principal,
    action: ArchiveAction,
    outcome: string,
    subject: { type: LedgerEntryDraft['subjectType']; id: string; tenantId?: string },
    details: Record<
      string,
      string | number | boolean | null | Record<string, unknown> | undefined
    > = {},
  ): LedgerEntryDraft {
    return {
      kind: LedgerEntryKind.accessed,
      actor: principal.userId,
      tenantId: subject.tenantId ?? principal.tenantId,
      subjectType: subject.type,
      subjectId: subject.id,
      details: {
        action,
        outcome,
        roles: principal.roles.join(','),
        ...(details as Record<string, never>),
      },
    };
  }

  /**
   * Runs one admin call: authenticate, then `work`, which returns the response and the single
   * ledger entry to write (or undefined when the action's own activity wrote it).
   */
  function handler(
    action: ArchiveAction,
    work: (
      request: HttpRequest,
      principal: Principal,
    ) => Promise<{ response: HttpResponseInit; entry?: LedgerEntryDraft }>,
  ): HttpHandler {
    return async (request, context: InvocationContext) => {
      const principal = await authenticate(request);
      if (principal === undefined) {
        context.warn('archive request unauthenticated', { action });
        return problem(401, ErrorCode.Unauthorized, 'a valid bearer token is required');
      }
      try {
        const { response, entry } = await work(request, principal);
        if (entry !== undefined) await deps.ledger.append(entry);
        context.info('archive request', { action, status: response.status ?? 200 });
        return response;
      } catch (error) {
        const fault = error instanceof ClientFault ? error : undefined;
        const code = fault?.code ?? errorCodeOf(error);
        const status = fault?.status ?? (code === undefined ? undefined : statusByCode[code]);
        if (status !== undefined && code !== undefined) {
          await deps.ledger.append(
            accessEntry(principal, action, `rejected:${code}`, {
              type: LedgerSubjectType.query,
              id: request.url.split('?')[0]!.replace(/^https?:\/\/[^/]+/, ''),
            }),
          );
          context.warn('archive request rejected', { action, code });
          return problem(status, code, error instanceof Error ? error.message : 'request rejected');
        }
        context.error('archive request failed', { action, code: code ?? ErrorCode.Internal });
        return problem(500, ErrorCode.Internal, 'the request failed; see the service logs');
      }
    };
  }

  function denied(
    principal: Principal,
    action: ArchiveAction,
    reason: string,
    subject: { type: LedgerEntryDraft['subjectType']; id: string; tenantId?: string },
  ) {
    return {
      response: problem(403, ErrorCode.Forbidden, `not allowed to ${action} (${reason})`),
      entry: accessEntry(principal, action, `denied:${reason}`, subject),
    };
  }

  async function loadRecord(request: HttpRequest): Promise<ArchiveRecord> {
    const tenantId = request.params.tenantId ?? '';
    const interactionId = request.params.interactionId ?? '';
    const record = await deps.records.get(tenantId, interactionId);
    if (record === undefined)
      throw new ClientFault(
        404,
        ErrorCode.NotFound,
        `interaction ${interactionId} is not archived`,
      );
    return record;
  }

  /** Refuses when any record of a selection is outside the caller's scope. */
  async function assertSelectionInScope(
    principal: Principal,
    action: ArchiveAction,
    query: ArchiveSearchQuery | undefined,
    holdId: string | undefined,
  ): Promise<string | undefined> {
    const hold = holdId === undefined ? undefined : await deps.holds.get(holdId);
    if (holdId !== undefined && hold === undefined)
      throw new ClientFault(404, ErrorCode.NotFound, `hold ${holdId} does not exist`);
    for await (const record of deps.records.search({
      ...(query ?? {}),
      isDeletedIncluded: true,
      limit: Number.MAX_SAFE_INTEGER,
    })) {
      if (hold !== undefined && !holdMatches(hold, record.interaction)) continue;
      const decision = authorize(principal, action, targetOf(record));
      if (!decision.isAllowed) return decision.reason;
    }
    return undefined;
  }

  /** An export of another tenant is treated as absent (404); a running one cannot be resumed twice. */
  async function assertOwnExport(
    principal: Principal,
    exportId: string,
    isResume: boolean,
  ): Promise<ExportJobStatus> {
    const status = await deps.exportJobs.status(exportId);
    if (
      status === undefined ||
      (status.tenantId !== undefined && status.tenantId !== principal.tenantId)
    ) {
      if (isResume)
        throw new ClientFault(404, ErrorCode.NotFound, `no export ${exportId} to resume`);
      throw new ClientFault(404, ErrorCode.NotFound, `no export ${exportId}`);
    }
    return status;
  }

  /** Starts (or resumes) an export orchestration: 202 with where to follow it. */
  async function startExport(
    principal: Principal,
    action: ArchiveAction,
    request: ExportJobRequest,
    details: Record<string, string | boolean>,
  ) {
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
          outputDir: request.outputDir,
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

  const interactionSubject = (record: ArchiveRecord) => ({
    type: LedgerSubjectType.interaction,
    id: record.interaction.interactionId,
    tenantId: record.interaction.tenantId,
  });

  return {
    /** GET archive/interactions?recordedUserId&from&to&type&callChainId&limit */
    search: handler('search', async (request, principal) => {
      const { query, problems } = parseSearchQuery(request.query);
      const subject = { type: LedgerSubjectType.query, id: 'search' };
      if (problems.length > 0)
        throw new ClientFault(400, ErrorCode.InvalidRequest, problems.join('; '));
      const decision = authorize(principal, 'search');
      if (!decision.isAllowed) return denied(principal, 'search', decision.reason, subject);
      const items = [];
      for await (const record of deps.records.search({ ...query, tenantId: principal.tenantId })) {
        if (authorize(principal, 'search', targetOf(record)).isAllowed)
          items.push(record.interaction);
      }
      const queryJson = JSON.parse(canonicalJson(query)) as Record<string, unknown>;
      return {
        response: { status: 200, jsonBody: { items, count: items.length } },
        entry: accessEntry(principal, 'search', 'allowed', subject, {
          query: queryJson,
          resultCount: items.length,
        }),
      };
    }),

    /** GET archive/interactions/{tenantId}/{interactionId} */
    viewMetadata: handler('viewMetadata', async (request, principal) => {
      const record = await loadRecord(request);
      const decision = authorize(principal, 'viewMetadata', targetOf(record));
      if (!decision.isAllowed)
        return denied(principal, 'viewMetadata', decision.reason, interactionSubject(record));
      return {
        response: {
          status: 200,
          jsonBody: {
            interaction: record.interaction,
            state: record.state,
            tombstone: record.tombstone,
          },
        },
        entry: accessEntry(principal, 'viewMetadata', 'allowed', interactionSubject(record)),
      };
    }),

    /** GET archive/interactions/{tenantId}/{interactionId}/streams/{streamId}[?download=true] */
    media: handler('playback', async (request, principal) => {
      const action: ArchiveAction =
        request.query.get('download') === 'true' ? 'download' : 'playback';
      const record = await loadRecord(request);
      const decision = authorize(principal, action, targetOf(record));
      if (!decision.isAllowed)
        return denied(principal, action, decision.reason, interactionSubject(record));
      const stored = await readStoredManifest(
        deps.blobs,
        record.interaction.tenantId,
        record.interaction.interactionId,
      );
      const stream = stored?.manifest.streams.find((s) => s.streamId === request.params.streamId);
      if (stored === undefined || stream === undefined)
        throw new ClientFault(
          404,
          ErrorCode.NotFound,
          `stream ${request.params.streamId ?? ''} does not exist`,
        );
      const body = await readPlaintextStream(
        deps.blobs,
        deps.kekPrivateKey,
        stored.manifest,
        stream,
      );
      const headers: Record<string, string> = { 'content-type': stream.contentType };
      if (action === 'download')
        headers['content-disposition'] = `attachment; filename="${stream.streamId}"`;
      return {
        response: { status: 200, headers, body },
        entry: accessEntry(principal, action, 'allowed', interactionSubject(record), {
          streamId: stream.streamId,
        }),
      };
    }),

    /** DELETE archive/interactions/{tenantId}/{interactionId}: only expired, unheld, auto-disposition data. */
    deleteInteraction: handler('deleteInteraction', async (request, principal) => {
      const record = await loadRecord(request);
      const decision = authorize(principal, 'deleteInteraction', targetOf(record));
      if (!decision.isAllowed)
        return denied(principal, 'deleteInteraction', decision.reason, interactionSubject(record));
      if (record.dispositionMode === 'approval')
        throw new ClientFault(
          409,
          ErrorCode.RetentionLocked,
          "this retention class needs a second person's approval: use the disposition",
        );
      const outcome = await deps.activities.disposeInteraction({
        tenantId: record.interaction.tenantId,
        interactionId: record.interaction.interactionId,
        approvedBy: principal.userId,
      });
      if (outcome.status === 'refused') {
        const code =
          outcome.reason === 'legalHold' ? ErrorCode.LegalHold : ErrorCode.RetentionLocked;
        return {
          response: problem(409, code, `interaction may not be deleted (${outcome.reason})`),
          entry: accessEntry(
            principal,
            'deleteInteraction',
            `refused:${outcome.reason}`,
            interactionSubject(record),
          ),
        };
      }
      if (outcome.status === 'alreadyDeleted')
        return {
          response: { status: 204 },
          entry: accessEntry(
            principal,
            'deleteInteraction',
            'alreadyDeleted',
            interactionSubject(record),
          ),
        };
      return { response: { status: 204 } };
    }),

    /** GET archive/holds */
    listHolds: handler('listHolds', async (_request, principal) => {
      const decision = authorize(principal, 'listHolds');
      const subject = { type: LedgerSubjectType.hold, id: '*' };
      if (!decision.isAllowed) return denied(principal, 'listHolds', decision.reason, subject);
      const holds = await deps.holds.list();
      return {
        response: { status: 200, jsonBody: { items: holds } },
        entry: accessEntry(principal, 'listHolds', 'allowed', subject, {
          resultCount: holds.length,
        }),
      };
    }),

    /** POST archive/holds {matterId, description, custodian, scope} */
    placeHold: handler('placeHold', async (request, principal) => {
      const decision = authorize(principal, 'placeHold');
      if (!decision.isAllowed)
        return denied(principal, 'placeHold', decision.reason, {
          type: LedgerSubjectType.hold,
          id: 'new',
        });
      const body = await jsonBody(request);
      const scope = body.scope;
      if (typeof scope !== 'object' || scope === null || Array.isArray(scope))
        throw new ClientFault(400, ErrorCode.InvalidRequest, 'scope must be an object');
      const { hold } = await deps.activities.placeHold({
        holdId: deps.newId(),
        matterId: requiredString(body, 'matterId'),
        description: requiredString(body, 'description', 4000),
        custodian: optionalString(body, 'custodian') ?? principal.userId,
        scope,
        actor: principal.userId,
      });
      return { response: { status: 201, jsonBody: hold } };
    }),

    /** POST archive/holds/{holdId}/release */
    releaseHold: handler('releaseHold', async (request, principal) => {
      const holdId = request.params.holdId ?? '';
      const decision = authorize(principal, 'releaseHold');
      if (!decision.isAllowed)
        return denied(principal, 'releaseHold', decision.reason, {
          type: LedgerSubjectType.hold,
          id: holdId,
        });
      const { isReleased } = await deps.activities.releaseHold({ holdId, actor: principal.userId });
      return {
        response: isReleased
          ? { status: 200, jsonBody: await deps.holds.get(holdId) }
          : problem(409, ErrorCode.Conflict, `hold ${holdId} is not active`),
      };
    }),

    /** POST archive/dispositions/{tenantId}/{interactionId}/decision {isApproved} */
    decideDisposition: handler('decideDisposition', async (request, principal) => {
      const record = await loadRecord(request);
      const decision = authorize(principal, 'decideDisposition', targetOf(record));
      if (!decision.isAllowed)
        return denied(principal, 'decideDisposition', decision.reason, interactionSubject(record));
      const body = await jsonBody(request);
      if (typeof body.isApproved !== 'boolean')
        throw new ClientFault(400, ErrorCode.InvalidRequest, 'isApproved must be true or false');
      const payload: DispositionDecision = {
        decisionId: deps.newId(),
        decidedBy: principal.userId,
        isApproved: body.isApproved,
      };
      const isDelivered = await deps.dispositions.raiseDecision(
        dispositionInstanceId(record.interaction.tenantId, record.interaction.interactionId),
        payload,
      );
      if (!isDelivered)
        throw new ClientFault(
          409,
          ErrorCode.Conflict,
          'no disposition is waiting for a decision on this interaction',
        );
      return {
        response: { status: 202, jsonBody: payload },
        entry: {
          tenantId: record.interaction.tenantId,
          kind: body.isApproved
            ? LedgerEntryKind.dispositionApproved
            : LedgerEntryKind.dispositionRejected,
          actor: principal.userId,
          subjectType: LedgerSubjectType.interaction,
          subjectId: record.interaction.interactionId,
          details: { action: 'decideDisposition', decisionId: payload.decisionId },
        },
      };
    }),

    /** GET archive/ledger?fromSeq&toSeq (at most 1000 entries) */
    viewLedger: handler('viewLedger', async (request, principal) => {
      const subject = { type: LedgerSubjectType.query, id: 'ledger' };
      const decision = authorize(principal, 'viewLedger');
      if (!decision.isAllowed) return denied(principal, 'viewLedger', decision.reason, subject);
      const fromSeq = Number(request.query.get('fromSeq') ?? '0');
      const toSeq = Number(request.query.get('toSeq') ?? String(fromSeq + MAX_LEDGER_PAGE - 1));
      if (
        !Number.isInteger(fromSeq) ||
        !Number.isInteger(toSeq) ||
        fromSeq < 0 ||
        toSeq < fromSeq ||
        toSeq - fromSeq >= MAX_LEDGER_PAGE
      ) {
        throw new ClientFault(
          400,
          ErrorCode.InvalidRequest,
          `fromSeq and toSeq must be integers with 0 <= fromSeq <= toSeq < fromSeq + ${MAX_LEDGER_PAGE}`,
        );
      }
      const entries = [];
      for await (const entry of deps.ledger.listEntries(fromSeq, toSeq)) entries.push(entry);
      return {
        response: {
          status: 200,
          jsonBody: { entries, checkpoints: await deps.ledger.listCheckpoints() },
        },
        entry: accessEntry(principal, 'viewLedger', 'allowed', subject, { fromSeq, toSeq }),
      };
    }),

    /** GET archive/reports/completeness?from&to */
    completenessReport: handler('completenessReport', async (request, principal) => {
      const subject = { type: LedgerSubjectType.report, id: 'completeness' };
      const decision = authorize(principal, 'completenessReport');
      if (!decision.isAllowed)
        return denied(principal, 'completenessReport', decision.reason, subject);
      const from = request.query.get('from');
      const to = request.query.get('to');
      if (
        from === null ||
        to === null ||
        Number.isNaN(Date.parse(from)) ||
        Number.isNaN(Date.parse(to))
      )
        throw new ClientFault(
          400,
          ErrorCode.InvalidRequest,
          'from and to must be ISO 8601 instants',
        );
      const signed = await deps.completeness.buildReport({
        from,
        to,
        tenantId: principal.tenantId,
      });
      return {
        response: { status: 200, jsonBody: signed },
        entry: {
          ...accessEntry(principal, 'completenessReport', 'allowed', subject, {
            from,
            to,
            invites: signed.report.totals.invites,
          }),
          kind: LedgerEntryKind.reportSigned,
        },
      };
    }),

    /** POST archive/exports {query?: {...}, holdId?: string, exportId?: string (resume)} → 201 with the package folder */
    export: handler('export', async (request, principal) => {
      const body = await jsonBody(request);
      const holdId = optionalString(body, 'holdId');
      const rawQuery = body.query;
      if ((holdId === undefined) === (rawQuery === undefined))
        throw new ClientFault(400, ErrorCode.InvalidRequest, 'give exactly one of query or holdId');
      const params = new URLSearchParams();
      if (rawQuery !== undefined) {
        if (typeof rawQuery !== 'object' || rawQuery === null)
          throw new ClientFault(400, ErrorCode.InvalidRequest, 'query must be an object');
        for (const [k, v] of Object.entries(rawQuery))
          if (typeof v === 'string' || typeof v === 'number') params.set(k, String(v));
      }
      const { query, problems } = parseSearchQuery(params);
      if (problems.length > 0)
        throw new ClientFault(400, ErrorCode.InvalidRequest, problems.join('; '));
      const scopedQuery = { ...query, tenantId: principal.tenantId };
      const subject = { type: LedgerSubjectType.export, id: holdId ?? 'query' };
      const decision = authorize(principal, 'export');
      if (!decision.isAllowed) return denied(principal, 'export', decision.reason, subject);
      const outOfScope = await assertSelectionInScope(
        principal,
        'export',
        holdId === undefined ? scopedQuery : { tenantId: principal.tenantId },
        holdId,
      );
      if (outOfScope !== undefined) return denied(principal, 'export', outOfScope, subject);
      // Giving the id of an interrupted export resumes it (the package keeps its progress file).
      const resumeId = optionalString(body, 'exportId');
      if (resumeId !== undefined && !EXPORT_ID.test(resumeId))
        throw new ClientFault(
          400,
          ErrorCode.InvalidRequest,
          'exportId must be 1 to 64 letters, digits or dashes',
        );
      const exportId = resumeId ?? deps.newId();
      if (resumeId !== undefined) await assertOwnExport(principal, exportId, true);
      return startExport(
        principal,
        'export',
        {
          exportId,
          createdBy: principal.userId,
          tenantId: principal.tenantId,
          outputDir: path.join(deps.exportDir, exportId),
          ...(holdId === undefined ? { query: scopedQuery } : { holdId }),
        },
        { ...(holdId === undefined ? {} : { holdId }), isResume: resumeId !== undefined },
      );
    }),

    /** GET archive/exports/{exportId}: state and progress of an export; the package folder once done. */
    exportStatus: handler('export', async (request, principal) => {
      const exportId = request.params.exportId ?? '';
      if (!EXPORT_ID.test(exportId))
        throw new ClientFault(
          400,
          ErrorCode.InvalidRequest,
          'exportId must be 1 to 64 letters, digits or dashes',
        );
      const subject = { type: LedgerSubjectType.export, id: exportId };
      const decision = authorize(principal, 'export');
      if (!decision.isAllowed) return denied(principal, 'export', decision.reason, subject);
      const status = await assertOwnExport(principal, exportId, false);
      return {
        response: { status: 200, jsonBody: status },
        entry: accessEntry(principal, 'export', 'status', subject, {
          state: status.state,
          done: status.progress?.done,
          total: status.progress?.total,
        }),
      };
    }),

    /** POST archive/subjects/{userId}/export */
    subjectExport: handler('subjectExport', async (request, principal) => {
      const userId = request.params.userId ?? '';
      const subject = { type: LedgerSubjectType.dataSubject, id: userId };
      const decision = authorize(principal, 'subjectExport');
      if (!decision.isAllowed) return denied(principal, 'subjectExport', decision.reason, subject);
      const query = { tenantId: principal.tenantId, recordedUserId: userId };
      const outOfScope = await assertSelectionInScope(principal, 'subjectExport', query, undefined);
      if (outOfScope !== undefined) return denied(principal, 'subjectExport', outOfScope, subject);
      const exportId = deps.newId();
      return startExport(
        principal,
        'subjectExport',
        {
          exportId,
          createdBy: principal.userId,
          tenantId: principal.tenantId,
          outputDir: path.join(deps.exportDir, exportId),
          query,
        },
        { dataSubjectId: userId },
      );
    }),

    /** POST archive/subjects/{userId}/erasure: deletes what may go, refuses the rest with the legal basis. */
    subjectErasure: handler('subjectErasure', async (request, principal) => {
      const userId = request.params.userId ?? '';
      const subject = { type: LedgerSubjectType.dataSubject, id: userId };
      const decision = authorize(principal, 'subjectErasure');
      if (!decision.isAllowed) return denied(principal, 'subjectErasure', decision.reason, subject);
      const outOfScope = await assertSelectionInScope(
        principal,
        'subjectErasure',
        { tenantId: principal.tenantId, recordedUserId: userId },
        undefined,
      );
      if (outOfScope !== undefined) return denied(principal, 'subjectErasure', outOfScope, subject);
      const outcome = await deps.gdpr.requestErasure(userId, principal.userId);
      const entry: LedgerEntryDraft = {
        kind:
          outcome.refused.length > 0 ? LedgerEntryKind.erasureRefused : LedgerEntryKind.accessed,
        actor: principal.userId,
        tenantId: principal.tenantId,
        subjectType: LedgerSubjectType.dataSubject,
        subjectId: userId,
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
export type ArchiveAdminHandlers = ReturnType<typeof createArchiveAdminHandlers>;

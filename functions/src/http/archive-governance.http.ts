/**
 * Archive routes of governance: dispositions waiting and their decisions, the ledger view and the completeness
 * report, each within the caller's tenant. The ledger is one chain for the deployment; a tenant
 * sees its own entries whole and every other entry redacted to what links the chain.
 */
import { entryForTenant, LedgerEntryKind, LedgerSubjectType } from '@attest/core';
import { z } from 'zod';
import { dispositionInstanceId, type DispositionDecision } from '../domain/archive-names';
import { authorize } from '../domain/rbac';
import { accessEntry, deniedOutcome, refusalOf, type AdminAccess } from './admin-access';
import type { ArchiveAdminDeps } from './archive-admin.http';
import { interactionSubject, loadRecord, targetOf } from './archive-scope';
import { badRequest, conflict } from './problem';
import { parseBody } from './request-body';

type Deps = Pick<
  ArchiveAdminDeps,
  'records' | 'ledger' | 'completeness' | 'dispositions' | 'newId'
>;

const MAX_LEDGER_PAGE = 1000;

const decisionBody = z.strictObject({
  isApproved: z.boolean({ error: 'isApproved must be true or false' }),
});

export function createGovernanceRoutes(deps: Deps, access: AdminAccess) {
  return {
    /** POST archive/dispositions/{tenantId}/{interactionId}/decision {isApproved} */
    decideDisposition: access.route('decideDisposition', async (request, principal) => {
      const record = await loadRecord(deps.records, request, principal);
      const subject = interactionSubject(record);
      const refusal = refusalOf(principal, 'decideDisposition', subject, targetOf(record));
      if (refusal !== undefined) return refusal;
      const body = await parseBody(request, decisionBody);
      const instanceId = dispositionInstanceId(
        record.interaction.tenantId,
        record.interaction.interactionId,
      );
      const requestedBy = await deps.dispositions.getRequester(instanceId);
      if (requestedBy === undefined)
        throw conflict('no disposition is waiting for a decision on this interaction');
      // Two-person rule: whoever asked for a deletion never decides it.
      if (requestedBy === principal.userId)
        return deniedOutcome(principal, 'decideDisposition', 'selfApproval', subject);
      const payload: DispositionDecision = {
        decisionId: deps.newId(),
        decidedBy: principal.userId,
        isApproved: body.isApproved,
      };
      const isDelivered = await deps.dispositions.raiseDecision(instanceId, payload);
      if (!isDelivered)
        throw conflict('no disposition is waiting for a decision on this interaction');
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
          details: { action: 'decideDisposition', decisionId: payload.decisionId, requestedBy },
        },
      };
    }),

    /**
     * GET archive/dispositions: deletions of the caller's tenant waiting for a decision, those in
     * the caller's scope only, each saying whether the caller may decide it (never their own).
     */
    listDispositions: access.route('listDispositions', async (_request, principal) => {
      const subject = { type: LedgerSubjectType.query, id: 'dispositions' };
      const refusal = refusalOf(principal, 'listDispositions', subject);
      if (refusal !== undefined) return refusal;
      const items = [];
      for (const waiting of await deps.dispositions.listWaiting(principal.tenantId)) {
        const record = await deps.records.get(principal.tenantId, waiting.interactionId);
        if (record === undefined) continue;
        if (!authorize(principal, 'listDispositions', targetOf(record)).isAllowed) continue;
        const isOwnRequest = waiting.requestedBy === principal.userId;
        items.push({
          ...waiting,
          interaction: record.interaction,
          retentionClass: record.interaction.retentionClass,
          isOwnRequest,
          canDecide:
            !isOwnRequest && authorize(principal, 'decideDisposition', targetOf(record)).isAllowed,
        });
      }
      return {
        response: { status: 200, jsonBody: { items, count: items.length } },
        entry: accessEntry(principal, 'listDispositions', 'allowed', subject, {
          resultCount: items.length,
        }),
      };
    }),

    /** GET archive/ledger?fromSeq&toSeq (at most 1000 entries; other tenants' redacted) */
    viewLedger: access.route(
      'viewLedger',
      async (request, principal) => {
        const subject = { type: LedgerSubjectType.query, id: 'ledger' };
        const refusal = refusalOf(principal, 'viewLedger', subject);
        if (refusal !== undefined) return refusal;
        const fromSeq = Number(request.query.get('fromSeq') ?? '0');
        const toSeq = Number(request.query.get('toSeq') ?? String(fromSeq + MAX_LEDGER_PAGE - 1));
        if (
          !Number.isInteger(fromSeq) ||
          !Number.isInteger(toSeq) ||
          fromSeq < 0 ||
          toSeq < fromSeq ||
          toSeq - fromSeq >= MAX_LEDGER_PAGE
        ) {
          throw badRequest(
            `fromSeq and toSeq must be integers with 0 <= fromSeq <= toSeq < fromSeq + ${MAX_LEDGER_PAGE}`,
          );
        }
        const entries = [];
        for await (const entry of deps.ledger.listEntries(fromSeq, toSeq))
          entries.push(entryForTenant(entry, principal.tenantId));
        return {
          response: {
            status: 200,
            jsonBody: { entries, checkpoints: await deps.ledger.listCheckpoints() },
          },
          entry: accessEntry(principal, 'viewLedger', 'allowed', subject, { fromSeq, toSeq }),
        };
      },
      { query: ['fromSeq', 'toSeq'] },
    ),

    /** GET archive/reports/completeness?from&to */
    completenessReport: access.route(
      'completenessReport',
      async (request, principal) => {
        const subject = { type: LedgerSubjectType.report, id: 'completeness' };
        const refusal = refusalOf(principal, 'completenessReport', subject);
        if (refusal !== undefined) return refusal;
        const from = request.query.get('from');
        const to = request.query.get('to');
        if (
          from === null ||
          to === null ||
          Number.isNaN(Date.parse(from)) ||
          Number.isNaN(Date.parse(to))
        )
          throw badRequest('from and to must be ISO 8601 instants');
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
      },
      { query: ['from', 'to'] },
    ),
  };
}

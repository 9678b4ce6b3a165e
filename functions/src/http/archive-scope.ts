/**
 * How an archive route reaches archived data: always within the caller's tenant. A record is
 * read with the caller's tenant, never the one in the URL, so another tenant's interaction is
 * absent (404) rather than refused after being read.
 */
import type { HttpRequest } from '@azure/functions';
import { holdMatches, LedgerSubjectType } from '@attest/core';
import type {
  ArchiveRecord,
  ArchiveRecordStore,
  ArchiveSearchQuery,
  HoldStore,
} from '../domain/archive-ports';
import { authorize, type ArchiveAction, type Principal, type ScopedTarget } from '../domain/rbac';
import type { LedgerSubject } from './admin-access';
import { notFound } from './problem';

export const targetOf = (record: ArchiveRecord): ScopedTarget => ({
  tenantId: record.interaction.tenantId,
  groupIds: record.groupIds,
});

export const interactionSubject = (record: ArchiveRecord): LedgerSubject => ({
  type: LedgerSubjectType.interaction,
  id: record.interaction.interactionId,
  tenantId: record.interaction.tenantId,
});

/** The archived interaction named by `{tenantId}/{interactionId}`, in the caller's tenant only. */
export async function loadRecord(
  records: ArchiveRecordStore,
  request: HttpRequest,
  principal: Principal,
): Promise<ArchiveRecord> {
  const interactionId = request.params.interactionId ?? '';
  const record =
    request.params.tenantId === principal.tenantId
      ? await records.get(principal.tenantId, interactionId)
      : undefined;
  if (record === undefined) throw notFound(`interaction ${interactionId} is not archived`);
  return record;
}

/**
 * Refuses when any record of a selection (a query, or a hold's matches) is outside the caller's
 * scope: the reason, or undefined when all are in scope. The selection is the caller's tenant's.
 */
export async function selectionRefusal(
  stores: { readonly records: ArchiveRecordStore; readonly holds: HoldStore },
  principal: Principal,
  action: ArchiveAction,
  query: Omit<ArchiveSearchQuery, 'tenantId'>,
  holdId: string | undefined,
): Promise<string | undefined> {
  const hold =
    holdId === undefined ? undefined : await stores.holds.get(principal.tenantId, holdId);
  if (holdId !== undefined && hold === undefined) throw notFound(`hold ${holdId} does not exist`);
  for await (const record of stores.records.search({
    ...query,
    tenantId: principal.tenantId,
    isDeletedIncluded: true,
    limit: Number.MAX_SAFE_INTEGER,
  })) {
    if (hold !== undefined && !holdMatches(hold, record.interaction)) continue;
    const decision = authorize(principal, action, targetOf(record));
    if (!decision.isAllowed) return decision.reason;
  }
  return undefined;
}

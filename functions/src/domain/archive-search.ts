/** Interaction search: query validation and matching. Pure. */
import type { ArchiveRecord, ArchiveSearchQuery } from './archive-ports';

export const DEFAULT_SEARCH_LIMIT = 100;
export const MAX_SEARCH_LIMIT = 1000;
/** Ids and instants are short; a longer value is a mistake or an attack on the audit trail. */
export const MAX_PARAMETER_LENGTH = 256;

/** Query-string parameters a search reads. */
export const SEARCH_PARAMETERS = [
  'recordedUserId',
  'from',
  'to',
  'type',
  'callChainId',
  'limit',
] as const;

/**
 * Parses query-string parameters into a query within `tenantId` (the caller's: a tenant is never
 * taken from the request); returns problems for bad values.
 */
export function parseSearchQuery(
  params: Pick<URLSearchParams, 'get'>,
  tenantId: string,
): {
  query: ArchiveSearchQuery;
  problems: string[];
} {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = params.get(name)?.trim();
    if (value !== undefined && value.length > MAX_PARAMETER_LENGTH) {
      problems.push(`${name} is longer than ${MAX_PARAMETER_LENGTH} characters`);
      return undefined;
    }
    return value === undefined || value === '' ? undefined : value;
  };
  const instant = (name: string): string | undefined => {
    const value = get(name);
    if (value !== undefined && Number.isNaN(Date.parse(value)))
      problems.push(`${name} must be an ISO 8601 instant`);
    return value;
  };
  const limitText = get('limit');
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT)) {
    problems.push(`limit must be an integer from 1 to ${MAX_SEARCH_LIMIT}`);
  }
  const query: ArchiveSearchQuery = {
    tenantId,
    recordedUserId: get('recordedUserId'),
    from: instant('from'),
    to: instant('to'),
    type: get('type'),
    callChainId: get('callChainId'),
    limit,
  };
  return { query, problems };
}

export function matchesQuery(record: ArchiveRecord, query: ArchiveSearchQuery): boolean {
  const { interaction } = record;
  if (record.state === 'deleted' && query.isDeletedIncluded !== true) return false;
  if (interaction.tenantId !== query.tenantId) return false;
  if (
    query.recordedUserId !== undefined &&
    !interaction.recordedUserIds.includes(query.recordedUserId)
  )
    return false;
  if (query.type !== undefined && interaction.type !== query.type) return false;
  if (query.callChainId !== undefined && interaction.callChainId !== query.callChainId)
    return false;
  if (
    query.interactionIds !== undefined &&
    !query.interactionIds.includes(interaction.interactionId)
  )
    return false;
  const invitedAt = Date.parse(interaction.invitedAt);
  if (query.from !== undefined && invitedAt < Date.parse(query.from)) return false;
  if (query.to !== undefined && invitedAt >= Date.parse(query.to)) return false;
  return true;
}

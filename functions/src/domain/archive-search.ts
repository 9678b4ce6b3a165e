/** Interaction search: query validation, matching, order and counts. Pure. */
import type { InteractionParticipant, InteractionRecord } from '@attest/core';
import { z } from 'zod';
import type { ArchiveRecord, ArchiveSearchQuery } from './archive-ports';

export const DEFAULT_SEARCH_LIMIT = 100;
export const MAX_SEARCH_LIMIT = 1000;
/** Ids and instants are short; a longer value is a mistake or an attack on the audit trail. */
export const MAX_PARAMETER_LENGTH = 256;

/** Query-string parameters that select interactions (a search's and an export's). */
export const SELECTION_PARAMETERS = [
  'recordedUserId',
  'from',
  'to',
  'type',
  'callChainId',
  'direction',
  'outcome',
  'dialedNumber',
  'originNumber',
  'customData',
  'limit',
] as const;

/** Query-string parameters a search reads: the selection and how the page shows it. */
export const SEARCH_PARAMETERS = [
  ...SELECTION_PARAMETERS,
  'participant',
  'holdState',
  'sort',
  'order',
  'offset',
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
  const customDataText = get('customData');
  const customData =
    customDataText === undefined
      ? undefined
      : customDataText.includes('=')
        ? {
            key: customDataText.slice(0, customDataText.indexOf('=')).trim(),
            value: customDataText.slice(customDataText.indexOf('=') + 1).trim(),
          }
        : { value: customDataText };
  const number = (name: string): string | undefined => {
    const value = get(name);
    if (value !== undefined && digitsOf(value).length < 3)
      problems.push(`${name} must have at least 3 digits`);
    return value;
  };
  const query: ArchiveSearchQuery = {
    tenantId,
    recordedUserId: get('recordedUserId'),
    from: instant('from'),
    to: instant('to'),
    type: get('type'),
    callChainId: get('callChainId'),
    direction: get('direction'),
    outcome: get('outcome'),
    dialedNumber: number('dialedNumber'),
    originNumber: number('originNumber'),
    customData,
    limit,
  };
  return { query, problems };
}

/** A phone number as digits only (`+1 (425) 555-0100` → `14255550100`). */
export function digitsOf(phone: string): string {
  return phone.replace(/\D/g, '');
}

const containsDigits = (stored: string | undefined, wanted: string): boolean =>
  stored !== undefined && digitsOf(stored).includes(digitsOf(wanted));

const textOf = (value: unknown): string =>
  typeof value === 'string' ? value : JSON.stringify(value ?? null);

/** `key=value`: that member's text contains value; `value`: any top-level member's does. */
function matchesCustomData(
  data: Readonly<Record<string, unknown>> | undefined,
  wanted: { readonly key?: string; readonly value: string },
): boolean {
  if (data === undefined) return false;
  const needle = wanted.value.toLowerCase();
  const values =
    wanted.key === undefined
      ? Object.values(data)
      : Object.prototype.hasOwnProperty.call(data, wanted.key)
        ? [data[wanted.key]]
        : [];
  return values.some((v) => textOf(v).toLowerCase().includes(needle));
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
  if (query.direction !== undefined && interaction.direction !== query.direction) return false;
  if (query.outcome !== undefined && interaction.outcome !== query.outcome) return false;
  if (
    query.dialedNumber !== undefined &&
    !containsDigits(interaction.dialedNumber, query.dialedNumber)
  )
    return false;
  if (
    query.originNumber !== undefined &&
    !containsDigits(interaction.originNumber, query.originNumber)
  )
    return false;
  if (
    query.customData !== undefined &&
    !matchesCustomData(interaction.customData, query.customData)
  )
    return false;
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

/** How a search's results are ordered. */
export const SEARCH_SORTS = ['invitedAt', 'duration', 'type', 'direction', 'outcome'] as const;
/** Records a search reads at most to count and sort its matches (the count says when it stopped). */
export const MAX_SEARCH_SCAN = 10_000;

const searchView = z.object({
  participant: z.string().trim().min(1).max(MAX_PARAMETER_LENGTH).optional(),
  holdState: z.enum(['held', 'notHeld']).optional(),
  sort: z.enum(SEARCH_SORTS).default('invitedAt'),
  order: z.enum(['asc', 'desc']).default('desc'),
  offset: z.coerce.number().int().min(0).max(MAX_SEARCH_SCAN).default(0),
});
export type SearchView = z.infer<typeof searchView>;

/** The presentation half of a search: participant and hold filters (read per record), order, page. */
export function parseSearchView(params: Pick<URLSearchParams, 'get'>): {
  view: SearchView;
  problems: string[];
} {
  const raw: Record<string, string> = {};
  for (const name of ['participant', 'holdState', 'sort', 'order', 'offset']) {
    const value = params.get(name)?.trim();
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const parsed = searchView.safeParse(raw);
  if (parsed.success) return { view: parsed.data, problems: [] };
  return {
    view: searchView.parse({}),
    problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
  };
}

/** A participant matches by display name (contains, any case), identity id, or phone digits. */
export function matchesParticipant(
  participants: readonly Pick<
    InteractionParticipant,
    'displayName' | 'identityId' | 'identityKind'
  >[],
  wanted: string,
): boolean {
  const needle = wanted.toLowerCase();
  const digits = digitsOf(wanted);
  return participants.some(
    (p) =>
      (p.displayName?.toLowerCase().includes(needle) ?? false) ||
      p.identityId?.toLowerCase() === needle ||
      (p.identityKind === 'phone' && digits.length >= 3 && containsDigits(p.identityId, digits)),
  );
}

const durationOf = (i: InteractionRecord): number =>
  i.endedAt === undefined ? -1 : Date.parse(i.endedAt) - Date.parse(i.answeredAt ?? i.invitedAt);

/** Sorts by the view's key and order; ties newest first, then by id (a stable page order). */
export function sortInteractions(
  items: readonly InteractionRecord[],
  view: Pick<SearchView, 'sort' | 'order'>,
): InteractionRecord[] {
  const key = (i: InteractionRecord): string | number =>
    view.sort === 'invitedAt'
      ? Date.parse(i.invitedAt)
      : view.sort === 'duration'
        ? durationOf(i)
        : i[view.sort];
  const sign = view.order === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) return (ka < kb ? -1 : 1) * sign;
    return b.invitedAt.localeCompare(a.invitedAt) || a.interactionId.localeCompare(b.interactionId);
  });
}

/** Matches per outcome, type and direction (the facets a search page shows beside its filters). */
export function searchCounts(items: readonly InteractionRecord[]) {
  const tally = (f: (i: InteractionRecord) => string) => {
    const out: Record<string, number> = {};
    for (const i of items) out[f(i)] = (out[f(i)] ?? 0) + 1;
    return out;
  };
  return {
    byOutcome: tally((i) => i.outcome),
    byType: tally((i) => i.type),
    byDirection: tally((i) => i.direction),
  };
}

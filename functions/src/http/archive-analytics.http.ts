/**
 * `GET archive/analytics?from&to&utcOffsetInMinutes[&format=csv]`: the tenant's usage and
 * reliability over a period (see domain/analytics.ts), for its administrators. Reads the
 * recorder's log of every invite in the caller's tenant only, and each call's stored streams for
 * storage growth; one `accessed` ledger entry per request.
 */
import { LedgerSubjectType } from '@attest/core';
import { z } from 'zod';
import {
  analyticsCsv,
  buildAnalytics,
  MAX_ANALYTICS_DAYS,
  type CallUsage,
} from '../domain/analytics';
import { accessEntry, refusalOf, type AdminAccess } from './admin-access';
import type { ArchiveAdminDeps } from './archive-admin.http';
import { badRequest } from './problem';
import { describeIssues, instantSchema } from './request-body';

type Deps = Pick<ArchiveAdminDeps, 'callLog'>;

const DAY_IN_MS = 86_400_000;
/** Stream listings read at once (one table query per call). */
const CONCURRENCY = 8;

const analyticsQuery = z
  .strictObject({
    from: instantSchema,
    to: instantSchema,
    utcOffsetInMinutes: z.coerce.number().int().min(-840).max(840).default(0),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .refine((q) => Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to' })
  .refine((q) => Date.parse(q.to) - Date.parse(q.from) <= MAX_ANALYTICS_DAYS * DAY_IN_MS, {
    message: `the period is at most ${MAX_ANALYTICS_DAYS} days`,
  });

export const ANALYTICS_PARAMETERS = ['from', 'to', 'utcOffsetInMinutes', 'format'] as const;

export function createAnalyticsRoutes(deps: Deps, access: AdminAccess) {
  async function usageOf(from: string, to: string, tenantId: string): Promise<CallUsage[]> {
    const interactions = [];
    for await (const interaction of deps.callLog.invitedBetween({ from, to, tenantId }))
      if (interaction.tenantId === tenantId) interactions.push(interaction);
    const out: CallUsage[] = [];
    for (let i = 0; i < interactions.length; i += CONCURRENCY) {
      const batch = interactions.slice(i, i + CONCURRENCY);
      const streams = await Promise.all(
        batch.map((x) => deps.callLog.listStreams(x.interactionId)),
      );
      batch.forEach((interaction, n) =>
        out.push({
          interaction,
          storedBytes: (streams[n] ?? []).reduce((sum, s) => sum + s.bytes, 0),
        }),
      );
    }
    return out;
  }

  return {
    /** GET archive/analytics?from&to&utcOffsetInMinutes&format */
    analytics: access.route(
      'viewAnalytics',
      async (request, principal) => {
        const parsed = analyticsQuery.safeParse(Object.fromEntries(request.query.entries()));
        if (!parsed.success) throw badRequest(describeIssues(parsed.error));
        const { from, to, utcOffsetInMinutes, format } = parsed.data;
        const subject = { type: LedgerSubjectType.report, id: 'analytics' };
        const refusal = refusalOf(principal, 'viewAnalytics', subject);
        if (refusal !== undefined) return refusal;
        const analytics = buildAnalytics(
          { from, to, utcOffsetInMinutes },
          await usageOf(from, to, principal.tenantId),
        );
        const entry = accessEntry(principal, 'viewAnalytics', 'allowed', subject, {
          from,
          to,
          format,
          calls: analytics.totals.calls,
        });
        if (format === 'csv')
          return {
            response: {
              status: 200,
              headers: {
                'content-type': 'text/csv; charset=utf-8',
                'content-disposition': `attachment; filename="attest-analytics-${from.slice(0, 10)}-${to.slice(0, 10)}.csv"`,
              },
              body: analyticsCsv(analytics),
            },
            entry,
          };
        return { response: { status: 200, jsonBody: analytics }, entry };
      },
      { query: ANALYTICS_PARAMETERS },
    ),
  };
}

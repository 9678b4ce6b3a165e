/**
 * Business data of an interaction, for integrations (docs/archive.md, "Business data"):
 * `PUT archive/interactions/{tenantId}/{interactionId}/business-data` attaches a new version (a
 * flat JSON object, ≤ 32 KiB, validated) and needs `If-Match` with the ETag of the version it
 * replaces (`"bd-0"` for the first): another version in between answers 409, never an overwrite.
 * `GET` on the same route answers the current data, its ETag and every kept version. Roles:
 * integration and admin attach; they, compliance officers (in scope) and auditors read.
 */
import { ErrorCode } from '@attest/core';
import { z } from 'zod';
import type { BusinessDataService } from '../archive/business-data.service';
import { accessEntry, refusalOf, type AdminAccess } from './admin-access';
import type { ArchiveAdminDeps } from './archive-admin.http';
import { interactionSubject, loadRecord, targetOf } from './archive-scope';
import { badRequest, notFound, problem } from './problem';
import { parseBody } from './request-body';

/** The largest business data body, serialized. */
export const MAX_BUSINESS_DATA_BYTES = 32 * 1024;

/** Flat key/value data: what search's `customData=key=value` filters on. */
const businessDataSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.-]+$/, 'keys are 1 to 64 letters, digits, _ . or -'),
    z.union([z.string().max(4096), z.number().finite(), z.boolean(), z.null()]),
  )
  .refine((value) => Object.keys(value).length <= 200, 'at most 200 keys');

const ETAG = /^(?:W\/)?"bd-(\d{1,9})"$/;
const etagOf = (version: number): string => `"bd-${version}"`;

type Deps = Pick<ArchiveAdminDeps, 'records'> & { readonly businessData: BusinessDataService };

export function createBusinessDataRoutes(deps: Deps, access: AdminAccess) {
  return {
    /** PUT archive/interactions/{tenantId}/{interactionId}/business-data (If-Match) → 200 */
    attachBusinessData: access.route('attachBusinessData', async (request, principal) => {
      const record = await loadRecord(deps.records, request, principal);
      const subject = interactionSubject(record);
      const refusal = refusalOf(principal, 'attachBusinessData', subject, targetOf(record));
      if (refusal !== undefined) return refusal;
      const ifMatch = ETAG.exec(request.headers.get('if-match')?.trim() ?? '');
      if (ifMatch === null)
        throw badRequest(
          'If-Match is required: the ETag of the business data this replaces (GET it), or "bd-0" for the first version',
        );
      const data = await parseBody(request, businessDataSchema, MAX_BUSINESS_DATA_BYTES);
      const { tenantId, interactionId } = record.interaction;
      const outcome = await deps.businessData.attach({
        tenantId,
        interactionId,
        data,
        expectedVersion: Number(ifMatch[1]),
        actor: principal.userId,
      });
      if (outcome.status === 'notFound') throw notFound(`interaction ${interactionId} is gone`);
      if (outcome.status === 'conflict')
        return {
          response: {
            ...problem(
              409,
              ErrorCode.Conflict,
              `the business data is at version ${outcome.currentVersion}; GET it and send its ETag in If-Match`,
              { currentVersion: outcome.currentVersion },
            ),
            headers: { etag: etagOf(outcome.currentVersion) },
          },
          entry: accessEntry(principal, 'attachBusinessData', 'refused:conflict', subject, {
            expectedVersion: Number(ifMatch[1]),
            currentVersion: outcome.currentVersion,
          }),
        };
      // The service wrote the version's `businessDataChanged` entry.
      return {
        response: {
          status: 200,
          headers: { etag: etagOf(outcome.version.version) },
          jsonBody: {
            version: outcome.version.version,
            sha256: outcome.version.sha256,
            changedAt: outcome.version.changedAt,
            data: outcome.version.data,
          },
        },
      };
    }),

    /** GET archive/interactions/{tenantId}/{interactionId}/business-data → current and history */
    viewBusinessData: access.route('viewBusinessData', async (request, principal) => {
      const record = await loadRecord(deps.records, request, principal);
      const subject = interactionSubject(record);
      const refusal = refusalOf(principal, 'viewBusinessData', subject, targetOf(record));
      if (refusal !== undefined) return refusal;
      const { tenantId, interactionId, customData } = record.interaction;
      const version = record.businessData?.version ?? 0;
      const history = await deps.businessData.history(tenantId, interactionId);
      return {
        response: {
          status: 200,
          headers: { etag: etagOf(version) },
          jsonBody: {
            version,
            data: version === 0 ? null : (customData ?? null),
            history: history.map((v) => ({
              version: v.version,
              sha256: v.sha256,
              changedAt: v.changedAt,
              changedBy: v.changedBy,
              data: v.data,
            })),
          },
        },
        entry: accessEntry(principal, 'viewBusinessData', 'allowed', subject, { version }),
      };
    }),
  };
}

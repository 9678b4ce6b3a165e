/**
 * Archive routes on legal holds: list, place and release, always within the caller's tenant. A
 * hold's body is validated against its schema before anything is stored; the hold is bound to
 * the caller's tenant and never names another.
 */
import { ErrorCode, LedgerSubjectType } from '@attest/core';
import { z } from 'zod';
import { holdScopeSchema } from '../domain/legal-hold-schema';
import { accessEntry, refusalOf, type AdminAccess } from './admin-access';
import type { ArchiveAdminDeps } from './archive-admin.http';
import { notFound, problem } from './problem';
import { idSchema, parseBody, textSchema } from './request-body';

type Deps = Pick<ArchiveAdminDeps, 'holds' | 'archive' | 'newId'>;

const placeHoldBody = z.strictObject({
  matterId: textSchema(200),
  description: textSchema(4000),
  custodian: idSchema.optional(),
  scope: holdScopeSchema,
});

export function createHoldRoutes(deps: Deps, access: AdminAccess) {
  return {
    /** GET archive/holds: the caller's tenant's holds. */
    listHolds: access.route('listHolds', async (_request, principal) => {
      const subject = { type: LedgerSubjectType.hold, id: '*' };
      const refusal = refusalOf(principal, 'listHolds', subject);
      if (refusal !== undefined) return refusal;
      const holds = await deps.holds.list(principal.tenantId);
      return {
        response: { status: 200, jsonBody: { items: holds } },
        entry: accessEntry(principal, 'listHolds', 'allowed', subject, {
          resultCount: holds.length,
        }),
      };
    }),

    /** POST archive/holds {matterId, description, custodian?, scope} */
    placeHold: access.route('placeHold', async (request, principal) => {
      const refusal = refusalOf(principal, 'placeHold', {
        type: LedgerSubjectType.hold,
        id: 'new',
      });
      if (refusal !== undefined) return refusal;
      const body = await parseBody(request, placeHoldBody);
      const { hold } = await deps.archive.placeHold({
        tenantId: principal.tenantId,
        holdId: deps.newId(),
        matterId: body.matterId,
        description: body.description,
        custodian: body.custodian ?? principal.userId,
        scope: body.scope,
        actor: principal.userId,
      });
      return { response: { status: 201, jsonBody: hold } };
    }),

    /** POST archive/holds/{holdId}/release: a hold of the caller's tenant only. */
    releaseHold: access.route('releaseHold', async (request, principal) => {
      const holdId = request.params.holdId ?? '';
      const refusal = refusalOf(principal, 'releaseHold', {
        type: LedgerSubjectType.hold,
        id: holdId,
      });
      if (refusal !== undefined) return refusal;
      if ((await deps.holds.get(principal.tenantId, holdId)) === undefined)
        throw notFound(`hold ${holdId} does not exist`);
      const { isReleased } = await deps.archive.releaseHold({
        tenantId: principal.tenantId,
        holdId,
        actor: principal.userId,
      });
      // The activity wrote the ledger entry either way (released or notActive).
      return {
        response: isReleased
          ? { status: 200, jsonBody: await deps.holds.get(principal.tenantId, holdId) }
          : problem(409, ErrorCode.Conflict, `hold ${holdId} is not active`),
      };
    }),
  };
}

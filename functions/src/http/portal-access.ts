/**
 * How a portal read route runs: authenticate the Entra token, take the caller's roles and scope
 * groups, run the route, and write exactly one ledger entry per decision (allowed, denied or
 * rejected), like every archive admin route. 401 without a valid token (nothing recorded).
 */
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import {
  ErrorCode,
  errorCodeOf,
  LedgerEntryKind,
  LedgerSubjectType,
  type LedgerEntryDraft,
} from '@attest/core';
import type { LedgerStore } from '../domain/archive-ports';
import {
  authorize,
  rolesFromClaims,
  scopeGroupsFor,
  type ArchiveAction,
  type Principal,
  type ScopedTarget,
} from '../domain/rbac';
import type { TokenVerifier } from '../domain/token-verifier';
import { problem } from './problem';

export interface PortalOutcome {
  readonly response: HttpResponseInit;
  readonly entry: LedgerEntryDraft;
}

export type PortalWork = (request: HttpRequest, principal: Principal) => Promise<PortalOutcome>;

export interface PortalAccessDeps {
  readonly verifier: TokenVerifier;
  readonly rbacScopes: Readonly<Record<string, readonly string[]>>;
  readonly ledger: Pick<LedgerStore, 'append'>;
}

export interface Subject {
  readonly type: LedgerEntryDraft['subjectType'];
  readonly id: string;
  readonly tenantId?: string;
}

/** A client fault a route throws: answered with its status and recorded as `rejected:<code>`. */
export class PortalFault extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function accessEntry(
  principal: Principal,
  action: ArchiveAction,
  outcome: string,
  subject: Subject,
  details: Readonly<Record<string, string | number | boolean>> = {},
): LedgerEntryDraft {
  return {
    kind: LedgerEntryKind.accessed,
    actor: principal.userId,
    tenantId: subject.tenantId ?? principal.tenantId,
    subjectType: subject.type,
    subjectId: subject.id,
    details: { action, outcome, roles: principal.roles.join(','), ...details },
  };
}

/** The 403 outcome when the caller may not take `action` (on `target`); undefined when allowed. */
export function refusal(
  principal: Principal,
  action: ArchiveAction,
  subject: Subject,
  target?: ScopedTarget,
): PortalOutcome | undefined {
  const decision = authorize(principal, action, target);
  if (decision.isAllowed) return undefined;
  return {
    response: problem(403, ErrorCode.Forbidden, `not allowed to ${action} (${decision.reason})`),
    entry: accessEntry(principal, action, `denied:${decision.reason}`, subject),
  };
}

export function createPortalAccess(deps: PortalAccessDeps) {
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

  return {
    route(action: ArchiveAction, work: PortalWork): HttpHandler {
      return async (request, context) => {
        const principal = await authenticate(request);
        if (principal === undefined) {
          context.warn('portal request unauthenticated', { action });
          return problem(401, ErrorCode.Unauthorized, 'a valid bearer token is required');
        }
        try {
          const { response, entry } = await work(request, principal);
          await deps.ledger.append(entry);
          context.info('portal request', { action, status: response.status ?? 200 });
          return response;
        } catch (error) {
          const fault = error instanceof PortalFault ? error : undefined;
          if (fault !== undefined) {
            await deps.ledger.append(
              accessEntry(principal, action, `rejected:${fault.code}`, {
                type: LedgerSubjectType.query,
                id: request.url
                  .split('?')[0]!
                  .replace(/^https?:\/\/[^/]+/, '')
                  .slice(0, 200),
              }),
            );
            context.warn('portal request rejected', { action, code: fault.code });
            return problem(fault.status, fault.code, fault.message);
          }
          context.error('portal request failed', {
            action,
            code: errorCodeOf(error) ?? ErrorCode.Internal,
          });
          return problem(500, ErrorCode.Internal, 'the request failed; see the service logs');
        }
      };
    },
  };
}
export type PortalAccess = ReturnType<typeof createPortalAccess>;

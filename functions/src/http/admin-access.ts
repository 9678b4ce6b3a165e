/**
 * The one way an admin route of the function app runs (archive, calls, media hosts, live
 * listen-in): authenticate the Entra token, take the caller's roles and scope groups, check the
 * route's ids and query, run the route, and write exactly one ledger entry per decision, allowed
 * or denied. A request without a valid token answers 401 and is not recorded (there is nobody to
 * record); a client fault answers its 4xx with a problem body and a `rejected:` entry; anything
 * else answers 500 with details only in the logs.
 */
import type {
  HttpHandler,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import { ErrorCode, LedgerEntryKind, LedgerSubjectType, type LedgerEntryDraft } from '@attest/core';
import type { LedgerStore, MemberGroupsLookup } from '../domain/archive-ports';
import {
  authorize,
  isScopedRole,
  rolesFromClaims,
  type ArchiveAction,
  type Principal,
  type ScopedTarget,
} from '../domain/rbac';
import type { TokenVerifier, VerifiedToken } from '../domain/token-verifier';
import { badRequest, clientFaultOf, problem } from './problem';

/** The caller's scope groups (recorded-user groups they may reach). */
export interface ScopeSource {
  /** Throws {@link GroupsUnavailableError} when the caller's groups cannot be learnt. */
  scopeGroupsOf(token: VerifiedToken): Promise<readonly string[]>;
}

/**
 * The caller's security groups could not be learnt (the token's `groups` claim overflowed and the
 * directory lookup failed): the caller is refused, never treated as a member of no group.
 */
export class GroupsUnavailableError extends Error {
  override readonly name = 'GroupsUnavailableError';
  constructor(options?: { cause?: unknown }) {
    super(
      "[ATT_FORBIDDEN] the caller's security groups could not be read from the directory",
      options,
    );
  }
}

export interface AdminAccessDeps {
  readonly verifier: TokenVerifier;
  readonly ledger: Pick<LedgerStore, 'append'>;
  readonly scopes: ScopeSource;
  /** The deployment's own tenant: only its callers can hold the operator role. */
  readonly operatorTenantId?: string;
}

/** What a route answers and the one ledger entry to write (undefined: its activity wrote it). */
export interface AdminOutcome {
  readonly response: HttpResponseInit;
  readonly entry?: LedgerEntryDraft;
}

export type AdminWork = (
  request: HttpRequest,
  principal: Principal,
  context: InvocationContext,
) => Promise<AdminOutcome>;

export interface AdminRouteOptions {
  /** Query parameters the route reads; any other one answers 400. Default none. */
  readonly query?: readonly string[];
}

export type LedgerSubject = {
  readonly type: LedgerEntryDraft['subjectType'];
  readonly id: string;
  readonly tenantId?: string;
};

type EntryDetails = Record<
  string,
  string | number | boolean | null | Record<string, unknown> | undefined
>;

/** The `accessed` entry of one decision: who, what, the outcome and log-safe details. */
export function accessEntry(
  principal: Principal,
  action: ArchiveAction,
  outcome: string,
  subject: LedgerSubject,
  details: EntryDetails = {},
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

/** 403 with the recorded refusal. */
export function deniedOutcome(
  principal: Principal,
  action: ArchiveAction,
  reason: string,
  subject: LedgerSubject,
): AdminOutcome {
  return {
    response: problem(403, ErrorCode.Forbidden, `not allowed to ${action} (${reason})`),
    entry: accessEntry(principal, action, `denied:${reason}`, subject),
  };
}

/**
 * The decision for one action (and target): undefined when allowed, else the 403 outcome to
 * return. A target of another tenant is refused as `otherTenant`, recorded in the caller's tenant.
 */
export function refusalOf(
  principal: Principal,
  action: ArchiveAction,
  subject: LedgerSubject,
  target?: ScopedTarget,
): AdminOutcome | undefined {
  const decision = authorize(principal, action, target);
  if (decision.isAllowed) return undefined;
  // Another tenant's subject is not named in the caller's tenant's ledger.
  const recorded =
    decision.reason === 'otherTenant'
      ? { type: subject.type, id: '(other tenant)', tenantId: principal.tenantId }
      : subject;
  return deniedOutcome(principal, action, decision.reason, recorded);
}

/** Route ids are opaque keys: no separators, escapes, dot-dot or control characters. */
// eslint-disable-next-line no-control-regex
const UNSAFE_ID = /[/\\#?%\u0000-\u001f\u007f-\u009f]|\.\./;
export const MAX_ID_LENGTH = 128;

export function assertSafeIds(params: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(params)) {
    if (value === '' || value.length > MAX_ID_LENGTH || UNSAFE_ID.test(value))
      throw badRequest(
        `${name} must be 1 to ${MAX_ID_LENGTH} characters without '/', '\\', '%', '#', '?', '..' or control characters`,
      );
  }
}

function assertKnownQuery(request: HttpRequest, known: readonly string[]): void {
  for (const name of request.query.keys())
    if (!known.includes(name)) throw badRequest(`unknown query parameter ${name.slice(0, 40)}`);
}

function requestPath(request: HttpRequest): string {
  return request.url.split('?')[0]!.replace(/^https?:\/\/[^/]+/, '');
}

export interface AdminAccess {
  /** The caller, or undefined without a valid token. */
  authenticate(request: HttpRequest): Promise<Principal | undefined>;
  /** Wraps a route's work in authentication, input checks, one ledger entry and error mapping. */
  route(action: ArchiveAction, work: AdminWork, options?: AdminRouteOptions): HttpHandler;
}

export function createAdminAccess(deps: AdminAccessDeps): AdminAccess {
  /** The caller; `scopeGroupIds` is undefined when their groups could not be learnt. */
  async function identify(
    request: HttpRequest,
  ): Promise<{ principal: Principal; isGroupsUnavailable: boolean } | undefined> {
    const verification = await deps.verifier.verify(
      request.headers.get('authorization') ?? undefined,
    );
    if (!verification.isValid) return undefined;
    const { token } = verification;
    const roles = rolesFromClaims(token.roles, {
      tenantId: token.tenantId,
      operatorTenantId: deps.operatorTenantId,
    });
    const base = { userId: token.subject, tenantId: token.tenantId, roles };
    // Only scoped roles need the caller's groups (a directory lookup when the claim overflowed).
    if (!roles.some(isScopedRole))
      return { principal: { ...base, scopeGroupIds: [] }, isGroupsUnavailable: false };
    try {
      const scopeGroupIds = [...(await deps.scopes.scopeGroupsOf(token))];
      return { principal: { ...base, scopeGroupIds }, isGroupsUnavailable: false };
    } catch (error) {
      if (!(error instanceof GroupsUnavailableError)) throw error;
      return { principal: { ...base, scopeGroupIds: [] }, isGroupsUnavailable: true };
    }
  }

  async function authenticate(request: HttpRequest): Promise<Principal | undefined> {
    const identity = await identify(request);
    if (identity?.isGroupsUnavailable === true) throw new GroupsUnavailableError();
    return identity?.principal;
  }

  function route(
    action: ArchiveAction,
    work: AdminWork,
    options: AdminRouteOptions = {},
  ): HttpHandler {
    return async (request, context) => {
      const identity = await identify(request);
      if (identity === undefined) {
        context.warn('admin request unauthenticated', { action });
        return problem(401, ErrorCode.Unauthorized, 'a valid bearer token is required');
      }
      const { principal } = identity;
      if (identity.isGroupsUnavailable) {
        const refusal = deniedOutcome(principal, action, 'groupsUnavailable', {
          type: LedgerSubjectType.query,
          id: requestPath(request).slice(0, 200),
        });
        await deps.ledger.append(refusal.entry!);
        context.warn('admin request refused: caller groups unavailable', { action });
        return refusal.response;
      }
      try {
        assertSafeIds(request.params);
        assertKnownQuery(request, options.query ?? []);
        const { response, entry } = await work(request, principal, context);
        if (entry !== undefined) await deps.ledger.append(entry);
        context.info('admin request', { action, status: response.status ?? 200 });
        return response;
      } catch (error) {
        const fault = clientFaultOf(error);
        if (fault !== undefined) {
          await deps.ledger.append(
            accessEntry(principal, action, `rejected:${fault.code}`, {
              type: LedgerSubjectType.query,
              id: requestPath(request).slice(0, 200),
            }),
          );
          context.warn('admin request rejected', { action, code: fault.code });
          return problem(fault.status, fault.code, fault.message);
        }
        context.error('admin request failed', {
          action,
          error: error instanceof Error ? error.name : 'unknown',
        });
        return problem(500, ErrorCode.Internal, 'the request failed; see the service logs');
      }
    };
  }

  return { authenticate, route };
}

/** Scope groups from configuration: by user object id and by the caller's security groups. */
export function configuredScopes(
  scopes: Readonly<Record<string, readonly string[]>>,
  groupsOf: (token: VerifiedToken) => Promise<readonly string[]> = (token) =>
    Promise.resolve(groupsClaim(token)),
): ScopeSource {
  return {
    async scopeGroupsOf(token) {
      const out = new Set<string>(scopes[token.subject] ?? []);
      for (const g of await groupsOf(token)) for (const s of scopes[g] ?? []) out.add(s);
      return [...out];
    },
  };
}

/** The token's `groups` claim (security group object ids), or none. */
export function groupsClaim(token: VerifiedToken): string[] {
  const groups = token.claims.groups;
  return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [];
}

/**
 * Whether Entra left the groups out of the token because the caller is in too many (the
 * "groups overage" claim): `_claim_names.groups` (JWT access and ID tokens) or `hasgroups: true`
 * (implicit flow). The caller's groups must then be read from Microsoft Graph.
 */
export function hasGroupsOverage(token: VerifiedToken): boolean {
  const names = token.claims._claim_names;
  const hasClaimName =
    typeof names === 'object' && names !== null && 'groups' in (names as Record<string, unknown>);
  return hasClaimName || token.claims.hasgroups === true || token.claims.hasgroups === 'true';
}

/**
 * The caller's security groups as Entra states them: the token's `groups` claim, or on overage
 * the directory's transitive membership (Graph `getMemberObjects`, security groups only). A
 * directory failure rejects with {@link GroupsUnavailableError} (the caller is refused).
 */
export function entraGroups(
  directory: MemberGroupsLookup,
): (token: VerifiedToken) => Promise<readonly string[]> {
  return async (token) => {
    if (!hasGroupsOverage(token)) return groupsClaim(token);
    try {
      return await directory.memberGroupsOf(token.tenantId, token.subject);
    } catch (error) {
      throw new GroupsUnavailableError({ cause: error });
    }
  };
}

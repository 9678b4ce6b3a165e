/**
 * `POST /api/archive/calls/{callId}/listen`: a supervisor or compliance officer asks to listen in
 * to a live call. Authorised by role and scope (`liveListen` in the RBAC matrix) from the caller's
 * Entra token; every authenticated call writes exactly one ledger `accessed` entry (granted with
 * the token id the media host's audit lines carry, denied, or rejected). The answer is a
 * WebSocket URL on the call's media host with a short-lived listen token:
 * `{ url: 'ws://<host>/v1/live/<sessionId>?token=…', expiresAt }`.
 *
 * 401 without a valid bearer token (not recorded), 403 outside role or scope, 404 when the call is
 * not live or live listen-in is not configured (`ATTEST_LIVE_LISTEN_KEY`).
 */
import type {
  HttpHandler,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import {
  createListenToken,
  DEFAULT_LISTEN_TOKEN_LIFETIME_IN_MS,
  ErrorCode,
  LedgerEntryKind,
  LedgerSubjectType,
  type LedgerEntryDraft,
  type ProblemBody,
} from '@attest/core';
import type { Clock, LedgerStore } from '../domain/archive-ports';
import { authorize, rolesFromClaims, scopeGroupsFor, type Principal } from '../domain/rbac';
import type { TokenVerifier } from '../domain/token-verifier';

/** A call in progress as live listen-in needs it. */
export interface LiveCall {
  readonly tenantId: string;
  readonly interactionId: string;
  /** The media host's session id for the call. */
  readonly sessionId: string;
  /** Groups of the call's recorded users (for scoped roles). */
  readonly groupIds: readonly string[];
  /** `ws://host:port` (or `wss://`) of the media host's listen endpoint, without a path. */
  readonly listenBaseUrl: string;
}

/** Finds a call that is being recorded right now. */
export interface LiveCallLocator {
  /** Undefined when the call is unknown, ended, or has no media session. */
  getLiveCall(callId: string): Promise<LiveCall | undefined>;
}

export interface LiveListenOptions {
  readonly verifier: TokenVerifier;
  readonly rbacScopes: Readonly<Record<string, readonly string[]>>;
  readonly ledger: LedgerStore;
  readonly calls: LiveCallLocator;
  /** The shared listen key (UTF-8, at least 32 characters); undefined = live listen-in disabled. */
  readonly listenKey: string | undefined;
  readonly clock: Clock;
  /** Token ids. */
  readonly newId: () => string;
  /** Default 60 s (the media host checks it at connect time only). */
  readonly tokenLifetimeInMs?: number;
}

const ACTION = 'liveListen';

function problem(status: number, code: string, message: string): HttpResponseInit {
  const body: ProblemBody = { code, message, status };
  return { status, jsonBody: body };
}

export function createLiveListenHandler(options: LiveListenOptions): HttpHandler {
  const lifetimeInMs = options.tokenLifetimeInMs ?? DEFAULT_LISTEN_TOKEN_LIFETIME_IN_MS;
  const key = options.listenKey === undefined ? undefined : Buffer.from(options.listenKey, 'utf8');

  const authenticate = async (request: HttpRequest): Promise<Principal | undefined> => {
    const verification = await options.verifier.verify(
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
      scopeGroupIds: scopeGroupsFor(token.subject, groups, options.rbacScopes),
    };
  };

  const entry = (
    principal: Principal,
    callId: string,
    outcome: string,
    call?: LiveCall,
    details: Record<string, string> = {},
  ): LedgerEntryDraft => ({
    kind: LedgerEntryKind.accessed,
    actor: principal.userId,
    tenantId: call?.tenantId ?? principal.tenantId,
    subjectType: call === undefined ? LedgerSubjectType.query : LedgerSubjectType.interaction,
    subjectId: call?.interactionId ?? `calls/${callId}/listen`,
    details: { action: ACTION, outcome, roles: principal.roles.join(','), callId, ...details },
  });

  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const principal = await authenticate(request);
    if (principal === undefined) {
      context.warn('archive request unauthenticated', { action: ACTION });
      return problem(401, ErrorCode.Unauthorized, 'a valid bearer token is required');
    }
    const callId = request.params.callId ?? '';
    const respond = async (
      response: HttpResponseInit,
      draft: LedgerEntryDraft,
    ): Promise<HttpResponseInit> => {
      await options.ledger.append(draft);
      context.info('archive request', { action: ACTION, callId, status: response.status ?? 200 });
      return response;
    };
    try {
      const byRole = authorize(principal, ACTION);
      if (!byRole.isAllowed)
        return await respond(
          problem(403, ErrorCode.Forbidden, `not allowed to ${ACTION} (${byRole.reason})`),
          entry(principal, callId, `denied:${byRole.reason}`),
        );
      const call = key === undefined ? undefined : await options.calls.getLiveCall(callId);
      if (call === undefined) {
        return await respond(
          problem(
            404,
            ErrorCode.NotFound,
            `call ${callId} is not live (or live listen-in is not configured)`,
          ),
          entry(principal, callId, `rejected:${ErrorCode.NotFound}`),
        );
      }
      const byScope = authorize(principal, ACTION, {
        tenantId: call.tenantId,
        groupIds: call.groupIds,
      });
      if (!byScope.isAllowed)
        return await respond(
          problem(403, ErrorCode.Forbidden, `not allowed to ${ACTION} (${byScope.reason})`),
          entry(principal, callId, `denied:${byScope.reason}`, call),
        );
      const nowMs = options.clock.now().getTime();
      const tokenId = options.newId();
      const token = createListenToken(
        { sessionId: call.sessionId, userId: principal.userId, nowMs, lifetimeInMs, tokenId },
        key!,
      );
      const expiresAt = new Date(nowMs + lifetimeInMs).toISOString();
      const url = `${call.listenBaseUrl}/v1/live/${encodeURIComponent(call.sessionId)}?token=${encodeURIComponent(token)}`;
      return await respond(
        { status: 200, jsonBody: { url, expiresAt } },
        entry(principal, callId, 'granted', call, {
          sessionId: call.sessionId,
          tokenId,
          expiresAt,
        }),
      );
    } catch (error) {
      context.error('archive request failed', {
        action: ACTION,
        callId,
        error: error instanceof Error ? error.name : 'unknown',
      });
      return problem(500, ErrorCode.Internal, 'the request failed; see the service logs');
    }
  };
}

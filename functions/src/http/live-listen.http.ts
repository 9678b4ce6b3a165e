/**
 * `POST /api/archive/calls/{callId}/listen`: a supervisor or compliance officer asks to listen in
 * to a live call. Authorised by role and scope (`liveListen` in the RBAC matrix) from the caller's
 * Entra token; every authenticated call writes exactly one ledger `accessed` entry (granted with
 * the token id the media host's audit lines carry, denied, or rejected). The answer is a TLS
 * WebSocket URL on the call's media host and the subprotocols that carry a short-lived listen
 * token (the token stays out of the URL; a browser opens `new WebSocket(url, protocols)`):
 * `{ url: 'wss://<host>:<port>/v1/live/<sessionId>', protocols: ['attest.listen.v1',
 * 'attest.token.<token>'], expiresAt }`.
 *
 * 401 without a valid bearer token (not recorded), 403 outside role or scope, 404 when the call is
 * not live or live listen-in is not configured (`ATTEST_LIVE_LISTEN_KEY`).
 */
import type { HttpHandler } from '@azure/functions';
import {
  createListenToken,
  DEFAULT_LISTEN_TOKEN_LIFETIME_IN_MS,
  listenSubprotocols,
  ErrorCode,
  LedgerEntryKind,
  LedgerSubjectType,
  type LedgerEntryDraft,
} from '@attest/core';
import type { Clock } from '../domain/archive-ports';
import { authorize, type Principal } from '../domain/rbac';
import type { AdminAccess } from './admin-access';
import { problem } from './problem';

/** A call in progress as live listen-in needs it. */
export interface LiveCall {
  readonly tenantId: string;
  readonly interactionId: string;
  /** The media host's session id for the call. */
  readonly sessionId: string;
  /** Groups of the call's recorded users (for scoped roles). */
  readonly groupIds: readonly string[];
  /** `wss://host:port` of the media host's listen endpoint, without a path. */
  readonly listenBaseUrl: string;
}

/** Finds a call that is being recorded right now. */
export interface LiveCallLocator {
  /** Undefined when the call is unknown, ended, or has no media session. */
  getLiveCall(callId: string): Promise<LiveCall | undefined>;
}

export interface LiveListenOptions {
  /** Authentication, roles and scopes, and the ledger (see admin-access.ts). */
  readonly access: AdminAccess;
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

export function createLiveListenHandler(options: LiveListenOptions): HttpHandler {
  const lifetimeInMs = options.tokenLifetimeInMs ?? DEFAULT_LISTEN_TOKEN_LIFETIME_IN_MS;
  const key = options.listenKey === undefined ? undefined : Buffer.from(options.listenKey, 'utf8');

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

  return options.access.route(ACTION, async (request, principal) => {
    const callId = request.params.callId ?? '';
    const byRole = authorize(principal, ACTION);
    if (!byRole.isAllowed)
      return {
        response: problem(403, ErrorCode.Forbidden, `not allowed to ${ACTION} (${byRole.reason})`),
        entry: entry(principal, callId, `denied:${byRole.reason}`),
      };
    const live = key === undefined ? undefined : await options.calls.getLiveCall(callId);
    // Another tenant's call is answered like one that is not live.
    const call = live?.tenantId === principal.tenantId ? live : undefined;
    if (call === undefined)
      return {
        response: problem(
          404,
          ErrorCode.NotFound,
          `call ${callId} is not live (or live listen-in is not configured)`,
        ),
        entry: entry(principal, callId, `rejected:${ErrorCode.NotFound}`),
      };
    const byScope = authorize(principal, ACTION, {
      tenantId: call.tenantId,
      groupIds: call.groupIds,
    });
    if (!byScope.isAllowed)
      return {
        response: problem(403, ErrorCode.Forbidden, `not allowed to ${ACTION} (${byScope.reason})`),
        entry: entry(principal, callId, `denied:${byScope.reason}`, call),
      };
    const nowMs = options.clock.now().getTime();
    const tokenId = options.newId();
    const token = createListenToken(
      { sessionId: call.sessionId, userId: principal.userId, nowMs, lifetimeInMs, tokenId },
      key!,
    );
    const expiresAt = new Date(nowMs + lifetimeInMs).toISOString();
    const url = `${call.listenBaseUrl}/v1/live/${encodeURIComponent(call.sessionId)}`;
    return {
      response: {
        status: 200,
        headers: { 'cache-control': 'no-store' },
        jsonBody: { url, protocols: listenSubprotocols(token), expiresAt },
      },
      entry: entry(principal, callId, 'granted', call, {
        sessionId: call.sessionId,
        tokenId,
        expiresAt,
      }),
    };
  });
}

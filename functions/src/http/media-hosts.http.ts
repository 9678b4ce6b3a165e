/**
 * Media host control plane: `POST /api/mediahosts/heartbeat` and `POST /api/mediahosts/events`
 * (bearer `ATTEST_MEDIA_CONTROL_KEY`), and for the deployment's operators (the fleet is shared by
 * every tenant, so a tenant's admin may not touch it) `GET /api/mediahosts` and
 * `POST /api/mediahosts/{hostId}/drain`, each decided and recorded like every admin route.
 */
import { timingSafeEqual } from 'node:crypto';
import type {
  HttpHandler,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import {
  DrainReason,
  ErrorCode,
  LedgerEntryKind,
  LedgerSubjectType,
  MediaHostEventKind,
  lifecycleInstanceId,
  sanitizeKey,
  type MediaHostDrainState,
  type MediaHostEvent,
  type MediaHostHeartbeat,
} from '@attest/core';
import { CALL_EVENT_NAME, type CallEvent } from '../domain/call-lifecycle.contract';
import type { MediaHostPool } from '../domain/media-host-pool';
import type {
  DeliveryLog,
  LifecycleClient,
  MediaHostControl,
  MediaHostRegistry,
} from '../domain/recorder-ports';
import { structuredLog } from '../logging/structured-log';
import { z } from 'zod';
import { accessEntry, refusalOf, type AdminAccess } from './admin-access';
import { notFound, problem, readJson, unauthorized } from './problem';
import { parseBody } from './request-body';

export interface MediaHostsHttpDeps {
  readonly controlKey: string;
  readonly registry: MediaHostRegistry;
  readonly control: MediaHostControl;
  readonly pool: MediaHostPool;
  readonly deliveries: DeliveryLog;
  readonly lifecycle: (context: InvocationContext) => LifecycleClient;
  readonly access: AdminAccess;
  readonly staleAfterInMs: number;
  readonly now: () => Date;
}

function hasControlKey(request: HttpRequest, key: string): boolean {
  const match = /^bearer\s+(.+)$/i.exec(request.headers.get('authorization')?.trim() ?? '');
  if (match?.[1] === undefined || key === '') return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(key);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const isString = (value: unknown): value is string =>
  typeof value === 'string' && value.trim() !== '';
const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0;

/** The bridge's state as `attest doctor` reads it: reachable, initialized, certificate end. */
function bridgeOf(value: unknown): { bridge?: MediaHostHeartbeat['bridge'] } {
  if (typeof value !== 'object' || value === null) return {};
  const b = value as Record<string, unknown>;
  if (typeof b.isReachable !== 'boolean' || !isString(b.checkedAt)) return {};
  return {
    bridge: {
      isReachable: b.isReachable,
      checkedAt: b.checkedAt,
      ...(typeof b.isPlatformInitialized === 'boolean'
        ? { isPlatformInitialized: b.isPlatformInitialized }
        : {}),
      ...(isString(b.certificateExpiresAt) && !Number.isNaN(Date.parse(b.certificateExpiresAt))
        ? { certificateExpiresAt: b.certificateExpiresAt }
        : {}),
    },
  };
}

function validateHeartbeat(
  value: unknown,
): { ok: true; heartbeat: MediaHostHeartbeat } | { ok: false; message: string } {
  if (typeof value !== 'object' || value === null)
    return { ok: false, message: 'body must be a JSON object' };
  const v = value as Record<string, unknown>;
  const capacity = v.capacity as Record<string, unknown> | undefined;
  const problems: string[] = [];
  if (!isString(v.hostId)) problems.push('hostId');
  if (!isString(v.controlUrl) || !URL.canParse(v.controlUrl)) problems.push('controlUrl');
  if (!isString(v.region)) problems.push('region');
  if (typeof v.isDraining !== 'boolean') problems.push('isDraining');
  if (
    typeof capacity !== 'object' ||
    capacity === null ||
    !isCount(capacity.maxSessions) ||
    !isCount(capacity.activeSessions)
  )
    problems.push('capacity');
  if (problems.length > 0)
    return { ok: false, message: `invalid or missing: ${problems.join(', ')}` };
  return {
    ok: true,
    heartbeat: {
      hostId: v.hostId as string,
      controlUrl: v.controlUrl as string,
      region: v.region as string,
      isDraining: v.isDraining as boolean,
      capacity: {
        maxSessions: capacity?.maxSessions as number,
        activeSessions: capacity?.activeSessions as number,
      },
      version: isString(v.version) ? v.version : 'unknown',
      spoolBytes: isCount(v.spoolBytes) ? v.spoolBytes : 0,
      spoolLimitInBytes: isCount(v.spoolLimitInBytes) ? v.spoolLimitInBytes : 0,
      sentAt: isString(v.sentAt) ? v.sentAt : '',
      // Listen-in leaves the machine: only a TLS WebSocket URL is kept.
      ...(isString(v.listenUrl) && URL.canParse(v.listenUrl) && v.listenUrl.startsWith('wss://')
        ? { listenUrl: v.listenUrl }
        : {}),
      ...bridgeOf(v.bridge),
      ...(isString(v.mediaEndpoint) && /^(tls|tcp):\/\/[^/\s]+:\d{1,5}$/.test(v.mediaEndpoint)
        ? { mediaEndpoint: v.mediaEndpoint }
        : {}),
      ...(isString(v.certificateExpiresAt) && !Number.isNaN(Date.parse(v.certificateExpiresAt))
        ? { certificateExpiresAt: v.certificateExpiresAt }
        : {}),
      ...(isString(v.zone) ? { zone: v.zone } : {}),
      ...(drainStateOf(v.drain) !== undefined ? { drain: drainStateOf(v.drain) } : {}),
    },
  };
}

const drainReasons = new Set<string>(Object.values(DrainReason));
const isInstant = (value: unknown): value is string =>
  isString(value) && !Number.isNaN(Date.parse(value));

/** The heartbeat's drain state, when it is well formed (an ill-formed one is left out). */
function drainStateOf(value: unknown): MediaHostDrainState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!isString(v.reason) || !drainReasons.has(v.reason) || !isInstant(v.startedAt))
    return undefined;
  return {
    reason: v.reason as DrainReason,
    startedAt: v.startedAt,
    ...(isInstant(v.deadlineAt) ? { deadlineAt: v.deadlineAt } : {}),
    ...(isString(v.eventId) ? { eventId: v.eventId.slice(0, 100) } : {}),
    ...(isString(v.eventType) ? { eventType: v.eventType.slice(0, 40) } : {}),
  };
}

export function createHeartbeatHandler(deps: MediaHostsHttpDeps): HttpHandler {
  return async (request, context): Promise<HttpResponseInit> => {
    if (!hasControlKey(request, deps.controlKey)) return unauthorized();
    const body = await readJson(request);
    if (!body.ok)
      return problem(400, ErrorCode.InvalidRequest, '[ATT_INVALID_REQUEST] body is not JSON');
    const checked = validateHeartbeat(body.value);
    if (!checked.ok)
      return problem(
        400,
        ErrorCode.InvalidRequest,
        `[ATT_INVALID_REQUEST] heartbeat ${checked.message}`,
      );
    const receivedAt = deps.now();
    await deps.registry.upsertHeartbeat(checked.heartbeat, receivedAt);
    deps.pool.observe(checked.heartbeat, receivedAt);
    structuredLog(context).debug('media host heartbeat', {
      hostId: checked.heartbeat.hostId,
      activeSessions: checked.heartbeat.capacity.activeSessions,
    });
    return { status: 204 };
  };
}

const eventKinds = new Set<string>(Object.values(MediaHostEventKind));

export function createMediaHostEventHandler(deps: MediaHostsHttpDeps): HttpHandler {
  return async (request, context): Promise<HttpResponseInit> => {
    if (!hasControlKey(request, deps.controlKey)) return unauthorized();
    const body = await readJson(request);
    const v = (body.ok ? body.value : undefined) as Partial<MediaHostEvent> | undefined;
    if (
      typeof v !== 'object' ||
      v === null ||
      !isString(v.eventId) ||
      !isString(v.callId) ||
      !isString(v.hostId) ||
      !isString(v.kind) ||
      !eventKinds.has(v.kind)
    ) {
      return problem(
        400,
        ErrorCode.InvalidRequest,
        '[ATT_INVALID_REQUEST] event needs eventId, hostId, callId and a known kind',
      );
    }
    const log = structuredLog(context, { callId: v.callId, hostId: v.hostId });
    if (v.kind !== 'persistenceFailed') {
      // The lifecycle acts only on persistence failure; the rest (connection lost or resumed, a
      // gap, which the seal reports too) is logged here instead of costing a stored delivery, a
      // raised event and a lifecycle episode per call.
      log.warn('media host event', { kind: v.kind, raised: 'notRaised' });
      return { status: 202 };
    }
    if (!(await deps.deliveries.tryClaim(`mh-${sanitizeKey(v.callId)}`, v.eventId)))
      return { status: 202 };
    const event: CallEvent = {
      kind: 'mediaHost',
      deliveryId: `mh-${v.eventId}`,
      at: isString(v.at) ? v.at : deps.now().toISOString(),
      eventKind: v.kind,
      ...(isString(v.reason) ? { reason: v.reason } : {}),
    };
    const raised = await deps
      .lifecycle(context)
      .raise(lifecycleInstanceId(v.callId), CALL_EVENT_NAME, event);
    log.error('media host event', { kind: v.kind, raised });
    return { status: 202 };
  };
}

const fleetSubject = { type: LedgerSubjectType.configuration, id: 'mediahosts' };

export function createListMediaHostsHandler(deps: MediaHostsHttpDeps): HttpHandler {
  return deps.access.route('listMediaHosts', async (_request, principal) => {
    const refusal = refusalOf(principal, 'listMediaHosts', fleetSubject);
    if (refusal !== undefined) return refusal;
    const nowMs = deps.now().getTime();
    const hosts = (await deps.registry.list()).map((host) => ({
      ...host,
      isStale: nowMs - Date.parse(host.receivedAt) > deps.staleAfterInMs,
    }));
    return {
      response: { status: 200, jsonBody: { value: hosts } },
      entry: accessEntry(principal, 'listMediaHosts', 'allowed', fleetSubject, {
        resultCount: hosts.length,
      }),
    };
  });
}

const drainBody = z.strictObject({
  isDraining: z.boolean({ error: 'body must be {"isDraining": true|false}' }),
});

export function createDrainMediaHostHandler(deps: MediaHostsHttpDeps): HttpHandler {
  return deps.access.route('drainMediaHost', async (request, principal, context) => {
    const hostId = request.params.hostId ?? '';
    const subject = { type: LedgerSubjectType.configuration, id: `mediahosts/${hostId}` };
    const refusal = refusalOf(principal, 'drainMediaHost', subject);
    if (refusal !== undefined) return refusal;
    const { isDraining } = await parseBody(request, drainBody);
    const host = await deps.registry.get(hostId);
    if (host === undefined) throw notFound('[ATT_NOT_FOUND] no media host with that id');
    await deps.registry.setDraining(hostId, isDraining);
    deps.pool.invalidate();
    // Tell the host too, best effort: the registry flag alone already stops new sessions.
    const isHostTold = await deps.control.setDraining(host.controlUrl, isDraining).then(
      () => true,
      () => false,
    );
    structuredLog(context, { hostId }).info('media host drain changed', { isDraining, isHostTold });
    return {
      response: { status: 200, jsonBody: { hostId, isDraining, isHostTold } },
      entry: {
        kind: LedgerEntryKind.configurationChanged,
        actor: principal.userId,
        tenantId: principal.tenantId,
        subjectType: LedgerSubjectType.configuration,
        subjectId: subject.id,
        details: { action: 'drainMediaHost', isDraining, isHostTold },
      },
    };
  });
}

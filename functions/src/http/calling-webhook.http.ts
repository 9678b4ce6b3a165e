/**
 * `POST /api/calling` and `POST /api/calling/{callId}`: Graph calling notifications.
 * Verifies the bearer JWT (401, nothing stored, rate-limited log line), parses tolerantly (400
 * problem body for a malformed body), answers policy invites on the fast path inside this request
 * (Durable queue polling would cost seconds of Graph's 5 s deadline), forwards every other
 * notification to the call's lifecycle orchestration, and replies 202. Duplicate deliveries and
 * duplicate invites have no second effect.
 */
import { createHash } from 'node:crypto';
import type {
  HttpHandler,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import {
  ErrorCode,
  analyseInvite,
  interactionIdForCall,
  lifecycleInstanceId,
  meetingFactsOf,
  parseCommsNotifications,
  parseRoster,
  sanitizeKey,
  toParticipantMappings,
  NotificationParseError,
  type CallNotification,
  type CommsNotification,
  type InteractionRecord,
} from '@attest/core';
import type { ArchiveIntake } from '../domain/archive-intake';
import {
  CALL_EVENT_NAME,
  LIFECYCLE_CALL_STATES,
  OrchestratorNames,
  type CallEvent,
  type CallLifecycleInput,
  type CallLifecycleSettings,
} from '../domain/call-lifecycle.contract';
import type { MediaHostPool } from '../domain/media-host-pool';
import type {
  GraphCalls,
  InteractionStore,
  LifecycleClient,
  MediaHostControl,
} from '../domain/recorder-ports';
import type { TokenVerifier, VerifiedToken } from '../domain/token-verifier';
import { structuredLog, type RateLimitedLog, type StructuredLog } from '../logging/structured-log';
import { problem, unauthorized } from './problem';

export interface CallingWebhookSettings {
  readonly servedTenantIds: readonly string[];
  readonly publicBaseUrl: string;
  readonly participantCapacity: number;
  readonly defaultRegion?: string;
  readonly lifecycle: CallLifecycleSettings;
  /** Attempts to raise an event on an orchestration that is still starting. Default 20. */
  readonly raiseAttempts?: number;
  readonly raiseRetryDelayInMs?: number;
}

export interface CallingWebhookDeps {
  readonly verifier: TokenVerifier;
  readonly graph: GraphCalls;
  readonly pool: MediaHostPool;
  readonly mediaControl: MediaHostControl;
  readonly interactions: InteractionStore;
  readonly archive: ArchiveIntake;
  readonly lifecycle: (context: InvocationContext) => LifecycleClient;
  readonly settings: CallingWebhookSettings;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** Shared across invocations so auth failures are logged at most once per window. */
  readonly authFailureLog: RateLimitedLog;
}

/** An answer is retried only if the retry can still be sent this long after the invite arrived. */
const MAX_ANSWER_RETRY_WAIT_IN_MS = 2_500;
/** How many calls handled here without a lifecycle are remembered (oldest forgotten first). */
const MAX_REMEMBERED_UNTRACKED_CALLS = 10_000;

const isServed = (served: readonly string[], tenantId: string | undefined): boolean =>
  tenantId !== undefined && served.some((t) => t.toLowerCase() === tenantId.toLowerCase());

export function createCallingWebhookHandler(deps: CallingWebhookDeps): HttpHandler {
  // Invites this instance is answering, by call id: Graph sends `establishing` as soon as it has
  // the answer, often before the lifecycle orchestration is started; its notification waits for
  // the invite here instead of polling the orchestration (retries remain for other instances).
  const invitesInFlight = new Map<string, Promise<void>>();
  // Calls whose invite this instance handled without starting a lifecycle: their later
  // notifications are ignored at once instead of retrying a raise that cannot succeed (under
  // load, those retries multiplied the work of every failed call).
  const untracked = new Set<string>();
  const rememberUntracked = (callId: string): void => {
    untracked.add(callId);
    if (untracked.size > MAX_REMEMBERED_UNTRACKED_CALLS)
      untracked.delete(untracked.values().next().value as string);
  };
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const receivedAt = deps.now();
    const log = structuredLog(context, { route: 'calling' });
    const auth = await deps.verifier.verify(request.headers.get('authorization') ?? undefined);
    if (!auth.isValid) {
      const suppressed = deps.authFailureLog.admit(auth.reason);
      if (suppressed !== undefined)
        log.warn('webhook token rejected', {
          reason: auth.reason,
          suppressedSinceLast: suppressed,
        });
      return unauthorized();
    }

    let notifications: readonly CommsNotification[];
    try {
      notifications = parseCommsNotifications(JSON.parse(await request.text()) as unknown);
    } catch (error) {
      const message = error instanceof NotificationParseError ? error.message : 'body is not JSON';
      log.warn('webhook body rejected', { reason: message });
      return problem(400, ErrorCode.InvalidNotification, `[ATT_INVALID_NOTIFICATION] ${message}`);
    }

    const messageId = request.headers.get('x-microsoft-skype-message-id') ?? undefined;
    let joiningResponse: unknown;
    for (const notification of notifications) {
      const callId = notification.callId;
      if (callId === undefined) {
        log.debug('notification without call id ignored', { kind: notification.kind });
        continue;
      }
      const callLog = log.child({ callId, interactionId: interactionIdForCall(callId) });
      if (
        notification.kind === 'call' &&
        notification.changeType === 'created' &&
        notification.state === 'incoming'
      ) {
        if (invitesInFlight.has(callId)) {
          // A repeat of an invite this instance is answering right now: no second effect.
          callLog.info('duplicate invite ignored');
          continue;
        }
        const handling = handleInvite(
          deps,
          notification,
          callId,
          auth.token,
          receivedAt,
          callLog,
          context,
        );
        const settled = handling.then(
          () => undefined,
          () => undefined,
        );
        if (!invitesInFlight.has(callId)) invitesInFlight.set(callId, settled);
        try {
          if ((await handling) === 'noLifecycle') rememberUntracked(callId);
        } catch (error) {
          rememberUntracked(callId);
          // Never leave an invite unanswered: reject so a paired recorder can take it.
          callLog.error('invite handling failed; rejecting busy', {
            errorName: error instanceof Error ? error.name : 'unknown',
          });
          const callTenant = notification.call.tenantId;
          const tenantId = typeof callTenant === 'string' ? callTenant : auth.token.tenantId;
          await deps.graph.reject(tenantId, callId, 'busy').catch(() => undefined);
          await deps.interactions
            .update(tenantId, interactionIdForCall(callId), {
              outcome: 'failed',
              outcomeReason: 'inviteHandlingFailed',
              callState: 'rejected',
            })
            .catch(() => undefined);
        } finally {
          if (invitesInFlight.get(callId) === settled) invitesInFlight.delete(callId);
        }
        continue;
      }
      if (notification.kind === 'participantJoining') {
        // Further policy users of this call join the existing recording (participantCapacity).
        joiningResponse = { '@odata.type': '#microsoft.graph.acceptJoinResponse' };
        callLog.info('participant joining accepted');
        continue;
      }
      if (notification.kind === 'call' && notification.changeType === 'updated') {
        await recordMeetingFacts(deps, notification, callId, auth.token.tenantId, callLog);
      }
      const event = toCallEvent(notification, receivedAt, messageId);
      if (event === undefined) continue;
      if (event.kind === 'callState' && !LIFECYCLE_CALL_STATES.has(event.state)) {
        callLog.debug('call state not raised to the lifecycle', { state: event.state });
        continue;
      }
      await invitesInFlight.get(callId);
      if (untracked.has(callId)) {
        callLog.info('notification for a call without lifecycle ignored', { kind: event.kind });
        continue;
      }
      const outcome = await forwardEvent(deps, callId, event, callLog, context);
      if (outcome === 'unavailable') {
        return {
          ...problem(
            503,
            ErrorCode.Internal,
            '[ATT_INTERNAL] temporarily unable to accept notifications; retry',
          ),
          headers: { 'retry-after': '1', 'content-type': 'application/json' },
        };
      }
    }
    return joiningResponse === undefined
      ? { status: 202 }
      : { status: 200, jsonBody: joiningResponse };
  };
}

/** A meeting leg reveals itself on `establishing` (chatInfo, organizerMeetingInfo): refine the record. */
async function recordMeetingFacts(
  deps: CallingWebhookDeps,
  notification: CallNotification,
  callId: string,
  tenantId: string,
  log: StructuredLog,
): Promise<void> {
  const facts = meetingFactsOf(notification.call);
  if (!facts.isMeeting) return;
  await deps.interactions
    .update(tenantId, interactionIdForCall(callId), {
      type: 'meeting',
      meetingId: facts.meetingId,
      joinWebUrl: facts.joinWebUrl,
    })
    .then(() => log.info('interaction identified as meeting'))
    .catch(() => log.warn('meeting facts not recorded'));
}

function deliveryIdOf(notification: CommsNotification, messageId: string | undefined): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(notification))
    .digest('hex')
    .slice(0, 32);
  return messageId === undefined
    ? digest
    : `${sanitizeKey(messageId).slice(0, 40)}-${notification.index}-${digest.slice(0, 12)}`;
}

function toCallEvent(
  notification: CommsNotification,
  receivedAt: Date,
  messageId: string | undefined,
): CallEvent | undefined {
  const base = { deliveryId: deliveryIdOf(notification, messageId), at: receivedAt.toISOString() };
  switch (notification.kind) {
    case 'call':
      return {
        ...base,
        kind: 'callState',
        state: notification.state,
        resultInfo: notification.resultInfo,
      };
    case 'participants':
      return {
        ...base,
        kind: 'roster',
        participants: parseRoster(notification.participants),
        mappings: toParticipantMappings(notification.participants),
      };
    case 'participantLeft':
      return notification.participantId === undefined
        ? undefined
        : { ...base, kind: 'participantLeft', participantId: notification.participantId };
    default:
      return undefined;
  }
}

/**
 * Raises the event on the call's lifecycle. Every delivery is raised: the orchestration ignores a
 * delivery id it has seen (its state keeps the last ones, across continueAsNew), so a duplicate or
 * replayed delivery has no second effect without a storage write per notification here.
 */
async function forwardEvent(
  deps: CallingWebhookDeps,
  callId: string,
  event: CallEvent,
  log: StructuredLog,
  context: InvocationContext,
): Promise<'raised' | 'noInstance' | 'unavailable'> {
  const client = deps.lifecycle(context);
  const attempts = deps.settings.raiseAttempts ?? 20;
  try {
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      // The orchestration may still be starting: Graph can send `establishing` before the fast
      // path's start call has returned.
      const result = await client.raise(lifecycleInstanceId(callId), CALL_EVENT_NAME, event);
      if (result === 'raised') {
        log.info('notification forwarded', {
          kind: event.kind,
          deliveryId: event.deliveryId,
          ...(event.kind === 'callState' ? { state: event.state } : {}),
        });
        return 'raised';
      }
      if (attempt < attempts) await deps.sleep(deps.settings.raiseRetryDelayInMs ?? 100);
    }
    log.info('notification for a call without lifecycle ignored', { kind: event.kind });
    return 'noInstance';
  } catch {
    log.warn('notification could not be forwarded', { kind: event.kind });
    return 'unavailable';
  }
}

/**
 * What became of an invite: a lifecycle started here; none will ever exist (rejected, not
 * recordable, answer failed); or another instance took it.
 */
type InviteResult = 'lifecycle' | 'noLifecycle' | 'notMine';

async function handleInvite(
  deps: CallingWebhookDeps,
  notification: CallNotification,
  callId: string,
  token: VerifiedToken,
  receivedAt: Date,
  log: StructuredLog,
  context: InvocationContext,
): Promise<InviteResult> {
  const analysis = analyseInvite(notification.call);
  const tenantId = analysis.tenantId ?? token.tenantId;
  const interactionId = interactionIdForCall(callId);
  const base: InteractionRecord = {
    tenantId,
    interactionId,
    callId,
    callChainId: analysis.isPolicyInvite ? analysis.callChainId : undefined,
    type: analysis.isPolicyInvite ? analysis.type : 'unknown',
    direction: analysis.isPolicyInvite ? analysis.direction : 'unknown',
    outcome: 'inProgress',
    invitedAt: receivedAt.toISOString(),
    recordedUserIds: analysis.isPolicyInvite ? analysis.recordedUserIds : [],
    ...(analysis.isPolicyInvite
      ? {
          meetingId: analysis.meetingId,
          joinWebUrl: analysis.joinWebUrl,
          dialedNumber: analysis.dialedNumber,
          originNumber: analysis.originNumber,
          region: analysis.region,
        }
      : {}),
    recordingStatusHistory: [],
    gaps: [],
  };

  if (!analysis.isPolicyInvite || !isServed(deps.settings.servedTenantIds, tenantId)) {
    const reason = analysis.isPolicyInvite ? 'tenantNotServed' : analysis.reason;
    const record: InteractionRecord = { ...base, outcome: 'notRecordable', outcomeReason: reason };
    if (!(await deps.interactions.createIfAbsent(record, { callState: 'rejected' })))
      return 'noLifecycle';
    const rejected = await deps.graph.reject(
      tenantId,
      callId,
      analysis.isPolicyInvite ? 'forbidden' : 'none',
    );
    log.warn('invite not recordable', { reason, rejectResult: rejected.kind });
    await deps.archive
      .recordInvite(record)
      .catch(() => log.warn('archive intake failed', { step: 'recordInvite' }));
    return 'noLifecycle';
  }

  const extra: Record<string, string> = { callState: 'answering' };
  if (analysis.onBehalfOf?.id !== undefined) extra.onBehalfOfId = analysis.onBehalfOf.id;
  if (analysis.transferor?.id !== undefined) extra.transferorId = analysis.transferor.id;
  // The record insert (which also tells a duplicate delivered to another instance) and the media
  // session are independent: both run at once and the answer waits for both. Creating a session
  // is idempotent per call, so the loser of a duplicate race gets the winner's session back
  // (`isExisting`) and leaves it alone; a session it created itself elsewhere it aborts.
  const region = analysis.region ?? deps.settings.defaultRegion;
  const reserving = deps.pool.reserve(
    {
      callId,
      tenantId,
      interactionId,
      callChainId: analysis.callChainId,
      recordedUserIds: analysis.recordedUserIds,
    },
    region,
  );
  const inserting = deps.interactions
    .createIfAbsent(base, extra)
    .then((isNew) => ({ isNew, at: deps.now() }));
  const abortOwn = async (why: string): Promise<void> => {
    const reserved = await reserving.catch(() => undefined);
    if (reserved?.kind !== 'reserved' || reserved.session.isExisting === true) return;
    await deps.mediaControl
      .abort(
        {
          hostId: reserved.host.hostId,
          controlUrl: reserved.host.controlUrl,
          sessionId: reserved.session.sessionId,
        },
        why,
      )
      .catch(() => undefined);
  };
  let inserted: { isNew: boolean; at: Date };
  try {
    inserted = await inserting;
  } catch (error) {
    await abortOwn('inviteNotRecorded');
    throw error;
  }
  if (!inserted.isNew) {
    await abortOwn('duplicateInvite');
    log.info('duplicate invite ignored');
    return 'notMine';
  }
  const insertedAt = inserted.at;
  const reservation = await reserving;
  if (reservation.kind === 'noCapacity') {
    // Reject at once so a paired recorder can take the call.
    const rejected = await deps.graph.reject(tenantId, callId, 'busy');
    const reason = reservation.hostCount === 0 ? 'noMediaHostRegistered' : 'noMediaHostCapacity';
    const record: InteractionRecord = { ...base, outcome: 'rejectedBusy', outcomeReason: reason };
    await deps.interactions.update(tenantId, interactionId, {
      outcome: 'rejectedBusy',
      outcomeReason: reason,
      callState: 'rejected',
      endedAt: deps.now().toISOString(),
    });
    log.error('invite rejected busy: no media host capacity', {
      reason,
      hostCount: reservation.hostCount,
      staleHosts: reservation.skipped.stale,
      drainingHosts: reservation.skipped.draining,
      fullHosts: reservation.skipped.full,
      failedHosts: reservation.failedHosts,
      rejectResult: rejected.kind,
    });
    await deps.archive
      .recordInvite(record)
      .catch(() => log.warn('archive intake failed', { step: 'recordInvite' }));
    return 'noLifecycle';
  }

  const reservedAt = deps.now();
  const { host, session } = reservation;
  const sessionRef = {
    hostId: host.hostId,
    controlUrl: host.controlUrl,
    sessionId: session.sessionId,
  };
  const answerOptions = {
    callbackUri: `${deps.settings.publicBaseUrl}/api/calling/${encodeURIComponent(callId)}`,
    mediaConfigBlob: session.mediaConfigBlob,
    // A meeting invite may look like a group call until `establishing`: group both.
    ...(analysis.isMultiParty && deps.settings.participantCapacity > 0
      ? { participantCapacity: deps.settings.participantCapacity }
      : {}),
  };
  let answer = await deps.graph.answer(tenantId, callId, answerOptions);
  // One retry fits in Graph's 5 s deadline when the wait is short; longer waits would miss it.
  const elapsedInMs = deps.now().getTime() - receivedAt.getTime();
  const retryInMs =
    answer.kind === 'throttled'
      ? answer.retryAfterInMs
      : answer.kind === 'failed' && answer.isRetryable
        ? 200
        : undefined;
  if (retryInMs !== undefined && elapsedInMs + retryInMs < MAX_ANSWER_RETRY_WAIT_IN_MS) {
    log.warn('answer retried', { kind: answer.kind, retryInMs });
    await deps.sleep(retryInMs);
    answer = await deps.graph.answer(tenantId, callId, answerOptions);
  }
  const answeredAt = deps.now();
  if (answer.kind !== 'ok') {
    await deps.mediaControl.abort(sessionRef, 'answerFailed').catch(() => undefined);
    const reason = `answerFailed:${answer.kind === 'failed' ? answer.status : answer.kind}`;
    await deps.interactions.update(tenantId, interactionId, {
      outcome: 'failed',
      outcomeReason: reason,
      callState: 'ended',
      mediaHostId: host.hostId,
    });
    log.error('answer failed', {
      reason,
      hostId: host.hostId,
      // As for a successful answer: where the time went (a late answer is a common cause).
      answerLatencyInMs: answeredAt.getTime() - receivedAt.getTime(),
      insertInMs: insertedAt.getTime() - receivedAt.getTime(),
      reserveInMs: reservedAt.getTime() - insertedAt.getTime(),
      graphAnswerInMs: answeredAt.getTime() - reservedAt.getTime(),
    });
    await deps.archive
      .recordInvite({ ...base, outcome: 'failed', outcomeReason: reason, mediaHostId: host.hostId })
      .catch(() => log.warn('archive intake failed', { step: 'recordInvite' }));
    return 'noLifecycle';
  }
  log.info('invite answered', {
    hostId: host.hostId,
    sessionId: session.sessionId,
    region: host.region,
    answerLatencyInMs: answeredAt.getTime() - receivedAt.getTime(),
    // Where the time went: record insert, media session, Graph answer.
    insertInMs: insertedAt.getTime() - receivedAt.getTime(),
    reserveInMs: reservedAt.getTime() - insertedAt.getTime(),
    graphAnswerInMs: answeredAt.getTime() - reservedAt.getTime(),
    type: base.type,
  });

  const input: CallLifecycleInput = {
    callId,
    tenantId,
    interactionId,
    session: sessionRef,
    answeredAt: answeredAt.toISOString(),
    settings: deps.settings.lifecycle,
  };
  // Independent of each other, and all done before the invite's 202 (a sender that delivers a
  // call's notifications one after another, as the simulator does, holds `established` until
  // then): at once.
  const [started] = await Promise.all([
    deps
      .lifecycle(context)
      .start(OrchestratorNames.callLifecycle, lifecycleInstanceId(callId), input),
    deps.interactions.update(tenantId, interactionId, {
      answeredAt: answeredAt.toISOString(),
      mediaHostId: host.hostId,
      mediaSessionId: session.sessionId,
      region: host.region,
      callState: 'answered',
    }),
    deps.archive
      .recordInvite({
        ...base,
        answeredAt: answeredAt.toISOString(),
        mediaHostId: host.hostId,
        region: host.region,
      })
      .catch(() => log.warn('archive intake failed', { step: 'recordInvite' })),
  ]);
  if (started === 'alreadyExists') log.warn('lifecycle already existed for a new invite');
  return 'lifecycle';
}

/**
 * `POST /api/calling` and `POST /api/calling/{callId}`: Graph calling notifications.
 * Verifies the bearer JWT (401, nothing stored, rate-limited log line), parses tolerantly (400
 * problem body for a malformed body), answers policy invites on the fast path inside this request
 * (Durable queue polling would cost seconds of Graph's 5 s deadline; `domain/invite-fast-path`),
 * starts recording on `established` inside this request (`domain/recording-start-fast-path`),
 * forwards the other notifications the lifecycle acts on to the call's lifecycle orchestration,
 * and replies 202. Duplicate deliveries and duplicate invites have no second effect.
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
} from '@attest/core';
import type { ArchiveIntake } from '../domain/archive-intake';
import {
  CALL_EVENT_NAME,
  LIFECYCLE_CALL_STATES,
  type CallEvent,
  type CallLifecycleSettings,
  type MeetingFacts,
} from '../domain/call-lifecycle.contract';
import { handleInvite } from '../domain/invite-fast-path';
import { joiningUserOf, withJoinedUser, withLeftUser } from '../domain/recorded-user-joins';
import type { MediaHostPool } from '../domain/media-host-pool';
import type { PairedInteractionStore } from '../domain/paired-captures';
import {
  startRecordingOnEstablished,
  type RecordingStartOptions,
} from '../domain/recording-start-fast-path';
import type {
  GraphCalls,
  InteractionStore,
  KnownInteractionRow,
  LifecycleClient,
  MediaHostControl,
} from '../domain/recorder-ports';
import type { TokenVerifier } from '../domain/token-verifier';
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
  /** The recording-status fast path's retry budget (see `RecordingStartOptions`). */
  readonly recordingStart?: RecordingStartOptions;
}

export interface CallingWebhookDeps {
  readonly verifier: TokenVerifier;
  readonly graph: GraphCalls;
  readonly pool: MediaHostPool;
  readonly mediaControl: MediaHostControl;
  readonly interactions: InteractionStore;
  readonly archive: ArchiveIntake;
  /** Paired recorders' interactions (absent: every leg is its own interaction). */
  readonly pairs?: PairedInteractionStore;
  readonly lifecycle: (context: InvocationContext) => LifecycleClient;
  readonly settings: CallingWebhookSettings;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** Shared across invocations so auth failures are logged at most once per window. */
  readonly authFailureLog: RateLimitedLog;
}

/** How many calls handled here without a lifecycle are remembered (oldest forgotten first). */
const MAX_REMEMBERED_UNTRACKED_CALLS = 10_000;

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
  // Rows of calls this instance answered, as it last wrote them (with the ETag): `established`
  // claims the recording start against that ETag without reading the row (one storage round trip
  // less on the way to the recording status). Used once; a row written since is read as usual.
  const answeredHere = new Map<string, KnownInteractionRow>();
  const rememberAnswered = (callId: string, known: KnownInteractionRow): void => {
    answeredHere.set(callId, known);
    if (answeredHere.size > MAX_REMEMBERED_UNTRACKED_CALLS)
      answeredHere.delete(answeredHere.keys().next().value as string);
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
          deps.lifecycle(context),
          notification,
          callId,
          auth.token.tenantId,
          receivedAt,
          callLog,
          (known) => rememberAnswered(callId, known),
        );
        const settled = handling.then(
          () => undefined,
          () => undefined,
        );
        if (!invitesInFlight.has(callId)) invitesInFlight.set(callId, settled);
        try {
          if ((await handling) === 'noLifecycle') rememberUntracked(callId);
        } finally {
          if (invitesInFlight.get(callId) === settled) invitesInFlight.delete(callId);
        }
        continue;
      }
      if (notification.kind === 'participantJoining') {
        // Further policy users of this call join the existing recording (participantCapacity).
        // The user becomes a recorded user: on the row now (live listings), and through the
        // lifecycle, which owns the final record.
        joiningResponse = { '@odata.type': '#microsoft.graph.acceptJoinResponse' };
        await recordJoiningUser(deps, notification, auth.token.tenantId, receivedAt, callLog);
      }
      if (notification.kind === 'participantLeft' && notification.participantId !== undefined) {
        await recordLeftUser(
          deps,
          callId,
          notification.participantId,
          auth.token.tenantId,
          receivedAt,
          callLog,
        );
      }
      const meeting =
        notification.kind === 'call' && notification.changeType === 'updated'
          ? await recordMeetingFacts(
              deps,
              notification,
              callId,
              auth.token.tenantId,
              callLog,
              (etag) => {
                const known = answeredHere.get(callId);
                if (known !== undefined) answeredHere.set(callId, { ...known, etag });
              },
            )
          : undefined;
      const event = withMeeting(toCallEvent(notification, receivedAt, messageId), meeting);
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
      const known = answeredHere.get(callId);
      const forwarded = await withRecordingStart(
        deps,
        notification,
        event,
        auth.token.tenantId,
        callLog,
        known,
      );
      // Used once: a later `established` (a duplicate) reads the row; an ended call needs none.
      if (event.kind === 'callState' && /^(established|terminated)$/i.test(event.state))
        answeredHere.delete(callId);
      const outcome = await forwardEvent(deps, callId, forwarded, callLog, context);
      if (outcome === 'unavailable' && event.kind === 'recordedUserJoined') {
        // Refusing the join would leave the user out of the call or unrecorded; the row has them.
        callLog.error('joining user not handed to the lifecycle; only the live row has them');
        continue;
      }
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

/**
 * The joining user becomes a recorded user of the interaction, with the start of their presence.
 * The join is accepted either way (refusing it would leave the user unrecorded or out of the
 * call); a failed write is an error: that user's search and scope would miss the call.
 */
async function recordJoiningUser(
  deps: CallingWebhookDeps,
  notification: Extract<CommsNotification, { kind: 'participantJoining' }>,
  tenantId: string,
  receivedAt: Date,
  log: StructuredLog,
): Promise<void> {
  const joining = joiningUserOf(notification.entity);
  if (notification.callId === undefined || joining === undefined) {
    log.warn('participant joining names no user; accepted, no recorded user added');
    return;
  }
  const at = receivedAt.toISOString();
  try {
    const result = await deps.interactions.modify(
      tenantId,
      interactionIdForCall(notification.callId),
      (row) => withJoinedUser(row, joining, at),
    );
    if (result === 'absent' || result === 'conflict')
      log.error('joining user not added to the recorded users', { result });
    else log.info('participant joining accepted', { result });
  } catch {
    log.error('joining user not added to the recorded users', { result: 'storageFailed' });
  }
}

/** Ends the presence of a joined recorded user who left (nothing when the leaver was not one). */
async function recordLeftUser(
  deps: CallingWebhookDeps,
  callId: string,
  participantId: string,
  tenantId: string,
  receivedAt: Date,
  log: StructuredLog,
): Promise<void> {
  const at = receivedAt.toISOString();
  try {
    const result = await deps.interactions.modify(tenantId, interactionIdForCall(callId), (row) =>
      withLeftUser(row, participantId, at),
    );
    if (result === 'updated') log.info('joined recorded user left');
  } catch {
    log.warn('joined recorded user left; end of presence not recorded');
  }
}

/**
 * A meeting leg reveals itself on `establishing` (chatInfo, organizerMeetingInfo): refine the row
 * (live listings) and return the facts, which the lifecycle gets too (it owns the final record).
 */
async function recordMeetingFacts(
  deps: CallingWebhookDeps,
  notification: CallNotification,
  callId: string,
  tenantId: string,
  log: StructuredLog,
  onWritten: (etag: string) => void,
): Promise<MeetingFacts | undefined> {
  const facts = meetingFactsOf(notification.call);
  if (!facts.isMeeting) return undefined;
  await deps.interactions
    .update(tenantId, interactionIdForCall(callId), {
      type: 'meeting',
      meetingId: facts.meetingId,
      joinWebUrl: facts.joinWebUrl,
    })
    .then((etag) => {
      if (etag !== undefined) onWritten(etag);
      log.info('interaction identified as meeting');
    })
    .catch(() => log.warn('meeting facts not recorded'));
  return { meetingId: facts.meetingId, joinWebUrl: facts.joinWebUrl };
}

/**
 * Meeting facts travel with the lifecycle's `callState` event; an update the lifecycle does not
 * act on (`establishing`) becomes a `meeting` event instead, so the facts are not lost.
 */
function withMeeting(
  event: CallEvent | undefined,
  meeting: MeetingFacts | undefined,
): CallEvent | undefined {
  if (event?.kind !== 'callState' || meeting === undefined) return event;
  if (LIFECYCLE_CALL_STATES.has(event.state)) return { ...event, meeting };
  return { deliveryId: event.deliveryId, at: event.at, kind: 'meeting', meeting };
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
    case 'participantJoining': {
      const joining = joiningUserOf(notification.entity);
      return joining === undefined
        ? undefined
        : { ...base, kind: 'recordedUserJoined', ...joining };
    }
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
 * On `established`, the recording-status fast path; its report replaces the `established` event
 * (one raise, one lifecycle episode). When another instance holds the claim or the call's
 * lifecycle predates the fast path, `established` goes to the lifecycle as it came. A failure of
 * the fast path itself (storage down) leaves the recording start to the lifecycle as well.
 */
async function withRecordingStart(
  deps: CallingWebhookDeps,
  notification: CommsNotification,
  event: CallEvent,
  tokenTenantId: string,
  log: StructuredLog,
  known: KnownInteractionRow | undefined,
): Promise<CallEvent> {
  if (
    notification.kind !== 'call' ||
    event.kind !== 'callState' ||
    event.state.toLowerCase() !== 'established' ||
    notification.callId === undefined
  )
    return event;
  const callTenant = notification.call.tenantId;
  try {
    const started = await startRecordingOnEstablished(
      {
        graph: deps.graph,
        media: deps.mediaControl,
        interactions: deps.interactions,
        now: deps.now,
        sleep: deps.sleep,
        options: deps.settings.recordingStart,
      },
      {
        tenantId: typeof callTenant === 'string' ? callTenant : tokenTenantId,
        callId: notification.callId,
      },
      new Date(event.at),
      log,
      known,
    );
    return started.kind === 'reported'
      ? {
          kind: 'recordingStart',
          deliveryId: `${event.deliveryId}-rs`,
          at: deps.now().toISOString(),
          ...started.report,
        }
      : event;
  } catch {
    log.warn('recording start fast path failed; left to the lifecycle');
    return event;
  }
}

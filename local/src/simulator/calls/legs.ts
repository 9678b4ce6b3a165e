/**
 * Recorder legs: a leg is created by an invite, answered (or rejected, redirected, timed out),
 * established, kept alive and terminated; the Graph actions a recorder calls on its leg land here,
 * and so does the media stream that starts once it reports `recording`.
 */
import { randomUUID } from 'node:crypto';
import { MediaStreamer, parseMediaConfigBlob } from '../media/media-streamer';
import type { ApplicationInstance, BotRegistration } from '../policy/model';
import {
  notFound,
  type ActionError,
  type ActionResult,
  type BotLeg,
  type CallContext,
  type Conversation,
  type ParticipantState,
} from './call-model';
import type { LegNotices } from './notices';
import { mediaScriptOf } from './roster';
import { ResultCodes, type ResultInfo } from './shapes';

/** What a change of a leg means for the rest of the conversation. */
export interface LegHooks {
  /** Re-decides the policy users whose recording depends on the leg. */
  readonly legChanged: (conv: Conversation, leg: BotLeg) => void;
  /** The leg reports `recording`: participants see the recording notice. */
  readonly recordingStarted: (conv: Conversation) => void;
  /** The recorder removed a participant. */
  readonly removeParticipant: (conv: Conversation, p: ParticipantState, reason: string) => void;
}

export interface AnswerBody {
  callbackUri?: string;
  mediaConfig?: { blob?: string | null };
  participantCapacity?: number | null;
  callOptions?: { isDeltaRosterEnabled?: boolean | null } | null;
}

export class RecorderLegs {
  readonly #ctx: CallContext;
  readonly #notices: LegNotices;
  readonly #hooks: LegHooks;

  constructor(ctx: CallContext, notices: LegNotices, hooks: LegHooks) {
    this.#ctx = ctx;
    this.#notices = notices;
    this.#hooks = hooks;
  }

  /** A new leg inviting `instance` to record `p`; its answer deadline starts now. */
  create(
    conv: Conversation,
    p: ParticipantState,
    instance: ApplicationInstance,
    bot: BotRegistration,
    slot: number,
  ): BotLeg {
    const ctx = this.#ctx;
    const myParticipantId = randomUUID();
    const leg: BotLeg = {
      callId: randomUUID(),
      conversationId: conv.id,
      instance,
      bot,
      slot,
      myParticipantId,
      targetParticipantId: ctx.behaviour.targetIdEqualsMyParticipantId
        ? myParticipantId
        : randomUUID(),
      observedParticipantIds: [p.participantId],
      invitedAtMs: ctx.now(),
      state: 'incoming',
      outcome: 'pending',
      webhookUrl: bot.callingWebhookUrl,
      recordingStatus: 'unknown',
      recordingHistory: [],
      chain: Promise.resolve(),
      operations: new Map(),
      isDeltaRoster: false,
      rosterSnapshot: new Map(),
      rosterSequence: 0,
    };
    ctx.legs.set(leg.callId, leg);
    conv.legIds.push(leg.callId);
    leg.cancelDeadline = ctx.deps.clock.schedule(
      leg.invitedAtMs + ctx.behaviour.answerDeadlineInMs,
      () => this.#onDeadline(leg.callId),
    );
    ctx.event(conv, 'invited', {
      participantId: p.participantId,
      callId: leg.callId,
      detail: instance.id,
    });
    ctx.deps.log('info', 'recorder invited', {
      callId: leg.callId,
      callChainId: conv.chainId,
      applicationInstanceId: instance.id,
      slot,
    });
    return leg;
  }

  /** Ends a leg; `notify` sends terminating + terminated (deleted) with the result. Idempotent. */
  terminate(conv: Conversation, leg: BotLeg, result: ResultInfo, notify: boolean): void {
    if (leg.state === 'terminated') return;
    const wasEstablished = leg.state === 'established';
    leg.state = 'terminated';
    leg.terminatedResult = result;
    leg.terminatedAtMs = this.#ctx.now();
    leg.cancelDeadline?.();
    leg.cancelKeepAlive?.();
    this.#ctx.event(conv, 'legTerminated', {
      callId: leg.callId,
      detail: `${result.code}/${result.subcode}`,
    });
    void leg.media?.stop();
    if (notify) this.#notices.terminated(conv, leg, result, wasEstablished);
  }

  /** Ends the leg and re-decides the policy users who depend on it. */
  lose(conv: Conversation, leg: BotLeg, result: ResultInfo, notify = true): void {
    this.terminate(conv, leg, result, notify);
    this.#hooks.legChanged(conv, leg);
  }

  // ---------------------------------------------------------------- Graph actions

  answer(callId: string, appId: string, body: AnswerBody): ActionResult {
    const ctx = this.#ctx;
    const found = this.#open(callId, appId);
    if ('kind' in found) return found;
    const { leg, conv } = found;
    if (leg.outcome !== 'pending')
      return conflict('The call has already been answered, rejected or redirected.');
    const active = [...ctx.legs.values()].filter(
      (l) => l.bot.appId === appId && l.outcome === 'accepted' && l.state !== 'terminated',
    ).length;
    if (active >= ctx.behaviour.maxConcurrentCallsPerApp) {
      return {
        kind: 'error',
        status: 429,
        code: 'TooManyRequests',
        message: `The application reached its limit of ${ctx.behaviour.maxConcurrentCallsPerApp} concurrent calls.`,
        retryAfterInS: 5,
      };
    }
    leg.outcome = 'accepted';
    leg.answeredAtMs = ctx.now();
    leg.cancelDeadline?.();
    if (body.callbackUri) leg.callbackUri = body.callbackUri;
    if (typeof body.participantCapacity === 'number')
      leg.participantCapacity = body.participantCapacity;
    if (typeof body.mediaConfig?.blob === 'string') leg.mediaConfigBlob = body.mediaConfig.blob;
    leg.isDeltaRoster = body.callOptions?.isDeltaRosterEnabled === true;
    ctx.event(conv, 'answered', { callId, detail: `${leg.answeredAtMs - leg.invitedAtMs} ms` });
    ctx.deps.log('info', 'recorder answered', {
      callId,
      callChainId: conv.chainId,
      latencyInMs: leg.answeredAtMs - leg.invitedAtMs,
    });
    const delayInMs = conv.spec.delivery?.establishAfterInMs;
    if (delayInMs === undefined) setImmediate(() => this.#establish(conv, leg));
    else
      conv.timers.push(
        ctx.deps.clock.schedule(ctx.now() + delayInMs, () => this.#establish(conv, leg)),
      );
    return { kind: 'ok', status: 202 };
  }

  reject(callId: string, appId: string, reason: string): ActionResult {
    const found = this.#open(callId, appId);
    if ('kind' in found) return found;
    const { leg, conv } = found;
    if (leg.outcome !== 'pending') return conflict('Only an incoming call can be rejected.');
    leg.outcome = 'rejected';
    this.#ctx.event(conv, 'rejected', { callId, detail: reason });
    this.lose(conv, leg, ResultCodes.rejectedByBot, false);
    return { kind: 'ok', status: 202 };
  }

  redirect(callId: string, appId: string): ActionResult {
    const found = this.#open(callId, appId);
    if ('kind' in found) return found;
    const { leg, conv } = found;
    if (leg.outcome !== 'pending') return conflict('Only an incoming call can be redirected.');
    // A policy invite redirected elsewhere never puts this recorder in the call.
    leg.outcome = 'redirected';
    this.#ctx.event(conv, 'redirected', { callId });
    this.lose(conv, leg, ResultCodes.removedFromConversation, false);
    return { kind: 'ok', status: 202 };
  }

  keepAlive(callId: string, appId: string): ActionResult {
    const found = this.#open(callId, appId);
    if ('kind' in found) return found;
    const { leg, conv } = found;
    if (leg.outcome !== 'accepted') return notFound(`Call ${callId}`);
    leg.lastKeepAliveAtMs = this.#ctx.now();
    this.#scheduleKeepAlive(conv, leg);
    return { kind: 'ok', status: 200 };
  }

  hangUp(callId: string, appId: string): ActionResult {
    const found = this.#open(callId, appId);
    if ('kind' in found) return found;
    const { leg, conv } = found;
    if (leg.outcome === 'pending') leg.outcome = 'rejected';
    this.#ctx.event(conv, 'recorderHungUp', { callId });
    this.lose(conv, leg, ResultCodes.endedByBot);
    return { kind: 'ok', status: 204 };
  }

  removeParticipant(callId: string, appId: string, participantId: string): ActionResult {
    const found = this.#open(callId, appId);
    if ('kind' in found) return found;
    const { leg, conv } = found;
    if (leg.state !== 'established') return notFound(`Call ${callId}`);
    if (participantId === leg.myParticipantId) return this.hangUp(callId, appId);
    const p = conv.participants.find((x) => x.participantId === participantId && x.isPresent);
    if (p === undefined) return notFound(`Participant ${participantId}`);
    this.#ctx.event(conv, 'participantRemovedByRecorder', { callId, participantId });
    p.statusReason = 'removedByRecorder';
    this.#hooks.removeParticipant(conv, p, 'removedByRecorder');
    return { kind: 'ok', status: 204 };
  }

  updateRecordingStatus(
    callId: string,
    appId: string,
    body: { status?: string | null; clientContext?: string | null },
  ): ActionResult {
    const ctx = this.#ctx;
    const found = this.#open(callId, appId);
    if ('kind' in found) return found;
    const { leg, conv } = found;
    if (leg.state !== 'established')
      return {
        kind: 'error',
        status: 400,
        code: 'BadRequest',
        message: 'The call is not established.',
      };
    const status = (body.status ?? '') as BotLeg['recordingStatus'];
    leg.recordingStatus = status;
    leg.recordingHistory.push({ status, at: ctx.iso() });
    ctx.event(conv, 'recordingStatus', { callId, detail: status });
    const operationId = randomUUID();
    const response = {
      '@odata.type': '#microsoft.graph.updateRecordingStatusOperation',
      clientContext: body.clientContext ?? null,
      id: operationId,
      resultInfo: null,
      status: 'completed',
    };
    leg.operations.set(operationId, response);
    if (status === 'recording') {
      this.#hooks.recordingStarted(conv);
      this.#notices.roster(conv, leg);
      setImmediate(() => void this.#startMedia(conv, leg));
    } else if (status === 'failed' && ctx.behaviour.failedStatusEndsLeg) {
      setImmediate(() => this.lose(conv, leg, ResultCodes.recordingFailed));
    } else {
      this.#notices.roster(conv, leg);
    }
    return {
      kind: 'ok',
      status: 200,
      body: response,
      headers: {
        location: `${ctx.deps.baseUrl()}/v1.0/communications/calls/${callId}/operations/${operationId}`,
      },
    };
  }

  /** `GET …/operations/{id}`: the operations this leg's updateRecordingStatus calls created. */
  getOperation(callId: string, appId: string, operationId: string): ActionResult {
    const found = this.#ofApp(callId, appId);
    if ('kind' in found) return found;
    const operation = found.operations.get(operationId);
    return operation
      ? { kind: 'ok', status: 200, body: operation }
      : notFound(`Operation ${operationId}`);
  }

  // ---------------------------------------------------------------- leg lifecycle

  #onDeadline(callId: string): void {
    const ctx = this.#ctx;
    const leg = ctx.legs.get(callId);
    if (leg === undefined || leg.outcome !== 'pending') return;
    const conv = ctx.conversations.get(leg.conversationId);
    if (conv === undefined) return;
    leg.outcome = 'timedOut';
    ctx.event(conv, 'inviteTimedOut', { callId });
    ctx.deps.log('warn', 'recorder did not answer within the deadline', {
      callId,
      callChainId: conv.chainId,
    });
    this.lose(conv, leg, ResultCodes.inviteNotAnswered);
  }

  #establish(conv: Conversation, leg: BotLeg): void {
    if (leg.state === 'terminated' || conv.state !== 'active') return;
    leg.state = 'established';
    leg.lastKeepAliveAtMs = this.#ctx.now();
    this.#scheduleKeepAlive(conv, leg);
    this.#notices.established(conv, leg);
    this.#hooks.legChanged(conv, leg);
    this.#notices.roster(conv, leg);
  }

  #scheduleKeepAlive(conv: Conversation, leg: BotLeg): void {
    const ctx = this.#ctx;
    leg.cancelKeepAlive?.();
    leg.cancelKeepAlive = ctx.deps.clock.schedule(
      (leg.lastKeepAliveAtMs ?? ctx.now()) + ctx.behaviour.keepAliveTimeoutInMs,
      () => {
        if (leg.state === 'terminated') return;
        ctx.event(conv, 'keepAliveTimeout', { callId: leg.callId });
        ctx.deps.log('warn', 'recorder leg ended: no keepAlive within the timeout', {
          callId: leg.callId,
          callChainId: conv.chainId,
        });
        this.lose(conv, leg, ResultCodes.keepAliveTimeout);
      },
    );
  }

  async #startMedia(conv: Conversation, leg: BotLeg): Promise<void> {
    const ctx = this.#ctx;
    if (
      ctx.isClosed ||
      leg.media !== undefined ||
      leg.state !== 'established' ||
      leg.mediaConfigBlob === undefined
    )
      return;
    const blob = parseMediaConfigBlob(leg.mediaConfigBlob);
    if (blob === undefined) {
      leg.mediaError = 'media config blob is not a v1 Attest media config';
      ctx.event(conv, 'mediaFailed', { callId: leg.callId, detail: leg.mediaError });
      return;
    }
    const media = new MediaStreamer({
      callId: leg.callId,
      blob,
      script: mediaScriptOf(conv),
      startOffsetInMs: ctx.now() - conv.startedAtMs,
      callStart100ns: BigInt(conv.startedAtMs) * 10_000n,
      pacing: ctx.behaviour.mediaPacing,
      log: ctx.deps.log,
      withVideo: ctx.behaviour.streamVideo,
      ...(ctx.behaviour.mediaCa !== undefined ? { ca: ctx.behaviour.mediaCa } : {}),
    });
    leg.media = media;
    try {
      await media.start();
      ctx.event(conv, 'mediaConnected', { callId: leg.callId });
      // The simulator may have closed while the connection was being made.
      if (ctx.isClosed) await media.stop();
    } catch (err) {
      leg.mediaError = err instanceof Error ? err.message : 'media connection failed';
      ctx.event(conv, 'mediaFailed', { callId: leg.callId, detail: leg.mediaError });
    }
  }

  // ---------------------------------------------------------------- lookups

  /** The leg, if it exists and belongs to the calling application. */
  #ofApp(callId: string, appId: string): BotLeg | ActionError {
    const leg = this.#ctx.legs.get(callId);
    if (leg === undefined) return notFound(`Call ${callId}`);
    if (leg.bot.appId !== appId)
      return {
        kind: 'error',
        status: 403,
        code: 'Forbidden',
        message: 'The application is not a participant of this call.',
      };
    return leg;
  }

  /** The calling application's leg with its conversation, while the leg is not terminated. */
  #open(callId: string, appId: string): { leg: BotLeg; conv: Conversation } | ActionError {
    const leg = this.#ofApp(callId, appId);
    if ('kind' in leg) return leg;
    const conv = this.#ctx.conversations.get(leg.conversationId);
    if (conv === undefined || leg.state === 'terminated') return notFound(`Call ${callId}`);
    return { leg, conv };
  }
}

function conflict(message: string): ActionResult {
  return { kind: 'error', status: 409, code: 'Conflict', message };
}

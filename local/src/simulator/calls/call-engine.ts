/**
 * The simulated Teams calling service: runs conversations from call specs, evaluates the
 * compliance policy for every policy user who joins, invites recorders, enforces the answer
 * deadline, the `Required*` flags, keepAlive and recording notices, delivers state and roster
 * notifications, and streams media once recording is confirmed. All time comes from a SimClock.
 *
 * This class is the facade the Graph API and the control API call. The work is done by
 * `conversations.ts` (participants and timelines), `recorder-admission.ts` (policy at join and
 * on loss), `legs.ts` (recorder legs and their Graph actions), `notices.ts` (webhook
 * notifications) and `roster.ts` (pure roster and media-script rules).
 */
import type { MediaScript } from '../media/media-streamer';
import type { CallSpec, TimelineAction } from '../scenarios/scenario';
import type { DeliveryRecord } from '../webhook/deliverer';
import {
  CallContext,
  type ActionResult,
  type BotLeg,
  type EngineBehaviour,
  type EngineDeps,
} from './call-model';
import { Conversations } from './conversations';
import { RecorderLegs, type AnswerBody } from './legs';
import { LegNotices } from './notices';
import { outcomeOf } from './outcome';
import { RecorderAdmission } from './recorder-admission';
import { mediaScriptOf } from './roster';

export {
  DEFAULT_BEHAVIOUR,
  UserStatus,
  type ActionResult,
  type BotLeg,
  type EngineBehaviour,
  type EngineDeps,
} from './call-model';

export class CallEngine {
  readonly #ctx: CallContext;
  readonly #notices: LegNotices;
  readonly #legs: RecorderLegs;
  readonly #conversations: Conversations;

  constructor(deps: EngineDeps) {
    const ctx = (this.#ctx = new CallContext(deps));
    this.#notices = new LegNotices(ctx);
    // The parts call each other back through these closures (admission admits participants,
    // a lost leg re-decides admission); the modules themselves import only downwards.
    const legs = new RecorderLegs(ctx, this.#notices, {
      legChanged: (conv, leg) => admission.legChanged(conv, leg),
      recordingStarted: (conv) => {
        for (const p of conv.participants) conversations.showNotice(conv, p);
      },
      removeParticipant: (conv, p, reason) => conversations.remove(conv, p, reason),
    });
    const conversations = new Conversations(ctx, this.#notices, legs, () => admission);
    const admission = new RecorderAdmission(ctx, this.#notices, legs, {
      admit: (conv, p) => conversations.admit(conv, p),
      remove: (conv, p, endReason) => conversations.remove(conv, p, endReason),
    });
    this.#legs = legs;
    this.#conversations = conversations;
  }

  get behaviour(): EngineBehaviour {
    return this.#ctx.behaviour;
  }

  setBehaviour(patch: Partial<EngineBehaviour>): void {
    this.#ctx.behaviour = { ...this.#ctx.behaviour, ...patch };
  }

  // ---------------------------------------------------------------- conversations

  /** Starts a conversation; invites are sent asynchronously. Throws on an unknown tenant. */
  startCall(spec: CallSpec): string {
    return this.#conversations.start(spec);
  }

  /** Ends the whole conversation (idempotent). `reason`: completed, blocked, droppedByPolicy, endedByControl. */
  endConversation(conversationId: string, reason: string): boolean {
    return this.#conversations.end(conversationId, reason);
  }

  /**
   * Applies a timeline action to participant `index` now (control API), as if scripted at this
   * offset; `speak` needs `durationInMs`.
   */
  act(
    conversationId: string,
    index: number,
    action: TimelineAction,
    durationInMs?: number,
  ): boolean {
    return this.#conversations.act(conversationId, index, action, durationInMs);
  }

  /** Who speaks and shows video when, derived from the scripted timelines and removals. */
  mediaScript(conversationId: string): MediaScript {
    const conv = this.#ctx.conversations.get(conversationId);
    if (conv === undefined) throw new Error(`unknown conversation ${conversationId}`);
    return mediaScriptOf(conv);
  }

  // ---------------------------------------------------------------- Graph actions

  getLeg(callId: string): BotLeg | undefined {
    return this.#ctx.legs.get(callId);
  }

  answer(callId: string, appId: string, body: AnswerBody): ActionResult {
    return this.#legs.answer(callId, appId, body);
  }

  /** `GET …/operations/{id}`: the operations this leg's updateRecordingStatus calls created. */
  getOperation(callId: string, appId: string, operationId: string): ActionResult {
    return this.#legs.getOperation(callId, appId, operationId);
  }

  reject(callId: string, appId: string, reason: string): ActionResult {
    return this.#legs.reject(callId, appId, reason);
  }

  redirect(callId: string, appId: string): ActionResult {
    return this.#legs.redirect(callId, appId);
  }

  keepAlive(callId: string, appId: string): ActionResult {
    return this.#legs.keepAlive(callId, appId);
  }

  hangUp(callId: string, appId: string): ActionResult {
    return this.#legs.hangUp(callId, appId);
  }

  removeParticipant(callId: string, appId: string, participantId: string): ActionResult {
    return this.#legs.removeParticipant(callId, appId, participantId);
  }

  updateRecordingStatus(
    callId: string,
    appId: string,
    body: { status?: string | null; clientContext?: string | null },
  ): ActionResult {
    return this.#legs.updateRecordingStatus(callId, appId, body);
  }

  // ---------------------------------------------------------------- control-plane views

  /** Injects a raw notification body for delivery to a leg's current notification URL. */
  async injectRaw(callId: string, rawBody: string): Promise<DeliveryRecord | undefined> {
    const leg = this.#ctx.legs.get(callId);
    const conv = leg && this.#ctx.conversations.get(leg.conversationId);
    if (leg === undefined || conv === undefined) return undefined;
    return this.#notices.injectRaw(conv, leg, rawBody);
  }

  listConversations(): unknown[] {
    return [...this.#ctx.conversations.keys()].map((id) => this.outcome(id));
  }

  /** Everything a test or the CLI needs to judge what Teams would have done. */
  outcome(conversationId: string): Record<string, unknown> | undefined {
    const conv = this.#ctx.conversations.get(conversationId);
    return conv === undefined ? undefined : outcomeOf(this.#ctx, conv);
  }

  /** Stops media and timers of every conversation (simulator shutdown). */
  async close(): Promise<void> {
    const ctx = this.#ctx;
    ctx.isClosed = true;
    for (const conv of ctx.conversations.values()) for (const cancel of conv.timers) cancel();
    const legs = [...ctx.legs.values()];
    for (const leg of legs) {
      leg.cancelDeadline?.();
      leg.cancelKeepAlive?.();
    }
    await Promise.all(legs.map((leg) => leg.media?.stop() ?? Promise.resolve()));
    await Promise.all(legs.map((leg) => leg.chain.then(() => undefined)));
  }
}

/**
 * Conversations and their participants: start a conversation from its call spec, play each
 * participant's timeline (join, leave, lobby admit, mute, video, share), admit and remove
 * participants, show recording notices, and end the conversation. Policy users go through
 * recorder admission before they are in.
 */
import { randomUUID } from 'node:crypto';
import { playsAudioNotice } from '../policy/policy-engine';
import type { CallSpec, TimelineAction } from '../scenarios/scenario';
import {
  UserStatus,
  isOneToOne,
  type CallContext,
  type Conversation,
  type ParticipantState,
} from './call-model';
import type { RecorderLegs } from './legs';
import type { LegNotices } from './notices';
import type { RecorderAdmission } from './recorder-admission';
import { createParticipant, joinAt } from './roster';
import { ResultCodes } from './shapes';

export class Conversations {
  readonly #ctx: CallContext;
  readonly #notices: LegNotices;
  readonly #legs: RecorderLegs;
  readonly #admission: () => RecorderAdmission;

  /** `admission` is read when first needed: it is built after this (it admits through it). */
  constructor(
    ctx: CallContext,
    notices: LegNotices,
    legs: RecorderLegs,
    admission: () => RecorderAdmission,
  ) {
    this.#ctx = ctx;
    this.#notices = notices;
    this.#legs = legs;
    this.#admission = admission;
  }

  /** Starts a conversation; invites are sent asynchronously. Throws on an unknown tenant. */
  start(spec: CallSpec): string {
    const ctx = this.#ctx;
    const directory = ctx.deps.directory();
    const tenant = directory.tenants.find((t) => t.id === spec.tenantId);
    if (tenant === undefined)
      throw new Error(`call.tenantId names unknown tenant ${spec.tenantId}`);
    const conv: Conversation = {
      id: randomUUID(),
      chainId: randomUUID(),
      spec,
      tenant,
      startedAtMs: ctx.now(),
      threadId: `19:meeting_${randomUUID().replace(/-/g, '').slice(0, 24)}@thread.v2`,
      participants: spec.participants.map((p, index) => createParticipant(tenant, p, index)),
      groups: [],
      legIds: [],
      timers: [],
      events: [],
      state: 'active',
    };
    ctx.conversations.set(conv.id, conv);
    ctx.event(conv, 'started', {});
    ctx.deps.log('info', 'conversation started', {
      conversationId: conv.id,
      callChainId: conv.chainId,
      kind: spec.kind,
    });
    const at = (offsetInMs: number, fn: () => void): void => {
      conv.timers.push(ctx.deps.clock.schedule(conv.startedAtMs + offsetInMs, fn));
    };
    for (const p of conv.participants) {
      if (joinAt(p) === 0) this.#join(conv, p);
      for (const e of p.spec.timeline ?? []) {
        if (e.atInMs === 0 && e.action === 'join') continue;
        if (e.atInMs === 0) this.#applyTimeline(conv, p, e.action);
        else at(e.atInMs, () => this.#applyTimeline(conv, p, e.action));
      }
    }
    const dropAt = spec.delivery?.dropRecorderAtInMs;
    if (dropAt !== undefined) at(dropAt, () => this.#dropRecorders(conv));
    const dropOneAt = spec.delivery?.dropOneRecorderAtInMs;
    if (dropOneAt !== undefined) at(dropOneAt, () => this.#dropRecorders(conv, 1));
    if (spec.durationInMs !== undefined) {
      conv.endOffsetInMs = spec.durationInMs;
      at(spec.durationInMs, () => this.end(conv.id, 'completed'));
    }
    return conv.id;
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
    const ctx = this.#ctx;
    const conv = ctx.conversations.get(conversationId);
    const p = conv?.participants[index];
    if (conv === undefined || p === undefined || conv.state !== 'active') return false;
    const atInMs = ctx.now() - conv.startedAtMs;
    p.runtimeTimeline.push({
      atInMs,
      action,
      ...(durationInMs !== undefined ? { durationInMs } : {}),
    });
    ctx.event(conv, `control:${action}`, { participantId: p.participantId });
    this.#applyTimeline(conv, p, action);
    return true;
  }

  /** Ends the whole conversation (idempotent). `reason`: completed, blocked, droppedByPolicy, endedByControl. */
  end(conversationId: string, reason: string): boolean {
    const ctx = this.#ctx;
    const conv = ctx.conversations.get(conversationId);
    if (conv === undefined || conv.state === 'ended') return false;
    conv.state = 'ended';
    conv.endReason = reason;
    conv.endedAtMs = ctx.now();
    conv.endOffsetInMs = Math.min(
      conv.endOffsetInMs ?? Number.MAX_SAFE_INTEGER,
      conv.endedAtMs - conv.startedAtMs,
    );
    for (const cancel of conv.timers) cancel();
    for (const leg of ctx.legsOf(conv)) {
      if (leg.outcome === 'pending') leg.outcome = 'timedOut';
      this.#legs.terminate(conv, leg, ResultCodes.conversationEnded, true);
    }
    ctx.event(conv, 'ended', { detail: reason });
    ctx.deps.log('info', 'conversation ended', {
      conversationId: conv.id,
      callChainId: conv.chainId,
      reason,
    });
    return true;
  }

  /** Lets a participant in: present, noticed of a running recording, in the roster. */
  admit(conv: Conversation, p: ParticipantState): void {
    p.isPresent = true;
    this.#ctx.event(conv, 'joined', { participantId: p.participantId });
    if (!p.isInLobby) this.showNotice(conv, p);
    this.#notices.rosterChanged(conv);
  }

  /** Removes a participant; in a 1:1 call (or when `endReason` is given for one) the whole call ends. */
  remove(conv: Conversation, p: ParticipantState, endReason?: string): void {
    p.removedAtInMs = this.#ctx.now() - conv.startedAtMs;
    const wasPresent = p.isPresent;
    p.isPresent = false;
    if (endReason !== undefined && isOneToOne(conv.spec.kind)) {
      this.end(conv.id, endReason);
      return;
    }
    this.#onParticipantGone(conv, p, 'removed');
    if (wasPresent) this.#notices.rosterChanged(conv);
  }

  /** Shows a present participant the recording notice once a leg records (audio, visual, suppressed). */
  showNotice(conv: Conversation, p: ParticipantState): void {
    const ctx = this.#ctx;
    if (p.notice !== undefined || !p.isPresent || p.isInLobby) return;
    const recordingLeg = ctx
      .legsOf(conv)
      .find((l) => l.state === 'established' && l.recordingStatus === 'recording');
    if (recordingLeg === undefined) return;
    const policyHolder = conv.participants.find((x) =>
      recordingLeg.observedParticipantIds.includes(x.participantId),
    );
    const policy = conv.groups.find((g) => g.legIds.includes(recordingLeg.callId))?.policy;
    const isAudioOnly = p.identity.kind === 'phone';
    const kind = isAudioOnly
      ? policy && !playsAudioNotice(policy, conv.spec.kind)
        ? 'suppressed'
        : 'audio'
      : 'visual';
    p.notice = { kind, at: ctx.iso() };
    ctx.event(conv, 'recordingNoticeShown', {
      participantId: p.participantId,
      detail: `${kind}${policyHolder === p ? ' (policy user)' : ''}`,
    });
  }

  /**
   * The platform loses accepted recorder legs, first answered first: every one (scenario
   * `delivery.dropRecorderAtInMs`) or at most `count` (`dropOneRecorderAtInMs`).
   */
  #dropRecorders(conv: Conversation, count = Number.POSITIVE_INFINITY): void {
    const accepted = this.#ctx
      .legsOf(conv)
      .filter((leg) => leg.outcome === 'accepted' && leg.state !== 'terminated')
      .sort((a, b) => (a.answeredAtMs ?? 0) - (b.answeredAtMs ?? 0))
      .slice(0, count);
    for (const leg of accepted) {
      this.#ctx.event(conv, 'recorderDropped', { callId: leg.callId });
      this.#legs.lose(conv, leg, ResultCodes.botMediaConnectivity);
    }
  }

  #applyTimeline(conv: Conversation, p: ParticipantState, action: string): void {
    if (conv.state !== 'active') return;
    switch (action) {
      case 'join':
        this.#join(conv, p);
        return;
      case 'leave':
        if (!p.isPresent) return;
        p.isPresent = false;
        this.#ctx.event(conv, 'left', { participantId: p.participantId });
        this.#onParticipantGone(conv, p, 'left');
        return;
      case 'admit':
        if (!p.isInLobby) return;
        p.isInLobby = false;
        this.#ctx.event(conv, 'admitted', { participantId: p.participantId });
        if (p.isPresent) this.#onAdmitted(conv, p);
        break;
      case 'mute':
        p.isMuted = true;
        break;
      case 'unmute':
        p.isMuted = false;
        break;
      case 'videoOn':
        p.isVideoOn = true;
        break;
      case 'videoOff':
        p.isVideoOn = false;
        break;
      case 'shareOn':
        p.isSharing = true;
        break;
      case 'shareOff':
        p.isSharing = false;
        break;
      default:
        return; // speak changes media only
    }
    this.#notices.rosterChanged(conv);
  }

  #join(conv: Conversation, p: ParticipantState): void {
    if (conv.state !== 'active' || p.removedAtInMs !== undefined) return;
    this.#ctx.event(conv, 'joining', { participantId: p.participantId });
    if (p.userId !== undefined && !p.isInLobby) {
      this.#admission().evaluate(conv, p);
      return;
    }
    this.admit(conv, p);
  }

  /** A lobby participant admitted: policy users are evaluated only now (they join the meeting now). */
  #onAdmitted(conv: Conversation, p: ParticipantState): void {
    if (
      p.userId !== undefined &&
      p.status === UserStatus.notUnderPolicy &&
      p.policyIdentity === undefined
    ) {
      p.isPresent = false;
      this.#admission().evaluate(conv, p);
    }
  }

  /** Legs that only observed this participant end with it. */
  #onParticipantGone(conv: Conversation, p: ParticipantState, why: 'left' | 'removed'): void {
    const ctx = this.#ctx;
    if (isOneToOne(conv.spec.kind) && why === 'left') {
      this.end(conv.id, 'completed');
      return;
    }
    for (const leg of ctx.legsOf(conv)) {
      if (leg.state === 'terminated') continue;
      leg.observedParticipantIds.splice(
        0,
        leg.observedParticipantIds.length,
        ...leg.observedParticipantIds.filter((x) => x !== p.participantId),
      );
      if (leg.observedParticipantIds.length === 0) {
        this.#legs.terminate(conv, leg, ResultCodes.removedFromConversation, true);
      } else {
        this.#notices.participantLeft(conv, leg, p);
      }
    }
    if (why === 'left') this.#notices.rosterChanged(conv);
    const remaining = conv.participants.filter((x) => x.isPresent);
    if (remaining.length === 0) this.end(conv.id, 'completed');
  }
}

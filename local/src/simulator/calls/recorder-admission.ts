/**
 * Recording policy at work: when a policy user joins, resolve their policy, invite the recorders
 * (or ask an established one with capacity to take them), and decide from the legs' outcomes
 * whether the user is admitted recorded, admitted unrecorded or kept out; when a recorder leg is
 * lost later, decide whether the user may stay. The decisions themselves are the policy engine's.
 */
import type { Directory } from '../policy/model';
import {
  combineJoinDecisions,
  decideJoin,
  decideLoss,
  planInvites,
  resolvePolicy,
  type JoinDecision,
} from '../policy/policy-engine';
import {
  UserStatus,
  isOneToOne,
  type BotLeg,
  type CallContext,
  type Conversation,
  type InviteGroup,
  type ParticipantState,
} from './call-model';
import type { RecorderLegs } from './legs';
import type { LegNotices } from './notices';

/** What an admission decision does to the participant. */
export interface AdmissionHooks {
  /** Lets the participant in (present in the roster). */
  readonly admit: (conv: Conversation, p: ParticipantState) => void;
  /** Takes the participant out; with `endReason`, a 1:1 call ends. */
  readonly remove: (conv: Conversation, p: ParticipantState, endReason?: string) => void;
}

type Invite = { readonly applicationInstanceId: string; readonly slot: number };

export class RecorderAdmission {
  readonly #ctx: CallContext;
  readonly #notices: LegNotices;
  readonly #legs: RecorderLegs;
  readonly #hooks: AdmissionHooks;

  constructor(ctx: CallContext, notices: LegNotices, legs: RecorderLegs, hooks: AdmissionHooks) {
    this.#ctx = ctx;
    this.#notices = notices;
    this.#legs = legs;
    this.#hooks = hooks;
  }

  /** A policy user joins: admitted at once when not recorded, else once the recorders answered. */
  evaluate(conv: Conversation, p: ParticipantState): void {
    const resolution = resolvePolicy(conv.tenant, p.userId ?? '');
    if (resolution.kind === 'notRecorded') {
      p.status = UserStatus.notUnderPolicy;
      p.statusReason = resolution.reason;
      this.#hooks.admit(conv, p);
      return;
    }
    p.policyIdentity = resolution.policy.identity;
    const isRecordedCallee = p.spec.role === 'callee' || conv.spec.participants.length === 1;
    const plan = planInvites(resolution.policy, {
      isRerouted: conv.spec.reroute !== undefined && isRecordedCallee,
      ...(conv.spec.notRecordable !== undefined ? { notRecordable: conv.spec.notRecordable } : {}),
    });
    if (plan.kind === 'skip') {
      p.status = UserStatus.notRecordable;
      p.statusReason = plan.reason;
      this.#hooks.admit(conv, p);
      return;
    }
    p.status = UserStatus.pendingRecorder;
    const directory = this.#ctx.deps.directory();
    const grouped: Promise<void>[] = [];
    for (const groupPlan of plan.groups) {
      const group: InviteGroup = {
        participantId: p.participantId,
        policy: resolution.policy,
        application: groupPlan.application,
        legIds: [],
        isJoinRejected: false,
        wasAccepted: false,
      };
      conv.groups.push(group);
      const host = this.#capacityLeg(conv, group);
      if (host !== undefined) {
        grouped.push(this.#sendJoining(conv, p, group, host, groupPlan.invites));
        continue;
      }
      this.#inviteAll(conv, p, group, groupPlan.invites, directory);
    }
    if (grouped.length === 0) this.reevaluate(conv, p);
  }

  /** Re-decides every policy user whose decision depends on this leg. */
  legChanged(conv: Conversation, leg: BotLeg): void {
    const users = new Set(
      conv.groups.filter((g) => g.legIds.includes(leg.callId)).map((g) => g.participantId),
    );
    for (const participantId of users) {
      const p = conv.participants.find((x) => x.participantId === participantId);
      if (p) this.reevaluate(conv, p);
    }
  }

  /** Decides a waiting user's admission, or whether a recorded user may stay. */
  reevaluate(conv: Conversation, p: ParticipantState): void {
    const ctx = this.#ctx;
    if (conv.state !== 'active') return;
    const groups = conv.groups.filter((g) => g.participantId === p.participantId);
    const kind = conv.spec.kind;
    if (p.status === UserStatus.pendingRecorder) {
      const decisions: JoinDecision[] = groups.map((g) => {
        const outcomes = g.legIds.map((id) => ctx.legs.get(id)?.outcome ?? 'rejected');
        if (g.isJoinRejected) outcomes.push('rejected');
        const d = decideJoin(g.application, kind, outcomes);
        if (d.kind === 'recorded') g.wasAccepted = true;
        return d;
      });
      const decision = combineJoinDecisions(decisions);
      switch (decision.kind) {
        case 'wait':
          return;
        case 'recorded':
          p.status = UserStatus.recorded;
          this.#hooks.admit(conv, p);
          return;
        case 'proceedUnrecorded':
          p.status = UserStatus.proceededUnrecorded;
          this.#hooks.admit(conv, p);
          return;
        case 'cancelCall':
        case 'keepUserOut':
          p.status = UserStatus.blocked;
          p.statusReason =
            decision.kind === 'cancelCall'
              ? 'requiredBeforeCallEstablishment'
              : 'requiredBeforeMeetingJoin';
          ctx.event(conv, 'blocked', { participantId: p.participantId, detail: p.statusReason });
          ctx.deps.log('info', 'policy user blocked: required recorder did not join', {
            conversationId: conv.id,
            callChainId: conv.chainId,
            reason: p.statusReason,
          });
          this.#hooks.remove(conv, p, decision.kind === 'cancelCall' ? 'blocked' : undefined);
          return;
      }
    }
    if (p.status === UserStatus.recorded) {
      let isStillRecorded = false;
      for (const g of groups.filter((x) => x.wasAccepted)) {
        const remaining = g.legIds.filter((id) => {
          const leg = ctx.legs.get(id);
          return leg !== undefined && leg.outcome === 'accepted' && leg.state !== 'terminated';
        }).length;
        const loss = decideLoss(g.application, kind, remaining);
        if (loss.kind === 'endCall' || loss.kind === 'ejectUser') {
          p.status = UserStatus.ejected;
          p.statusReason = loss.kind === 'endCall' ? 'requiredDuringCall' : 'requiredDuringMeeting';
          ctx.event(conv, 'ejected', { participantId: p.participantId, detail: p.statusReason });
          ctx.deps.log('info', 'policy user removed: required recorder left', {
            conversationId: conv.id,
            callChainId: conv.chainId,
            reason: p.statusReason,
          });
          this.#hooks.remove(conv, p, loss.kind === 'endCall' ? 'droppedByPolicy' : undefined);
          return;
        }
        if (loss.kind === 'stillRecorded') isStillRecorded = true;
      }
      if (!isStillRecorded) {
        p.status = UserStatus.continuedUnrecorded;
        ctx.event(conv, 'continuedUnrecorded', { participantId: p.participantId });
      }
    }
  }

  #inviteAll(
    conv: Conversation,
    p: ParticipantState,
    group: InviteGroup,
    invites: readonly Invite[],
    directory: Directory,
  ): void {
    const legs: BotLeg[] = [];
    for (const invite of invites) {
      const instance = directory.applicationInstances.find(
        (a) => a.id === invite.applicationInstanceId,
      );
      const bot = directory.bots.find((b) => b.appId === instance?.botAppId);
      if (instance === undefined || bot === undefined) {
        // A policy naming an instance without a bot: the invite can never be answered.
        group.isJoinRejected = true;
        continue;
      }
      const leg = this.#legs.create(conv, p, instance, bot, invite.slot);
      group.legIds.push(leg.callId);
      legs.push(leg);
    }
    // Every leg of the group exists before any invite is built: Teams invites paired and
    // concurrent recorders in parallel, and each invite's botData names the others
    // (`pairedRecorders`).
    for (const leg of legs) this.#notices.invite(conv, p, leg);
    this.reevaluate(conv, p);
  }

  /** With participantCapacity: an established leg of the same application that can take one more observed user. */
  #capacityLeg(conv: Conversation, group: InviteGroup): BotLeg | undefined {
    if (isOneToOne(conv.spec.kind)) return undefined;
    return this.#ctx
      .legsOf(conv)
      .find(
        (leg) =>
          leg.state === 'established' &&
          leg.slot === 0 &&
          leg.instance.id === group.application.applicationInstanceId &&
          (leg.participantCapacity ?? 0) > leg.observedParticipantIds.length &&
          conv.groups.some(
            (g) => g.legIds.includes(leg.callId) && g.policy.identity === group.policy.identity,
          ),
      );
  }

  async #sendJoining(
    conv: Conversation,
    p: ParticipantState,
    group: InviteGroup,
    host: BotLeg,
    invites: readonly Invite[],
  ): Promise<void> {
    const { record, responseType } = await this.#notices.participantJoining(conv, p, host);
    this.#ctx.event(conv, 'participantJoiningAnswered', {
      participantId: p.participantId,
      callId: host.callId,
      detail: responseType || `status ${record.status ?? 0}`,
    });
    if (
      record.isDelivered &&
      responseType === '#microsoft.graph.acceptjoinresponse' &&
      host.state === 'established'
    ) {
      host.observedParticipantIds.push(p.participantId);
      group.legIds.push(host.callId);
    } else if (record.isDelivered && responseType === '#microsoft.graph.invitenewbotresponse') {
      this.#inviteAll(conv, p, group, invites, this.#ctx.deps.directory());
      return;
    } else {
      group.isJoinRejected = true;
    }
    this.reevaluate(conv, p);
  }
}

/**
 * The simulated Teams calling service: runs conversations from call specs, evaluates the
 * compliance policy for every policy user who joins, invites recorders, enforces the answer
 * deadline, the `Required*` flags, keepAlive and recording notices, delivers state and roster
 * notifications, and streams media once recording is confirmed. All time comes from a SimClock.
 */
import { randomUUID } from 'node:crypto';
import type { SimulatedEntra } from '../entra/entra';
import { MediaStreamer, parseMediaConfigBlob, type MediaScript } from '../media/media-streamer';
import type {
  ApplicationInstance,
  BotRegistration,
  CompliancePolicy,
  Directory,
  RecorderApplicationSettings,
  Tenant,
} from '../policy/model';
import {
  combineJoinDecisions,
  decideJoin,
  decideLoss,
  isMeetingLike,
  planInvites,
  playsAudioNotice,
  resolvePolicy,
  type InviteOutcome,
  type JoinDecision,
} from '../policy/policy-engine';
import type {
  CallSpec,
  ScenarioParticipant,
  TimelineAction,
  TimelineEvent,
} from '../scenarios/scenario';
import type { SimClock } from '../util/clock';
import type { SimLogger } from '../util/http';
import type { DeliveryRecord, WebhookDeliverer } from '../webhook/deliverer';
import {
  commsNotifications,
  enumValue,
  identitySet,
  participantResource,
  ResultCodes,
  resultInfo,
  type Identity,
  type NotificationItem,
  type ResultInfo,
  type RosterEntry,
  type WireStyle,
} from './shapes';

export interface EngineBehaviour extends WireStyle {
  /** Graph's deadline for policy-recording invites. Default 5000. */
  readonly answerDeadlineInMs: number;
  /** Default 45 minutes. */
  readonly keepAliveTimeoutInMs: number;
  /** Documented limit per app registration. Default 100. */
  readonly maxConcurrentCallsPerApp: number;
  /** Not documented: end the recorder's leg (and apply RequiredDuring*) when it reports `failed`. Default true. */
  readonly failedStatusEndsLeg: boolean;
  /** Not documented: the doc example shows `targets[0].id` ≠ `myParticipantId`. Default false (they differ). */
  readonly targetIdEqualsMyParticipantId: boolean;
  readonly mediaPacing: 'realtime' | 'fast';
  /** Send video and screen-share frames too. Default true. */
  readonly streamVideo: boolean;
  /** Extra CA (PEM) trusted when connecting to media endpoints. */
  readonly mediaCa?: string;
}

export const DEFAULT_BEHAVIOUR: EngineBehaviour = {
  enumCasing: 'camelCase',
  resultInfoAs: 'number',
  botDataAs: 'object',
  answerDeadlineInMs: 5000,
  keepAliveTimeoutInMs: 45 * 60 * 1000,
  maxConcurrentCallsPerApp: 100,
  failedStatusEndsLeg: true,
  targetIdEqualsMyParticipantId: false,
  mediaPacing: 'realtime',
  streamVideo: true,
};

export const UserStatus = {
  notUnderPolicy: 'notUnderPolicy',
  notRecordable: 'notRecordable',
  pendingRecorder: 'pendingRecorder',
  recorded: 'recorded',
  proceededUnrecorded: 'proceededUnrecorded',
  continuedUnrecorded: 'continuedUnrecorded',
  blocked: 'blocked',
  ejected: 'ejected',
  notAUser: 'notAUser',
} as const;
export type UserStatus = (typeof UserStatus)[keyof typeof UserStatus];

interface ParticipantState {
  readonly index: number;
  readonly participantId: string;
  readonly spec: ScenarioParticipant;
  readonly identity: Identity;
  readonly region: string;
  readonly audioMsi: number;
  readonly videoMsi: number;
  readonly vbssMsi: number;
  readonly userId?: string;
  /** Actions applied through the control API, at their offsets. */
  readonly runtimeTimeline: TimelineEvent[];
  isPresent: boolean;
  isInLobby: boolean;
  isMuted: boolean;
  isVideoOn: boolean;
  isSharing: boolean;
  /** Offset when the simulator removed the participant (blocked, ejected). */
  removedAtInMs?: number;
  status: UserStatus;
  statusReason?: string;
  policyIdentity?: string;
  notice?: { kind: 'visual' | 'audio' | 'suppressed'; at: string };
}

type LegState = 'incoming' | 'establishing' | 'established' | 'terminated';

export interface BotLeg {
  readonly callId: string;
  readonly conversationId: string;
  readonly instance: ApplicationInstance;
  readonly bot: BotRegistration;
  readonly slot: number;
  readonly myParticipantId: string;
  readonly targetParticipantId: string;
  readonly observedParticipantIds: string[];
  readonly invitedAtMs: number;
  state: LegState;
  outcome: InviteOutcome;
  webhookUrl: string;
  callbackUri?: string;
  answeredAtMs?: number;
  participantCapacity?: number;
  mediaConfigBlob?: string;
  recordingStatus: 'unknown' | 'recording' | 'notRecording' | 'failed';
  recordingHistory: { status: string; at: string }[];
  lastKeepAliveAtMs?: number;
  terminatedResult?: ResultInfo;
  terminatedAtMs?: number;
  cancelDeadline?: () => void;
  cancelKeepAlive?: () => void;
  chain: Promise<unknown>;
  readonly operations: Map<string, Record<string, unknown>>;
  /** `callOptions.isDeltaRosterEnabled` on answer: roster updates carry changes only. */
  isDeltaRoster: boolean;
  /** Last roster entry sent per participant id (delta mode). */
  readonly rosterSnapshot: Map<string, string>;
  rosterSequence: number;
  media?: MediaStreamer;
  mediaError?: string;
}

interface InviteGroup {
  readonly participantId: string;
  readonly policy: CompliancePolicy;
  readonly application: RecorderApplicationSettings;
  readonly legIds: string[];
  isJoinRejected: boolean;
  wasAccepted: boolean;
}

interface Conversation {
  readonly id: string;
  readonly chainId: string;
  readonly spec: CallSpec;
  readonly tenant: Tenant;
  readonly startedAtMs: number;
  readonly threadId: string;
  readonly participants: ParticipantState[];
  readonly groups: InviteGroup[];
  readonly legIds: string[];
  readonly timers: (() => void)[];
  readonly events: {
    at: string;
    event: string;
    participantId?: string;
    callId?: string;
    detail?: string;
  }[];
  state: 'active' | 'ended';
  endReason?: string;
  endedAtMs?: number;
  endOffsetInMs?: number;
}

/** Outcome of a Graph action, mapped to HTTP by the Graph API layer. */
export type ActionResult =
  | {
      readonly kind: 'ok';
      readonly status: number;
      readonly body?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: 'error';
      readonly status: number;
      readonly code: string;
      readonly message: string;
      readonly retryAfterInS?: number;
    };

export interface EngineDeps {
  readonly directory: () => Directory;
  readonly clock: SimClock;
  readonly entra: SimulatedEntra;
  readonly deliverer: WebhookDeliverer;
  readonly baseUrl: () => string;
  readonly log: SimLogger;
  readonly behaviour: EngineBehaviour;
}

const notFound = (what: string): ActionResult => ({
  kind: 'error',
  status: 404,
  code: 'itemNotFound',
  message: `${what} not found.`,
});

export class CallEngine {
  readonly #deps: EngineDeps;
  readonly #conversations = new Map<string, Conversation>();
  readonly #legs = new Map<string, BotLeg>();
  #behaviour: EngineBehaviour;
  #isClosed = false;

  constructor(deps: EngineDeps) {
    this.#deps = deps;
    this.#behaviour = deps.behaviour;
  }

  get behaviour(): EngineBehaviour {
    return this.#behaviour;
  }

  setBehaviour(patch: Partial<EngineBehaviour>): void {
    this.#behaviour = { ...this.#behaviour, ...patch };
  }

  #now(): number {
    return this.#deps.clock.nowInMs();
  }

  #iso(ms = this.#now()): string {
    return new Date(ms).toISOString();
  }

  // ---------------------------------------------------------------- conversations

  /** Starts a conversation; invites are sent asynchronously. Throws on an unknown tenant. */
  startCall(spec: CallSpec): string {
    const directory = this.#deps.directory();
    const tenant = directory.tenants.find((t) => t.id === spec.tenantId);
    if (tenant === undefined)
      throw new Error(`call.tenantId names unknown tenant ${spec.tenantId}`);
    const conv: Conversation = {
      id: randomUUID(),
      chainId: randomUUID(),
      spec,
      tenant,
      startedAtMs: this.#now(),
      threadId: `19:meeting_${randomUUID().replace(/-/g, '').slice(0, 24)}@thread.v2`,
      participants: spec.participants.map((p, index) => this.#participantState(tenant, p, index)),
      groups: [],
      legIds: [],
      timers: [],
      events: [],
      state: 'active',
    };
    this.#conversations.set(conv.id, conv);
    this.#event(conv, 'started', {});
    this.#deps.log('info', 'conversation started', {
      conversationId: conv.id,
      callChainId: conv.chainId,
      kind: spec.kind,
    });
    for (const p of conv.participants) {
      const joinAt = this.#joinAt(p);
      if (joinAt === 0) this.#join(conv, p);
      for (const e of p.spec.timeline ?? []) {
        if (e.atInMs === 0 && e.action === 'join') continue;
        if (e.atInMs === 0) this.#applyTimeline(conv, p, e.action);
        else
          conv.timers.push(
            this.#deps.clock.schedule(conv.startedAtMs + e.atInMs, () =>
              this.#applyTimeline(conv, p, e.action),
            ),
          );
      }
    }
    const dropAt = spec.delivery?.dropRecorderAtInMs;
    if (dropAt !== undefined)
      conv.timers.push(
        this.#deps.clock.schedule(conv.startedAtMs + dropAt, () => this.#dropRecorders(conv)),
      );
    if (spec.durationInMs !== undefined) {
      conv.endOffsetInMs = spec.durationInMs;
      conv.timers.push(
        this.#deps.clock.schedule(conv.startedAtMs + spec.durationInMs, () =>
          this.endConversation(conv.id, 'completed'),
        ),
      );
    }
    return conv.id;
  }

  /** The platform loses every accepted recorder leg (scenario `delivery.dropRecorderAtInMs`). */
  #dropRecorders(conv: Conversation): void {
    for (const id of conv.legIds) {
      const leg = this.#legs.get(id);
      if (leg === undefined || leg.outcome !== 'accepted' || leg.state === 'terminated') continue;
      this.#event(conv, 'recorderDropped', { callId: leg.callId });
      this.#terminateLeg(conv, leg, ResultCodes.botMediaConnectivity, true);
      this.#reevaluateLeg(conv, leg);
    }
  }

  #participantState(tenant: Tenant, spec: ScenarioParticipant, index: number): ParticipantState {
    const participantId = randomUUID();
    let identity: Identity;
    let userId: string | undefined;
    let region = 'EUWE';
    if (spec.user !== undefined && spec.federatedTenantId === undefined) {
      const user = tenant.users.find((u) => u.id === spec.user);
      identity = {
        kind: 'user',
        id: spec.user,
        tenantId: tenant.id,
        ...(user ? { displayName: user.displayName } : {}),
      };
      userId = user ? spec.user : undefined;
      region = user?.region ?? region;
    } else if (spec.user !== undefined) {
      identity = { kind: 'user', id: spec.user, tenantId: spec.federatedTenantId ?? tenant.id };
    } else if (spec.phone !== undefined) {
      identity = { kind: 'phone', id: spec.phone };
    } else {
      identity = { kind: 'guest', id: randomUUID(), displayName: spec.guest ?? 'Guest' };
    }
    return {
      index,
      participantId,
      spec,
      identity,
      region,
      audioMsi: 100 + index,
      videoMsi: 1100 + index,
      vbssMsi: 2100 + index,
      ...(userId !== undefined ? { userId } : {}),
      runtimeTimeline: [],
      isPresent: false,
      isInLobby: spec.isInLobby === true,
      isMuted: false,
      isVideoOn: false,
      isSharing: false,
      status: userId !== undefined ? UserStatus.notUnderPolicy : UserStatus.notAUser,
    };
  }

  #joinAt(p: ParticipantState): number {
    return p.spec.timeline?.find((e) => e.action === 'join')?.atInMs ?? 0;
  }

  #event(
    conv: Conversation,
    event: string,
    fields: { participantId?: string; callId?: string; detail?: string },
  ): void {
    conv.events.push({ at: this.#iso(), event, ...fields });
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
        this.#event(conv, 'left', { participantId: p.participantId });
        this.#onParticipantGone(conv, p, 'left');
        return;
      case 'admit':
        if (!p.isInLobby) return;
        p.isInLobby = false;
        this.#event(conv, 'admitted', { participantId: p.participantId });
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
    this.#rosterChanged(conv);
  }

  #join(conv: Conversation, p: ParticipantState): void {
    if (conv.state !== 'active' || p.removedAtInMs !== undefined) return;
    this.#event(conv, 'joining', { participantId: p.participantId });
    if (p.userId !== undefined && !p.isInLobby) {
      this.#evaluatePolicyUser(conv, p);
      return;
    }
    this.#admit(conv, p);
  }

  /** A lobby participant admitted: policy users are evaluated only now (they join the meeting now). */
  #onAdmitted(conv: Conversation, p: ParticipantState): void {
    if (
      p.userId !== undefined &&
      p.status === UserStatus.notUnderPolicy &&
      p.policyIdentity === undefined
    ) {
      p.isPresent = false;
      this.#evaluatePolicyUser(conv, p);
    }
  }

  #admit(conv: Conversation, p: ParticipantState): void {
    p.isPresent = true;
    this.#event(conv, 'joined', { participantId: p.participantId });
    if (!p.isInLobby) this.#maybeShowNotice(conv, p);
    this.#rosterChanged(conv);
  }

  // ---------------------------------------------------------------- policy

  #evaluatePolicyUser(conv: Conversation, p: ParticipantState): void {
    const resolution = resolvePolicy(conv.tenant, p.userId ?? '');
    if (resolution.kind === 'notRecorded') {
      p.status = UserStatus.notUnderPolicy;
      p.statusReason = resolution.reason;
      this.#admit(conv, p);
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
      this.#admit(conv, p);
      return;
    }
    p.status = UserStatus.pendingRecorder;
    const directory = this.#deps.directory();
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
    if (grouped.length === 0) this.#reevaluate(conv, p);
  }

  #inviteAll(
    conv: Conversation,
    p: ParticipantState,
    group: InviteGroup,
    invites: readonly { applicationInstanceId: string; slot: number }[],
    directory: Directory,
  ): void {
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
      const leg = this.#createLeg(conv, p, instance, bot, invite.slot);
      group.legIds.push(leg.callId);
      this.#sendInvite(conv, p, leg);
    }
    this.#reevaluate(conv, p);
  }

  /** With participantCapacity: an established leg of the same application that can take one more observed user. */
  #capacityLeg(conv: Conversation, group: InviteGroup): BotLeg | undefined {
    if (conv.spec.kind === 'p2p' || conv.spec.kind === 'pstn') return undefined;
    return conv.legIds
      .map((id) => this.#legs.get(id))
      .find(
        (leg): leg is BotLeg =>
          leg !== undefined &&
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
    invites: readonly { applicationInstanceId: string; slot: number }[],
  ): Promise<void> {
    const body = commsNotifications(this.#behaviour, [
      {
        changeType: 'created',
        resourceUrl: `/communications/calls/${host.callId}/participantJoiningNotification`,
        resourceData: {
          '@odata.type': '#microsoft.graph.participantJoiningNotification',
          id: randomUUID(),
          call: {
            '@odata.type': '#microsoft.graph.call',
            id: host.callId,
            callChainId: conv.chainId,
          },
          participantId: p.participantId,
          joiningParticipant: participantResource(this.#behaviour, this.#rosterEntry(p)),
        },
      },
    ]);
    const record = await this.#deliver(conv, host, 'participantJoining', body);
    let responseType = '';
    try {
      const parsed = JSON.parse(record.responseBody ?? '') as { '@odata.type'?: unknown };
      responseType =
        typeof parsed['@odata.type'] === 'string' ? parsed['@odata.type'].toLowerCase() : '';
    } catch {
      responseType = '';
    }
    this.#event(conv, 'participantJoiningAnswered', {
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
      this.#inviteAll(conv, p, group, invites, this.#deps.directory());
      return;
    } else {
      group.isJoinRejected = true;
    }
    this.#reevaluate(conv, p);
  }

  #createLeg(
    conv: Conversation,
    p: ParticipantState,
    instance: ApplicationInstance,
    bot: BotRegistration,
    slot: number,
  ): BotLeg {
    const myParticipantId = randomUUID();
    const leg: BotLeg = {
      callId: randomUUID(),
      conversationId: conv.id,
      instance,
      bot,
      slot,
      myParticipantId,
      targetParticipantId: this.#behaviour.targetIdEqualsMyParticipantId
        ? myParticipantId
        : randomUUID(),
      observedParticipantIds: [p.participantId],
      invitedAtMs: this.#now(),
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
    this.#legs.set(leg.callId, leg);
    conv.legIds.push(leg.callId);
    leg.cancelDeadline = this.#deps.clock.schedule(
      leg.invitedAtMs + this.#behaviour.answerDeadlineInMs,
      () => this.#onDeadline(leg.callId),
    );
    this.#event(conv, 'invited', {
      participantId: p.participantId,
      callId: leg.callId,
      detail: instance.id,
    });
    this.#deps.log('info', 'recorder invited', {
      callId: leg.callId,
      callChainId: conv.chainId,
      applicationInstanceId: instance.id,
      slot,
    });
    return leg;
  }

  #incomingCall(conv: Conversation, p: ParticipantState, leg: BotLeg): Record<string, unknown> {
    const s = this.#behaviour;
    const other = conv.participants.find(
      (x) =>
        x !== p &&
        (x.spec.role === 'caller' ||
          x.spec.role === 'callee' ||
          conv.spec.kind === 'p2p' ||
          conv.spec.kind === 'pstn'),
    );
    const siblings = conv.groups
      .filter((g) => g.participantId === p.participantId)
      .flatMap((g) => g.legIds)
      .filter((id) => id !== leg.callId)
      .map((id) => this.#legs.get(id))
      .filter((l): l is BotLeg => l !== undefined);
    const samePolicy = conv.groups.find((g) => g.legIds.includes(leg.callId));
    const paired = siblings.filter((l) => samePolicy?.legIds.includes(l.callId));
    const others = siblings.filter((l) => !samePolicy?.legIds.includes(l.callId));
    const participationMethod = p.spec.role === 'caller' ? 'Caller' : 'Callee';
    const botData = {
      callId: conv.chainId,
      mediaHostedRegion: 'EUWE',
      user: {
        participationMethod,
        clientLocation: p.region,
        policyHolderId: p.userId,
        policyHolderTenantId: conv.tenant.id,
      },
      ...(other && !isMeetingLike(conv.spec.kind)
        ? {
            otherSideUser: {
              id:
                other.identity.kind === 'phone'
                  ? `4:${other.identity.id}`
                  : `8:orgid:${other.identity.id}`,
              participantId: other.participantId,
              tenantId:
                other.identity.kind === 'user'
                  ? other.identity.tenantId
                  : '00000000-0000-0000-0000-000000000000',
              participationMethod: participationMethod === 'Caller' ? 'Callee' : 'Caller',
              clientLocation: other.region,
            },
          }
        : {}),
      inviteReasons: ['ComplianceRecording'],
      policyIdentifier: `TeamsComplianceRecordingPolicy=${p.policyIdentity ?? ''}`,
      pairedRecorders: paired.map((l) => ({ id: l.instance.id, participantId: l.myParticipantId })),
      otherRecorders: others.map((l) => ({ id: l.instance.id, participantId: l.myParticipantId })),
      isMultiParty: conv.spec.kind !== 'p2p' && conv.spec.kind !== 'pstn',
      applicationType: 'ComplianceRecording',
    };
    const transferor = conv.spec.reroute?.transferorUser;
    const nowInS = Math.floor(this.#now() / 1000);
    return {
      '@odata.type': '#microsoft.graph.call',
      '@odata.id': `/app/calls/${leg.callId}`,
      id: leg.callId,
      state: enumValue(s, 'incoming'),
      direction: enumValue(s, 'incoming'),
      callbackUri: leg.webhookUrl,
      source: {
        '@odata.type': '#microsoft.graph.participantInfo',
        id: p.participantId,
        identity: identitySet(p.identity),
        endpointType: enumValue(s, 'default'),
        region: p.region,
        languageId: 'en-US',
        countryCode: 'US',
      },
      targets: [
        {
          '@odata.type': '#microsoft.graph.invitationParticipantInfo',
          id: leg.targetParticipantId,
          identity: identitySet({
            kind: 'applicationInstance',
            id: leg.instance.id,
            tenantId: leg.instance.tenantId,
          }),
          endpointType: enumValue(s, 'default'),
          region: null,
          languageId: null,
        },
      ],
      requestedModalities: ['audio', 'video', 'videoBasedScreenSharing'].map((m) =>
        enumValue(s, m),
      ),
      tenantId: conv.tenant.id,
      myParticipantId: leg.myParticipantId,
      callChainId: conv.chainId,
      incomingContext: {
        '@odata.type': '#microsoft.graph.incomingContext',
        sourceParticipantId: p.participantId,
        observedParticipantId: p.participantId,
        onBehalfOf: null,
        transferor: transferor
          ? identitySet({ kind: 'user', id: transferor, tenantId: conv.tenant.id })
          : null,
      },
      meetingInfo: {
        '@odata.type': '#microsoft.graph.tokenMeetingInfo',
        token: this.#meetingToken(conv, leg, nowInS),
      },
      ...(conv.spec.reroute
        ? {
            callRoutes: [
              {
                '@odata.type': '#microsoft.graph.callRoute',
                routingType: enumValue(s, 'forwarded'),
                original: identitySet(other?.identity ?? p.identity),
                final: identitySet(p.identity),
              },
            ],
          }
        : {}),
      applicationMetadata: {
        botData: s.botDataAs === 'string' ? JSON.stringify(botData) : botData,
      },
    };
  }

  #meetingToken(conv: Conversation, leg: BotLeg, nowInS: number): string {
    // Observed claims: appId, conversationController, activityId = callChainId, tenant, 24 h lifetime.
    const header = Buffer.from(
      JSON.stringify({ typ: 'JWT', alg: 'RS256', x5t: leg.instance.id.slice(0, 8) }),
    ).toString('base64url');
    const claims = Buffer.from(
      JSON.stringify({
        appId: leg.bot.appId,
        conversationController: conv.id,
        activityId: conv.chainId,
        tid: conv.tenant.id,
        nbf: nowInS,
        exp: nowInS + 86_400,
        iss: 'https://api.botframework.com',
        aud: 'https://api.botframework.com',
      }),
    ).toString('base64url');
    return `${header}.${claims}.${Buffer.from(randomUUID()).toString('base64url')}`;
  }

  #sendInvite(conv: Conversation, p: ParticipantState, leg: BotLeg): void {
    const body = commsNotifications(this.#behaviour, [
      {
        changeType: 'created',
        resourceUrl: `/communications/calls/${leg.callId}`,
        resourceData: this.#incomingCall(conv, p, leg),
      },
    ]);
    if (conv.spec.delivery?.dropInvite) {
      this.#event(conv, 'inviteDropped', { callId: leg.callId });
      return;
    }
    const times = conv.spec.delivery?.duplicateInvite ? 2 : 1;
    for (let i = 0; i < times; i += 1) {
      void this.#deliver(conv, leg, i === 0 ? 'invite' : 'inviteDuplicate', body, {
        followRedirectsUpdateWebhook: true,
      });
    }
  }

  #deliver(
    conv: Conversation,
    leg: BotLeg,
    kind: string,
    body: unknown,
    options: { followRedirectsUpdateWebhook?: boolean } = {},
  ): Promise<DeliveryRecord> {
    const run = async (): Promise<DeliveryRecord> => {
      const record = await this.#deps.deliverer.deliver({
        callId: leg.callId,
        kind,
        url: leg.callbackUri ?? leg.webhookUrl,
        body,
        bearerToken: this.#deps.entra.signWebhookToken(leg.bot.appId, conv.tenant.id),
        chainId: conv.chainId,
      });
      // A 302/307 moves the call to another deployment: later notifications go there too.
      if (
        options.followRedirectsUpdateWebhook &&
        record.redirects.length > 0 &&
        leg.callbackUri === undefined
      )
        leg.webhookUrl = record.finalUrl;
      return record;
    };
    const next = leg.chain.then(run, run);
    leg.chain = next.catch(() => undefined);
    return next;
  }

  #onDeadline(callId: string): void {
    const leg = this.#legs.get(callId);
    if (leg === undefined || leg.outcome !== 'pending') return;
    const conv = this.#conversations.get(leg.conversationId);
    if (conv === undefined) return;
    leg.outcome = 'timedOut';
    this.#event(conv, 'inviteTimedOut', { callId });
    this.#deps.log('warn', 'recorder did not answer within the deadline', {
      callId,
      callChainId: conv.chainId,
    });
    this.#terminateLeg(conv, leg, ResultCodes.inviteNotAnswered, true);
    this.#reevaluateLeg(conv, leg);
  }

  /** Re-evaluates every policy user whose decision depends on this leg. */
  #reevaluateLeg(conv: Conversation, leg: BotLeg): void {
    const users = new Set(
      conv.groups.filter((g) => g.legIds.includes(leg.callId)).map((g) => g.participantId),
    );
    for (const participantId of users) {
      const p = conv.participants.find((x) => x.participantId === participantId);
      if (p) this.#reevaluate(conv, p);
    }
  }

  #reevaluate(conv: Conversation, p: ParticipantState): void {
    if (conv.state !== 'active') return;
    const groups = conv.groups.filter((g) => g.participantId === p.participantId);
    const kind = conv.spec.kind;
    if (p.status === UserStatus.pendingRecorder) {
      const decisions: JoinDecision[] = groups.map((g) => {
        const outcomes = g.legIds.map((id) => this.#legs.get(id)?.outcome ?? 'rejected');
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
          this.#admit(conv, p);
          return;
        case 'proceedUnrecorded':
          p.status = UserStatus.proceededUnrecorded;
          this.#admit(conv, p);
          return;
        case 'cancelCall':
        case 'keepUserOut':
          p.status = UserStatus.blocked;
          p.statusReason =
            decision.kind === 'cancelCall'
              ? 'requiredBeforeCallEstablishment'
              : 'requiredBeforeMeetingJoin';
          this.#event(conv, 'blocked', { participantId: p.participantId, detail: p.statusReason });
          this.#deps.log('info', 'policy user blocked: required recorder did not join', {
            conversationId: conv.id,
            callChainId: conv.chainId,
            reason: p.statusReason,
          });
          this.#removeParticipant(conv, p, decision.kind === 'cancelCall' ? 'blocked' : undefined);
          return;
      }
    }
    if (p.status === UserStatus.recorded) {
      let isStillRecorded = false;
      for (const g of groups.filter((x) => x.wasAccepted)) {
        const remaining = g.legIds.filter((id) => {
          const leg = this.#legs.get(id);
          return leg !== undefined && leg.outcome === 'accepted' && leg.state !== 'terminated';
        }).length;
        const loss = decideLoss(g.application, kind, remaining);
        if (loss.kind === 'endCall' || loss.kind === 'ejectUser') {
          p.status = UserStatus.ejected;
          p.statusReason = loss.kind === 'endCall' ? 'requiredDuringCall' : 'requiredDuringMeeting';
          this.#event(conv, 'ejected', { participantId: p.participantId, detail: p.statusReason });
          this.#deps.log('info', 'policy user removed: required recorder left', {
            conversationId: conv.id,
            callChainId: conv.chainId,
            reason: p.statusReason,
          });
          this.#removeParticipant(conv, p, loss.kind === 'endCall' ? 'droppedByPolicy' : undefined);
          return;
        }
        if (loss.kind === 'stillRecorded') isStillRecorded = true;
      }
      if (!isStillRecorded) {
        p.status = UserStatus.continuedUnrecorded;
        this.#event(conv, 'continuedUnrecorded', { participantId: p.participantId });
      }
    }
  }

  /** Removes a participant; in a 1:1 call (or when `endReason` is given for one) the whole call ends. */
  #removeParticipant(conv: Conversation, p: ParticipantState, endReason?: string): void {
    p.removedAtInMs = this.#now() - conv.startedAtMs;
    const wasPresent = p.isPresent;
    p.isPresent = false;
    const isOneToOne = conv.spec.kind === 'p2p' || conv.spec.kind === 'pstn';
    if (endReason !== undefined && isOneToOne) {
      this.endConversation(conv.id, endReason);
      return;
    }
    this.#onParticipantGone(conv, p, 'removed');
    if (wasPresent) this.#rosterChanged(conv);
  }

  /** Legs that only observed this participant end with it. */
  #onParticipantGone(conv: Conversation, p: ParticipantState, why: 'left' | 'removed'): void {
    const isOneToOne = conv.spec.kind === 'p2p' || conv.spec.kind === 'pstn';
    if (isOneToOne && why === 'left') {
      this.endConversation(conv.id, 'completed');
      return;
    }
    for (const id of conv.legIds) {
      const leg = this.#legs.get(id);
      if (leg === undefined || leg.state === 'terminated') continue;
      leg.observedParticipantIds.splice(
        0,
        leg.observedParticipantIds.length,
        ...leg.observedParticipantIds.filter((x) => x !== p.participantId),
      );
      if (leg.observedParticipantIds.length === 0) {
        this.#terminateLeg(conv, leg, ResultCodes.removedFromConversation, true);
      } else {
        void this.#deliver(
          conv,
          leg,
          'participantLeft',
          commsNotifications(this.#behaviour, [
            {
              changeType: 'deleted',
              resourceUrl: `/communications/calls/${leg.callId}/participantLeftNotification`,
              resourceData: {
                '@odata.type': '#microsoft.graph.participantLeftNotification',
                id: randomUUID(),
                participantId: p.participantId,
                call: { id: leg.callId },
              },
            },
          ]),
        );
      }
    }
    if (why === 'left') this.#rosterChanged(conv);
    const remaining = conv.participants.filter((x) => x.isPresent);
    if (remaining.length === 0) this.endConversation(conv.id, 'completed');
  }

  #maybeShowNotice(conv: Conversation, p: ParticipantState): void {
    if (p.notice !== undefined || !p.isPresent || p.isInLobby) return;
    const recordingLeg = conv.legIds
      .map((id) => this.#legs.get(id))
      .find((l) => l?.state === 'established' && l.recordingStatus === 'recording');
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
    p.notice = { kind, at: this.#iso() };
    this.#event(conv, 'recordingNoticeShown', {
      participantId: p.participantId,
      detail: `${kind}${policyHolder === p ? ' (policy user)' : ''}`,
    });
  }

  // ---------------------------------------------------------------- notifications

  #rosterEntry(p: ParticipantState): RosterEntry {
    return {
      participantId: p.participantId,
      identity: p.identity,
      region: p.region,
      audioMsi: p.audioMsi,
      videoMsi: p.videoMsi,
      vbssMsi: p.vbssMsi,
      isMuted: p.isMuted,
      isInLobby: p.isInLobby,
      isVideoOn: p.isVideoOn,
      isSharing: p.isSharing,
    };
  }

  #roster(conv: Conversation, leg: BotLeg): unknown[] {
    const people = conv.participants
      .filter((p) => p.isPresent)
      .map((p) => participantResource(this.#behaviour, this.#rosterEntry(p)));
    const self = participantResource(this.#behaviour, {
      participantId: leg.myParticipantId,
      identity: {
        kind: 'applicationInstance',
        id: leg.instance.id,
        tenantId: leg.instance.tenantId,
      },
      audioMsi: 99,
      videoMsi: 0,
      vbssMsi: 0,
      isMuted: true,
      isInLobby: false,
      isVideoOn: false,
      isSharing: false,
      isBot: true,
      ...(leg.recordingStatus !== 'unknown' ? { recordingStatus: leg.recordingStatus } : {}),
    });
    return [...people, self];
  }

  #rosterChanged(conv: Conversation): void {
    for (const id of conv.legIds) {
      const leg = this.#legs.get(id);
      if (leg?.state === 'established') this.#sendRoster(conv, leg);
    }
  }

  #sendRoster(conv: Conversation, leg: BotLeg): void {
    let entries = this.#roster(conv, leg) as Record<string, unknown>[];
    if (leg.isDeltaRoster) {
      // No payload example is published: changed or new entries, and removed ones with removedState,
      // each numbered by a per-leg rosterSequenceNumber.
      const changes: Record<string, unknown>[] = [];
      const current = new Set<string>();
      for (const entry of entries) {
        const id = String(entry.id);
        current.add(id);
        const text = JSON.stringify(entry);
        if (leg.rosterSnapshot.get(id) === text) continue;
        leg.rosterSnapshot.set(id, text);
        changes.push({ ...entry, rosterSequenceNumber: ++leg.rosterSequence });
      }
      for (const id of [...leg.rosterSnapshot.keys()]) {
        if (current.has(id)) continue;
        leg.rosterSnapshot.delete(id);
        const wasRemoved =
          conv.participants.find((p) => p.participantId === id)?.removedAtInMs !== undefined;
        changes.push({
          '@odata.type': '#microsoft.graph.participant',
          id,
          removedState: {
            '@odata.type': '#microsoft.graph.removedState',
            reason: wasRemoved ? 'removed' : 'left',
          },
          rosterSequenceNumber: ++leg.rosterSequence,
        });
      }
      if (changes.length === 0) return;
      entries = changes;
    }
    void this.#deliver(
      conv,
      leg,
      'roster',
      commsNotifications(this.#behaviour, [
        {
          changeType: 'updated',
          resourceUrl: `/communications/calls/${leg.callId}/participants`,
          resourceData: entries,
        },
      ]),
    );
  }

  #stateUpdate(conv: Conversation, leg: BotLeg, state: string): NotificationItem {
    const data: Record<string, unknown> = {
      '@odata.type': '#microsoft.graph.call',
      '@odata.id': `/app/calls/${leg.callId}`,
      '@odata.etag': `W/"${randomUUID()}"`,
      state: enumValue(this.#behaviour, state),
    };
    if (state === 'establishing' && isMeetingLike(conv.spec.kind)) {
      const organizer =
        conv.participants.find((p) => p.spec.role === 'organizer') ?? conv.participants[0];
      if (organizer)
        data.meetingInfo = {
          '@odata.type': '#microsoft.graph.organizerMeetingInfo',
          organizer: identitySet(organizer.identity),
        };
      data.chatInfo = {
        '@odata.type': '#microsoft.graph.chatInfo',
        threadId: conv.threadId,
        messageId: '0',
      };
    }
    if (state === 'established')
      data.mediaState = {
        '@odata.type': '#microsoft.graph.callMediaState',
        audio: enumValue(this.#behaviour, 'active'),
      };
    return {
      changeType: 'updated',
      resourceUrl: `/communications/calls/${leg.callId}`,
      resourceData: data,
    };
  }

  /** Ends a leg; `notify` sends terminating + terminated (deleted) with the result. Idempotent. */
  #terminateLeg(conv: Conversation, leg: BotLeg, result: ResultInfo, notify: boolean): void {
    if (leg.state === 'terminated') return;
    const wasEstablished = leg.state === 'established';
    leg.state = 'terminated';
    leg.terminatedResult = result;
    leg.terminatedAtMs = this.#now();
    leg.cancelDeadline?.();
    leg.cancelKeepAlive?.();
    this.#event(conv, 'legTerminated', {
      callId: leg.callId,
      detail: `${result.code}/${result.subcode}`,
    });
    void leg.media?.stop();
    if (!notify) return;
    const items: NotificationItem[] = [];
    if (wasEstablished)
      items.push({
        changeType: 'updated',
        resourceUrl: `/communications/calls/${leg.callId}`,
        resourceData: {
          '@odata.type': '#microsoft.graph.call',
          '@odata.id': `/app/calls/${leg.callId}`,
          state: enumValue(this.#behaviour, 'terminating'),
        },
      });
    for (const item of items)
      void this.#deliver(conv, leg, 'terminating', commsNotifications(this.#behaviour, [item]));
    void this.#deliver(
      conv,
      leg,
      'terminated',
      commsNotifications(this.#behaviour, [
        {
          changeType: 'deleted',
          resourceUrl: `/communications/calls/${leg.callId}`,
          resourceData: {
            '@odata.type': '#microsoft.graph.call',
            '@odata.id': `/app/calls/${leg.callId}`,
            state: enumValue(this.#behaviour, 'terminated'),
            resultInfo: resultInfo(this.#behaviour, result),
          },
        },
      ]),
    );
  }

  /** Ends the whole conversation (idempotent). `reason`: completed, blocked, droppedByPolicy, endedByControl. */
  endConversation(conversationId: string, reason: string): boolean {
    const conv = this.#conversations.get(conversationId);
    if (conv === undefined || conv.state === 'ended') return false;
    conv.state = 'ended';
    conv.endReason = reason;
    conv.endedAtMs = this.#now();
    conv.endOffsetInMs = Math.min(
      conv.endOffsetInMs ?? Number.MAX_SAFE_INTEGER,
      conv.endedAtMs - conv.startedAtMs,
    );
    for (const cancel of conv.timers) cancel();
    for (const id of conv.legIds) {
      const leg = this.#legs.get(id);
      if (leg) {
        if (leg.outcome === 'pending') leg.outcome = 'timedOut';
        this.#terminateLeg(conv, leg, ResultCodes.conversationEnded, true);
      }
    }
    this.#event(conv, 'ended', { detail: reason });
    this.#deps.log('info', 'conversation ended', {
      conversationId: conv.id,
      callChainId: conv.chainId,
      reason,
    });
    return true;
  }

  // ---------------------------------------------------------------- Graph actions

  getLeg(callId: string): BotLeg | undefined {
    return this.#legs.get(callId);
  }

  #legFor(callId: string, appId: string): BotLeg | ActionResult {
    const leg = this.#legs.get(callId);
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

  answer(
    callId: string,
    appId: string,
    body: {
      callbackUri?: string;
      mediaConfig?: { blob?: string | null };
      participantCapacity?: number | null;
      callOptions?: { isDeltaRosterEnabled?: boolean | null } | null;
    },
  ): ActionResult {
    const found = this.#legFor(callId, appId);
    if (!('callId' in found)) return found;
    const leg = found;
    const conv = this.#conversations.get(leg.conversationId);
    if (conv === undefined || leg.state === 'terminated') return notFound(`Call ${callId}`);
    if (leg.outcome !== 'pending')
      return {
        kind: 'error',
        status: 409,
        code: 'Conflict',
        message: 'The call has already been answered, rejected or redirected.',
      };
    const active = [...this.#legs.values()].filter(
      (l) => l.bot.appId === appId && l.outcome === 'accepted' && l.state !== 'terminated',
    ).length;
    if (active >= this.#behaviour.maxConcurrentCallsPerApp) {
      return {
        kind: 'error',
        status: 429,
        code: 'TooManyRequests',
        message: `The application reached its limit of ${this.#behaviour.maxConcurrentCallsPerApp} concurrent calls.`,
        retryAfterInS: 5,
      };
    }
    leg.outcome = 'accepted';
    leg.answeredAtMs = this.#now();
    leg.cancelDeadline?.();
    if (body.callbackUri) leg.callbackUri = body.callbackUri;
    if (typeof body.participantCapacity === 'number')
      leg.participantCapacity = body.participantCapacity;
    if (typeof body.mediaConfig?.blob === 'string') leg.mediaConfigBlob = body.mediaConfig.blob;
    leg.isDeltaRoster = body.callOptions?.isDeltaRosterEnabled === true;
    this.#event(conv, 'answered', { callId, detail: `${leg.answeredAtMs - leg.invitedAtMs} ms` });
    this.#deps.log('info', 'recorder answered', {
      callId,
      callChainId: conv.chainId,
      latencyInMs: leg.answeredAtMs - leg.invitedAtMs,
    });
    setImmediate(() => this.#establish(conv, leg));
    return { kind: 'ok', status: 202 };
  }

  #establish(conv: Conversation, leg: BotLeg): void {
    if (leg.state === 'terminated' || conv.state !== 'active') return;
    leg.state = 'established';
    leg.lastKeepAliveAtMs = this.#now();
    this.#scheduleKeepAlive(conv, leg);
    const establishing = commsNotifications(this.#behaviour, [
      this.#stateUpdate(conv, leg, 'establishing'),
    ]);
    const established = commsNotifications(this.#behaviour, [
      this.#stateUpdate(conv, leg, 'established'),
    ]);
    if (conv.spec.delivery?.establishedBeforeEstablishing) {
      void this.#deliver(conv, leg, 'established', established);
      void this.#deliver(conv, leg, 'establishing', establishing);
    } else {
      void this.#deliver(conv, leg, 'establishing', establishing);
      void this.#deliver(conv, leg, 'established', established);
    }
    this.#reevaluateLeg(conv, leg);
    this.#sendRoster(conv, leg);
  }

  #scheduleKeepAlive(conv: Conversation, leg: BotLeg): void {
    leg.cancelKeepAlive?.();
    leg.cancelKeepAlive = this.#deps.clock.schedule(
      (leg.lastKeepAliveAtMs ?? this.#now()) + this.#behaviour.keepAliveTimeoutInMs,
      () => {
        if (leg.state === 'terminated') return;
        this.#event(conv, 'keepAliveTimeout', { callId: leg.callId });
        this.#deps.log('warn', 'recorder leg ended: no keepAlive within the timeout', {
          callId: leg.callId,
          callChainId: conv.chainId,
        });
        this.#terminateLeg(conv, leg, ResultCodes.keepAliveTimeout, true);
        this.#reevaluateLeg(conv, leg);
      },
    );
  }

  /** `GET …/operations/{id}`: the operations this leg's updateRecordingStatus calls created. */
  getOperation(callId: string, appId: string, operationId: string): ActionResult {
    const found = this.#legFor(callId, appId);
    if (!('callId' in found)) return found;
    const operation = found.operations.get(operationId);
    return operation
      ? { kind: 'ok', status: 200, body: operation }
      : notFound(`Operation ${operationId}`);
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
    const conv = this.#conversations.get(conversationId);
    const p = conv?.participants[index];
    if (conv === undefined || p === undefined || conv.state !== 'active') return false;
    const atInMs = this.#now() - conv.startedAtMs;
    p.runtimeTimeline.push({
      atInMs,
      action,
      ...(durationInMs !== undefined ? { durationInMs } : {}),
    });
    this.#event(conv, `control:${action}`, { participantId: p.participantId });
    this.#applyTimeline(conv, p, action);
    return true;
  }

  reject(callId: string, appId: string, reason: string): ActionResult {
    const found = this.#legFor(callId, appId);
    if (!('callId' in found)) return found;
    const conv = this.#conversations.get(found.conversationId);
    if (conv === undefined || found.state === 'terminated') return notFound(`Call ${callId}`);
    if (found.outcome !== 'pending')
      return {
        kind: 'error',
        status: 409,
        code: 'Conflict',
        message: 'Only an incoming call can be rejected.',
      };
    found.outcome = 'rejected';
    this.#event(conv, 'rejected', { callId, detail: reason });
    this.#terminateLeg(conv, found, ResultCodes.rejectedByBot, false);
    this.#reevaluateLeg(conv, found);
    return { kind: 'ok', status: 202 };
  }

  redirect(callId: string, appId: string): ActionResult {
    const found = this.#legFor(callId, appId);
    if (!('callId' in found)) return found;
    const conv = this.#conversations.get(found.conversationId);
    if (conv === undefined || found.state === 'terminated') return notFound(`Call ${callId}`);
    if (found.outcome !== 'pending')
      return {
        kind: 'error',
        status: 409,
        code: 'Conflict',
        message: 'Only an incoming call can be redirected.',
      };
    // A policy invite redirected elsewhere never puts this recorder in the call.
    found.outcome = 'redirected';
    this.#event(conv, 'redirected', { callId });
    this.#terminateLeg(conv, found, ResultCodes.removedFromConversation, false);
    this.#reevaluateLeg(conv, found);
    return { kind: 'ok', status: 202 };
  }

  keepAlive(callId: string, appId: string): ActionResult {
    const found = this.#legFor(callId, appId);
    if (!('callId' in found)) return found;
    const conv = this.#conversations.get(found.conversationId);
    if (conv === undefined || found.state === 'terminated' || found.outcome !== 'accepted')
      return notFound(`Call ${callId}`);
    found.lastKeepAliveAtMs = this.#now();
    this.#scheduleKeepAlive(conv, found);
    return { kind: 'ok', status: 200 };
  }

  hangUp(callId: string, appId: string): ActionResult {
    const found = this.#legFor(callId, appId);
    if (!('callId' in found)) return found;
    const conv = this.#conversations.get(found.conversationId);
    if (conv === undefined || found.state === 'terminated') return notFound(`Call ${callId}`);
    if (found.outcome === 'pending') found.outcome = 'rejected';
    this.#event(conv, 'recorderHungUp', { callId });
    this.#terminateLeg(conv, found, ResultCodes.endedByBot, true);
    this.#reevaluateLeg(conv, found);
    return { kind: 'ok', status: 204 };
  }

  removeParticipant(callId: string, appId: string, participantId: string): ActionResult {
    const found = this.#legFor(callId, appId);
    if (!('callId' in found)) return found;
    const conv = this.#conversations.get(found.conversationId);
    if (conv === undefined || found.state !== 'established') return notFound(`Call ${callId}`);
    if (participantId === found.myParticipantId) return this.hangUp(callId, appId);
    const p = conv.participants.find((x) => x.participantId === participantId && x.isPresent);
    if (p === undefined) return notFound(`Participant ${participantId}`);
    this.#event(conv, 'participantRemovedByRecorder', { callId, participantId });
    p.statusReason = 'removedByRecorder';
    this.#removeParticipant(conv, p, 'removedByRecorder');
    return { kind: 'ok', status: 204 };
  }

  updateRecordingStatus(
    callId: string,
    appId: string,
    body: { status?: string | null; clientContext?: string | null },
  ): ActionResult {
    const found = this.#legFor(callId, appId);
    if (!('callId' in found)) return found;
    const leg = found;
    const conv = this.#conversations.get(leg.conversationId);
    if (conv === undefined || leg.state === 'terminated') return notFound(`Call ${callId}`);
    if (leg.state !== 'established')
      return {
        kind: 'error',
        status: 400,
        code: 'BadRequest',
        message: 'The call is not established.',
      };
    const status = (body.status ?? '') as BotLeg['recordingStatus'];
    leg.recordingStatus = status;
    leg.recordingHistory.push({ status, at: this.#iso() });
    this.#event(conv, 'recordingStatus', { callId, detail: status });
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
      for (const p of conv.participants) this.#maybeShowNotice(conv, p);
      this.#sendRoster(conv, leg);
      setImmediate(() => void this.#startMedia(conv, leg));
    } else if (status === 'failed' && this.#behaviour.failedStatusEndsLeg) {
      setImmediate(() => {
        this.#terminateLeg(conv, leg, ResultCodes.recordingFailed, true);
        this.#reevaluateLeg(conv, leg);
      });
    } else {
      this.#sendRoster(conv, leg);
    }
    return {
      kind: 'ok',
      status: 200,
      body: response,
      headers: {
        location: `${this.#deps.baseUrl()}/v1.0/communications/calls/${callId}/operations/${operationId}`,
      },
    };
  }

  async #startMedia(conv: Conversation, leg: BotLeg): Promise<void> {
    if (
      this.#isClosed ||
      leg.media !== undefined ||
      leg.state !== 'established' ||
      leg.mediaConfigBlob === undefined
    )
      return;
    const blob = parseMediaConfigBlob(leg.mediaConfigBlob);
    if (blob === undefined) {
      leg.mediaError = 'media config blob is not a v1 Attest media config';
      this.#event(conv, 'mediaFailed', { callId: leg.callId, detail: leg.mediaError });
      return;
    }
    const media = new MediaStreamer({
      callId: leg.callId,
      blob,
      script: this.mediaScript(conv.id),
      startOffsetInMs: this.#now() - conv.startedAtMs,
      callStart100ns: BigInt(conv.startedAtMs) * 10_000n,
      pacing: this.#behaviour.mediaPacing,
      log: this.#deps.log,
      withVideo: this.#behaviour.streamVideo,
      ...(this.#behaviour.mediaCa !== undefined ? { ca: this.#behaviour.mediaCa } : {}),
    });
    leg.media = media;
    try {
      await media.start();
      this.#event(conv, 'mediaConnected', { callId: leg.callId });
      // The simulator may have closed while the connection was being made.
      if (this.#isClosed) await media.stop();
    } catch (err) {
      leg.mediaError = err instanceof Error ? err.message : 'media connection failed';
      this.#event(conv, 'mediaFailed', { callId: leg.callId, detail: leg.mediaError });
    }
  }

  /** Who speaks and shows video when, derived from the scripted timelines and removals. */
  mediaScript(conversationId: string): MediaScript {
    const conv = this.#conversations.get(conversationId);
    if (conv === undefined) throw new Error(`unknown conversation ${conversationId}`);
    const state = (
      p: ParticipantState,
      at: number,
      on: string,
      off: string,
      initial = false,
    ): boolean => {
      let value = initial;
      for (const e of [...(p.spec.timeline ?? []), ...p.runtimeTimeline].sort(
        (a, b) => a.atInMs - b.atInMs,
      )) {
        if (e.atInMs > at) break;
        if (e.action === on) value = true;
        if (e.action === off) value = false;
      }
      return value;
    };
    const isIn = (p: ParticipantState, at: number): boolean => {
      if (p.status === UserStatus.blocked && p.removedAtInMs !== undefined) return false;
      if (p.removedAtInMs !== undefined && at >= p.removedAtInMs) return false;
      if (at < this.#joinAt(p)) return false;
      if (state(p, at, 'leave', 'join')) return false;
      const isStillInLobby =
        p.spec.isInLobby === true &&
        ![...(p.spec.timeline ?? []), ...p.runtimeTimeline].some(
          (e) => e.action === 'admit' && e.atInMs <= at,
        );
      return !isStillInLobby;
    };
    return {
      speakersAt: (at) =>
        conv.participants
          .filter((p) => isIn(p, at) && !state(p, at, 'mute', 'unmute'))
          .filter((p) =>
            [...(p.spec.timeline ?? []), ...p.runtimeTimeline].some(
              (e) =>
                e.action === 'speak' && e.atInMs <= at && at < e.atInMs + (e.durationInMs ?? 0),
            ),
          )
          .map((p) => p.audioMsi),
      videosAt: (at) =>
        conv.participants
          .filter((p) => isIn(p, at) && state(p, at, 'videoOn', 'videoOff'))
          .map((p) => p.videoMsi),
      sharerAt: (at) =>
        conv.participants.find((p) => isIn(p, at) && state(p, at, 'shareOn', 'shareOff'))?.vbssMsi,
      endOffsetInMs: () => conv.endOffsetInMs,
    };
  }

  // ---------------------------------------------------------------- control-plane views

  /** Injects a raw notification body for delivery to a leg's current notification URL. */
  async injectRaw(callId: string, rawBody: string): Promise<DeliveryRecord | undefined> {
    const leg = this.#legs.get(callId);
    const conv = leg && this.#conversations.get(leg.conversationId);
    if (leg === undefined || conv === undefined) return undefined;
    const run = (): Promise<DeliveryRecord> =>
      this.#deps.deliverer.deliver({
        callId,
        kind: 'injected',
        url: leg.callbackUri ?? leg.webhookUrl,
        body: undefined,
        rawBody,
        bearerToken: this.#deps.entra.signWebhookToken(leg.bot.appId, conv.tenant.id),
        chainId: conv.chainId,
      });
    const next = leg.chain.then(run, run);
    leg.chain = next.catch(() => undefined);
    return next;
  }

  listConversations(): unknown[] {
    return [...this.#conversations.keys()].map((id) => this.outcome(id));
  }

  /** Everything a test or the CLI needs to judge what Teams would have done. */
  outcome(conversationId: string): Record<string, unknown> | undefined {
    const conv = this.#conversations.get(conversationId);
    if (conv === undefined) return undefined;
    return {
      conversationId: conv.id,
      callChainId: conv.chainId,
      kind: conv.spec.kind,
      tenantId: conv.tenant.id,
      state: conv.state,
      endReason: conv.endReason ?? null,
      startedAt: this.#iso(conv.startedAtMs),
      endedAt: conv.endedAtMs !== undefined ? this.#iso(conv.endedAtMs) : null,
      participants: conv.participants.map((p) => ({
        index: p.index,
        participantId: p.participantId,
        kind: p.identity.kind,
        userId: p.userId ?? null,
        audioMsi: p.audioMsi,
        videoMsi: p.videoMsi,
        vbssMsi: p.vbssMsi,
        isPresent: p.isPresent,
        status: p.status,
        statusReason: p.statusReason ?? null,
        policy: p.policyIdentity ?? null,
        notice: p.notice ?? null,
      })),
      legs: conv.legIds.map((id) => {
        const leg = this.#legs.get(id);
        if (leg === undefined) return { callId: id };
        return {
          callId: leg.callId,
          applicationInstanceId: leg.instance.id,
          botAppId: leg.bot.appId,
          slot: leg.slot,
          state: leg.state,
          outcome: leg.outcome,
          invitedAt: this.#iso(leg.invitedAtMs),
          answeredAt: leg.answeredAtMs !== undefined ? this.#iso(leg.answeredAtMs) : null,
          answerLatencyInMs:
            leg.answeredAtMs !== undefined ? leg.answeredAtMs - leg.invitedAtMs : null,
          observedParticipantIds: [...leg.observedParticipantIds],
          participantCapacity: leg.participantCapacity ?? null,
          recordingStatus: leg.recordingStatus,
          recordingHistory: leg.recordingHistory,
          terminatedResult: leg.terminatedResult ?? null,
          media: leg.media ? { ...leg.media.stats } : null,
          mediaError: leg.mediaError ?? null,
        };
      }),
      events: conv.events,
    };
  }

  /** Stops media and timers of every conversation (simulator shutdown). */
  async close(): Promise<void> {
    this.#isClosed = true;
    for (const conv of this.#conversations.values()) for (const cancel of conv.timers) cancel();
    const legs = [...this.#legs.values()];
    for (const leg of legs) {
      leg.cancelDeadline?.();
      leg.cancelKeepAlive?.();
    }
    await Promise.all(legs.map((leg) => leg.media?.stop() ?? Promise.resolve()));
    await Promise.all(legs.map((leg) => leg.chain.then(() => undefined)));
  }
}

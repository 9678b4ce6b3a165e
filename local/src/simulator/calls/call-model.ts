/**
 * The simulated calling service's model: conversations, participants, recorder legs, the
 * behaviour switches, and the context every part of the engine shares (the conversation and leg
 * tables, the clock, the event log of each conversation).
 */
import type { SimulatedEntra } from '../entra/entra';
import type { MediaStreamer } from '../media/media-streamer';
import type {
  ApplicationInstance,
  BotRegistration,
  CompliancePolicy,
  Directory,
  RecorderApplicationSettings,
  Tenant,
} from '../policy/model';
import type { InviteOutcome } from '../policy/policy-engine';
import type { CallSpec, ScenarioParticipant, TimelineEvent } from '../scenarios/scenario';
import type { SimClock } from '../util/clock';
import type { SimLogger } from '../util/http';
import type { WebhookDeliverer } from '../webhook/deliverer';
import type { Identity, ResultInfo, WireStyle } from './shapes';

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

export interface ParticipantState {
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

export type LegState = 'incoming' | 'establishing' | 'established' | 'terminated';

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

export interface InviteGroup {
  readonly participantId: string;
  readonly policy: CompliancePolicy;
  readonly application: RecorderApplicationSettings;
  readonly legIds: string[];
  isJoinRejected: boolean;
  wasAccepted: boolean;
}

export interface Conversation {
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

/** A failed Graph action. */
export type ActionError = Extract<ActionResult, { kind: 'error' }>;

export const notFound = (what: string): ActionError => ({
  kind: 'error',
  status: 404,
  code: 'itemNotFound',
  message: `${what} not found.`,
});

/** An entry of a conversation's event log (the outcome view lists them). */
export interface ConversationEvent {
  readonly participantId?: string;
  readonly callId?: string;
  readonly detail?: string;
}

/** State shared by the parts of the engine: the tables, the clock and the behaviour. */
export class CallContext {
  readonly deps: EngineDeps;
  readonly conversations = new Map<string, Conversation>();
  readonly legs = new Map<string, BotLeg>();
  behaviour: EngineBehaviour;
  isClosed = false;

  constructor(deps: EngineDeps) {
    this.deps = deps;
    this.behaviour = deps.behaviour;
  }

  now(): number {
    return this.deps.clock.nowInMs();
  }

  iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  /** Appends to the conversation's event log, stamped now. */
  event(conv: Conversation, event: string, fields: ConversationEvent): void {
    conv.events.push({ at: this.iso(), event, ...fields });
  }

  /** The conversation's legs that still exist, in invite order. */
  legsOf(conv: Conversation): BotLeg[] {
    return conv.legIds
      .map((id) => this.legs.get(id))
      .filter((leg): leg is BotLeg => leg !== undefined);
  }
}

/** A 1:1 call (peer to peer or PSTN): losing the other side ends it. */
export function isOneToOne(kind: CallSpec['kind']): boolean {
  return kind === 'p2p' || kind === 'pstn';
}

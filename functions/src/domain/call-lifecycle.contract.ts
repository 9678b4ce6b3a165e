/**
 * Contract of the `callLifecycle` orchestration: its versioned name, input (settings are
 * snapshotted here at start, never read from config by the orchestrator), the external event it
 * consumes, and the activities it calls. Shipped shapes only grow by optional fields.
 */
import type {
  CallState,
  InteractionRecord,
  MediaHostEventKind,
  ParticipantHistory,
  ParticipantMapping,
  RecordedUserPresence,
  RecordingGap,
  RecordingStatus,
  RecordingStatusChange,
  ResultInfo,
  RosterParticipant,
  SealSummary,
} from '@attest/core';
import type {
  GraphCallLookup,
  GraphResult,
  InteractionPatch,
  MediaSessionRef,
} from './recorder-ports';

/**
 * `callLifecycle` is the version new calls start; earlier versions stay registered so instances
 * started before an upgrade replay with the code that started them.
 */
export const OrchestratorNames = {
  callLifecycle: 'callLifecycleV4',
  callLifecycleV3: 'callLifecycleV3',
  callLifecycleV2: 'callLifecycleV2',
  callLifecycleV1: 'callLifecycleV1',
} as const;

export const ActivityNames = {
  updateRecordingStatus: 'recorderUpdateRecordingStatus',
  /** V2: `updateRecordingStatus(recording)`, then, only after Graph's 200, start persisting. */
  startRecording: 'recorderStartRecording',
  keepAlive: 'recorderKeepAlive',
  /** V4: `GET /communications/calls/{id}`, asked when the function app (re)started. */
  getCallState: 'recorderGetCallState',
  startPersisting: 'recorderStartPersisting',
  forwardParticipants: 'recorderForwardParticipants',
  checkMediaSession: 'recorderCheckMediaSession',
  abortMediaSession: 'recorderAbortMediaSession',
  sealRecording: 'recorderSealRecording',
  updateInteraction: 'recorderUpdateInteraction',
  finalizeInteraction: 'recorderFinalizeInteraction',
} as const;
export type ActivityName = (typeof ActivityNames)[keyof typeof ActivityNames];

/** Every notification for a call reaches its orchestration under this one event name. */
export const CALL_EVENT_NAME = 'callEvent';

/**
 * The call states the lifecycle acts on. Other states (`establishing`, `terminating`, `hold`,
 * transfers) change nothing in it, so the webhook does not raise them: each raise is a stored
 * message and an orchestration episode, several per call at the bench's load.
 */
export const LIFECYCLE_CALL_STATES: ReadonlySet<string> = new Set(['established', 'terminated']);

interface CallEventBase {
  /** Unique per delivery; the orchestrator ignores a repeated id. */
  readonly deliveryId: string;
  /** When the function app received it, ISO 8601. */
  readonly at: string;
}

/** What a call update revealed about its meeting (`establishing` usually does). */
export interface MeetingFacts {
  readonly meetingId?: string;
  readonly joinWebUrl?: string;
}

export type CallEvent =
  | (CallEventBase & {
      readonly kind: 'callState';
      readonly state: CallState;
      readonly resultInfo?: ResultInfo;
      /** Present when this update showed the call is a meeting. */
      readonly meeting?: MeetingFacts;
    })
  /** A call update the lifecycle does not act on (`establishing`) showed the call is a meeting. */
  | (CallEventBase & { readonly kind: 'meeting'; readonly meeting: MeetingFacts })
  | (CallEventBase & {
      readonly kind: 'roster';
      readonly participants: readonly RosterParticipant[];
      readonly mappings: readonly ParticipantMapping[];
    })
  | (CallEventBase & { readonly kind: 'participantLeft'; readonly participantId: string })
  /**
   * Another policy user joined this recorded call (participantJoining under participantCapacity):
   * a recorded user of the interaction from `at`.
   */
  | (CallEventBase & {
      readonly kind: 'recordedUserJoined';
      readonly userId: string;
      readonly participantId?: string;
    })
  | (CallEventBase & RecordingStartReport & { readonly kind: 'recordingStart' })
  /**
   * V4: the function app started (after a restart or an outage). Teams does not redeliver the
   * notifications sent while it was down, so the lifecycle asks Graph for the call's state.
   */
  | (CallEventBase & { readonly kind: 'hostStarted' })
  | (CallEventBase & {
      readonly kind: 'mediaHost';
      readonly eventKind: MediaHostEventKind;
      readonly reason?: string;
    });

/**
 * What the webhook's recording-status fast path did on `established` (callLifecycleV3): Graph's
 * last answer to `updateRecordingStatus(recording)` and, only after its 200, the media host's
 * answer to start persisting. The lifecycle records it; when Graph did not confirm, it does the
 * work itself.
 */
export interface RecordingStartReport {
  /** When `established` reached the function app, ISO 8601. */
  readonly establishedAt: string;
  readonly graph: GraphResult;
  /** When Graph answered 200, ISO 8601 (`graph.kind === 'ok'` only). */
  readonly confirmedAt?: string;
  /** Present only when Graph confirmed: nothing is persisted before. */
  readonly persisted?: MediaActivityResult;
}

export interface CallLifecycleSettings {
  readonly keepAliveIntervalInMs: number;
  readonly mediaHealthCheckIntervalInMs: number;
  /** Consecutive failed health checks before the media host counts as lost. */
  readonly mediaHealthFailureThreshold: number;
  readonly establishTimeoutInMs: number;
  readonly recordingStatusMaxAttempts: number;
  /** Retry delay for Graph failures without `Retry-After`. */
  readonly graphRetryDelayInMs: number;
  readonly maxEventsPerExecution: number;
  /**
   * V3: how long after `established` the lifecycle waits for the fast path's report before it
   * sets the recording status itself (the fast path died with its instance). Default 15000.
   */
  readonly recordingStartWaitInMs?: number;
  /**
   * V4: the least time between two of the lifecycle's Graph lookups of its call when the function
   * app starts (several instances starting at once ask once). Default 60000.
   */
  readonly callCheckMinIntervalInMs?: number;
}

/** State carried across `continueAsNew`. */
export interface CallLifecycleState {
  readonly phase: 'awaitingEstablished' | 'established';
  readonly execution: number;
  readonly establishedAt?: string;
  readonly lastKeepAliveAt: string;
  readonly lastHealthCheckAt: string;
  /** Why recording cannot continue (`mediaHostLost`, `recordingStatusNotConfirmed`), once known. */
  readonly failureReason?: string;
  readonly isRecordingConfirmed: boolean;
  readonly isMediaHostLost: boolean;
  readonly healthFailures: number;
  readonly statusHistory: readonly RecordingStatusChange[];
  readonly gaps: readonly RecordingGap[];
  readonly participants: Readonly<Record<string, ParticipantHistory>>;
  /** V3: when Graph confirmed `recording` and the media host persists, ISO 8601. */
  readonly recordingConfirmedAt?: string;
  /** V3: after `established` without the fast path's report, when the lifecycle stops waiting. */
  readonly recordingStartDueAt?: string;
  /** Set once an update showed the call is a meeting: the final record's type is `meeting`. */
  readonly meeting?: MeetingFacts;
  /** Policy users who joined the recorded call later, with their presence (final record). */
  readonly joinedRecordedUsers?: readonly RecordedUserPresence[];
  /** V4: when the lifecycle last asked Graph for its call's state, ISO 8601. */
  readonly lastCallCheckAt?: string;
  /** Latest roster mapping not yet forwarded (before persistence started). */
  readonly pendingMappings?: readonly ParticipantMapping[];
  readonly seenDeliveryIds: readonly string[];
}

export interface CallLifecycleInput {
  readonly callId: string;
  readonly tenantId: string;
  readonly interactionId: string;
  readonly session: MediaSessionRef;
  /** When the fast path sent the answer, ISO 8601. */
  readonly answeredAt: string;
  /**
   * The interaction record as the answered invite made it (the one handed to the archive's
   * `recordInvite`). The lifecycle completes it and hands the final record to
   * `finalizeInteraction`. Absent in instances started before it was added.
   */
  readonly interaction?: InteractionRecord;
  readonly settings: CallLifecycleSettings;
  /** Present after continueAsNew. */
  readonly state?: CallLifecycleState;
}

export interface CallLifecycleOutput {
  readonly outcome: 'recorded' | 'recordedWithGaps' | 'noMedia' | 'failed';
  readonly outcomeReason?: string;
  readonly resultCode?: number;
  readonly resultSubcode?: number;
}

// Activity inputs and outputs.
export interface UpdateRecordingStatusInput {
  readonly tenantId: string;
  readonly callId: string;
  readonly status: RecordingStatus;
}
export interface KeepAliveInput {
  readonly tenantId: string;
  readonly callId: string;
}
export type GraphActivityResult = GraphResult;
export type CallStateActivityResult = GraphCallLookup;
export interface StartPersistingInput {
  readonly session: MediaSessionRef;
  readonly recordingConfirmedAt: string;
}
export interface StartRecordingInput {
  readonly tenantId: string;
  readonly callId: string;
  readonly session: MediaSessionRef;
}
/** `persisted` is present only when Graph confirmed (`graph.kind === 'ok'`): nothing is persisted before. */
export interface StartRecordingResult {
  readonly graph: GraphActivityResult;
  readonly persisted?: MediaActivityResult;
}
export interface ForwardParticipantsInput {
  readonly session: MediaSessionRef;
  readonly mappings: readonly ParticipantMapping[];
}
export interface SessionInput {
  readonly session: MediaSessionRef;
  readonly reason?: string;
}

/**
 * The seal's input: the session and, for a seal its host cannot do (lost), what another media
 * host needs to adopt it from storage (absent in instances scheduled before it existed).
 */
export interface SealInput extends SessionInput {
  readonly recording?: {
    readonly tenantId: string;
    readonly interactionId: string;
    readonly callId: string;
  };
}
export type MediaActivityResult =
  { readonly ok: true; readonly state?: string } | { readonly ok: false; readonly reason: string };
export type SealActivityResult =
  | {
      readonly ok: true;
      readonly summary: SealSummary;
      /** Set when another media host adopted the session (its own host was lost). */
      readonly adoptedFromLostHost?: boolean;
    }
  | { readonly ok: false; readonly reason: string };
export interface UpdateInteractionInput {
  readonly tenantId: string;
  readonly interactionId: string;
  readonly patch: InteractionPatch;
}
export interface FinalizeInteractionInput {
  readonly tenantId: string;
  readonly interactionId: string;
  readonly patch: InteractionPatch;
  readonly participants: readonly ParticipantHistory[];
  readonly seal?: SealSummary;
  /**
   * The final interaction record, handed to the archive as is. Absent from instances started
   * before the lifecycle carried the record: the activity then reads the row back.
   */
  readonly interaction?: InteractionRecord;
}

/**
 * The interaction record: one recorded (or not recorded) call leg, as stored by the function app
 * in the `interactions` table and read by the archive, search, the admin API and reports.
 * Table layout (Azure Tables): PartitionKey = tenantId, RowKey = interactionId. Child rows live in
 * `interactionparticipants` / `interactionstreams` with PartitionKey = interactionId.
 * Arrays and objects are stored as JSON text columns with a `Json` suffix.
 */
import type { CallParticipant, RecordingGap, StreamSummary } from './control-api';
import type { CoverageInterval, InteractionCapture } from './captures/capture-merge';

export const InteractionType = {
  p2p: 'p2p',
  pstn: 'pstn',
  groupCall: 'groupCall',
  meeting: 'meeting',
  /** Webinar, town hall or live event, as far as the invite shows it. */
  broadcast: 'broadcast',
  unknown: 'unknown',
} as const;
export type InteractionType = (typeof InteractionType)[keyof typeof InteractionType];

export const CallDirection = {
  inbound: 'inbound',
  outbound: 'outbound',
  unknown: 'unknown',
} as const;
export type CallDirection = (typeof CallDirection)[keyof typeof CallDirection];

/** What became of an invite. Every invite the recorder received ends in exactly one of these. */
export const InteractionOutcome = {
  /** Invite accepted, call in progress. */
  inProgress: 'inProgress',
  /** Media covers the recorded window (from Graph's 200 for `recording` to the end). */
  recorded: 'recorded',
  /** Media stored, with at least one gap inside the recorded window. */
  recordedWithGaps: 'recordedWithGaps',
  /** The recording status was set, but no media was stored: never `recorded`. */
  noMedia: 'noMedia',
  rejectedBusy: 'rejectedBusy',
  failed: 'failed',
  notRecordable: 'notRecordable',
} as const;
export type InteractionOutcome = (typeof InteractionOutcome)[keyof typeof InteractionOutcome];

/** Graph recording status values Attest sets (`updateRecordingStatus`). */
export const RecordingStatus = {
  recording: 'recording',
  notRecording: 'notRecording',
  failed: 'failed',
} as const;
export type RecordingStatus = (typeof RecordingStatus)[keyof typeof RecordingStatus];

export interface RecordingStatusChange {
  readonly status: RecordingStatus;
  readonly at: string;
  /** Whether Graph answered 200. */
  readonly isConfirmed: boolean;
}

/**
 * A policy user who joined a call that was already being recorded for another policy user:
 * Teams sends a `participantJoiningNotification` to that leg instead of a new invite (answers
 * with `participantCapacity`). The user is a recorded user of the interaction from `joinedAt`
 * until `leftAt` (the end of the call when unset).
 */
export interface RecordedUserPresence {
  readonly userId: string;
  /** The call participant id Graph gave the joining user (matches `participantLeft`). */
  readonly participantId?: string;
  readonly joinedAt: string;
  readonly leftAt?: string;
}

/**
 * Set by the archive when the interaction's signed manifest does not verify (its signature, its
 * hash chains, or its hash against the one sealed in the ledger): at intake, playback or export.
 * A flagged interaction is not played back or exported; the flag is never cleared by the app.
 */
export interface IntegrityAlert {
  readonly kind: 'manifestInvalid';
  readonly detectedAt: string;
  readonly detectedBy: 'intake' | 'playback' | 'export';
  /** What the verifier found, located (`signature: ...`, `stream x block 3: ...`); at most 10. */
  readonly problems: readonly string[];
}

export interface InteractionRecord {
  readonly tenantId: string;
  readonly interactionId: string;
  readonly callId: string;
  readonly callChainId?: string;
  readonly type: InteractionType;
  readonly direction: CallDirection;
  readonly outcome: InteractionOutcome;
  /** Why the outcome is not `recorded`, in words safe to log (no PII). */
  readonly outcomeReason?: string;
  /** Invite received, answered, ended: ISO 8601. */
  readonly invitedAt: string;
  readonly answeredAt?: string;
  readonly endedAt?: string;
  /**
   * Object ids of the recorded (policy) users: the invite's, then every user who joined later
   * under `participantCapacity` (their intervals in `joinedRecordedUsers`).
   */
  readonly recordedUserIds: readonly string[];
  /** Recorded users who joined the recorded call later, with when they were in it. */
  readonly joinedRecordedUsers?: readonly RecordedUserPresence[];
  readonly meetingId?: string;
  readonly joinWebUrl?: string;
  /** PSTN only; personal data. */
  readonly dialedNumber?: string;
  readonly originNumber?: string;
  readonly resultCode?: number;
  readonly resultSubcode?: number;
  readonly recordingStatusHistory: readonly RecordingStatusChange[];
  readonly gaps: readonly RecordingGap[];
  readonly mediaHostId?: string;
  readonly region?: string;
  readonly manifestBlobName?: string;
  readonly manifestSha256?: string;
  readonly sealedAt?: string;
  /** Free JSON set by an integration through the admin API (≤ 32 KiB serialized). */
  readonly customData?: Readonly<Record<string, unknown>>;
  /**
   * A capture (one recorder leg of a paired call): the interaction it belongs to
   * ({@link pairedInteractionId}).
   */
  readonly pairedInteractionId?: string;
  /** An interaction of several captures (paired recorders): each capture, by leg. */
  readonly captures?: readonly InteractionCapture[];
  /** Such an interaction, once sealed: which capture covers each interval (the merged timeline). */
  readonly coverage?: readonly CoverageInterval[];
  /** Set by the archive when the signed manifest does not verify (never on a valid one). */
  readonly integrityAlert?: IntegrityAlert;
  /** Set by the archive when sealed. */
  readonly retentionClass?: string;
  readonly expiresAt?: string;
}

/** A participant's row: the {@link CallParticipant} and what the call showed of them. */
export interface InteractionParticipant extends CallParticipant {
  readonly interactionId: string;
  readonly displayName?: string;
  /** `organizer`, `presenter`, `attendee`, `producer`, `recordedUser`, … */
  readonly role?: string;
  readonly joinedAt?: string;
  readonly leftAt?: string;
  readonly isInLobby?: boolean;
}

/** A stream's row: the part of the seal's {@link StreamSummary} the listings need. */
export interface InteractionStream extends Pick<
  StreamSummary,
  'streamId' | 'kind' | 'msi' | 'participantId' | 'blobName' | 'bytes' | 'durationInMs'
> {
  readonly interactionId: string;
}

/** Azure Table names used by the function app. */
export const TableNames = {
  interactions: 'interactions',
  interactionParticipants: 'interactionparticipants',
  interactionStreams: 'interactionstreams',
  mediaHosts: 'mediahosts',
  /** Interactions made of several captures (paired recorders); PartitionKey tenant, RowKey id. */
  pairedInteractions: 'pairedinteractions',
  webhookDeliveries: 'webhookdeliveries',
} as const;

/** Blob containers. */
export const ContainerNames = {
  recordings: 'recordings',
  ledger: 'ledger',
  /** Export packages (`{tenantId}/{exportId}/...`): decrypted media, private, no public access. */
  exports: 'exports',
} as const;

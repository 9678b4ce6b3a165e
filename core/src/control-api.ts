/**
 * Contract between the function app and the media host (HTTP, JSON). Version 1.
 * Both directions authenticate with `Authorization: Bearer <ATTEST_MEDIA_CONTROL_KEY>`.
 *
 * Function app → media host (base URL from the heartbeat's `controlUrl`):
 *   POST   /v1/sessions                         CreateMediaSessionRequest → 201 CreateMediaSessionResponse
 *                                               (idempotent per callId: same session returned again)
 *   POST   /v1/sessions/{sessionId}/persist     StartPersistingRequest → 200 MediaSessionStatus
 *   PUT    /v1/sessions/{sessionId}/participants UpdateParticipantsRequest → 200 MediaSessionStatus
 *   POST   /v1/sessions/{sessionId}/pause       PausePersistenceRequest → 200 MediaSessionStatus
 *   POST   /v1/sessions/{sessionId}/resume      ResumePersistenceRequest → 200 MediaSessionStatus
 *   POST   /v1/sessions/{sessionId}/seal        (empty) → 200 SealSummary (idempotent)
 *   POST   /v1/sessions/{sessionId}/abort       AbortSessionRequest → 200 MediaSessionStatus (idempotent)
 *   GET    /v1/sessions/{sessionId}             → 200 MediaSessionStatus
 *   POST   /v1/sessions/{sessionId}/adopt       AdoptSessionRequest → 200 SealSummary (idempotent):
 *                                               seals another (lost) host's session from what it
 *                                               committed and journaled in storage
 *   POST   /v1/drain                            { isDraining: boolean } → 200 MediaHostHealth
 *   GET    /health                              → 200 MediaHostHealth (no auth)
 *
 * Media host → function app:
 *   POST   /api/mediahosts/heartbeat            MediaHostHeartbeat → 204
 *   POST   /api/mediahosts/events               MediaHostEvent → 202
 * Errors: 4xx/5xx with a {@link ProblemBody}.
 */

export const CONTROL_API_VERSION = 1 as const;

export interface CreateMediaSessionRequest {
  readonly callId: string;
  readonly tenantId: string;
  readonly interactionId: string;
  /** Graph's call chain id; stored in the manifest. */
  readonly callChainId?: string;
  /** The recorded users' object ids (opaque). */
  readonly recordedUserIds: readonly string[];
}

/** What the media host returns; `mediaConfigBlob` goes unchanged into Graph's `appHostedMediaConfig.blob`. */
export interface CreateMediaSessionResponse {
  readonly sessionId: string;
  readonly mediaHostId: string;
  /** JSON text of a {@link MediaConfigBlob}. */
  readonly mediaConfigBlob: string;
  /**
   * True when the host already had a live session for this call and returned it (create is
   * idempotent per call id): a caller that lost a duplicate-invite race must not abort it.
   */
  readonly isExisting?: boolean;
}

/** The versioned content of `appHostedMediaConfig.blob`. The token is one-time and never logged. */
export interface MediaConfigBlob {
  readonly v: 1;
  /** `tls://host:port` of the media protocol listener. */
  readonly endpoint: string;
  readonly sessionId: string;
  readonly token: string;
}

export interface StartPersistingRequest {
  /** When Graph answered 200 to updateRecordingStatus(recording), ISO 8601. */
  readonly recordingConfirmedAt: string;
}

export const ParticipantIdentityKind = {
  user: 'user',
  guest: 'guest',
  phone: 'phone',
  application: 'application',
  unknown: 'unknown',
} as const;
export type ParticipantIdentityKind =
  (typeof ParticipantIdentityKind)[keyof typeof ParticipantIdentityKind];

export const StreamKind = { audio: 'audio', video: 'video', vbss: 'vbss' } as const;
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind];

/**
 * A party of a call as every process sees it: Graph's participant id, who it is, and the media
 * source ids (MSIs) of its streams. The roster (`RosterParticipant`), the lifecycle's history of
 * it (`ParticipantHistory`), the interaction's row (`InteractionParticipant`) and the manifest
 * (`ManifestParticipant`) are this type with what each of them adds; the mappers between them
 * are in `participants.ts`. No personal data: names travel beside it, under `pii` or a
 * `displayName` the logger never writes.
 */
export interface CallParticipant {
  readonly participantId: string;
  readonly identityKind: ParticipantIdentityKind;
  /** Object id or phone number id; opaque. */
  readonly identityId?: string;
  readonly msis: readonly string[];
}

/**
 * Maps one media source id (MSI, Graph `mediaStreams[].sourceId`) to a participant: the control
 * API's per-stream view of a {@link CallParticipant} (the media host routes frames by MSI).
 */
export interface ParticipantMapping {
  readonly msi: string;
  readonly participantId: string;
  readonly kind: StreamKind;
  readonly identityKind: ParticipantIdentityKind;
  /** Object id or phone number id; opaque. */
  readonly identityId?: string;
  /** Personal data: only ever logged under a redacted `pii` field. */
  readonly pii?: { readonly displayName?: string };
}

export interface UpdateParticipantsRequest {
  readonly participants: readonly ParticipantMapping[];
}

export interface PausePersistenceRequest {
  /** Why, for example `pci`. Recorded in the gap. */
  readonly reason: string;
  /** Who asked (user object id or `system`). */
  readonly actor: string;
}

export interface ResumePersistenceRequest {
  readonly actor: string;
}

/**
 * Asks a healthy media host to adopt a session whose own host was lost (killed, cut off): it
 * reads the session's custody journal in storage, keeps the committed blocks the journal lists,
 * records the span from the last committed media to `lostUntil` as a `mediaHostLost` gap, and
 * seals a manifest signed with its own key. 404 when the session left no journal (nothing was
 * committed); a session already sealed answers its existing summary.
 */
export interface AdoptSessionRequest {
  readonly tenantId: string;
  readonly interactionId: string;
  readonly callId: string;
  /** End of the lost span, ISO 8601 (the call's end); default: now. */
  readonly lostUntil?: string;
}

export interface AbortSessionRequest {
  readonly reason: string;
}

export const MediaSessionState = {
  created: 'created',
  connected: 'connected',
  persisting: 'persisting',
  paused: 'paused',
  sealed: 'sealed',
  aborted: 'aborted',
  failed: 'failed',
} as const;
export type MediaSessionState = (typeof MediaSessionState)[keyof typeof MediaSessionState];

export interface MediaSessionStatus {
  readonly sessionId: string;
  readonly callId: string;
  readonly state: MediaSessionState;
  readonly framesReceived: number;
  /** Frames that arrived before persistence was allowed: counted, never stored. */
  readonly framesDroppedBeforePersist: number;
  readonly bytesCommitted: number;
}

/**
 * Why a span has no stored media. Open: the media host may report reasons of its own
 * (`framesMissing`, `storageOutage`, `pci`, ...); these are the ones the recorder decides on.
 */
export const GapReason = {
  /** From `established` to Graph's 200 for `recording`: nothing may be stored before it. */
  beforeRecordingStatus: 'beforeRecordingStatus',
  /** The recording status was set, but no frames arrived (the whole recording or one stream). */
  noMediaReceived: 'noMediaReceived',
  /** The media host stopped answering or lost the session. */
  mediaHostLost: 'mediaHostLost',
  /** The media host's local spool was full: frames were dropped. */
  spoolFull: 'spoolFull',
  /** Recording was paused. */
  paused: 'paused',
} as const;
export type GapReason = (typeof GapReason)[keyof typeof GapReason];

/** A span of a stream, or of the whole recording, with no stored media. */
export interface RecordingGap {
  /** Omitted when the gap covers every stream of the recording. */
  readonly streamId?: string;
  readonly startedAt: string;
  readonly endedAt: string;
  /** A {@link GapReason}, or a reason the media host reports (`framesMissing`, `storageOutage`, ...). */
  readonly reason: GapReason | (string & {});
  readonly actor?: string;
}

/**
 * One stored stream as the media host's seal reports it: the one stream summary that crosses
 * from the media host to the function app. The interaction's row (`InteractionStream`) is a
 * subset of it; `streamSummaryOf` (manifest) and `interactionStreamOf` (streams.ts) map to and
 * from it.
 */
export interface StreamSummary {
  readonly streamId: string;
  readonly kind: StreamKind;
  readonly msi: string;
  readonly participantId?: string;
  /** Blob name inside the recordings container. */
  readonly blobName: string;
  readonly contentType: string;
  readonly bytes: number;
  readonly durationInMs: number;
  readonly blockCount: number;
  /** Head of the stream's SHA-256 hash chain, hex. */
  readonly chainHeadSha256: string;
}

/** Returned by seal; the manifest itself is in storage at `manifestBlobName`. */
export interface SealSummary {
  readonly sessionId: string;
  readonly callId: string;
  readonly interactionId: string;
  readonly manifestBlobName: string;
  /** SHA-256 (hex) of the manifest bytes as stored. */
  readonly manifestSha256: string;
  readonly merkleRootSha256: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly streams: readonly StreamSummary[];
  readonly gaps: readonly RecordingGap[];
}

export interface MediaHostCapacity {
  readonly maxSessions: number;
  readonly activeSessions: number;
}

/** Why a media host stopped taking calls. */
export const DrainReason = {
  /** An operator asked (`POST /v1/drain`, or the function app's drain route). */
  admin: 'admin',
  /** Azure scheduled the instance's removal (scale-in, spot eviction, redeploy). */
  scaleIn: 'scaleIn',
} as const;
export type DrainReason = (typeof DrainReason)[keyof typeof DrainReason];

/** A media host's drain, as its health and heartbeats report it. */
export interface MediaHostDrainState {
  readonly reason: DrainReason;
  readonly startedAt: string;
  /**
   * When the host hands back the calls it still has and lets the instance go (scale-in: the
   * scheduled event's `NotBefore` less a margin, bounded by the host's drain limit).
   */
  readonly deadlineAt?: string;
  /** The Azure scheduled event being drained for (scale-in). */
  readonly eventId?: string;
  /** The scheduled event's type (`Terminate`, `Preempt`, ...). */
  readonly eventType?: string;
}

export interface MediaHostHealth {
  readonly hostId: string;
  readonly version: string;
  /** Azure region of the host (`westeurope`), or a name of the deployment's own (`local`). */
  readonly region: string;
  /** Availability zone inside the region (`1`, `2`, `3`), when the host knows it. */
  readonly zone?: string;
  readonly isDraining: boolean;
  /** Present while draining: why, since when, until when. */
  readonly drain?: MediaHostDrainState;
  readonly capacity: MediaHostCapacity;
  readonly spoolBytes: number;
  readonly spoolLimitInBytes: number;
  /** End of validity of the host's media TLS certificate (ISO 8601); `attest doctor` warns ahead of it. */
  readonly certificateExpiresAt?: string;
  /**
   * Where Teams' media reaches this host (`tls://<public name>:<port>`, or `tcp://…:<port>` of the
   * bridge's media port); `attest doctor` checks that it accepts a TCP connection.
   */
  readonly mediaEndpoint?: string;
  /** The .NET bridge on the same machine, when the host has one (Teams' real media). */
  readonly bridge?: MediaBridgeHealth;
}

/**
 * What the .NET bridge reports (its `GET /v1/health`), as the media host last read it; with
 * `isReachable: false` and no other figures when the bridge did not answer.
 */
export interface MediaBridgeHealth {
  readonly isReachable: boolean;
  /** Version of Microsoft's media library the bridge runs (Microsoft retires old ones). */
  readonly sdkVersion?: string;
  readonly isPlatformInitialized?: boolean;
  /**
   * The media platform's own load state, as its health event last reported it: normal,
   * heavilyLoaded or overloaded (Microsoft asks for no new calls on the instance until normal).
   */
  readonly platformHealth?: string;
  /** When the platform last reported a change of its load state (ISO 8601); absent when never. */
  readonly platformHealthChangedAt?: string;
  /** Changes of the load state the platform reported since the bridge started. */
  readonly platformHealthChanges?: number;
  /** End of validity of the media platform's certificate (ISO 8601). */
  readonly certificateExpiresAt?: string;
  readonly sessions?: number;
  readonly framesPerSecond?: number;
  /** Frames waiting in the bridge's per-call queues. */
  readonly queueDepth?: number;
  readonly framesForwarded?: number;
  /** Frames the bridge dropped because a queue was full; each dropped interval is a reported gap. */
  readonly framesDropped?: number;
  readonly gapReports?: number;
  readonly unackedFrames?: number;
  /** Calls whose link to this media host is down (reconnecting). */
  readonly disconnectedSessions?: number;
  /** When the media host read this report (ISO 8601). */
  readonly checkedAt: string;
}

export interface MediaHostHeartbeat extends MediaHostHealth {
  /** Base URL of the control API (`https://<private address>:<port>`). */
  readonly controlUrl: string;
  /**
   * Base URL of live listen-in (`wss://<public name>:<port>`), present when the host has a listen
   * key; the function app hands out `<listenUrl>/v1/live/<sessionId>`.
   */
  readonly listenUrl?: string;
  readonly sentAt: string;
}

export const MediaHostEventKind = {
  /** Persistence cannot continue (spool full, storage down past the bound): set `failed` status. */
  persistenceFailed: 'persistenceFailed',
  /** The media connection dropped; the host waits for a reconnect. */
  connectionLost: 'connectionLost',
  connectionResumed: 'connectionResumed',
  gapRecorded: 'gapRecorded',
} as const;
export type MediaHostEventKind = (typeof MediaHostEventKind)[keyof typeof MediaHostEventKind];

export interface MediaHostEvent {
  /** Unique per event, for at-least-once delivery dedupe. */
  readonly eventId: string;
  readonly hostId: string;
  readonly sessionId: string;
  readonly callId: string;
  readonly kind: MediaHostEventKind;
  readonly at: string;
  readonly reason?: string;
}

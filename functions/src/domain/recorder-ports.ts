/**
 * Ports of the recorder core. Adapters (Graph, Tables, media host HTTP, Durable client) implement
 * them; the composition root builds them; handlers and activities receive them.
 */
import type {
  AdoptSessionRequest,
  CallState,
  CreateMediaSessionRequest,
  CreateMediaSessionResponse,
  InteractionParticipant,
  InteractionRecord,
  InteractionStream,
  MediaHostHeartbeat,
  MediaSessionStatus,
  ParticipantMapping,
  PausePersistenceRequest,
  RecordingStatus,
  ResultInfo,
  ResumePersistenceRequest,
  SealSummary,
} from '@attest/core';

/** Outcome of one Graph request; throttling and "call gone" are expected outcomes, not errors. */
export type GraphResult =
  | { readonly kind: 'ok'; readonly status: number }
  | { readonly kind: 'throttled'; readonly retryAfterInMs: number }
  | { readonly kind: 'notFound' }
  | { readonly kind: 'failed'; readonly status: number; readonly isRetryable: boolean };

export interface AnswerOptions {
  readonly callbackUri: string;
  readonly mediaConfigBlob: string;
  /** Meetings only. */
  readonly participantCapacity?: number;
}

export const RejectReason = { busy: 'busy', forbidden: 'forbidden', none: 'none' } as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

export interface GraphCalls {
  answer(tenantId: string, callId: string, options: AnswerOptions): Promise<GraphResult>;
  reject(tenantId: string, callId: string, reason: RejectReason): Promise<GraphResult>;
  updateRecordingStatus(
    tenantId: string,
    callId: string,
    status: RecordingStatus,
    clientContext: string,
  ): Promise<GraphResult>;
  keepAlive(tenantId: string, callId: string): Promise<GraphResult>;
  /**
   * `GET /communications/calls/{id}`: the call's state as Graph holds it. A call that has ended
   * is `notFound` (Graph no longer knows it) or `found` in state `terminated`.
   */
  getCall(tenantId: string, callId: string): Promise<GraphCallLookup>;
}

/** What Graph says about one call; throttling and failures as in {@link GraphResult}. */
export type GraphCallLookup =
  | {
      readonly kind: 'found';
      readonly state: CallState;
      readonly resultInfo?: ResultInfo;
    }
  | Exclude<GraphResult, { readonly kind: 'ok' }>;

/** A registered media host as the registry holds it. */
export interface MediaHostRecord extends MediaHostHeartbeat {
  /** When this app received the last heartbeat, ISO 8601 (the host's own `sentAt` is not trusted for staleness). */
  readonly receivedAt: string;
  /** Set through the admin API; survives heartbeats. */
  readonly isDrainingByAdmin?: boolean;
}

export interface MediaHostRegistry {
  upsertHeartbeat(heartbeat: MediaHostHeartbeat, receivedAt: Date): Promise<void>;
  list(): Promise<readonly MediaHostRecord[]>;
  get(hostId: string): Promise<MediaHostRecord | undefined>;
  setDraining(hostId: string, isDraining: boolean): Promise<boolean>;
}

/** Where to reach one media session. */
export interface MediaSessionRef {
  readonly hostId: string;
  readonly controlUrl: string;
  readonly sessionId: string;
}

/** Throws RecorderError `ATT_MEDIA_HOST_UNAVAILABLE` (unreachable, 5xx) or `ATT_MEDIA_SESSION_FAILED` (4xx). */
export interface MediaHostControl {
  createSession(
    controlUrl: string,
    request: CreateMediaSessionRequest,
  ): Promise<CreateMediaSessionResponse>;
  startPersisting(
    session: MediaSessionRef,
    recordingConfirmedAt: string,
  ): Promise<MediaSessionStatus>;
  updateParticipants(
    session: MediaSessionRef,
    participants: readonly ParticipantMapping[],
  ): Promise<MediaSessionStatus>;
  getSession(session: MediaSessionRef): Promise<MediaSessionStatus>;
  seal(session: MediaSessionRef): Promise<SealSummary>;
  /**
   * Asks the host at `controlUrl` to seal another (lost) host's session from what that host
   * committed and journaled in storage (`POST /v1/sessions/{id}/adopt`).
   */
  adopt(controlUrl: string, sessionId: string, request: AdoptSessionRequest): Promise<SealSummary>;
  abort(session: MediaSessionRef, reason: string): Promise<void>;
  setDraining(controlUrl: string, isDraining: boolean): Promise<void>;
}

/**
 * Pauses and resumes storing a media session's frames (PCI pause). The media host records the
 * paused span as a gap with the reason and who paused. Throws like {@link MediaHostControl}.
 */
export interface PersistencePauseControl {
  pausePersistence(
    session: MediaSessionRef,
    request: PausePersistenceRequest,
  ): Promise<MediaSessionStatus>;
  resumePersistence(
    session: MediaSessionRef,
    request: ResumePersistenceRequest,
  ): Promise<MediaSessionStatus>;
}

/** Columns of an interaction that may change after the invite. */
export type InteractionPatch = Partial<
  Omit<InteractionRecord, 'tenantId' | 'interactionId' | 'callId'>
> & {
  /** Lifecycle state for listings: `answering`, `answered`, `established`, `ended`, ... */
  readonly callState?: string;
  /** The media host's session id for the call (set when the call is answered; live listen-in). */
  readonly mediaSessionId?: string;
  /** The media host's control URL for the session (set when answered; the recording fast path). */
  readonly mediaControlUrl?: string;
  /** The orchestration the call's lifecycle runs (set when answered). */
  readonly lifecycleVersion?: string;
};

/** An interaction row as stored: the record and the call's operational columns. */
export type InteractionRow = InteractionRecord & {
  readonly callState?: string;
  readonly mediaSessionId?: string;
  readonly mediaControlUrl?: string;
  readonly lifecycleVersion?: string;
  /** When an instance claimed the call leg's recording start, ISO 8601. */
  readonly recordingStartClaimedAt?: string;
};

/** What became of a claim on a call leg's recording start. */
export type RecordingStartClaim =
  | { readonly kind: 'claimed'; readonly row: InteractionRow }
  | { readonly kind: 'taken' }
  /** `row`: the row as read, when the store has it (nothing was written). */
  | { readonly kind: 'ineligible'; readonly row?: InteractionRow }
  | { readonly kind: 'absent' };

/** The row as this instance last wrote it, with that write's ETag: a claim can skip its read. */
export interface KnownInteractionRow {
  readonly row: InteractionRow;
  readonly etag: string;
}

export interface InteractionFilter {
  readonly tenantId?: string;
  readonly outcome?: string;
  readonly callState?: string;
  readonly invitedAfter?: string;
  readonly callChainId?: string;
  readonly top?: number;
}

export interface InteractionStore {
  /** Conditional insert: false when the interaction already exists (duplicate invite). */
  createIfAbsent(
    record: InteractionRecord,
    extra?: Readonly<Record<string, string>>,
  ): Promise<boolean>;
  /** Merges `patch` into the row; resolves to the row's new ETag when the store reports one. */
  update(
    tenantId: string,
    interactionId: string,
    patch: InteractionPatch,
  ): Promise<string | undefined>;
  /**
   * Read-modify-write of one row, safe against concurrent writers (If-Match on its ETag, read
   * again on 412): `change` gets the current row and returns the patch to write, or undefined to
   * leave it. `absent` when there is no row; `conflict` when other writers kept winning.
   */
  modify(
    tenantId: string,
    interactionId: string,
    change: (row: InteractionRow) => InteractionPatch | undefined,
  ): Promise<'updated' | 'unchanged' | 'absent' | 'conflict'>;
  /**
   * Claims a call leg's recording start once across every instance: a conditional write
   * (If-Match on the row's ETag) of `recordingStartClaimedAt`. `taken` when it is set already or
   * another writer keeps winning; `ineligible` (nothing written) when `isEligible` refuses the
   * row; `absent` when there is no row. With `known` (this instance's last write of the row) the
   * claim is written against that ETag without reading the row first; if the row changed since,
   * it is read as without.
   */
  claimRecordingStart(
    tenantId: string,
    interactionId: string,
    claimedAt: string,
    isEligible: (row: InteractionRow) => boolean,
    known?: KnownInteractionRow,
  ): Promise<RecordingStartClaim>;
  get(tenantId: string, interactionId: string): Promise<InteractionRow | undefined>;
  /** Across tenants (admin view). */
  findByInteractionId(interactionId: string): Promise<InteractionRow | undefined>;
  list(filter: InteractionFilter): Promise<readonly (InteractionRecord & { callState?: string })[]>;
  upsertParticipants(participants: readonly InteractionParticipant[]): Promise<void>;
  upsertStreams(streams: readonly InteractionStream[]): Promise<void>;
  listParticipants(interactionId: string): Promise<readonly InteractionParticipant[]>;
  listStreams(interactionId: string): Promise<readonly InteractionStream[]>;
}

/** At-most-once processing of webhook deliveries (Teams retries and replays). */
export interface DeliveryLog {
  /** True the first time a key is claimed; false for a duplicate. */
  tryClaim(partition: string, key: string): Promise<boolean>;
  /** Lets a delivery whose processing failed be processed again. Best effort. */
  release(partition: string, key: string): Promise<void>;
  /** Deletes claims received before `cutoff`; returns how many. */
  purgeOlderThan(cutoff: Date): Promise<number>;
}

export type StartResult = 'started' | 'alreadyExists';
export type RaiseResult = 'raised' | 'notFound';

export interface LifecycleStatus {
  readonly instanceId: string;
  readonly runtimeStatus: string;
  readonly customStatus?: unknown;
  readonly createdTime?: string;
  readonly lastUpdatedTime?: string;
  readonly output?: unknown;
}

/**
 * Finished call lifecycles in the task hub, for the history purge. A lifecycle's history is
 * operational: the interaction record, its participants and streams and the ledger are the record
 * of the call, and stay.
 */
export interface LifecycleHistory {
  /**
   * Ids of call lifecycle instances (either version) that finished (completed, failed or
   * terminated) and were created before `createdBefore`; at most `limit`.
   */
  listFinished(createdBefore: Date, limit: number): Promise<readonly string[]>;
  /** Deletes one instance's history and state; false when there was none. Idempotent. */
  purge(instanceId: string): Promise<boolean>;
}

/** Running call lifecycles, for the call check when the function app starts. */
export interface RunningLifecycles {
  /** Ids of the running instances of the orchestration `orchestratorName`. */
  listRunning(orchestratorName: string): Promise<readonly string[]>;
  raise(instanceId: string, eventName: string, payload: unknown): Promise<RaiseResult>;
}

/** The Durable client as the recorder uses it. */
export interface LifecycleClient {
  start(orchestratorName: string, instanceId: string, input: unknown): Promise<StartResult>;
  raise(instanceId: string, eventName: string, payload: unknown): Promise<RaiseResult>;
  getStatus(instanceId: string): Promise<LifecycleStatus | undefined>;
}

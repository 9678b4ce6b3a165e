/**
 * One media session: a recorded call leg's frames, from the socket to committed blobs.
 *
 * Rules kept here:
 * - Nothing is stored (not even in the spool) before `startPersisting` or while paused; such
 *   frames are counted and their sequence numbers consumed.
 * - A frame is spooled synchronously on arrival ({@link MediaSession.accept} never awaits), then
 *   processed into stream writers in order; a commit every `commitIntervalInMs` commits every
 *   stream and appends the blocks it committed to the session's checkpoint log
 *   (`checkpoint-log.ts`), after which the spool may forget those frames. A commit's cost does not
 *   grow with the call: it writes one line, and the writers forget checkpointed blocks.
 * - A stream is cut into segments (blobs) of at most `segmentMaxDurationInMs` of media, so a
 *   block list commit stays bounded too; the manifest lists each segment as a stream.
 * - After a crash the session is rebuilt from its record and checkpoint log: each stream's committed blocks stay
 *   as they are (its blob is re-committed with exactly the checkpointed list) and spooled frames
 *   after them continue in a new segment blob of the same stream (`audio-11.1`), because a
 *   container's encoder state cannot be recovered.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, open as openFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  encodeFrame,
  ErrorCode,
  MediaSessionState,
  RecorderError,
  RECORDING_KEYS_CONTAINER,
  serializeManifest,
  signManifestWith,
  streamsMerkleRoot,
  wrappedKeyBlobName,
  type CreateMediaSessionRequest,
  type ManifestParticipant,
  type ManifestStream,
  type MediaProtocolFrame,
  type MediaSessionStatus,
  type ParticipantMapping,
  type RecordingGap,
  type RecordingManifest,
  type SealSummary,
  type Signer,
  type StreamKind,
  type StreamSummary,
} from '@attest/core';
import { MetricNames, type MetricsSink } from '../hooks/metrics-sink';
import type { Logger } from '../logging/logger';
import { errorMessage } from '../logging/logger';
import type { StreamFormatterFactory } from '../pipeline/formats/stream-format';
import { SpoolRecordKind, type Spool } from '../pipeline/spool';
import { blockIdsUpTo, StreamWriter, type StreamWriterState } from '../pipeline/stream-writer';
import {
  appendCheckpointLine,
  checkpointLogPath,
  foldCheckpoints,
  readCheckpointLog,
  type CheckpointLine,
  type FoldedCheckpoint,
} from './checkpoint-log';
import type { BlockStore } from '../sink/block-store';

export interface SessionEnvironment {
  readonly hostId: string;
  readonly softwareVersion: string;
  readonly container: string;
  readonly spool: Spool;
  readonly store: BlockStore;
  readonly formatterFactory: StreamFormatterFactory;
  readonly isAudioLossless: boolean;
  readonly blockMinDurationInMs: number;
  /** Media per stream segment (blob); see {@link StreamWriterOptions.segmentMaxDurationInMs}. */
  readonly segmentMaxDurationInMs?: number;
  readonly sessionsDir: string;
  /** Signs the manifest at seal (a local key, or Key Vault). */
  readonly signer: Signer;
  readonly now: () => Date;
  readonly metrics: MetricsSink;
  readonly logger: Logger;
  /**
   * Runs a session record write (with its fsync). The host limits how many run at once so they do
   * not fill libuv's thread pool ahead of the spool's own write and fsync.
   */
  readonly limitRecordWrite: <T>(write: () => Promise<T>) => Promise<T>;
  /** Tells the function app persistence failed (spool full, storage refusing). */
  readonly reportFailure: (session: MediaSession, reason: string) => void;
}

/**
 * What survives a restart, with the checkpoint log beside it: written atomically to
 * `{sessionsDir}/{sessionId}.json` when the session's state changes (not at every commit).
 * Format 1 carried every stream's blocks in `streams` and was rewritten at every commit; a
 * format 1 record still restores (its streams become the log's first line).
 */
export interface SessionRecord {
  readonly v: 1 | 2;
  readonly sessionId: string;
  readonly request: CreateMediaSessionRequest;
  readonly tokenSha256: string;
  /** Kept so a repeated create for the same call returns the same media config blob. */
  readonly token: string;
  readonly state: MediaSessionState;
  readonly createdAt: string;
  readonly persistingSince?: string;
  readonly pause?: { readonly since: string; readonly reason: string; readonly actor: string };
  readonly participants: readonly ParticipantMapping[];
  readonly gaps: readonly RecordingGap[];
  /** Base64 data key; the spool beside it holds plaintext media, so it is protected the same way. */
  readonly dataKey?: string;
  readonly kekId?: string;
  readonly framesReceived: number;
  readonly framesDroppedBeforePersist: number;
  /** Format 1 only: committed segments with their blocks (format 2 keeps them in the checkpoint log). */
  readonly streams?: readonly StreamWriterState[];
  /**
   * Every frame up to this sequence is in committed blocks or was consumed without storing, so
   * the spool may no longer hold it: a restart resumes the source after it (absent in records
   * written before it existed, which resume from the spool and the streams alone).
   */
  readonly sequenceThrough?: number;
  readonly sealSummary?: SealSummary;
  readonly failureReason?: string;
  /** When the session was sealed, aborted or failed (absent in records written before it existed). */
  readonly finishedAt?: string;
}

interface QueuedFrame {
  readonly frame: MediaProtocolFrame;
  readonly sequence: number;
  /** Wall time the frame arrived (ms since the epoch); undefined for frames replayed from the spool. */
  readonly atInMs?: number;
}

/**
 * A segment the session no longer writes: ended, or checkpointed before a restart. Its blocks are
 * in the checkpoint log, not in memory; their ids are `blockIdFor(0..blockCount-1)`.
 */
type ClosedSegment = Pick<
  StreamWriterState,
  | 'streamId'
  | 'kind'
  | 'msi'
  | 'segment'
  | 'blobName'
  | 'contentType'
  | 'storedBytes'
  | 'committedThroughSequence'
> & {
  readonly blockCount: number;
};

const closedSegment = (s: StreamWriterState, blockCount: number): ClosedSegment => ({
  streamId: s.streamId,
  kind: s.kind,
  msi: s.msi,
  segment: s.segment,
  blobName: s.blobName,
  contentType: s.contentType,
  blockCount,
  storedBytes: s.storedBytes,
  committedThroughSequence: s.committedThroughSequence,
});

/**
 * A record's segments with its log's lines folded on. A format 1 record's streams are the base,
 * unless the log already holds them (its first line, written by a reconcile that stopped before
 * the record was rewritten in format 2).
 */
function foldRecordAndLog(
  record: SessionRecord,
  lines: readonly CheckpointLine[],
): FoldedCheckpoint {
  return foldCheckpoints(lines.length === 0 ? (record.streams ?? []) : [], lines);
}

const tokenHash = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex');

export interface NewSessionInit {
  readonly sessionId: string;
  readonly token: string;
  readonly request: CreateMediaSessionRequest;
  readonly dataKey: Buffer | undefined;
  readonly kekId: string | undefined;
}

export class MediaSession {
  readonly sessionId: string;
  readonly request: CreateMediaSessionRequest;
  private readonly env: SessionEnvironment;
  private readonly log: Logger;
  private readonly tokenSha256: string;
  /** The session token (never logged). */
  readonly token: string;
  private stateValue: MediaSessionState;
  private readonly createdAt: string;
  private persistingSince: string | undefined;
  private pause: { since: string; reason: string; actor: string } | undefined;
  private readonly participants = new Map<string, ParticipantMapping>();
  private readonly gaps: RecordingGap[] = [];
  private readonly dataKey: Buffer | undefined;
  private readonly kekId: string | undefined;
  private framesReceived = 0;
  private framesDroppedBeforePersist = 0;
  private bytesCommitted = 0;
  private readonly writers = new Map<string, StreamWriter>();
  /** The current writers of unmixed audio streams by MSI (the per-frame lookup, without a string key). */
  private readonly unmixedWriters = new Map<number, StreamWriter>();
  private readonly metricLabels: { readonly session: string };
  /** Streams' earlier segments, finished (their blocks are in the checkpoint log). */
  private readonly closedStreams: ClosedSegment[] = [];
  /** Checkpoints of segments ended since the last checkpoint line (the next line takes them). */
  private endedSegmentCheckpoints: StreamWriterState[] = [];
  /** Format 1 record's streams, written as the checkpoint log's first line by {@link reconcile}. */
  private legacyStreams: readonly StreamWriterState[] | undefined;
  /** After a restart: frames of a stream up to this sequence are already committed. */
  private readonly skipThrough = new Map<string, number>();
  private readonly nextSegment = new Map<string, number>();
  private queue: QueuedFrame[] = [];
  private processing: Promise<void> | undefined;
  private processedThrough = 0;
  private commitChain: Promise<unknown> = Promise.resolve();
  /** Highest sequence accepted (spooled, or consumed without storing). */
  private acceptedThrough = 0;
  /** Highest sequence durable in the spool (what the source may forget). */
  private durableThroughValue = 0;
  /** Highest `sequenceThrough` written to the session record (see {@link SessionRecord}). */
  private checkpointedThrough = 0;
  private sealSummary: SealSummary | undefined;
  private failureReason: string | undefined;
  private finishedAtValue: string | undefined;
  private isSealing = false;
  /** The seal on its way, shared by every caller of {@link seal}. */
  private sealing: Promise<SealSummary> | undefined;
  private hasKeyRecord = false;
  private readonly quietCommits = new Map<string, number>();

  private constructor(
    env: SessionEnvironment,
    record: SessionRecord,
    dataKey: Buffer | undefined,
    checkpoint: FoldedCheckpoint,
  ) {
    this.env = env;
    this.sessionId = record.sessionId;
    this.metricLabels = { session: record.sessionId };
    this.request = record.request;
    this.tokenSha256 = record.tokenSha256;
    this.token = record.token;
    this.stateValue = record.state;
    this.createdAt = record.createdAt;
    this.persistingSince = record.persistingSince;
    this.pause = record.pause === undefined ? undefined : { ...record.pause };
    for (const p of record.participants) this.participants.set(p.msi, p);
    this.gaps.push(...record.gaps);
    this.dataKey = dataKey;
    this.kekId = record.kekId;
    this.framesReceived = Math.max(record.framesReceived, checkpoint.last?.framesReceived ?? 0);
    this.framesDroppedBeforePersist = Math.max(
      record.framesDroppedBeforePersist,
      checkpoint.last?.framesDroppedBeforePersist ?? 0,
    );
    this.sealSummary = record.sealSummary;
    this.failureReason = record.failureReason;
    this.finishedAtValue = record.finishedAt;
    this.log = env.logger.child({
      sessionId: record.sessionId,
      callId: record.request.callId,
      interactionId: record.request.interactionId,
    });
    let through = Math.max(record.sequenceThrough ?? 0, checkpoint.through);
    for (const stream of checkpoint.streams) {
      this.closedStreams.push(closedSegment(stream, stream.blocks.length));
      const key = streamKey(stream.kind, stream.msi);
      this.skipThrough.set(
        key,
        Math.max(this.skipThrough.get(key) ?? 0, stream.committedThroughSequence),
      );
      this.nextSegment.set(key, Math.max(this.nextSegment.get(key) ?? 0, stream.segment + 1));
      this.bytesCommitted += stream.storedBytes;
      through = Math.max(through, stream.committedThroughSequence);
    }
    // After a restart the source resumes after the checkpoint even when the spool released every
    // frame up to it (the spool's replay, if any, raises these further).
    this.acceptedThrough = through;
    this.durableThroughValue = through;
    this.processedThrough = through;
    this.checkpointedThrough = through;
    this.hasKeyRecord = record.dataKey === undefined || checkpoint.streams.length > 0;
    if (checkpoint.lineCount === 0 && (record.streams?.length ?? 0) > 0)
      this.legacyStreams = record.streams;
  }

  static create(env: SessionEnvironment, init: NewSessionInit): MediaSession {
    const record: SessionRecord = {
      v: 2,
      sessionId: init.sessionId,
      request: init.request,
      tokenSha256: tokenHash(init.token),
      token: init.token,
      state: MediaSessionState.created,
      createdAt: env.now().toISOString(),
      participants: [],
      gaps: [],
      ...(init.dataKey !== undefined ? { dataKey: init.dataKey.toString('base64') } : {}),
      ...(init.kekId !== undefined ? { kekId: init.kekId } : {}),
      framesReceived: 0,
      framesDroppedBeforePersist: 0,
    };
    const session = new MediaSession(env, record, init.dataKey, foldCheckpoints([], []));
    session.hasKeyRecord = false;
    return session;
  }

  /**
   * Rebuilds a session after a restart from its record and its checkpoint log's lines (see
   * `readCheckpointLogSync`); call {@link MediaSession.reconcile} before use.
   */
  static restore(
    env: SessionEnvironment,
    record: SessionRecord,
    lines: readonly CheckpointLine[],
  ): MediaSession {
    return new MediaSession(
      env,
      record,
      record.dataKey === undefined ? undefined : Buffer.from(record.dataKey, 'base64'),
      foldRecordAndLog(record, lines),
    );
  }

  get state(): MediaSessionState {
    return this.stateValue;
  }

  get isFinished(): boolean {
    return (
      this.stateValue === 'sealed' || this.stateValue === 'aborted' || this.stateValue === 'failed'
    );
  }

  get isAcceptingFrames(): boolean {
    return !this.isFinished && !this.isSealing;
  }

  /** The sequence the source sends next. */
  get nextSequence(): number {
    return this.acceptedThrough + 1;
  }

  get durableThrough(): number {
    return this.durableThroughValue;
  }

  /** Constant-time check of a presented session token. */
  isTokenValid(token: string): boolean {
    const presented = Buffer.from(tokenHash(token), 'hex');
    return timingSafeEqual(presented, Buffer.from(this.tokenSha256, 'hex'));
  }

  status(): MediaSessionStatus {
    return {
      sessionId: this.sessionId,
      callId: this.request.callId,
      state: this.stateValue,
      framesReceived: this.framesReceived,
      framesDroppedBeforePersist: this.framesDroppedBeforePersist,
      bytesCommitted: this.bytesCommitted,
    };
  }

  /** Whether a media connection was ever attached (in this process). */
  get hasConnected(): boolean {
    return this.connectedOnce;
  }

  private connectedOnce = false;

  markConnected(): void {
    this.connectedOnce = true;
    if (this.stateValue === MediaSessionState.created)
      this.stateValue = MediaSessionState.connected;
  }

  // ---- control ----------------------------------------------------------------------------

  /** Writes the wrapped data key record; must happen before any media is stored. */
  async ensureKeyRecord(wrappedRecord: Buffer | undefined): Promise<void> {
    if (this.hasKeyRecord || wrappedRecord === undefined) {
      this.hasKeyRecord = true;
      return;
    }
    await this.env.store.upload(
      RECORDING_KEYS_CONTAINER,
      wrappedKeyBlobName(this.request.tenantId, this.request.interactionId),
      wrappedRecord,
      'application/json',
    );
    this.hasKeyRecord = true;
  }

  // Set up after the control API has already answered: the wrapped data key to storage and the
  // first session record to disk. Persistence waits for it, so no media is stored before its key.
  private setup: Promise<void> = Promise.resolve();

  /** Runs the session's set-up in the background; {@link startPersisting} waits for it and fails with it. */
  beginSetup(task: () => Promise<void>): void {
    this.setup = task();
    this.setup.catch((error: unknown) =>
      this.log.error('session set-up failed', {
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }

  async startPersisting(): Promise<void> {
    await this.setup;
    this.assertControllable();
    if (this.persistingSince === undefined) this.persistingSince = this.env.now().toISOString();
    if (
      this.stateValue === MediaSessionState.created ||
      this.stateValue === MediaSessionState.connected
    ) {
      this.stateValue = MediaSessionState.persisting;
    }
    await this.saveRecord();
    this.log.info('persistence started');
  }

  async updateParticipants(participants: readonly ParticipantMapping[]): Promise<void> {
    this.assertNotFinished();
    for (const p of participants) this.participants.set(p.msi, p);
    await this.saveRecord();
  }

  async pausePersistence(reason: string, actor: string): Promise<void> {
    this.assertControllable();
    if (this.pause === undefined) {
      this.pause = { since: this.env.now().toISOString(), reason, actor };
      if (this.stateValue === MediaSessionState.persisting)
        this.stateValue = MediaSessionState.paused;
      this.log.info('persistence paused', { reason });
    }
    await this.saveRecord();
  }

  async resumePersistence(actor: string): Promise<void> {
    this.assertControllable();
    const pause = this.pause;
    if (pause !== undefined) {
      this.gaps.push({
        startedAt: pause.since,
        endedAt: this.env.now().toISOString(),
        reason: pause.reason,
        actor: pause.actor,
      });
      this.env.metrics.increment(MetricNames.gapsRecorded, 1, { session: this.sessionId });
      this.pause = undefined;
      if (this.stateValue === MediaSessionState.paused)
        this.stateValue = MediaSessionState.persisting;
      this.log.info('persistence resumed', {
        reason: pause.reason,
        actorKind: actor === 'system' ? 'system' : 'user',
      });
    }
    await this.saveRecord();
  }

  private assertNotFinished(): void {
    if (this.isFinished || this.isSealing) {
      throw new RecorderError(ErrorCode.Conflict, `media session is ${this.stateValue}`, {
        details: { state: this.stateValue },
      });
    }
  }

  private assertControllable(): void {
    this.assertNotFinished();
  }

  private get isStoring(): boolean {
    return this.persistingSince !== undefined && this.pause === undefined && !this.isFinished;
  }

  // ---- frames -----------------------------------------------------------------------------

  /**
   * Takes one decoded frame, synchronously (see {@link acceptFrames}); for callers that hold a
   * single decoded frame rather than a socket read.
   */
  accept(frame: MediaProtocolFrame): { isPersisted: boolean; isAccepted: boolean } {
    return this.acceptFrames([frame], 0, 1, encodeFrame(frame));
  }

  /**
   * Takes `frames[start..end)` of one socket read, synchronously: consecutive sequenced frames
   * whose wire bytes are exactly `wire`. Spools them as one record (or, when nothing may be
   * stored, one mark consuming their sequences) and writes them into the stream writers (at
   * once when the formatters are synchronous and nothing is queued, else through the queue).
   * Returns `isAccepted: false` when the session cannot take them (spool full: the failure is
   * reported). Never awaits.
   */
  acceptFrames(
    frames: readonly MediaProtocolFrame[],
    start: number,
    end: number,
    wire: Buffer,
  ): { isPersisted: boolean; isAccepted: boolean } {
    const count = end - start;
    if (count <= 0) return { isPersisted: this.isStoring, isAccepted: true };
    const last = frames[end - 1]!.sequence;
    this.framesReceived += count;
    this.env.metrics.increment(MetricNames.framesReceived, count, this.metricLabels);
    if (!this.isStoring) {
      let dropped = 0;
      for (let i = start; i < end; i += 1) if (isStoredFrame(frames[i]!)) dropped += 1;
      if (dropped > 0) {
        this.framesDroppedBeforePersist += dropped;
        this.env.metrics.increment(
          MetricNames.framesDroppedNotPersisting,
          dropped,
          this.metricLabels,
        );
      }
      this.env.spool.append(SpoolRecordKind.sequenceMark, this.sessionId, last);
      this.acceptedThrough = last;
      return { isPersisted: false, isAccepted: true };
    }
    if (!this.env.spool.append(SpoolRecordKind.frames, this.sessionId, last, wire)) {
      this.env.metrics.increment(MetricNames.framesDroppedSpoolFull, count, this.metricLabels);
      this.fail('spool full');
      return { isPersisted: false, isAccepted: false };
    }
    this.acceptedThrough = last;
    const atInMs = this.env.now().getTime();
    for (let i = start; i < end; i += 1) {
      const frame = frames[i]!;
      if (
        this.queue.length === 0 &&
        this.processing === undefined &&
        this.processSync(frame, atInMs)
      )
        continue;
      this.enqueue({ frame, sequence: frame.sequence, atInMs });
    }
    return { isPersisted: true, isAccepted: true };
  }

  /**
   * Writes a frame at once when every stream it goes to has a synchronous formatter; returns
   * false (nothing written) when it must go through the queue instead.
   */
  private processSync(frame: MediaProtocolFrame, atInMs: number): boolean {
    const sequence = frame.sequence;
    if (frame.type === 'audioUnmixed') {
      const buffers = frame.buffers;
      // After a restart, frames a stream already committed are skipped (as in `write`).
      const isSkipped = (msi: number): boolean =>
        this.skipThrough.size > 0 &&
        sequence <= (this.skipThrough.get(streamKey('audio', String(msi))) ?? 0);
      for (const buffer of buffers) {
        if (isSkipped(buffer.msi)) continue;
        const writer =
          this.unmixedWriters.get(buffer.msi) ?? this.openWriter('audio', String(buffer.msi));
        if (!writer.canPushSync || writer.shouldEndSegmentBefore(false)) return false;
      }
      for (const buffer of buffers) {
        if (isSkipped(buffer.msi)) continue;
        try {
          this.unmixedWriters
            .get(buffer.msi)!
            .pushSync(
              { timestamp100ns: frame.timestamp100ns, payload: buffer.payload },
              sequence,
              atInMs,
            );
        } catch (error) {
          // A frame a formatter refuses (bad size, timestamp out of order) is logged, not fatal.
          this.log.warn('frame not stored', { sequence, error: errorMessage(error) });
        }
      }
      this.processedThrough = sequence;
      return true;
    }
    if (!isStoredFrame(frame)) {
      this.processedThrough = sequence;
      return true;
    }
    return false;
  }

  /** A frame read back from the spool after a restart. */
  replay(frame: MediaProtocolFrame): void {
    this.acceptedThrough = Math.max(this.acceptedThrough, frame.sequence);
    this.durableThroughValue = this.acceptedThrough;
    this.enqueue({ frame, sequence: frame.sequence });
  }

  /** A sequence consumed without storing, read back from the spool after a restart. */
  replayMark(sequence: number): void {
    this.acceptedThrough = Math.max(this.acceptedThrough, sequence);
    this.durableThroughValue = this.acceptedThrough;
  }

  /** Highest sequence accepted so far (spooled or consumed); snapshot it before a spool flush. */
  get acceptedSequence(): number {
    return this.acceptedThrough;
  }

  /** A spool flush that started when `acceptedSequence` was `sequence` finished. */
  markDurable(sequence: number): number {
    this.durableThroughValue = Math.max(this.durableThroughValue, sequence);
    return this.durableThroughValue;
  }

  private enqueue(item: QueuedFrame): void {
    this.queue.push(item);
    if (this.processing === undefined) {
      this.processing = this.drain().finally(() => {
        this.processing = undefined;
      });
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      for (const [i, item] of batch.entries()) {
        // Formatters often resolve at once, so awaiting them never yields to timers and I/O;
        // yield now and then so spool flushes (acks) and socket reads are not starved.
        if (i % 32 === 31) await new Promise((resolve) => setImmediate(resolve));
        try {
          await this.process(item);
        } catch (error) {
          // A frame a formatter refuses (bad size, timestamp out of order) is logged, not fatal.
          this.log.warn('frame not stored', {
            sequence: item.sequence,
            error: errorMessage(error),
          });
        }
        this.processedThrough = item.sequence;
      }
    }
  }

  private async process({ frame, sequence, atInMs }: QueuedFrame): Promise<void> {
    switch (frame.type) {
      case 'audioMixed':
        return this.write(
          'audio',
          'mixed',
          sequence,
          { timestamp100ns: frame.timestamp100ns, payload: frame.payload },
          atInMs,
        );
      case 'audioUnmixed':
        for (const buffer of frame.buffers) {
          await this.write(
            'audio',
            String(buffer.msi),
            sequence,
            { timestamp100ns: frame.timestamp100ns, payload: buffer.payload },
            atInMs,
          );
        }
        return;
      case 'video':
      case 'vbss':
        return this.write(
          frame.type,
          String(frame.msi),
          sequence,
          {
            timestamp100ns: frame.timestamp100ns,
            payload: frame.payload,
            isKeyFrame: frame.isKeyFrame,
            width: frame.width,
            height: frame.height,
          },
          atInMs,
        );
      default:
        return;
    }
  }

  private async write(
    kind: StreamKind,
    msi: string,
    sequence: number,
    mediaFrame: {
      timestamp100ns: bigint;
      payload: Buffer;
      isKeyFrame?: boolean;
      width?: number;
      height?: number;
    },
    atInMs: number | undefined,
  ): Promise<void> {
    const key = streamKey(kind, msi);
    if (sequence <= (this.skipThrough.get(key) ?? 0)) return;
    let writer = this.writers.get(key);
    if (writer?.shouldEndSegmentBefore(mediaFrame.isKeyFrame === true) === true) {
      await this.rollSegment(key, writer);
      writer = undefined;
    }
    writer ??= this.openWriter(kind, msi);
    await writer.push(mediaFrame, sequence, atInMs);
  }

  private openWriter(kind: StreamKind, msi: string): StreamWriter {
    const key = streamKey(kind, msi);
    const segment = this.nextSegment.get(key) ?? 0;
    this.nextSegment.set(key, segment + 1);
    const streamId = segment === 0 ? key : `${key}.${segment}`;
    const formatter = this.env.formatterFactory({ kind, isLossless: this.env.isAudioLossless });
    const writer = new StreamWriter({
      streamId,
      kind,
      msi,
      segment,
      blobName: `${this.request.tenantId}/${this.request.interactionId}/streams/${streamId}.${formatter.extension}`,
      container: this.env.container,
      interactionId: this.request.interactionId,
      formatter,
      store: this.env.store,
      dataKey: this.dataKey,
      blockMinDurationInMs: this.env.blockMinDurationInMs,
      ...(this.env.segmentMaxDurationInMs !== undefined
        ? { segmentMaxDurationInMs: this.env.segmentMaxDurationInMs }
        : {}),
      now: this.env.now,
    });
    this.writers.set(key, writer);
    if (kind === 'audio' && msi !== 'mixed') this.unmixedWriters.set(Number(msi), writer);
    return writer;
  }

  private async rollSegment(key: string, writer: StreamWriter): Promise<void> {
    await writer.end();
    // In the same turn as leaving `writers`: a commit that runs meanwhile finds the segment's
    // blocks either in the writer or in `endedSegmentCheckpoints`, never in neither.
    this.endSegment(writer);
    this.writers.delete(key);
    if (writer.kind === 'audio' && writer.msi !== 'mixed')
      this.unmixedWriters.delete(Number(writer.msi));
  }

  /**
   * A segment's writer is done (ended, everything committed): its last checkpoint waits for the
   * next line, its summary stays. A segment that never committed a block has no blob: nothing.
   */
  private endSegment(writer: StreamWriter): void {
    if (writer.committedBlockCount === 0) return;
    const checkpoint = writer.takeCheckpoint();
    this.endedSegmentCheckpoints.push(checkpoint);
    this.closedStreams.push(closedSegment(checkpoint, writer.committedBlockCount));
  }

  /** Stored bytes of this session's blocks that storage has not taken yet (see {@link StreamWriter.storedBytesAwaitingStorage}). */
  get blockBytesAwaitingStorage(): number {
    let bytes = 0;
    for (const writer of this.writers.values()) bytes += writer.storedBytesAwaitingStorage;
    return bytes;
  }

  // ---- commit -----------------------------------------------------------------------------

  /** Commits every stream and checkpoints; serialized. Errors end in a reported failure. */
  commit(): Promise<void> {
    const run = this.commitChain.then(() => this.commitNow());
    this.commitChain = run.catch(() => undefined);
    return run;
  }

  private async commitNow(): Promise<void> {
    if (this.isFinished || this.isSealing || this.writers.size === 0) return;
    const started = Date.now();
    let isChanged = false;
    for (const [key, writer] of this.writers) {
      // A stream that went quiet keeps a short block: stage it after two quiet commits.
      const quiet = writer.bufferedDurationInMs > 0 ? (this.quietCommits.get(key) ?? 0) + 1 : 0;
      this.quietCommits.set(key, quiet);
      if (quiet >= 2) {
        writer.flushPartial();
        this.quietCommits.set(key, 0);
      }
    }
    try {
      for (const writer of this.writers.values()) {
        const before = writer.committedStoredBytes;
        if (await writer.commit()) {
          isChanged = true;
          const stored = writer.committedStoredBytes - before;
          this.bytesCommitted += stored;
          this.env.metrics.increment(MetricNames.bytesCommitted, stored, {
            session: this.sessionId,
          });
        }
      }
    } catch (error) {
      this.log.error('commit failed', { error: errorMessage(error) });
      this.fail('storage refused the commit');
      throw error;
    }
    if (!isChanged && this.endedSegmentCheckpoints.length === 0) return;
    this.env.metrics.observe(MetricNames.commitLatencyInMs, Date.now() - started);
    // The checkpoint says how far the session got before the spool lets go of those frames.
    // `through` first: a segment that ends after this point is not in it, and its frames are
    // not released by it either.
    const through = this.releasableThrough();
    try {
      await this.appendCheckpoint(through);
    } catch (error) {
      this.log.error('checkpoint not written', { error: errorMessage(error) });
      this.fail('checkpoint not written');
      throw error;
    }
    await this.env.spool.release(this.sessionId, through);
  }

  /**
   * Appends one line to the checkpoint log: the segments ended since the last line and the blocks
   * every current writer committed since. Limited with the record writes.
   */
  private async appendCheckpoint(through: number): Promise<void> {
    const streams = this.endedSegmentCheckpoints;
    this.endedSegmentCheckpoints = [];
    for (const writer of this.writers.values())
      if (writer.uncheckpointedBlockCount > 0) streams.push(writer.takeCheckpoint());
    const legacy = this.legacyStreams;
    if (streams.length === 0 && legacy === undefined && through <= this.checkpointedThrough) return;
    const line: CheckpointLine = {
      v: 1,
      through: Math.max(through, this.checkpointedThrough),
      framesReceived: this.framesReceived,
      framesDroppedBeforePersist: this.framesDroppedBeforePersist,
      streams: legacy === undefined ? streams : [...legacy, ...streams],
    };
    try {
      await this.env.limitRecordWrite(() =>
        appendCheckpointLine(checkpointLogPath(this.env.sessionsDir, this.sessionId), line),
      );
    } catch (error) {
      // The writers have let go of these blocks: keep them for the next line (a seal tried again
      // must still list them), ahead of anything taken since.
      this.endedSegmentCheckpoints = [...streams, ...this.endedSegmentCheckpoints];
      throw error;
    }
    this.legacyStreams = undefined;
    this.checkpointedThrough = line.through;
  }

  /** Every frame of this session up to the returned sequence is in committed blocks. */
  private releasableThrough(): number {
    let through = this.processedThrough;
    for (const writer of this.writers.values()) {
      if (writer.hasUncommitted) through = Math.min(through, writer.committedThroughSequence);
    }
    return this.queue.length > 0 || this.processing !== undefined
      ? Math.min(through, this.processedThrough)
      : through;
  }

  // ---- end of session ---------------------------------------------------------------------

  /**
   * Flushes, commits every stream, writes the signed manifest. Idempotent: a seal in progress is
   * shared by every caller (one manifest, one hash); once sealed, the same summary. A seal that
   * failed may be tried again.
   */
  async seal(): Promise<SealSummary> {
    if (this.sealSummary !== undefined) return this.sealSummary;
    if (this.stateValue === 'aborted' || this.stateValue === 'failed') {
      throw new RecorderError(ErrorCode.Conflict, `media session is ${this.stateValue}`, {
        details: { state: this.stateValue },
      });
    }
    this.sealing ??= this.sealOnce().finally(() => {
      this.sealing = undefined;
    });
    return this.sealing;
  }

  private async sealOnce(): Promise<SealSummary> {
    this.isSealing = true;
    while (this.processing !== undefined) await this.processing;
    await this.commitChain;
    const sealedAt = this.env.now().toISOString();
    if (this.pause !== undefined) {
      this.gaps.push({
        startedAt: this.pause.since,
        endedAt: sealedAt,
        reason: this.pause.reason,
        actor: this.pause.actor,
      });
      this.pause = undefined;
    }
    for (const writer of this.writers.values()) {
      await writer.end();
      this.endSegment(writer);
    }
    this.writers.clear();
    this.unmixedWriters.clear();
    // Every segment's blocks, from the log: the final line first, then the whole log folded.
    await this.appendCheckpoint(this.processedThrough);
    const checkpoint = foldCheckpoints(
      [],
      await readCheckpointLog(checkpointLogPath(this.env.sessionsDir, this.sessionId)),
    );
    const streams = checkpoint.streams
      .filter((s) => s.blocks.length > 0)
      .map((s) => this.manifestStream(s));
    const times = streams.flatMap((s) => [s.startedAt, s.endedAt]).sort();
    const startedAt = this.persistingSince ?? times[0] ?? this.createdAt;
    const manifest: RecordingManifest = {
      formatVersion: 1,
      tenantId: this.request.tenantId,
      interactionId: this.request.interactionId,
      callId: this.request.callId,
      ...(this.request.callChainId !== undefined ? { callChainId: this.request.callChainId } : {}),
      sessionId: this.sessionId,
      mediaHostId: this.env.hostId,
      softwareVersion: this.env.softwareVersion,
      signingKeyId: this.env.signer.keyId,
      ...(this.dataKey !== undefined && this.kekId !== undefined
        ? {
            encryption: {
              alg: 'A256GCM' as const,
              kekId: this.kekId,
              wrappedKeyBlobName: wrappedKeyBlobName(
                this.request.tenantId,
                this.request.interactionId,
              ),
            },
          }
        : {}),
      startedAt,
      endedAt: sealedAt,
      sealedAt,
      participants: this.manifestParticipants(),
      streams,
      gaps: [...this.gaps],
      merkleRootSha256: streamsMerkleRoot(streams),
    };
    const bytes = serializeManifest(manifest);
    const signature = await signManifestWith(bytes, this.env.signer);
    const base = `${this.request.tenantId}/${this.request.interactionId}`;
    await this.env.store.upload(
      this.env.container,
      `${base}/manifest.json`,
      bytes,
      'application/json',
    );
    await this.env.store.upload(
      this.env.container,
      `${base}/manifest.sig`,
      Buffer.from(JSON.stringify(signature)),
      'application/json',
    );
    const summary: SealSummary = {
      sessionId: this.sessionId,
      callId: this.request.callId,
      interactionId: this.request.interactionId,
      manifestBlobName: `${base}/manifest.json`,
      manifestSha256: createHash('sha256').update(bytes).digest('hex'),
      merkleRootSha256: manifest.merkleRootSha256,
      startedAt,
      endedAt: sealedAt,
      streams: streams.map((s): StreamSummary => ({
        streamId: s.streamId,
        kind: s.kind,
        msi: s.msi,
        ...(s.participantId !== undefined ? { participantId: s.participantId } : {}),
        blobName: s.blobName,
        contentType: s.contentType,
        bytes: s.storedBytes,
        durationInMs: s.durationInMs,
        blockCount: s.blocks.length,
        chainHeadSha256: s.chainHeadSha256,
      })),
      gaps: [...this.gaps],
    };
    this.sealSummary = summary;
    this.stateValue = MediaSessionState.sealed;
    this.finishedAtValue = sealedAt;
    this.isSealing = false;
    await this.saveRecord();
    await this.env.spool.forget(this.sessionId);
    this.env.metrics.forgetSession?.(this.sessionId);
    this.log.info('session sealed', { streamCount: streams.length });
    return summary;
  }

  /** Stops without a manifest; what is committed stays. Idempotent. */
  async abort(reason: string): Promise<void> {
    if (this.isFinished) return;
    this.stateValue = MediaSessionState.aborted;
    this.finishedAtValue = this.env.now().toISOString();
    this.failureReason = reason;
    this.queue = [];
    for (const writer of this.writers.values()) await writer.close();
    await this.saveRecord();
    await this.env.spool.forget(this.sessionId);
    this.env.metrics.forgetSession?.(this.sessionId);
    this.log.info('session aborted');
  }

  /** Persistence cannot continue: report once, stop storing. */
  fail(reason: string): void {
    if (this.isFinished) return;
    this.stateValue = MediaSessionState.failed;
    this.finishedAtValue = this.env.now().toISOString();
    this.failureReason = reason;
    this.queue = [];
    this.log.error('persistence failed', { reason });
    this.env.reportFailure(this, reason);
    void this.saveRecord().catch(() => undefined);
  }

  private manifestStream(s: StreamWriterState): ManifestStream {
    const participantId = this.participants.get(s.msi)?.participantId;
    const startedAt = s.firstFrameAt ?? this.createdAt;
    const endedAt = s.lastFrameAt ?? startedAt;
    const durationInMs =
      s.kind === 'audio'
        ? s.mediaEndInMs
        : s.firstTimestamp100ns !== undefined && s.lastTimestamp100ns !== undefined
          ? Number((BigInt(s.lastTimestamp100ns) - BigInt(s.firstTimestamp100ns)) / 10_000n)
          : 0;
    return {
      streamId: s.streamId,
      kind: s.kind,
      msi: s.msi,
      ...(participantId !== undefined ? { participantId } : {}),
      blobName: s.blobName,
      contentType: s.contentType,
      firstTimestamp100ns: s.firstTimestamp100ns ?? '0',
      lastTimestamp100ns: s.lastTimestamp100ns ?? '0',
      startedAt,
      endedAt,
      durationInMs,
      frameCount: s.frameCount,
      plaintextBytes: s.plaintextBytes,
      storedBytes: s.storedBytes,
      blocks: s.blocks,
      chainHeadSha256: s.chainHeadSha256,
      timeline: s.timeline,
    };
  }

  private manifestParticipants(): ManifestParticipant[] {
    const byParticipant = new Map<
      string,
      { identityKind: ManifestParticipant['identityKind']; identityId?: string; msis: string[] }
    >();
    for (const p of this.participants.values()) {
      const entry = byParticipant.get(p.participantId) ?? {
        identityKind: p.identityKind,
        ...(p.identityId !== undefined ? { identityId: p.identityId } : {}),
        msis: [],
      };
      entry.msis.push(p.msi);
      byParticipant.set(p.participantId, entry);
    }
    return [...byParticipant].map(([participantId, e]) => ({ participantId, ...e }));
  }

  // ---- durability of the session record ---------------------------------------------------

  private saving: Promise<void> = Promise.resolve();

  /** Writes the session record atomically (temp file, fsync, rename); serialized. */
  saveRecord(): Promise<void> {
    const run = this.saving.then(() => this.env.limitRecordWrite(() => this.saveNow()));
    this.saving = run.catch(() => undefined);
    return run;
  }

  private async saveNow(): Promise<void> {
    const record: SessionRecord = {
      v: 2,
      sessionId: this.sessionId,
      request: this.request,
      tokenSha256: this.tokenSha256,
      token: this.token,
      state: this.stateValue,
      createdAt: this.createdAt,
      ...(this.persistingSince !== undefined ? { persistingSince: this.persistingSince } : {}),
      ...(this.pause !== undefined ? { pause: this.pause } : {}),
      participants: [...this.participants.values()],
      gaps: [...this.gaps],
      ...(this.dataKey !== undefined && !this.isFinished
        ? { dataKey: this.dataKey.toString('base64') }
        : {}),
      ...(this.kekId !== undefined ? { kekId: this.kekId } : {}),
      framesReceived: this.framesReceived,
      framesDroppedBeforePersist: this.framesDroppedBeforePersist,
      ...(this.checkpointedThrough > 0 ? { sequenceThrough: this.checkpointedThrough } : {}),
      ...(this.sealSummary !== undefined ? { sealSummary: this.sealSummary } : {}),
      ...(this.failureReason !== undefined ? { failureReason: this.failureReason } : {}),
      ...(this.finishedAtValue !== undefined ? { finishedAt: this.finishedAtValue } : {}),
    };
    const path = join(this.env.sessionsDir, `${this.sessionId}.json`);
    const temp = `${path}.tmp`;
    await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
    const handle = await openFile(temp, 'r+');
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  }

  /**
   * After a restart: makes each checkpointed stream's blob hold exactly its checkpointed blocks
   * (a commit that landed after the checkpoint is rolled back; its frames are replayed).
   */
  async reconcile(): Promise<void> {
    // A format 1 record's streams become the log's first line, then the record is format 2.
    if (this.legacyStreams !== undefined) {
      await this.appendCheckpoint(this.checkpointedThrough);
      await this.saveRecord();
    }
    for (const stream of this.closedStreams) {
      const ids = blockIdsUpTo(stream.blockCount);
      const committed = await this.env.store.getCommittedBlockIds(
        this.env.container,
        stream.blobName,
      );
      const isSame = committed.length === ids.length && committed.every((id, i) => id === ids[i]);
      if (isSame) continue;
      if (!ids.every((id, i) => committed[i] === id)) {
        this.log.error('stored blob does not start with the checkpointed blocks', {
          streamId: stream.streamId,
        });
        throw new RecorderError(
          ErrorCode.IntegrityViolation,
          'stored blob does not match the session checkpoint',
          { details: { streamId: stream.streamId } },
        );
      }
      await this.env.store.commitBlockList(
        this.env.container,
        stream.blobName,
        ids,
        stream.contentType,
      );
      this.log.warn('rolled back blocks committed after the last checkpoint', {
        streamId: stream.streamId,
        blockCount: committed.length - ids.length,
      });
    }
  }

  /**
   * When the session finished (sealed, aborted, failed), in ms since the epoch; undefined while it
   * runs. A finished session restored from a record without the time counts from `restoredAt`.
   */
  finishedAtInMs(restoredAt: number): number | undefined {
    if (!this.isFinished) return undefined;
    return this.finishedAtValue === undefined ? restoredAt : Date.parse(this.finishedAtValue);
  }

  /**
   * Takes a finished session's files out of the host's sessions folder (housekeeping, once the
   * function app no longer asks for it). A sealed session's record and checkpoint log are deleted:
   * its signed manifest in storage holds what they held. An aborted or failed session has no
   * manifest, so its record and log (which blocks of which blobs were committed, with their hashes)
   * move to `{sessionsDir}/finished/` and are kept. Idempotent.
   */
  async retire(): Promise<void> {
    if (!this.isFinished)
      throw new RecorderError(ErrorCode.Conflict, `media session is ${this.stateValue}`, {
        details: { state: this.stateValue },
      });
    // A record write still on its way would put the file back.
    await this.saving;
    const files = [
      join(this.env.sessionsDir, `${this.sessionId}.json`),
      checkpointLogPath(this.env.sessionsDir, this.sessionId),
    ];
    if (this.stateValue === MediaSessionState.sealed) {
      for (const file of files) await rm(file, { force: true });
      return;
    }
    const keptDir = join(this.env.sessionsDir, 'finished');
    await mkdir(keptDir, { recursive: true });
    for (const file of files) {
      await rename(file, join(keptDir, basename(file))).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
    }
  }
}

/**
 * What a restart would restore of a session from its files: the record, every segment's committed
 * blocks (record format 1 and the checkpoint log, folded) and how far the checkpoint goes. For
 * tests and offline inspection; the host restores through {@link MediaSession.restore}.
 */
export async function readSessionCheckpoint(
  sessionsDir: string,
  sessionId: string,
): Promise<{ record: SessionRecord; streams: StreamWriterState[]; through: number }> {
  const record = JSON.parse(
    await readFile(join(sessionsDir, `${sessionId}.json`), 'utf8'),
  ) as SessionRecord;
  const folded = foldRecordAndLog(
    record,
    await readCheckpointLog(checkpointLogPath(sessionsDir, sessionId)),
  );
  return {
    record,
    streams: folded.streams,
    through: Math.max(record.sequenceThrough ?? 0, folded.through),
  };
}

/** Whether a frame type carries media that is stored. */
function isStoredFrame(frame: MediaProtocolFrame): boolean {
  return (
    frame.type === 'audioMixed' ||
    frame.type === 'audioUnmixed' ||
    frame.type === 'video' ||
    frame.type === 'vbss'
  );
}

function streamKey(kind: StreamKind, msi: string): string {
  return `${kind}-${msi}`;
}

/**
 * One media session: a recorded call leg's frames, from the socket to committed blobs. Here: its
 * public API over `persistence-state.ts` (the state machine). The rules it keeps, and the rooms
 * beside it, are in this folder's README.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  encodeFrame,
  recordingBlobNames,
  sha256Hex,
  ErrorCode,
  MediaSessionState,
  RecorderError,
  RECORDING_KEYS_CONTAINER,
  type CreateMediaSessionRequest,
  type MediaProtocolFrame,
  type MediaSessionStatus,
  type ParticipantMapping,
  type SealSummary,
} from '@attest/core';
import { MetricNames } from '../hooks/metrics-sink';
import { errorMessage, type Logger } from '../logging/logger';
import { SpoolRecordKind } from '../pipeline/spool';
import { foldCheckpoints, type CheckpointLine, type FoldedCheckpoint } from './checkpoint-log';
import { FrameRouter, isStoredFrame } from './frame-router';
import { buildManifest, sealSummaryOf } from './manifest-builder';
import { uploadSignedManifest } from './manifest-upload';
import { resumePointOf, SessionCheckpoints } from './session-checkpoints';
import { SessionJournal } from './session-journal';
import {
  foldRecordAndLog,
  newSessionRecord,
  SessionRecordFile,
  type SessionRecord,
} from './session-record';
import {
  segmentWriterFactory,
  type NewSessionInit,
  type SessionEnvironment,
} from './session-environment';
import { PersistenceState } from './persistence-state';
import { SequenceMarks } from './sequence-marks';
import { sourceGapOf, type StreamStateFrame } from './source-gap';

export class MediaSession {
  readonly sessionId: string;
  readonly request: CreateMediaSessionRequest;
  /** The session token (never logged). */
  readonly token: string;
  private readonly env: SessionEnvironment;
  private readonly log: Logger;
  private readonly tokenSha256: string;
  private readonly createdAt: string;
  private readonly dataKey: Buffer | undefined;
  private readonly kekId: string | undefined;
  private readonly metricLabels: { readonly session: string };
  private readonly router: FrameRouter;
  private readonly checkpoints: SessionCheckpoints;
  private readonly recordFile: SessionRecordFile;
  /** The custody journal in storage, from which another host can adopt the session. */
  private readonly journal: SessionJournal;
  private readonly persistence: PersistenceState;
  private readonly participants = new Map<string, ParticipantMapping>();
  private framesReceived = 0;
  private framesDroppedBeforePersist = 0;
  private bytesCommitted = 0;
  private commitChain: Promise<unknown> = Promise.resolve();
  /** The record write that follows the latest source gap report. */
  private gapRecordSaved: Promise<void> = Promise.resolve();
  private readonly marks: SequenceMarks;
  private sealSummary: SealSummary | undefined;
  private failureReason: string | undefined;
  private finishedAtValue: string | undefined;
  private isSealing = false;
  /** The seal on its way, shared by every caller of {@link seal}. */
  private sealing: Promise<SealSummary> | undefined;
  private hasKeyRecord = false;
  private connectedOnce = false;
  // Set up after the control API has already answered: the wrapped data key to storage and the
  // first session record to disk. Persistence waits for it, so no media is stored before its key.
  private setup: Promise<void> = Promise.resolve();

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
    this.createdAt = record.createdAt;
    this.persistence = new PersistenceState(record);
    for (const p of record.participants) this.participants.set(p.msi, p);
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
    const resume = resumePointOf(checkpoint, record.sequenceThrough ?? 0);
    this.bytesCommitted = resume.bytesCommitted;
    // After a restart the source resumes after the checkpoint even when the spool released every
    // frame up to it (the spool's replay, if any, raises these further).
    this.marks = new SequenceMarks(resume.through);
    this.checkpoints = new SessionCheckpoints({
      sessionsDir: env.sessionsDir,
      sessionId: record.sessionId,
      checkpoint,
      checkpointedThrough: resume.through,
      formatOneStreams: record.streams,
      limitWrite: env.limitRecordWrite,
    });
    this.router = new FrameRouter({
      createWriter: segmentWriterFactory(env, record.request, dataKey),
      onSegmentEnded: (writer) => this.checkpoints.segmentEnded(writer),
      skipThrough: resume.skipThrough,
      nextSegment: resume.nextSegment,
      processedThrough: resume.through,
      onReplayedGapReport: (frame, wallTimeOf) => this.recordReplayedSourceGap(frame, wallTimeOf),
      log: this.log,
    });
    this.recordFile = new SessionRecordFile(
      env.sessionsDir,
      record.sessionId,
      env.limitRecordWrite,
    );
    this.journal = new SessionJournal(
      env.store,
      env.container,
      recordingBlobNames(record.request.tenantId, record.request.interactionId).sessionJournal(
        record.sessionId,
      ),
      this.log,
      checkpoint.lineCount,
    );
    this.hasKeyRecord = record.dataKey === undefined || checkpoint.streams.length > 0;
  }

  static create(env: SessionEnvironment, init: NewSessionInit): MediaSession {
    const record = newSessionRecord(init, env.now().toISOString());
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
    return this.persistence.state;
  }

  get isFinished(): boolean {
    return this.persistence.isFinished;
  }

  get isAcceptingFrames(): boolean {
    return !this.isFinished && !this.isSealing;
  }

  /** The sequence the source sends next. */
  get nextSequence(): number {
    return this.marks.next;
  }

  get durableThrough(): number {
    return this.marks.durable;
  }

  /** Constant-time check of a presented session token. */
  isTokenValid(token: string): boolean {
    const presented = Buffer.from(sha256Hex(token), 'hex');
    return timingSafeEqual(presented, Buffer.from(this.tokenSha256, 'hex'));
  }

  status(): MediaSessionStatus {
    return {
      sessionId: this.sessionId,
      callId: this.request.callId,
      state: this.state,
      framesReceived: this.framesReceived,
      framesDroppedBeforePersist: this.framesDroppedBeforePersist,
      bytesCommitted: this.bytesCommitted,
    };
  }

  /** Whether a media connection was ever attached (in this process). */
  get hasConnected(): boolean {
    return this.connectedOnce;
  }

  markConnected(): void {
    this.connectedOnce = true;
    this.persistence.connected();
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
      recordingBlobNames(this.request.tenantId, this.request.interactionId).wrappedKey,
      wrappedRecord,
      'application/json',
    );
    this.hasKeyRecord = true;
  }

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
    this.assertNotFinished();
    this.persistence.startPersisting(
      this.persistence.persistingSince ?? this.env.now().toISOString(),
    );
    await this.saveRecord();
    this.log.info('persistence started');
  }

  async updateParticipants(participants: readonly ParticipantMapping[]): Promise<void> {
    this.assertNotFinished();
    for (const p of participants) this.participants.set(p.msi, p);
    await this.saveRecord();
  }

  async pausePersistence(reason: string, actor: string): Promise<void> {
    this.assertNotFinished();
    if (this.persistence.pause === undefined) {
      this.persistence.pausePersistence(this.env.now().toISOString(), reason, actor);
      this.log.info('persistence paused', { reason });
    }
    await this.saveRecord();
  }

  async resumePersistence(actor: string): Promise<void> {
    this.assertNotFinished();
    const pause =
      this.persistence.pause === undefined
        ? undefined
        : this.persistence.resumePersistence(this.env.now().toISOString());
    if (pause !== undefined) {
      this.env.metrics.increment(MetricNames.gapsRecorded, 1, { session: this.sessionId });
      this.log.info('persistence resumed', {
        reason: pause.reason,
        actorKind: actor === 'system' ? 'system' : 'user',
      });
    }
    await this.saveRecord();
  }

  private assertNotFinished(): void {
    if (this.isFinished || this.isSealing) {
      throw new RecorderError(ErrorCode.Conflict, `media session is ${this.state}`, {
        details: { state: this.state },
      });
    }
  }

  private get isStoring(): boolean {
    return this.persistence.isStoring;
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
      this.marks.accept(last);
      this.router.markBreak();
      return { isPersisted: false, isAccepted: true };
    }
    if (!this.env.spool.append(SpoolRecordKind.frames, this.sessionId, last, wire)) {
      this.env.metrics.increment(MetricNames.framesDroppedSpoolFull, count, this.metricLabels);
      this.fail('spool full');
      return { isPersisted: false, isAccepted: false };
    }
    this.marks.accept(last);
    const atInMs = this.env.now().getTime();
    for (let i = start; i < end; i += 1) {
      const frame = frames[i]!;
      if (frame.type === 'streamState' && frame.gap !== undefined)
        this.recordSourceGap(frame, atInMs);
    }
    this.router.route(frames, start, end, atInMs);
    return { isPersisted: true, isAccepted: true };
  }

  /**
   * A source (the bridge) reported frames it dropped: a gap with its reason, in the session
   * record before the spool may let go of the report (see {@link commitNow}).
   */
  private recordSourceGap(frame: StreamStateFrame, atInMs: number, isReplayed = false): void {
    const gap = sourceGapOf(frame, atInMs);
    if (gap === undefined || !this.persistence.addSourceGap(gap, frame.sequence)) return;
    this.env.metrics.increment(MetricNames.gapsRecorded, 1, this.metricLabels);
    this.log.warn(
      isReplayed
        ? 'media source dropped frames (report replayed from the spool)'
        : 'media source dropped frames',
      { droppedFrames: frame.gap?.droppedFrames ?? 0, sequence: frame.sequence },
    );
    const saved = this.saveRecord();
    this.gapRecordSaved = saved;
    saved.catch((error: unknown) =>
      this.log.warn('session record not saved after a source gap', { error: String(error) }),
    );
  }

  /**
   * A gap report read back from the spool after a restart (the host stopped before the record
   * that holds it was written): recorded where the dropped frames were in the stream's time, or
   * at the restart when no stream has started.
   */
  private recordReplayedSourceGap(
    frame: StreamStateFrame,
    wallTimeOf: (timestamp100ns: bigint) => number | undefined,
  ): void {
    const last = frame.gap?.lastTimestamp100ns;
    const lastAtInMs = last === undefined ? undefined : wallTimeOf(last);
    // The report arrives with the first frame after the gap, one 20 ms frame after the last dropped.
    this.recordSourceGap(
      frame,
      lastAtInMs === undefined ? this.env.now().getTime() : lastAtInMs + 20,
      true,
    );
  }

  /** A frame read back from the spool after a restart. */
  replay(frame: MediaProtocolFrame): void {
    this.marks.replayed(frame.sequence);
    this.router.replay(frame);
  }

  /** A sequence consumed without storing, read back from the spool after a restart. */
  replayMark(sequence: number): void {
    this.marks.replayed(sequence);
    this.router.markBreak();
  }

  /** Highest sequence accepted so far (spooled or consumed); snapshot it before a spool flush. */
  get acceptedSequence(): number {
    return this.marks.accepted;
  }

  /** A spool flush that started when `acceptedSequence` was `sequence` finished. */
  markDurable(sequence: number): number {
    return this.marks.markDurable(sequence);
  }

  /** Stored bytes of this session's blocks that storage has not taken yet (see `StreamWriter.storedBytesAwaitingStorage`). */
  get blockBytesAwaitingStorage(): number {
    return this.router.blockBytesAwaitingStorage;
  }

  // ---- commit -----------------------------------------------------------------------------

  /** Commits every stream and checkpoints; serialized. Errors end in a reported failure. */
  commit(): Promise<void> {
    const run = this.commitChain.then(() => this.commitNow());
    this.commitChain = run.catch(() => undefined);
    return run;
  }

  private async commitNow(): Promise<void> {
    if (this.isFinished || this.isSealing || this.router.writerCount === 0) return;
    const started = Date.now();
    let isChanged = false;
    this.router.flushQuietStreams();
    try {
      for (const writer of this.router.writers) {
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
    if (!isChanged && !this.checkpoints.hasEndedSegments) return;
    this.env.metrics.observe(MetricNames.commitLatencyInMs, Date.now() - started);
    // The checkpoint says how far the session got before the spool lets go of those frames.
    // `through` first: a segment that ends after this point is not in it, and its frames are
    // not released by it either.
    const through = this.router.releasableThrough();
    try {
      // A gap report the spool lets go of must be in the record first.
      await this.gapRecordSaved;
    } catch (error) {
      this.log.error('session record not written after a source gap', {
        error: errorMessage(error),
      });
      this.fail('session record not written');
      throw error;
    }
    try {
      await this.appendCheckpoint(through);
    } catch (error) {
      this.log.error('checkpoint not written', { error: errorMessage(error) });
      this.fail('checkpoint not written');
      throw error;
    }
    await this.env.spool.release(this.sessionId, through);
  }

  private async appendCheckpoint(through: number): Promise<void> {
    const line = await this.checkpoints.append(through, this.router.writers, {
      framesReceived: this.framesReceived,
      framesDroppedBeforePersist: this.framesDroppedBeforePersist,
    });
    // After the local line: the journal never lists blocks the local log does not.
    if (line !== undefined) await this.journal.writeCheckpoint(line);
  }

  // ---- end of session ---------------------------------------------------------------------

  /**
   * Flushes, commits every stream, writes the signed manifest. Idempotent: a seal in progress is
   * shared by every caller (one manifest, one hash); once sealed, the same summary. A seal that
   * failed may be tried again.
   */
  async seal(): Promise<SealSummary> {
    if (this.sealSummary !== undefined) return this.sealSummary;
    if (this.state === 'aborted' || this.state === 'failed') {
      throw new RecorderError(ErrorCode.Conflict, `media session is ${this.state}`, {
        details: { state: this.state },
      });
    }
    this.sealing ??= this.sealOnce().finally(() => {
      this.sealing = undefined;
    });
    return this.sealing;
  }

  private async sealOnce(): Promise<SealSummary> {
    this.isSealing = true;
    await this.router.whenIdle();
    await this.commitChain;
    const sealedAt = this.env.now().toISOString();
    this.persistence.closePause(sealedAt);
    await this.router.endAll();
    // Every segment's blocks, from the log: the final line first, then the whole log folded.
    await this.appendCheckpoint(this.router.processedThrough);
    const manifest = buildManifest({
      request: this.request,
      sessionId: this.sessionId,
      mediaHostId: this.env.hostId,
      softwareVersion: this.env.softwareVersion,
      signingKeyId: this.env.signer.keyId,
      kekId: this.dataKey !== undefined ? this.kekId : undefined,
      createdAt: this.createdAt,
      persistingSince: this.persistence.persistingSince,
      sealedAt,
      participants: this.participants,
      gaps: this.persistence.gaps,
      segments: await this.checkpoints.readAll(),
    });
    const summary = sealSummaryOf(manifest, await uploadSignedManifest(this.env, manifest));
    this.sealSummary = summary;
    this.persistence.finish(MediaSessionState.sealed);
    this.finishedAtValue = sealedAt;
    this.isSealing = false;
    await this.saveRecord();
    await this.env.spool.forget(this.sessionId);
    this.env.metrics.forgetSession?.(this.sessionId);
    this.log.info('session sealed', { streamCount: manifest.streams.length });
    return summary;
  }

  /** Stops without a manifest; what is committed stays. Idempotent. */
  async abort(reason: string): Promise<void> {
    if (this.isFinished) return;
    this.persistence.finish(MediaSessionState.aborted);
    this.finishedAtValue = this.env.now().toISOString();
    this.failureReason = reason;
    this.router.dropQueued();
    await this.router.closeAll();
    await this.saveRecord();
    await this.env.spool.forget(this.sessionId);
    this.env.metrics.forgetSession?.(this.sessionId);
    this.log.info('session aborted');
  }

  /** Persistence cannot continue: report once, stop storing. */
  fail(reason: string): void {
    if (this.isFinished) return;
    this.persistence.finish(MediaSessionState.failed);
    this.finishedAtValue = this.env.now().toISOString();
    this.failureReason = reason;
    this.router.dropQueued();
    this.log.error('persistence failed', { reason });
    this.env.reportFailure(this, reason);
    void this.saveRecord().catch(() => undefined);
  }

  // ---- durability of the session record ---------------------------------------------------

  /**
   * Writes the session record atomically (temp file, fsync, rename); serialized. While the
   * session persists, its state also goes to the custody journal in storage.
   */
  saveRecord(): Promise<void> {
    const saved = this.recordFile.save(() => this.toRecord());
    const since = this.persistence.persistingSince;
    if (since === undefined || this.isFinished) return saved;
    const pause = this.persistence.pause;
    const journaled = this.journal.writeSession({
      sessionId: this.sessionId,
      hostId: this.env.hostId,
      softwareVersion: this.env.softwareVersion,
      request: this.request,
      createdAt: this.createdAt,
      persistingSince: since,
      ...(pause !== undefined ? { pause } : {}),
      participants: [...this.participants.values()],
      gaps: [...this.persistence.gaps],
      ...(this.dataKey !== undefined && this.kekId !== undefined ? { kekId: this.kekId } : {}),
    });
    return Promise.all([saved, journaled]).then(() => undefined);
  }

  private toRecord(): SessionRecord {
    return {
      v: 2,
      sessionId: this.sessionId,
      request: this.request,
      tokenSha256: this.tokenSha256,
      token: this.token,
      state: this.persistence.state,
      createdAt: this.createdAt,
      ...(this.persistence.persistingSince !== undefined
        ? { persistingSince: this.persistence.persistingSince }
        : {}),
      ...(this.persistence.pause !== undefined ? { pause: this.persistence.pause } : {}),
      participants: [...this.participants.values()],
      gaps: [...this.persistence.gaps],
      ...(this.persistence.sourceGapsThrough > 0
        ? { sourceGapsThrough: this.persistence.sourceGapsThrough }
        : {}),
      ...(this.dataKey !== undefined && !this.isFinished
        ? { dataKey: this.dataKey.toString('base64') }
        : {}),
      ...(this.kekId !== undefined ? { kekId: this.kekId } : {}),
      framesReceived: this.framesReceived,
      framesDroppedBeforePersist: this.framesDroppedBeforePersist,
      ...(this.checkpoints.through > 0 ? { sequenceThrough: this.checkpoints.through } : {}),
      ...(this.sealSummary !== undefined ? { sealSummary: this.sealSummary } : {}),
      ...(this.failureReason !== undefined ? { failureReason: this.failureReason } : {}),
      ...(this.finishedAtValue !== undefined ? { finishedAt: this.finishedAtValue } : {}),
    };
  }

  /**
   * After a restart: a format 1 record's streams become the checkpoint log's first line (and the
   * record is rewritten as format 2); then each checkpointed stream's blob is made to hold
   * exactly its checkpointed blocks (see {@link SessionCheckpoints.reconcile}).
   */
  async reconcile(): Promise<void> {
    if (this.checkpoints.hasLegacyStreams) {
      await this.appendCheckpoint(this.checkpoints.through);
      await this.saveRecord();
    }
    await this.checkpoints.reconcile(this.env.store, this.env.container, this.log);
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
   * Takes a finished session's files out of the sessions folder (housekeeping): deleted when
   * sealed, kept aside without a manifest (see {@link SessionRecordFile.retire}). Idempotent.
   */
  async retire(): Promise<void> {
    if (!this.isFinished)
      throw new RecorderError(ErrorCode.Conflict, `media session is ${this.state}`, {
        details: { state: this.state },
      });
    await this.recordFile.retire(this.state === MediaSessionState.sealed);
  }
}

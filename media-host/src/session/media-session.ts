/**
 * One media session: a recorded call leg's frames, from the socket to committed blobs. Here: its
 * public API (control, frames, commit, seal, abort, retire) over the rooms beside it, built and
 * wired in `session-parts.ts`: the state machine (`persistence-state.ts`), frames on arrival
 * (`frame-intake.ts`), the commit path (`session-commit.ts`), the seal (`session-seal.ts`) and
 * what the session knows of itself (`session-facts.ts`). The rules it keeps are in this
 * folder's README.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  encodeFrame,
  sha256Hex,
  ErrorCode,
  MediaSessionState,
  RecorderError,
  type CreateMediaSessionRequest,
  type MediaProtocolFrame,
  type MediaSessionStatus,
  type ParticipantMapping,
  type SealSummary,
} from '@attest/core';
import { MetricNames } from '../hooks/metrics-sink';
import type { Logger } from '../logging/logger';
import { foldCheckpoints, type CheckpointLine, type FoldedCheckpoint } from './checkpoint-log';
import type { Acceptance, FrameIntake } from './frame-intake';
import type { FrameRouter } from './frame-router';
import type { PersistenceState } from './persistence-state';
import type { SessionCommit } from './session-commit';
import type { NewSessionInit, SessionEnvironment } from './session-environment';
import {
  journalSessionOf,
  sessionRecordOf,
  type SessionFacts,
  type SessionOutcome,
} from './session-facts';
import { buildSessionParts, type SessionParts } from './session-parts';
import { foldRecordAndLog, newSessionRecord, type SessionRecord } from './session-record';
import { writeSeal } from './session-seal';
import { SessionSetup } from './session-setup';

export class MediaSession {
  readonly sessionId: string;
  readonly request: CreateMediaSessionRequest;
  /** The session token (never logged). */
  readonly token: string;
  private readonly env: SessionEnvironment;
  /** The rooms this session answers for (see `session-parts.ts`); the busiest also below. */
  private readonly parts: SessionParts;
  private readonly log: Logger;
  private readonly persistence: PersistenceState;
  private readonly outcome: SessionOutcome;
  private readonly router: FrameRouter;
  private readonly intake: FrameIntake;
  private readonly commits: SessionCommit;
  private readonly setup: SessionSetup;
  private isSealing = false;
  /** The seal on its way, shared by every caller of {@link seal}. */
  private sealing: Promise<SealSummary> | undefined;
  private connectedOnce = false;

  private constructor(
    env: SessionEnvironment,
    record: SessionRecord,
    dataKey: Buffer | undefined,
    checkpoint: FoldedCheckpoint,
    isNew: boolean,
  ) {
    this.env = env;
    this.sessionId = record.sessionId;
    this.request = record.request;
    this.token = record.token;
    this.parts = buildSessionParts(env, record, dataKey, checkpoint, {
      saveRecord: () => this.saveRecord(),
      isClosed: () => this.isFinished || this.isSealing,
      fail: (reason) => this.fail(reason),
    });
    ({
      log: this.log,
      persistence: this.persistence,
      outcome: this.outcome,
      router: this.router,
      intake: this.intake,
      commits: this.commits,
    } = this.parts);
    this.setup = new SessionSetup(
      env.store,
      this.parts.identity,
      this.log,
      !isNew && (record.dataKey === undefined || checkpoint.streams.length > 0),
    );
  }

  static create(env: SessionEnvironment, init: NewSessionInit): MediaSession {
    const record = newSessionRecord(init, env.now().toISOString());
    return new MediaSession(env, record, init.dataKey, foldCheckpoints([], []), true);
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
      false,
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
    return this.intake.marks.next;
  }

  get durableThrough(): number {
    return this.intake.marks.durable;
  }

  /** Constant-time check of a presented session token. */
  isTokenValid(token: string): boolean {
    const presented = Buffer.from(sha256Hex(token), 'hex');
    return timingSafeEqual(presented, Buffer.from(this.parts.identity.tokenSha256, 'hex'));
  }

  status(): MediaSessionStatus {
    return {
      sessionId: this.sessionId,
      callId: this.request.callId,
      state: this.state,
      ...this.intake.counters,
      bytesCommitted: this.commits.bytesCommitted,
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
  ensureKeyRecord(wrappedRecord: Buffer | undefined): Promise<void> {
    return this.setup.ensureKeyRecord(wrappedRecord);
  }

  /** Runs the session's set-up in the background; {@link startPersisting} waits for it and fails with it. */
  beginSetup(task: () => Promise<void>): void {
    this.setup.begin(task);
  }

  async startPersisting(): Promise<void> {
    await this.setup.done;
    this.assertNotFinished();
    this.persistence.startPersisting(
      this.persistence.persistingSince ?? this.env.now().toISOString(),
    );
    await this.saveRecord();
    this.log.info('persistence started');
  }

  async updateParticipants(participants: readonly ParticipantMapping[]): Promise<void> {
    this.assertNotFinished();
    for (const p of participants) this.parts.participants.set(p.msi, p);
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

  // ---- frames -----------------------------------------------------------------------------

  /**
   * Takes one decoded frame, synchronously (see {@link acceptFrames}); for callers that hold a
   * single decoded frame rather than a socket read.
   */
  accept(frame: MediaProtocolFrame): Acceptance {
    return this.intake.accept([frame], 0, 1, encodeFrame(frame));
  }

  /**
   * Takes `frames[start..end)` of one socket read, synchronously: consecutive sequenced frames
   * whose wire bytes are exactly `wire`; spooled, then written into the stream writers. Returns
   * `isAccepted: false` when the session cannot take them (spool full: the failure is reported).
   * Never awaits (see `frame-intake.ts`).
   */
  acceptFrames(
    frames: readonly MediaProtocolFrame[],
    start: number,
    end: number,
    wire: Buffer,
  ): Acceptance {
    return this.intake.accept(frames, start, end, wire);
  }

  /** A frame read back from the spool after a restart. */
  replay(frame: MediaProtocolFrame): void {
    this.intake.replay(frame);
  }

  /** A sequence consumed without storing, read back from the spool after a restart. */
  replayMark(sequence: number): void {
    this.intake.replayMark(sequence);
  }

  /** Highest sequence accepted so far (spooled or consumed); snapshot it before a spool flush. */
  get acceptedSequence(): number {
    return this.intake.marks.accepted;
  }

  /** A spool flush that started when `acceptedSequence` was `sequence` finished. */
  markDurable(sequence: number): number {
    return this.intake.marks.markDurable(sequence);
  }

  /** Stored bytes of this session's blocks that storage has not taken yet (see `StreamWriter.storedBytesAwaitingStorage`). */
  get blockBytesAwaitingStorage(): number {
    return this.router.blockBytesAwaitingStorage;
  }

  // ---- commit -----------------------------------------------------------------------------

  /** Commits every stream and checkpoints; serialized (see `session-commit.ts`). Errors end in a reported failure. */
  commit(): Promise<void> {
    return this.commits.commit();
  }

  // ---- end of session ---------------------------------------------------------------------

  /**
   * Flushes, commits every stream, writes the signed manifest. Idempotent: a seal in progress is
   * shared by every caller (one manifest, one hash); once sealed, the same summary. A seal that
   * failed may be tried again.
   */
  async seal(): Promise<SealSummary> {
    if (this.outcome.sealSummary !== undefined) return this.outcome.sealSummary;
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
    const { summary, sealedAt, streamCount } = await writeSeal(this.env, this.parts);
    this.outcome.sealSummary = summary;
    this.finish(MediaSessionState.sealed, sealedAt);
    this.isSealing = false;
    await this.saveRecord();
    await this.forget();
    this.log.info('session sealed', { streamCount });
    return summary;
  }

  /** Stops without a manifest; what is committed stays. Idempotent. */
  async abort(reason: string): Promise<void> {
    if (this.isFinished) return;
    this.finish(MediaSessionState.aborted, this.env.now().toISOString(), reason);
    this.router.dropQueued();
    await this.router.closeAll();
    await this.saveRecord();
    await this.forget();
    this.log.info('session aborted');
  }

  /** Persistence cannot continue: report once, stop storing. */
  fail(reason: string): void {
    if (this.isFinished) return;
    this.finish(MediaSessionState.failed, this.env.now().toISOString(), reason);
    this.router.dropQueued();
    this.log.error('persistence failed', { reason });
    this.env.reportFailure(this, reason);
    void this.saveRecord().catch(() => undefined);
  }

  /** The session ended (at `at`, ISO 8601), and why when it was not sealed. */
  private finish(state: 'sealed' | 'aborted' | 'failed', at: string, reason?: string): void {
    this.persistence.finish(state);
    this.outcome.finishedAt = at;
    if (reason !== undefined) this.outcome.failureReason = reason;
  }

  /** A finished session's spooled frames and metric series go. */
  private async forget(): Promise<void> {
    await this.env.spool.forget(this.sessionId);
    this.env.metrics.forgetSession?.(this.sessionId);
  }

  // ---- durability of the session record ---------------------------------------------------

  /**
   * Writes the session record atomically (temp file, fsync, rename); serialized. While the
   * session persists, its state also goes to the custody journal in storage (see
   * `session-facts.ts` for what each holds).
   */
  saveRecord(): Promise<void> {
    const saved = this.parts.recordFile.save(() => sessionRecordOf(this.facts()));
    const line = journalSessionOf(this.facts(), this.env);
    if (line === undefined) return saved;
    return Promise.all([saved, this.parts.journal.writeSession(line)]).then(() => undefined);
  }

  /** The session's facts as they are now. */
  private facts(): SessionFacts {
    return {
      identity: this.parts.identity,
      persistence: this.persistence,
      participants: [...this.parts.participants.values()],
      counters: this.intake.counters,
      sequenceThrough: this.parts.checkpoints.through,
      outcome: this.outcome,
    };
  }

  /**
   * After a restart: a format 1 record's streams become the checkpoint log's first line (and the
   * record is rewritten as format 2); then each checkpointed stream's blob is made to hold
   * exactly its checkpointed blocks (see `SessionCheckpoints.reconcile`).
   */
  async reconcile(): Promise<void> {
    if (this.parts.checkpoints.hasLegacyStreams) {
      await this.commits.appendCheckpoint(this.parts.checkpoints.through);
      await this.saveRecord();
    }
    await this.parts.checkpoints.reconcile(this.env.store, this.env.container, this.log);
  }

  /**
   * When the session finished (sealed, aborted, failed), in ms since the epoch; undefined while it
   * runs. A finished session restored from a record without the time counts from `restoredAt`.
   */
  finishedAtInMs(restoredAt: number): number | undefined {
    if (!this.isFinished) return undefined;
    const finishedAt = this.outcome.finishedAt;
    return finishedAt === undefined ? restoredAt : Date.parse(finishedAt);
  }

  /**
   * Takes a finished session's files out of the sessions folder (housekeeping): deleted when
   * sealed, kept aside without a manifest (see `SessionRecordFile.retire`). Idempotent.
   */
  async retire(): Promise<void> {
    if (!this.isFinished)
      throw new RecorderError(ErrorCode.Conflict, `media session is ${this.state}`, {
        details: { state: this.state },
      });
    await this.parts.recordFile.retire(this.state === MediaSessionState.sealed);
  }
}

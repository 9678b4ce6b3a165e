/**
 * A session's commit path: every stream's new blocks committed to storage, then one checkpoint
 * line on disk (`session-checkpoints.ts`), then the same line in the custody journal
 * (`session-journal.ts`), and only then may the spool let go of the frames the line covers.
 * Commits are serialized; one that fails fails the session (reported once) and rejects.
 */
import { MetricNames, type MetricsSink } from '../hooks/metrics-sink';
import { errorMessage, type Logger } from '../logging/logger';
import type { Spool } from '../pipeline/spool';
import type { FrameRouter } from './frame-router';
import type { SessionCheckpoints, SessionCounters } from './session-checkpoints';
import type { SessionJournal } from './session-journal';

export interface SessionCommitOptions {
  readonly sessionId: string;
  readonly router: Pick<
    FrameRouter,
    'writers' | 'writerCount' | 'flushQuietStreams' | 'releasableThrough'
  >;
  readonly checkpoints: Pick<SessionCheckpoints, 'append' | 'hasEndedSegments'>;
  /** The custody journal in storage, from which another host can adopt the session. */
  readonly journal: Pick<SessionJournal, 'writeCheckpoint'>;
  readonly spool: Pick<Spool, 'release'>;
  readonly metrics: MetricsSink;
  readonly log: Logger;
  /** Stored bytes committed before this process (from the checkpoint after a restart). */
  readonly bytesCommitted: number;
  /** The counters each checkpoint line carries, as they are when it is written. */
  readonly counters: () => SessionCounters;
  /** Whether the session takes no more commits (finished, or its seal has begun). */
  readonly isClosed: () => boolean;
  /** Persistence cannot continue: the session fails with `reason` (see `MediaSession.fail`). */
  readonly fail: (reason: string) => void;
}

export class SessionCommit {
  readonly #options: SessionCommitOptions;
  #bytesCommitted: number;
  #chain: Promise<unknown> = Promise.resolve();
  /** The record write that follows the latest source gap report. */
  #gapRecordSaved: Promise<void> = Promise.resolve();

  constructor(options: SessionCommitOptions) {
    this.#options = options;
    this.#bytesCommitted = options.bytesCommitted;
  }

  /** Stored bytes committed so far, over every stream and segment. */
  get bytesCommitted(): number {
    return this.#bytesCommitted;
  }

  /** Commits every stream and checkpoints; serialized. Errors end in a reported failure. */
  commit(): Promise<void> {
    const run = this.#chain.then(() => this.#commitNow());
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every commit asked for so far has ended (never rejects). */
  settled(): Promise<unknown> {
    return this.#chain;
  }

  /**
   * A source gap report was recorded: the spool may let go of the report only once `saved` (the
   * session record write that holds it) has succeeded; a commit fails the session if it failed.
   */
  releaseAfter(saved: Promise<void>): void {
    this.#gapRecordSaved = saved;
  }

  /**
   * Appends a checkpoint line through `through` (the blocks committed since the last line, the
   * segments ended since), then journals it. Nothing when nothing changed.
   */
  async appendCheckpoint(through: number): Promise<void> {
    const { checkpoints, router, journal, counters } = this.#options;
    const line = await checkpoints.append(through, router.writers, counters());
    // After the local line: the journal never lists blocks the local log does not.
    if (line !== undefined) await journal.writeCheckpoint(line);
  }

  async #commitNow(): Promise<void> {
    const { router, checkpoints, metrics, log, sessionId } = this.#options;
    if (this.#options.isClosed() || router.writerCount === 0) return;
    const started = Date.now();
    let isChanged = false;
    router.flushQuietStreams();
    try {
      for (const writer of router.writers) {
        const before = writer.committedStoredBytes;
        if (await writer.commit()) {
          isChanged = true;
          const stored = writer.committedStoredBytes - before;
          this.#bytesCommitted += stored;
          metrics.increment(MetricNames.bytesCommitted, stored, { session: sessionId });
        }
      }
    } catch (error) {
      log.error('commit failed', { error: errorMessage(error) });
      this.#options.fail('storage refused the commit');
      throw error;
    }
    if (!isChanged && !checkpoints.hasEndedSegments) return;
    metrics.observe(MetricNames.commitLatencyInMs, Date.now() - started);
    // The checkpoint says how far the session got before the spool lets go of those frames.
    // `through` first: a segment that ends after this point is not in it, and its frames are
    // not released by it either.
    const through = router.releasableThrough();
    try {
      // A gap report the spool lets go of must be in the record first.
      await this.#gapRecordSaved;
    } catch (error) {
      log.error('session record not written after a source gap', { error: errorMessage(error) });
      this.#options.fail('session record not written');
      throw error;
    }
    try {
      await this.appendCheckpoint(through);
    } catch (error) {
      log.error('checkpoint not written', { error: errorMessage(error) });
      this.#options.fail('checkpoint not written');
      throw error;
    }
    await this.#options.spool.release(sessionId, through);
  }
}

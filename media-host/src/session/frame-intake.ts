/**
 * A session's frames on arrival, synchronously (never awaits): counted, spooled as one record
 * (or, when nothing may be stored, one mark consuming their sequences), the sequence marks moved
 * on, a source's gap reports recorded, then handed to the frame router. Also what the spool gives
 * back after a restart: its frames, its marks and the gap reports among them.
 */
import type { MediaProtocolFrame } from '@attest/core';
import { MetricNames, type MetricsSink } from '../hooks/metrics-sink';
import type { Logger } from '../logging/logger';
import { SpoolRecordKind, type Spool } from '../pipeline/spool';
import { isStoredFrame, type FrameRouter } from './frame-router';
import type { PersistenceState } from './persistence-state';
import type { SessionCounters } from './session-checkpoints';
import { SequenceMarks } from './sequence-marks';
import { sourceGapOf, type StreamStateFrame } from './source-gap';

export interface FrameIntakeOptions {
  readonly sessionId: string;
  readonly spool: Pick<Spool, 'append'>;
  readonly router: Pick<FrameRouter, 'route' | 'replay' | 'markBreak'>;
  readonly persistence: Pick<PersistenceState, 'isStoring' | 'addSourceGap'>;
  readonly metrics: MetricsSink;
  readonly now: () => Date;
  readonly log: Logger;
  /** The counters as the session record and checkpoint log left them (zeros when new). */
  readonly counters: SessionCounters;
  /** Where both sequence marks start (see {@link SequenceMarks}). */
  readonly through: number;
  /** A source gap joined the session's gaps: the record must be saved. */
  readonly onSourceGapRecorded: () => void;
  /** Persistence cannot continue (the spool is full): see `MediaSession.fail`. */
  readonly fail: (reason: string) => void;
}

/** What {@link FrameIntake.accept} did with a batch of frames. */
export interface Acceptance {
  /** Whether the frames were stored (spooled for the writers), not merely counted. */
  readonly isPersisted: boolean;
  /** False when the session could not take them (spool full: the failure is reported). */
  readonly isAccepted: boolean;
}

export class FrameIntake {
  readonly #options: FrameIntakeOptions;
  readonly #metricLabels: { readonly session: string };
  readonly #marks: SequenceMarks;
  #framesReceived: number;
  #framesDroppedBeforePersist: number;

  constructor(options: FrameIntakeOptions) {
    this.#options = options;
    this.#metricLabels = { session: options.sessionId };
    this.#marks = new SequenceMarks(options.through);
    this.#framesReceived = options.counters.framesReceived;
    this.#framesDroppedBeforePersist = options.counters.framesDroppedBeforePersist;
  }

  /** Frames received, and stored frames dropped because nothing might be stored then. */
  get counters(): SessionCounters {
    return {
      framesReceived: this.#framesReceived,
      framesDroppedBeforePersist: this.#framesDroppedBeforePersist,
    };
  }

  /** How far the session's frame sequence has got (accepted, durable). */
  get marks(): SequenceMarks {
    return this.#marks;
  }

  /**
   * Takes `frames[start..end)` of one socket read: consecutive sequenced frames whose wire bytes
   * are exactly `wire` (see `MediaSession.acceptFrames`).
   */
  accept(
    frames: readonly MediaProtocolFrame[],
    start: number,
    end: number,
    wire: Buffer,
  ): Acceptance {
    const { spool, router, persistence, metrics, sessionId } = this.#options;
    const count = end - start;
    if (count <= 0) return { isPersisted: persistence.isStoring, isAccepted: true };
    const last = frames[end - 1]!.sequence;
    this.#framesReceived += count;
    metrics.increment(MetricNames.framesReceived, count, this.#metricLabels);
    if (!persistence.isStoring) {
      let dropped = 0;
      for (let i = start; i < end; i += 1) if (isStoredFrame(frames[i]!)) dropped += 1;
      if (dropped > 0) {
        this.#framesDroppedBeforePersist += dropped;
        metrics.increment(MetricNames.framesDroppedNotPersisting, dropped, this.#metricLabels);
      }
      spool.append(SpoolRecordKind.sequenceMark, sessionId, last);
      this.#marks.accept(last);
      router.markBreak();
      return { isPersisted: false, isAccepted: true };
    }
    if (!spool.append(SpoolRecordKind.frames, sessionId, last, wire)) {
      metrics.increment(MetricNames.framesDroppedSpoolFull, count, this.#metricLabels);
      this.#options.fail('spool full');
      return { isPersisted: false, isAccepted: false };
    }
    this.#marks.accept(last);
    const atInMs = this.#options.now().getTime();
    for (let i = start; i < end; i += 1) {
      const frame = frames[i]!;
      if (frame.type === 'streamState' && frame.gap !== undefined)
        this.#recordSourceGap(frame, atInMs);
    }
    router.route(frames, start, end, atInMs);
    return { isPersisted: true, isAccepted: true };
  }

  /** A frame read back from the spool after a restart. */
  replay(frame: MediaProtocolFrame): void {
    this.#marks.replayed(frame.sequence);
    this.#options.router.replay(frame);
  }

  /** A sequence consumed without storing, read back from the spool after a restart. */
  replayMark(sequence: number): void {
    this.#marks.replayed(sequence);
    this.#options.router.markBreak();
  }

  /**
   * A gap report read back from the spool after a restart (the host stopped before the record
   * that holds it was written), at its place among the replayed frames: recorded where the
   * dropped frames were in the stream's time, or at the restart when no stream has started.
   */
  replayedGapReport(
    frame: StreamStateFrame,
    wallTimeOf: (timestamp100ns: bigint) => number | undefined,
  ): void {
    const last = frame.gap?.lastTimestamp100ns;
    const lastAtInMs = last === undefined ? undefined : wallTimeOf(last);
    // The report arrives with the first frame after the gap, one 20 ms frame after the last dropped.
    this.#recordSourceGap(
      frame,
      lastAtInMs === undefined ? this.#options.now().getTime() : lastAtInMs + 20,
      true,
    );
  }

  /**
   * A source (the bridge) reported frames it dropped: a gap with its reason, in the session
   * record before the spool may let go of the report (see `SessionCommit.releaseAfter`).
   */
  #recordSourceGap(frame: StreamStateFrame, atInMs: number, isReplayed = false): void {
    const gap = sourceGapOf(frame, atInMs);
    if (gap === undefined || !this.#options.persistence.addSourceGap(gap, frame.sequence)) return;
    this.#options.metrics.increment(MetricNames.gapsRecorded, 1, this.#metricLabels);
    this.#options.log.warn(
      isReplayed
        ? 'media source dropped frames (report replayed from the spool)'
        : 'media source dropped frames',
      { droppedFrames: frame.gap?.droppedFrames ?? 0, sequence: frame.sequence },
    );
    this.#options.onSourceGapRecorded();
  }
}

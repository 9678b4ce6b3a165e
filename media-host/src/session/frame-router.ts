/**
 * Routes a session's accepted frames to its stream writers, in sequence order: one writer per
 * stream (`audio-mixed`, `audio-{msi}`, `video-{msi}`, `vbss-{msi}`), a new segment writer when
 * a stream's segment is full, and after a restart no frame a stream already committed.
 *
 * Frames go to their writers at once when every writer they reach is synchronous and nothing is
 * queued (the hot path: no promise per frame), else through a queue drained in order. A frame a
 * formatter refuses (bad size, timestamp out of order) is logged and skipped, never fatal.
 *
 * A break (frames consumed without being stored, or a source's report of frames it dropped)
 * marks each video stream's next frame `followsBreak`: a picture it refers to may be missing, so
 * the video formatter waits for a key frame (browsers refuse the rest of a stream otherwise).
 */
import type { MediaProtocolFrame, StreamKind } from '@attest/core';
import { errorMessage, type Logger } from '../logging/logger';
import type { MediaFrame } from '../pipeline/formats/stream-format';
import type { StreamWriter } from '../pipeline/stream-writer';
import { type StreamWriterOptions } from '../pipeline/stream-writer';

/** What a new segment writer needs beyond its stream and segment. */
export type WriterFactory = (
  stream: Pick<StreamWriterOptions, 'streamId' | 'kind' | 'msi' | 'segment'>,
) => StreamWriter;

export interface FrameRouterOptions {
  readonly createWriter: WriterFactory;
  /** A segment's writer ended (rolled over, or at seal); it no longer belongs to the router. */
  readonly onSegmentEnded: (writer: StreamWriter) => void;
  /** After a restart: per stream key, frames up to this sequence are already committed. */
  readonly skipThrough: ReadonlyMap<string, number>;
  /** After a restart: per stream key, the next segment number. */
  readonly nextSegment: ReadonlyMap<string, number>;
  /** Frames up to this sequence were processed before (a restart resumes after it). */
  readonly processedThrough: number;
  /**
   * A source's gap report read back from the spool after a restart reached its place in the
   * queue (the frames before it written): `wallTimeInMs` maps the report's timestamp onto the
   * wall clock of a stream already written, when there is one.
   */
  readonly onReplayedGapReport?: (
    frame: Extract<MediaProtocolFrame, { type: 'streamState' }>,
    wallTimeOf: (timestamp100ns: bigint) => number | undefined,
  ) => void;
  readonly log: Logger;
}

interface QueuedFrame {
  readonly frame: MediaProtocolFrame;
  readonly sequence: number;
  /** Wall time the frame arrived (ms since the epoch); undefined for frames replayed from the spool. */
  readonly atInMs?: number;
  /** Breaks counted before this frame (see `markBreak`). */
  readonly breaks: number;
}

/** A stream's key: its kind and MSI (`audio-11`); a segment's stream id adds `.{segment}`. */
export function streamKey(kind: StreamKind, msi: string): string {
  return `${kind}-${msi}`;
}

/** The stream id of a stream's `segment`: the key for the first, `key.segment` after. */
export function segmentStreamId(key: string, segment: number): string {
  return segment === 0 ? key : `${key}.${segment}`;
}

/** Whether a frame type carries media that is stored. */
export function isStoredFrame(frame: MediaProtocolFrame): boolean {
  return (
    frame.type === 'audioMixed' ||
    frame.type === 'audioUnmixed' ||
    frame.type === 'video' ||
    frame.type === 'vbss'
  );
}

export class FrameRouter {
  readonly #options: FrameRouterOptions;
  readonly #log: Logger;
  readonly #writers = new Map<string, StreamWriter>();
  /** The current writers of unmixed audio streams by MSI (the per-frame lookup, without a string key). */
  readonly #unmixedWriters = new Map<number, StreamWriter>();
  readonly #skipThrough: ReadonlyMap<string, number>;
  readonly #nextSegment: Map<string, number>;
  readonly #quietCommits = new Map<string, number>();
  #queue: QueuedFrame[] = [];
  #processing: Promise<void> | undefined;
  #processedThrough: number;
  /** Breaks so far, and per video stream key the count its last frame followed. */
  #breaks = 0;
  readonly #breaksSeen = new Map<string, number>();

  constructor(options: FrameRouterOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#skipThrough = options.skipThrough;
    this.#nextSegment = new Map(options.nextSegment);
    this.#processedThrough = options.processedThrough;
  }

  /** Highest sequence written into the writers (or consumed by them). */
  get processedThrough(): number {
    return this.#processedThrough;
  }

  /** The current segment writers (one per stream). */
  get writers(): Iterable<StreamWriter> {
    return this.#writers.values();
  }

  get writerCount(): number {
    return this.#writers.size;
  }

  /** Stored bytes of the writers' blocks that storage has not taken yet. */
  get blockBytesAwaitingStorage(): number {
    let bytes = 0;
    for (const writer of this.#writers.values()) bytes += writer.storedBytesAwaitingStorage;
    return bytes;
  }

  /** Routes frames accepted (and spooled) together, in order, arrived at `atInMs`. */
  route(frames: readonly MediaProtocolFrame[], start: number, end: number, atInMs: number): void {
    for (let i = start; i < end; i += 1) {
      const frame = frames[i]!;
      this.#noteSourceGap(frame);
      if (
        this.#queue.length === 0 &&
        this.#processing === undefined &&
        this.#processSync(frame, atInMs)
      )
        continue;
      this.#enqueue({ frame, sequence: frame.sequence, atInMs, breaks: this.#breaks });
    }
  }

  /** A frame read back from the spool after a restart (always through the queue). */
  replay(frame: MediaProtocolFrame): void {
    this.#noteSourceGap(frame);
    this.#enqueue({ frame, sequence: frame.sequence, breaks: this.#breaks });
  }

  /**
   * Frames were consumed without being stored (before persistence, while paused), live or
   * replayed from the spool's marks: each video stream's next frame follows a break.
   */
  markBreak(): void {
    this.#breaks += 1;
  }

  #noteSourceGap(frame: MediaProtocolFrame): void {
    if (frame.type === 'streamState' && frame.gap !== undefined) this.markBreak();
  }

  /** Forgets the frames still queued (the session stopped storing). */
  dropQueued(): void {
    this.#queue = [];
  }

  /** Resolves when every frame routed so far has been written. */
  async whenIdle(): Promise<void> {
    while (this.#processing !== undefined) await this.#processing;
  }

  /** Every frame up to the returned sequence is in committed blocks. */
  releasableThrough(): number {
    let through = this.#processedThrough;
    for (const writer of this.#writers.values()) {
      if (writer.hasUncommitted) through = Math.min(through, writer.committedThroughSequence);
    }
    return this.#queue.length > 0 || this.#processing !== undefined
      ? Math.min(through, this.#processedThrough)
      : through;
  }

  /** A stream that went quiet keeps a short block: it is staged after two quiet commits. */
  flushQuietStreams(): void {
    for (const [key, writer] of this.#writers) {
      const quiet = writer.bufferedDurationInMs > 0 ? (this.#quietCommits.get(key) ?? 0) + 1 : 0;
      this.#quietCommits.set(key, quiet);
      if (quiet >= 2) {
        writer.flushPartial();
        this.#quietCommits.set(key, 0);
      }
    }
  }

  /** Ends every writer (each reported through `onSegmentEnded`) and forgets them. */
  async endAll(): Promise<void> {
    for (const writer of this.#writers.values()) {
      await writer.end();
      this.#options.onSegmentEnded(writer);
    }
    this.#writers.clear();
    this.#unmixedWriters.clear();
  }

  /** Closes every writer without committing what is pending (abort). */
  async closeAll(): Promise<void> {
    for (const writer of this.#writers.values()) await writer.close();
  }

  /**
   * Writes a frame at once when every stream it goes to has a synchronous formatter; returns
   * false (nothing written) when it must go through the queue instead.
   */
  #processSync(frame: MediaProtocolFrame, atInMs: number): boolean {
    const sequence = frame.sequence;
    if (frame.type === 'audioUnmixed') {
      const buffers = frame.buffers;
      // After a restart, frames a stream already committed are skipped (as in `#write`).
      const isSkipped = (msi: number): boolean =>
        this.#skipThrough.size > 0 &&
        sequence <= (this.#skipThrough.get(streamKey('audio', String(msi))) ?? 0);
      for (const buffer of buffers) {
        if (isSkipped(buffer.msi)) continue;
        const writer =
          this.#unmixedWriters.get(buffer.msi) ?? this.#openWriter('audio', String(buffer.msi));
        if (!writer.canPushSync || writer.shouldEndSegmentBefore(false)) return false;
      }
      for (const buffer of buffers) {
        if (isSkipped(buffer.msi)) continue;
        try {
          this.#unmixedWriters
            .get(buffer.msi)!
            .pushSync(
              { timestamp100ns: frame.timestamp100ns, payload: buffer.payload },
              sequence,
              atInMs,
            );
        } catch (error) {
          this.#log.warn('frame not stored', { sequence, error: errorMessage(error) });
        }
      }
      this.#processedThrough = sequence;
      return true;
    }
    if (!isStoredFrame(frame)) {
      this.#processedThrough = sequence;
      return true;
    }
    return false;
  }

  #enqueue(item: QueuedFrame): void {
    this.#queue.push(item);
    if (this.#processing === undefined) {
      this.#processing = this.#drain().finally(() => {
        this.#processing = undefined;
      });
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      for (const [i, item] of batch.entries()) {
        // Formatters often resolve at once, so awaiting them never yields to timers and I/O;
        // yield now and then so spool flushes (acks) and socket reads are not starved.
        if (i % 32 === 31) await new Promise((resolve) => setImmediate(resolve));
        try {
          await this.#process(item);
        } catch (error) {
          this.#log.warn('frame not stored', {
            sequence: item.sequence,
            error: errorMessage(error),
          });
        }
        this.#processedThrough = item.sequence;
      }
    }
  }

  async #process({ frame, sequence, atInMs, breaks }: QueuedFrame): Promise<void> {
    switch (frame.type) {
      case 'audioMixed':
        return this.#write(
          'audio',
          'mixed',
          sequence,
          { timestamp100ns: frame.timestamp100ns, payload: frame.payload },
          atInMs,
        );
      case 'audioUnmixed':
        for (const buffer of frame.buffers) {
          await this.#write(
            'audio',
            String(buffer.msi),
            sequence,
            { timestamp100ns: frame.timestamp100ns, payload: buffer.payload },
            atInMs,
          );
        }
        return;
      case 'video':
      case 'vbss': {
        const key = streamKey(frame.type, String(frame.msi));
        const followsBreak = breaks > (this.#breaksSeen.get(key) ?? breaks);
        this.#breaksSeen.set(key, breaks);
        return this.#write(
          frame.type,
          String(frame.msi),
          sequence,
          {
            timestamp100ns: frame.timestamp100ns,
            payload: frame.payload,
            isKeyFrame: frame.isKeyFrame,
            width: frame.width,
            height: frame.height,
            ...(followsBreak ? { followsBreak } : {}),
          },
          atInMs,
        );
      }
      case 'streamState':
        if (frame.gap !== undefined && atInMs === undefined)
          this.#options.onReplayedGapReport?.(frame, (timestamp) => this.#wallTimeOf(timestamp));
        return;
      default:
        return;
    }
  }

  /** Wall time of a media timestamp, by the stream that started earliest (undefined: none yet). */
  #wallTimeOf(timestamp100ns: bigint): number | undefined {
    let earliest:
      { readonly firstFrameAtInMs: number; readonly firstTimestamp100ns: bigint } | undefined;
    for (const writer of this.#writers.values()) {
      const origin = writer.wallClockOrigin;
      if (
        origin !== undefined &&
        (earliest === undefined || origin.firstFrameAtInMs < earliest.firstFrameAtInMs)
      )
        earliest = origin;
    }
    return earliest === undefined
      ? undefined
      : earliest.firstFrameAtInMs +
          Number((timestamp100ns - earliest.firstTimestamp100ns) / 10_000n);
  }

  async #write(
    kind: StreamKind,
    msi: string,
    sequence: number,
    mediaFrame: MediaFrame,
    atInMs: number | undefined,
  ): Promise<void> {
    const key = streamKey(kind, msi);
    if (sequence <= (this.#skipThrough.get(key) ?? 0)) return;
    let writer = this.#writers.get(key);
    if (writer?.shouldEndSegmentBefore(mediaFrame.isKeyFrame === true) === true) {
      await this.#rollSegment(key, writer);
      writer = undefined;
    }
    writer ??= this.#openWriter(kind, msi);
    await writer.push(mediaFrame, sequence, atInMs);
  }

  #openWriter(kind: StreamKind, msi: string): StreamWriter {
    const key = streamKey(kind, msi);
    const segment = this.#nextSegment.get(key) ?? 0;
    this.#nextSegment.set(key, segment + 1);
    const writer = this.#options.createWriter({
      streamId: segmentStreamId(key, segment),
      kind,
      msi,
      segment,
    });
    this.#writers.set(key, writer);
    if (kind === 'audio' && msi !== 'mixed') this.#unmixedWriters.set(Number(msi), writer);
    return writer;
  }

  async #rollSegment(key: string, writer: StreamWriter): Promise<void> {
    await writer.end();
    // In the same turn as leaving the writers: a commit that runs meanwhile finds the segment's
    // blocks either in the writer or among the ended segments' checkpoints, never in neither.
    this.#options.onSegmentEnded(writer);
    this.#writers.delete(key);
    if (writer.kind === 'audio' && writer.msi !== 'mixed')
      this.#unmixedWriters.delete(Number(writer.msi));
  }
}

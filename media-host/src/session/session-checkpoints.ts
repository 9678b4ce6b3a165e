/**
 * A session's committed segments, as its checkpoint log records them: the segments it no longer
 * writes (ended, or checkpointed before a restart), the checkpoints of segments ended since the
 * last line, and how far the log goes. Appends the log's lines (`checkpoint-log.ts`), reads it
 * back whole for the manifest, and after a restart makes storage agree with it.
 */
import { ErrorCode, RecorderError } from '@attest/core';
import type { Logger } from '../logging/logger';
import { blockIdsUpTo, type StreamWriter, type StreamWriterState } from '../pipeline/stream-writer';
import type { BlockStore } from '../sink/block-store';
import {
  appendCheckpointLine,
  checkpointLogPath,
  foldCheckpoints,
  readCheckpointLog,
  type CheckpointLine,
  type FoldedCheckpoint,
} from './checkpoint-log';
import { streamKey } from './frame-router';

/**
 * A segment the session no longer writes: ended, or checkpointed before a restart. Its blocks are
 * in the checkpoint log, not in memory; their ids are `blockIdFor(0..blockCount-1)`.
 */
export type ClosedSegment = Pick<
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

export function closedSegment(s: StreamWriterState, blockCount: number): ClosedSegment {
  return {
    streamId: s.streamId,
    kind: s.kind,
    msi: s.msi,
    segment: s.segment,
    blobName: s.blobName,
    contentType: s.contentType,
    blockCount,
    storedBytes: s.storedBytes,
    committedThroughSequence: s.committedThroughSequence,
  };
}

/** Where a restored session's streams resume, from its folded checkpoint. */
export interface ResumePoint {
  /** Per stream key: frames up to this sequence are committed (skipped on replay). */
  readonly skipThrough: Map<string, number>;
  /** Per stream key: the next segment number (a restored stream continues in a new segment). */
  readonly nextSegment: Map<string, number>;
  /** Every segment's stored bytes, summed. */
  readonly bytesCommitted: number;
  /** The highest sequence the checkpoint covers (with the record's `sequenceThrough`). */
  readonly through: number;
}

/** Pure: where each stream resumes after a restart, given the folded log and the record's mark. */
export function resumePointOf(checkpoint: FoldedCheckpoint, sequenceThrough: number): ResumePoint {
  const skipThrough = new Map<string, number>();
  const nextSegment = new Map<string, number>();
  let bytesCommitted = 0;
  let through = Math.max(sequenceThrough, checkpoint.through);
  for (const stream of checkpoint.streams) {
    const key = streamKey(stream.kind, stream.msi);
    skipThrough.set(key, Math.max(skipThrough.get(key) ?? 0, stream.committedThroughSequence));
    nextSegment.set(key, Math.max(nextSegment.get(key) ?? 0, stream.segment + 1));
    bytesCommitted += stream.storedBytes;
    through = Math.max(through, stream.committedThroughSequence);
  }
  return { skipThrough, nextSegment, bytesCommitted, through };
}

export interface SessionCheckpointsOptions {
  readonly sessionsDir: string;
  readonly sessionId: string;
  /** The folded log (and format 1 record streams) the session starts from. */
  readonly checkpoint: FoldedCheckpoint;
  /** The checkpoint's `through` (see {@link resumePointOf}). */
  readonly checkpointedThrough: number;
  /**
   * A format 1 record's streams: when the log has no line yet they are not in it, and
   * {@link SessionCheckpoints.append} writes them as its first line.
   */
  readonly formatOneStreams: readonly StreamWriterState[] | undefined;
  /** Runs each append (the host limits disk writes). */
  readonly limitWrite: <T>(write: () => Promise<T>) => Promise<T>;
}

/** The counters each line carries. */
export interface SessionCounters {
  readonly framesReceived: number;
  readonly framesDroppedBeforePersist: number;
}

export class SessionCheckpoints {
  readonly #options: SessionCheckpointsOptions;
  readonly #path: string;
  /** Streams' earlier segments, finished (their blocks are in the checkpoint log). */
  readonly #closed: ClosedSegment[] = [];
  /** Checkpoints of segments ended since the last checkpoint line (the next line takes them). */
  #ended: StreamWriterState[] = [];
  #legacyStreams: readonly StreamWriterState[] | undefined;
  #through: number;

  constructor(options: SessionCheckpointsOptions) {
    this.#options = options;
    this.#path = checkpointLogPath(options.sessionsDir, options.sessionId);
    for (const stream of options.checkpoint.streams)
      this.#closed.push(closedSegment(stream, stream.blocks.length));
    const formatOne = options.formatOneStreams ?? [];
    this.#legacyStreams =
      options.checkpoint.lineCount === 0 && formatOne.length > 0 ? formatOne : undefined;
    this.#through = options.checkpointedThrough;
  }

  /** Highest `through` written to the log (or restored). */
  get through(): number {
    return this.#through;
  }

  /** Whether a format 1 record's streams still wait to become the log's first line. */
  get hasLegacyStreams(): boolean {
    return this.#legacyStreams !== undefined;
  }

  /** Whether segments ended since the last line wait for the next one. */
  get hasEndedSegments(): boolean {
    return this.#ended.length > 0;
  }

  /**
   * A segment's writer is done (ended, everything committed): its last checkpoint waits for the
   * next line, its summary stays. A segment that never committed a block has no blob: nothing.
   */
  segmentEnded(writer: StreamWriter): void {
    if (writer.committedBlockCount === 0) return;
    const checkpoint = writer.takeCheckpoint();
    this.#ended.push(checkpoint);
    this.#closed.push(closedSegment(checkpoint, writer.committedBlockCount));
  }

  /**
   * Appends one line: the segments ended since the last line and the blocks every current writer
   * committed since. Nothing when nothing changed. Returns the line written, if any.
   */
  async append(
    through: number,
    writers: Iterable<StreamWriter>,
    counters: SessionCounters,
  ): Promise<CheckpointLine | undefined> {
    const streams = this.#ended;
    this.#ended = [];
    for (const writer of writers)
      if (writer.uncheckpointedBlockCount > 0) streams.push(writer.takeCheckpoint());
    const legacy = this.#legacyStreams;
    if (streams.length === 0 && legacy === undefined && through <= this.#through) return undefined;
    const line: CheckpointLine = {
      v: 1,
      through: Math.max(through, this.#through),
      framesReceived: counters.framesReceived,
      framesDroppedBeforePersist: counters.framesDroppedBeforePersist,
      streams: legacy === undefined ? streams : [...legacy, ...streams],
    };
    try {
      await this.#options.limitWrite(() => appendCheckpointLine(this.#path, line));
    } catch (error) {
      // The writers have let go of these blocks: keep them for the next line (a seal tried again
      // must still list them), ahead of anything taken since.
      this.#ended = [...streams, ...this.#ended];
      throw error;
    }
    this.#legacyStreams = undefined;
    this.#through = line.through;
    return line;
  }

  /** Every segment's committed blocks, from the log (read back whole). */
  async readAll(): Promise<StreamWriterState[]> {
    return foldCheckpoints([], await readCheckpointLog(this.#path)).streams;
  }

  /**
   * After a restart: makes each checkpointed segment's blob hold exactly its checkpointed blocks
   * (a commit that landed after the checkpoint is rolled back; its frames are replayed). Throws
   * `ATT_INTEGRITY_VIOLATION` when a blob does not start with them.
   */
  async reconcile(store: BlockStore, container: string, log: Logger): Promise<void> {
    for (const stream of this.#closed) {
      const ids = blockIdsUpTo(stream.blockCount);
      const committed = await store.getCommittedBlockIds(container, stream.blobName);
      const isSame = committed.length === ids.length && committed.every((id, i) => id === ids[i]);
      if (isSame) continue;
      if (!ids.every((id, i) => committed[i] === id)) {
        log.error('stored blob does not start with the checkpointed blocks', {
          streamId: stream.streamId,
        });
        throw new RecorderError(
          ErrorCode.IntegrityViolation,
          'stored blob does not match the session checkpoint',
          { details: { streamId: stream.streamId } },
        );
      }
      await store.commitBlockList(container, stream.blobName, ids, stream.contentType);
      log.warn('rolled back blocks committed after the last checkpoint', {
        streamId: stream.streamId,
        blockCount: committed.length - ids.length,
      });
    }
  }
}

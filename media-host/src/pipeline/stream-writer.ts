/**
 * One stored stream (a speaker's unmixed audio, a video source, the screen share) written as a
 * block blob: formatter output is cut into blocks of at least `blockMinDurationInMs` of media,
 * each hashed (plaintext and stored bytes, hash chain), encrypted with the recording's data key
 * and staged; {@link StreamWriter.commit} commits every block so far. After each commit the
 * session takes the blocks committed since its last checkpoint ({@link StreamWriter.takeCheckpoint})
 * into its checkpoint log; the writer then forgets them, so what it holds does not grow with the
 * call. A segment ends ({@link StreamWriter.shouldEndSegmentBefore}) after
 * `segmentMaxDurationInMs` of media, which bounds each block list commit.
 */
import { hash } from 'node:crypto';
import {
  blockAad,
  blockIdFor,
  chainGenesis,
  chainNext,
  ENVELOPE_NONCE_BYTES,
  ENVELOPE_TAG_BYTES,
  ErrorCode,
  RecorderError,
  type ManifestBlock,
  type StreamKind,
} from '@attest/core';
import type { BlockStore } from '../sink/block-store';
import { BlockChunks, storedBlockBuffers } from './block-chunks';
import { encryptInPlace, gather } from './stored-block';
import { InFlightFrames, NO_MEDIA, type MediaMarks } from './in-flight-frames';
import type { FormattedChunk, MediaFrame, StreamFormatter } from './formats/stream-format';

/** Azure's limit of blocks per block blob. */
export const MAX_BLOCKS_PER_BLOB = 50_000;

/** Block ids by index, shared by every writer (a segment's ids are `blockIdFor(0..n-1)`). */
const blockIds: string[] = [];

/** The ids of blocks `0..count-1`, as a block list commit sends them. */
export function blockIdsUpTo(count: number): string[] {
  for (let i = blockIds.length; i < count; i += 1) blockIds.push(blockIdFor(i));
  return blockIds.slice(0, count);
}

export interface TimelinePoint {
  /** Position in the stream's media time. */
  readonly mediaInMs: number;
  /** Platform timestamp (100 ns) of the frame at that position, decimal string. */
  readonly timestamp100ns: string;
}

export interface StreamWriterState {
  readonly streamId: string;
  readonly kind: StreamKind;
  readonly msi: string;
  readonly segment: number;
  readonly blobName: string;
  readonly contentType: string;
  readonly blocks: readonly ManifestBlock[];
  readonly chainHeadSha256: string;
  readonly plaintextBytes: number;
  readonly storedBytes: number;
  /** Every frame of this stream with a sequence up to this one is in committed blocks. */
  readonly committedThroughSequence: number;
  readonly frameCount: number;
  readonly firstTimestamp100ns?: string;
  readonly lastTimestamp100ns?: string;
  readonly firstFrameAt?: string;
  readonly lastFrameAt?: string;
  readonly mediaEndInMs: number;
  readonly timeline: readonly TimelinePoint[];
}

export interface StreamWriterOptions {
  readonly streamId: string;
  readonly kind: StreamKind;
  readonly msi: string;
  readonly segment: number;
  readonly blobName: string;
  readonly container: string;
  readonly interactionId: string;
  readonly formatter: StreamFormatter;
  readonly store: BlockStore;
  /** Undefined = stored unencrypted (development only). */
  readonly dataKey: Buffer | undefined;
  readonly blockMinDurationInMs: number;
  /**
   * Media after which the session starts the stream's next segment (a blob of its own): audio at
   * the next frame, video and screen share at the next key frame. Default: only Azure's limit of
   * blocks per blob ends a segment.
   */
  readonly segmentMaxDurationInMs?: number;
  readonly now: () => Date;
}

interface PendingBlock {
  readonly block: ManifestBlock;
  /** The stream's media through this block's frames. */
  readonly marks: MediaMarks;
  /**
   * The stored bytes, held only until storage took them (or while staging fails and is retried):
   * a staged block waits for the next commit in storage, not in memory.
   */
  stored: Buffer | undefined;
  readonly throughSequence: number;
  staging: Promise<void>;
}

const sha256 = (bytes: Buffer): string => hash('sha256', bytes, 'hex');

const AUDIO_STEP_100NS = 200_000;

export class StreamWriter {
  readonly streamId: string;
  readonly kind: StreamKind;
  readonly msi: string;
  readonly segment: number;
  readonly blobName: string;
  private readonly options: StreamWriterOptions;
  /** Blocks committed in storage, in this segment. */
  private committedCount = 0;
  /** Chain head after the last committed block. */
  private committedChain: string;
  /** Committed blocks the session has not taken into its checkpoint log yet. */
  private uncheckpointed: ManifestBlock[] = [];
  private pending: PendingBlock[] = [];
  private chain: string;
  private plaintextBytes = 0;
  private storedBytes = 0;
  private committedThrough = 0;
  /** Sums over the committed blocks, kept as they grow (the state is asked for at every commit). */
  private committedPlainBytes = 0;
  private committedStoredBytesValue = 0;
  /**
   * The block being filled: formatter bytes copied into chunks the writer owns (payloads are
   * views of socket reads; keeping those would pin whole reads). It holds only what arrived so far.
   */
  private readonly block = new BlockChunks();
  private bufferStartInMs = 0;
  private bufferEndInMs = 0;
  /** Frames pushed whose bytes are not yet in a cut block, and the media through the cut ones. */
  private readonly inFlight = new InFlightFrames();
  /** The media of the frames in committed blocks. */
  private committedMarks: MediaMarks = NO_MEDIA;
  private frameCount = 0;
  private firstTimestamp: bigint | undefined;
  private lastTimestamp: bigint | undefined;
  private firstFrameAt: string | undefined;
  /** Wall time (ms since the epoch) the last frame was written; formatted only for the state. */
  private lastFrameAtInMs: number | undefined;
  /** Timeline points the session has not taken into its checkpoint log yet. */
  private timeline: TimelinePoint[] = [];
  private isEnded = false;
  /**
   * The first block is longer by a random share of the minimum, so streams that started together
   * do not all cut, encrypt and upload their blocks in the same instant.
   */
  private blockTargetInMs: number;

  constructor(options: StreamWriterOptions) {
    this.options = options;
    this.blockTargetInMs = options.blockMinDurationInMs * (1 + Math.random());
    this.streamId = options.streamId;
    this.kind = options.kind;
    this.msi = options.msi;
    this.segment = options.segment;
    this.blobName = options.blobName;
    this.chain = chainGenesis(options.interactionId, options.streamId);
    this.committedChain = this.chain;
  }

  get contentType(): string {
    return this.options.formatter.contentType;
  }

  get blockCount(): number {
    return this.committedCount + this.pending.length;
  }

  /** Blocks committed in storage, in this segment. */
  get committedBlockCount(): number {
    return this.committedCount;
  }

  /** Committed blocks held until the session's next checkpoint takes them. */
  get uncheckpointedBlockCount(): number {
    return this.uncheckpointed.length;
  }

  /** Bytes held in memory for this stream (block being filled plus blocks not yet taken by storage). */
  get bufferedBytes(): number {
    return (
      this.block.byteLength + this.pending.reduce((sum, p) => sum + (p.stored?.length ?? 0), 0)
    );
  }

  /**
   * Stored bytes of blocks cut but not yet taken by storage (waiting to be staged, on their way,
   * or to be staged again): what a storage slower than the load costs this stream in memory.
   */
  get storedBytesAwaitingStorage(): number {
    let bytes = 0;
    for (const p of this.pending) bytes += p.stored?.length ?? 0;
    return bytes;
  }

  /** Whether frames were pushed that are not yet in committed blocks. */
  get hasUncommitted(): boolean {
    return !this.inFlight.isEmpty || this.pending.length > 0 || this.block.byteLength > 0;
  }

  /** Whether {@link pushSync} can take frames (the formatter works synchronously). */
  get canPushSync(): boolean {
    return this.options.formatter.pushSync !== undefined && !this.isEnded;
  }

  /** Whether the blob cannot take more blocks: the session starts the next segment. */
  get isFull(): boolean {
    return this.blockCount >= MAX_BLOCKS_PER_BLOB - 1;
  }

  /** Media time this segment covers so far. */
  get mediaDurationInMs(): number {
    if (this.kind === 'audio') return this.frameCount * 20;
    return this.firstTimestamp === undefined || this.lastTimestamp === undefined
      ? 0
      : Number((this.lastTimestamp - this.firstTimestamp) / 10_000n);
  }

  /**
   * Whether the session should end this segment before writing the next frame: the blob is full,
   * or the segment holds `segmentMaxDurationInMs` of media and the frame can start a segment (any
   * audio frame; a video key frame, since a new segment's decoder starts at one).
   */
  shouldEndSegmentBefore(isKeyFrame: boolean): boolean {
    if (this.isFull) return true;
    const max = this.options.segmentMaxDurationInMs;
    return (
      max !== undefined && (this.kind === 'audio' || isKeyFrame) && this.mediaDurationInMs >= max
    );
  }

  /**
   * Feeds one frame (in timestamp order); may cut and stage blocks. `atInMs` is the wall time the
   * frame arrived (default: the writer's clock now).
   */
  async push(frame: MediaFrame, sequence: number, atInMs?: number): Promise<void> {
    if (this.isEnded)
      throw new RecorderError(ErrorCode.Internal, 'frame pushed to an ended stream writer');
    const mediaStartInMs = this.mediaStartOf(frame);
    const chunks = await this.options.formatter.push(frame);
    this.afterFormat(frame, sequence, mediaStartInMs, chunks, atInMs);
  }

  /** {@link push} without a promise; only when {@link canPushSync}. Throws what the formatter throws. */
  pushSync(frame: MediaFrame, sequence: number, atInMs?: number): void {
    const formatter = this.options.formatter;
    if (this.isEnded || formatter.pushSync === undefined)
      throw new RecorderError(
        ErrorCode.Internal,
        'frame pushed to an ended or asynchronous stream writer',
      );
    const mediaStartInMs = this.mediaStartOf(frame);
    const chunks = formatter.pushSync(frame);
    this.afterFormat(frame, sequence, mediaStartInMs, chunks, atInMs);
  }

  private mediaStartOf(frame: MediaFrame): number {
    if (this.kind === 'audio') return this.frameCount * 20;
    return this.firstTimestamp === undefined
      ? 0
      : Number((frame.timestamp100ns - this.firstTimestamp) / 10_000n);
  }

  private afterFormat(
    frame: MediaFrame,
    sequence: number,
    mediaStartInMs: number,
    chunks: readonly FormattedChunk[],
    atInMs: number | undefined,
  ): void {
    const arrivedAtInMs = atInMs ?? this.options.now().getTime();
    this.noteFrame(frame.timestamp100ns, mediaStartInMs, arrivedAtInMs);
    this.inFlight.push(
      sequence,
      mediaStartInMs,
      Number(frame.timestamp100ns - this.firstTimestamp!),
      arrivedAtInMs,
    );
    for (const chunk of chunks) this.addChunk(chunk.bytes, chunk.mediaEndInMs);
  }

  /** The wall time of the stream's first frame and its media timestamp, once it has one. */
  get wallClockOrigin():
    { readonly firstFrameAtInMs: number; readonly firstTimestamp100ns: bigint } | undefined {
    return this.firstFrameAt === undefined || this.firstTimestamp === undefined
      ? undefined
      : {
          firstFrameAtInMs: Date.parse(this.firstFrameAt),
          firstTimestamp100ns: this.firstTimestamp,
        };
  }

  private noteFrame(timestamp: bigint, mediaStartInMs: number, atInMs: number): void {
    const last = this.lastTimestamp;
    if (last === undefined) {
      this.timeline.push({ mediaInMs: mediaStartInMs, timestamp100ns: timestamp.toString() });
      this.firstTimestamp = timestamp;
      this.firstFrameAt = new Date(atInMs).toISOString();
    } else if (this.kind === 'audio') {
      const step = Number(timestamp - last);
      if (step > AUDIO_STEP_100NS * 2 || step <= 0)
        this.timeline.push({ mediaInMs: mediaStartInMs, timestamp100ns: timestamp.toString() });
    }
    this.lastTimestamp = timestamp;
    this.lastFrameAtInMs = atInMs;
    this.frameCount += 1;
  }

  private addChunk(bytes: Buffer, mediaEndInMs: number): void {
    if (bytes.length > 0) this.block.append(bytes);
    this.bufferEndInMs = Math.max(this.bufferEndInMs, mediaEndInMs);
    if (this.bufferEndInMs - this.bufferStartInMs >= this.blockTargetInMs) this.cutBlock();
  }

  /** Stages what is buffered as a block even if shorter than the minimum (quiet stream, seal). */
  flushPartial(): void {
    if (this.block.byteLength > 0) this.cutBlock();
  }

  /** Media time of the block being filled (0 when empty). */
  get bufferedDurationInMs(): number {
    return this.block.byteLength === 0 ? 0 : this.bufferEndInMs - this.bufferStartInMs;
  }

  private cutBlock(): void {
    const length = this.block.byteLength;
    if (length === 0) {
      this.bufferStartInMs = this.bufferEndInMs;
      return;
    }
    const index = this.blockCount;
    const dataKey = this.options.dataKey;
    const before = dataKey === undefined ? 0 : ENVELOPE_NONCE_BYTES;
    const stored = gather(this.block, before, dataKey === undefined ? 0 : ENVELOPE_TAG_BYTES);
    // The chunks go back to the shared free list; the stored buffer is held until storage took it.
    this.block.release();
    const plainSha = sha256(before === 0 ? stored : stored.subarray(before, before + length));
    if (dataKey !== undefined)
      encryptInPlace(dataKey, blockAad(this.options.interactionId, this.streamId, index), stored);
    const storedSha = dataKey === undefined ? plainSha : sha256(stored);
    this.chain = chainNext(this.chain, plainSha, storedSha);
    const block: ManifestBlock = {
      index,
      blockId: blockIdFor(index),
      offset: this.plaintextBytes,
      length,
      sha256: plainSha,
      storedOffset: this.storedBytes,
      storedLength: stored.length,
      storedSha256: storedSha,
      chainSha256: this.chain,
    };
    this.plaintextBytes += length;
    this.storedBytes += stored.length;
    // Frames whose media starts before the block's end are inside it.
    const { throughSequence: through, marks } = this.inFlight.cut(
      this.bufferEndInMs,
      this.firstTimestamp,
    );
    const pending: PendingBlock = {
      block,
      marks,
      stored,
      throughSequence: through,
      staging: Promise.resolve(),
    };
    // Committing a block list discards the blob's uncommitted blocks that are not in it: a block
    // cut while a commit is on its way is staged after that commit.
    const listCommit = this.listCommit;
    pending.staging =
      listCommit === undefined ? this.stage(pending) : listCommit.then(() => this.stage(pending));
    // A failed stage is retried by commit; keep the rejection from going unhandled meanwhile.
    pending.staging.catch(() => undefined);
    this.pending.push(pending);
    this.bufferStartInMs = this.bufferEndInMs;
    this.blockTargetInMs = this.options.blockMinDurationInMs;
  }

  /**
   * Waits for staged blocks and commits the whole block list. Returns whether anything new was
   * committed. Blocks whose staging failed are staged again first.
   */
  commit(): Promise<boolean> {
    // Serialized: the periodic commit and the seal's final commit must not interleave.
    const run = this.committing.then(() => this.commitNow());
    this.committing = run.catch(() => false);
    return run;
  }

  private committing: Promise<boolean> = Promise.resolve(false);

  /**
   * Stages one block; once storage has it, its bytes are no longer held (the buffer is reused for
   * a later block: storage answered, so the request has sent all of it).
   */
  private async stage(p: PendingBlock): Promise<void> {
    await this.options.store.stageBlock(
      this.options.container,
      this.blobName,
      p.block.blockId,
      p.stored!,
    );
    if (p.stored !== undefined) storedBlockBuffers.give(p.stored);
    p.stored = undefined;
  }

  private async commitNow(): Promise<boolean> {
    if (this.pending.length === 0) return false;
    const batch = [...this.pending];
    // From here until the list is committed, new blocks wait: a block list commit discards the
    // blob's uncommitted blocks that are not in it.
    let open!: () => void;
    this.listCommit = new Promise<void>((resolve) => (open = resolve));
    try {
      for (const p of batch) {
        try {
          await p.staging;
        } catch {
          p.staging = this.stage(p);
          await p.staging;
        }
      }
      const ids = blockIdsUpTo(this.committedCount + batch.length);
      await this.commitList(ids, batch);
    } finally {
      this.listCommit = undefined;
      open();
    }
    for (const p of batch) {
      this.uncheckpointed.push(p.block);
      this.committedCount += 1;
      this.committedChain = p.block.chainSha256;
      this.committedPlainBytes += p.block.length;
      this.committedStoredBytesValue += p.block.storedLength;
    }
    this.pending = this.pending.slice(batch.length);
    this.committedThrough = batch.at(-1)!.throughSequence;
    this.committedMarks = batch.at(-1)!.marks;
    return true;
  }

  /** The block list commit on its way, if any (blocks cut meanwhile are staged after it). */
  private listCommit: Promise<void> | undefined;

  private async commitList(ids: readonly string[], batch: readonly PendingBlock[]): Promise<void> {
    try {
      await this.options.store.commitBlockList(
        this.options.container,
        this.blobName,
        ids,
        this.contentType,
      );
    } catch (error) {
      if (!(error instanceof RecorderError) || error.retryable) throw error;
      // 400 InvalidBlockList: storage lost blocks it had taken (an emulator restarted without its
      // data). Blocks whose bytes are still held are staged again; if storage had taken some
      // already (their bytes are gone), the session fails and its frames stay in the spool, which
      // replays them when the host restarts.
      if (batch.some((p) => p.stored === undefined)) {
        throw new RecorderError(
          ErrorCode.StorageWriteFailed,
          'storage lost staged blocks of a stream',
          { cause: error, retryable: false, details: { streamId: this.streamId } },
        );
      }
      for (const p of batch) await this.stage(p);
      await this.options.store.commitBlockList(
        this.options.container,
        this.blobName,
        ids,
        this.contentType,
      );
    }
  }

  /** Ends the formatter, stages the rest and commits. Idempotent. */
  async end(): Promise<void> {
    if (!this.isEnded) {
      this.isEnded = true;
      const chunks = await this.options.formatter.end();
      for (const chunk of chunks) this.addChunk(chunk.bytes, chunk.mediaEndInMs);
      this.flushPartial();
    }
    await this.commit();
    await this.options.formatter.close();
  }

  /** Drops the formatter without storing more (abort). */
  async close(): Promise<void> {
    this.isEnded = true;
    this.block.release();
    await this.options.formatter.close();
  }

  /** Stored bytes in committed blocks. */
  get committedStoredBytes(): number {
    return this.committedStoredBytesValue;
  }

  /** Every frame of this stream with a sequence up to this one is in committed blocks. */
  get committedThroughSequence(): number {
    return this.committedThrough;
  }

  /**
   * The segment's checkpoint since the last one taken: committed blocks and timeline points not
   * taken before (the writer forgets them now), and the segment's counters. The session appends
   * it to its checkpoint log; folding every checkpoint of a segment gives its whole state.
   */
  takeCheckpoint(): StreamWriterState {
    // Timeline points of media not yet committed wait for the checkpoint that commits it.
    const mediaEndInMs = this.media.mediaEndInMs;
    const taken = this.timeline.filter((t) => t.mediaInMs < mediaEndInMs);
    const checkpoint = this.state(this.uncheckpointed, taken);
    this.uncheckpointed = [];
    this.timeline = this.timeline.slice(taken.length);
    return checkpoint;
  }

  /**
   * The media the state describes: what committed blocks hold, so a session adopted or recovered
   * from its checkpoints claims no frame its blocks do not hold; everything once the writer ended
   * and committed all.
   */
  private get media(): MediaMarks {
    return this.isEnded && this.pending.length === 0 && this.block.byteLength === 0
      ? {
          frameCount: this.frameCount,
          lastTimestamp: this.lastTimestamp,
          lastFrameAtInMs: this.lastFrameAtInMs,
          mediaEndInMs: this.bufferEndInMs,
        }
      : this.committedMarks;
  }

  private state(
    blocks: readonly ManifestBlock[],
    timeline: readonly TimelinePoint[],
  ): StreamWriterState {
    const media = this.media;
    return {
      streamId: this.streamId,
      kind: this.kind,
      msi: this.msi,
      segment: this.segment,
      blobName: this.blobName,
      contentType: this.contentType,
      blocks,
      chainHeadSha256: this.committedChain,
      plaintextBytes: this.committedPlainBytes,
      storedBytes: this.committedStoredBytesValue,
      committedThroughSequence: this.committedThrough,
      frameCount: media.frameCount,
      ...(this.firstTimestamp !== undefined && media.frameCount > 0
        ? { firstTimestamp100ns: this.firstTimestamp.toString() }
        : {}),
      ...(media.lastTimestamp !== undefined
        ? { lastTimestamp100ns: media.lastTimestamp.toString() }
        : {}),
      ...(this.firstFrameAt !== undefined && media.frameCount > 0
        ? { firstFrameAt: this.firstFrameAt }
        : {}),
      ...(media.lastFrameAtInMs !== undefined
        ? { lastFrameAt: new Date(media.lastFrameAtInMs).toISOString() }
        : {}),
      mediaEndInMs: media.mediaEndInMs,
      timeline,
    };
  }
}

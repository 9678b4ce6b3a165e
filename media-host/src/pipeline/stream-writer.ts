/**
 * One stored stream (a speaker's unmixed audio, a video source, the screen share) written as a
 * block blob: formatter output is cut into blocks of at least `blockMinDurationInMs` of media,
 * each hashed (plaintext and stored bytes, hash chain), encrypted with the recording's data key
 * and staged; {@link StreamWriter.commit} commits every block so far. The writer's state
 * ({@link StreamWriterState}) is what the session checkpoints after each commit.
 */
import { createHash } from 'node:crypto';
import {
  blockAad,
  blockIdFor,
  chainGenesis,
  chainNext,
  encryptBlock,
  ErrorCode,
  RecorderError,
  type ManifestBlock,
  type StreamKind,
} from '@attest/core';
import type { BlockStore } from '../sink/block-store';
import type { MediaFrame, StreamFormatter } from './formats/stream-format';

/** Azure's limit of blocks per block blob. */
export const MAX_BLOCKS_PER_BLOB = 50_000;

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
  readonly now: () => Date;
}

interface PendingBlock {
  readonly block: ManifestBlock;
  readonly stored: Buffer;
  readonly throughSequence: number;
  staging: Promise<void>;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const AUDIO_STEP_100NS = 200_000n;

export class StreamWriter {
  readonly streamId: string;
  readonly kind: StreamKind;
  readonly msi: string;
  readonly segment: number;
  readonly blobName: string;
  private readonly options: StreamWriterOptions;
  private readonly committed: ManifestBlock[] = [];
  private pending: PendingBlock[] = [];
  private chain: string;
  private plaintextBytes = 0;
  private storedBytes = 0;
  private committedThrough = 0;
  private buffer: Buffer[] = [];
  private bufferBytes = 0;
  private bufferStartInMs = 0;
  private bufferEndInMs = 0;
  /** Frames pushed whose bytes are not yet in a cut block: sequence and media start. */
  private inFlight: { sequence: number; mediaStartInMs: number }[] = [];
  private lastCutSequence = 0;
  private frameCount = 0;
  private firstTimestamp: bigint | undefined;
  private lastTimestamp: bigint | undefined;
  private firstFrameAt: string | undefined;
  private lastFrameAt: string | undefined;
  private readonly timeline: TimelinePoint[] = [];
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
  }

  get contentType(): string {
    return this.options.formatter.contentType;
  }

  get blockCount(): number {
    return this.committed.length + this.pending.length;
  }

  /** Bytes held in memory for this stream (block being filled plus staged, uncommitted blocks). */
  get bufferedBytes(): number {
    return this.bufferBytes + this.pending.reduce((sum, p) => sum + p.stored.length, 0);
  }

  /** Whether frames were pushed that are not yet in committed blocks. */
  get hasUncommitted(): boolean {
    return this.inFlight.length > 0 || this.pending.length > 0 || this.bufferBytes > 0;
  }

  /** Whether the blob cannot take more blocks: the session starts the next segment. */
  get isFull(): boolean {
    return this.blockCount >= MAX_BLOCKS_PER_BLOB - 1;
  }

  /** Feeds one frame (in timestamp order); may cut and stage blocks. */
  async push(frame: MediaFrame, sequence: number): Promise<void> {
    if (this.isEnded) throw new RecorderError(ErrorCode.Internal, 'frame pushed to an ended stream writer');
    const mediaStartInMs =
      this.kind === 'audio' ? this.frameCount * 20 : this.firstTimestamp === undefined ? 0 : Number((frame.timestamp100ns - this.firstTimestamp) / 10_000n);
    const chunks = await this.options.formatter.push(frame);
    this.noteFrame(frame.timestamp100ns, mediaStartInMs);
    this.inFlight.push({ sequence, mediaStartInMs });
    for (const chunk of chunks) this.addChunk(chunk.bytes, chunk.mediaEndInMs);
  }

  private noteFrame(timestamp: bigint, mediaStartInMs: number): void {
    const last = this.lastTimestamp;
    const isDiscontinuity = last === undefined || (this.kind === 'audio' && (timestamp - last > AUDIO_STEP_100NS * 2n || timestamp <= last));
    if (isDiscontinuity) this.timeline.push({ mediaInMs: mediaStartInMs, timestamp100ns: timestamp.toString() });
    this.firstTimestamp ??= timestamp;
    this.lastTimestamp = timestamp;
    const at = this.options.now().toISOString();
    this.firstFrameAt ??= at;
    this.lastFrameAt = at;
    this.frameCount += 1;
  }

  private addChunk(bytes: Buffer, mediaEndInMs: number): void {
    if (bytes.length > 0) {
      this.buffer.push(bytes);
      this.bufferBytes += bytes.length;
    }
    this.bufferEndInMs = Math.max(this.bufferEndInMs, mediaEndInMs);
    if (this.bufferEndInMs - this.bufferStartInMs >= this.blockTargetInMs) this.cutBlock();
  }

  /** Stages what is buffered as a block even if shorter than the minimum (quiet stream, seal). */
  flushPartial(): void {
    if (this.bufferBytes > 0) this.cutBlock();
  }

  /** Media time of the block being filled (0 when empty). */
  get bufferedDurationInMs(): number {
    return this.bufferBytes === 0 ? 0 : this.bufferEndInMs - this.bufferStartInMs;
  }

  private cutBlock(): void {
    if (this.bufferBytes === 0) {
      this.bufferStartInMs = this.bufferEndInMs;
      return;
    }
    const plaintext = this.buffer.length === 1 ? this.buffer[0]! : Buffer.concat(this.buffer, this.bufferBytes);
    const index = this.blockCount;
    const stored =
      this.options.dataKey === undefined ? plaintext : encryptBlock(this.options.dataKey, blockAad(this.options.interactionId, this.streamId, index), plaintext);
    const plainSha = sha256(plaintext);
    const storedSha = stored === plaintext ? plainSha : sha256(stored);
    this.chain = chainNext(this.chain, plainSha, storedSha);
    const block: ManifestBlock = {
      index,
      blockId: blockIdFor(index),
      offset: this.plaintextBytes,
      length: plaintext.length,
      sha256: plainSha,
      storedOffset: this.storedBytes,
      storedLength: stored.length,
      storedSha256: storedSha,
      chainSha256: this.chain,
    };
    this.plaintextBytes += plaintext.length;
    this.storedBytes += stored.length;
    // Frames whose media starts before the block's end are inside it.
    let through = this.lastCutSequence;
    while (this.inFlight.length > 0 && this.inFlight[0]!.mediaStartInMs < this.bufferEndInMs) through = this.inFlight.shift()!.sequence;
    this.lastCutSequence = through;
    const pending: PendingBlock = { block, stored, throughSequence: through, staging: Promise.resolve() };
    pending.staging = this.options.store.stageBlock(this.options.container, this.blobName, block.blockId, stored);
    // A failed stage is retried by commit; keep the rejection from going unhandled meanwhile.
    pending.staging.catch(() => undefined);
    this.pending.push(pending);
    this.buffer = [];
    this.bufferBytes = 0;
    this.bufferStartInMs = this.bufferEndInMs;
    this.blockTargetInMs = this.options.blockMinDurationInMs;
  }

  /**
   * Waits for staged blocks and commits the whole block list. Returns whether anything new was
   * committed. Blocks whose staging failed (or that storage lost) are staged again first.
   */
  commit(): Promise<boolean> {
    // Serialized: the periodic commit and the seal's final commit must not interleave.
    const run = this.committing.then(() => this.commitNow());
    this.committing = run.catch(() => false);
    return run;
  }

  private committing: Promise<boolean> = Promise.resolve(false);

  private async commitNow(): Promise<boolean> {
    if (this.pending.length === 0) return false;
    const batch = [...this.pending];
    for (const p of batch) {
      try {
        await p.staging;
      } catch {
        p.staging = this.options.store.stageBlock(this.options.container, this.blobName, p.block.blockId, p.stored);
        await p.staging;
      }
    }
    const ids = [...this.committed, ...batch.map((p) => p.block)].map((b) => b.blockId);
    try {
      await this.options.store.commitBlockList(this.options.container, this.blobName, ids, this.contentType);
    } catch (error) {
      if (!(error instanceof RecorderError) || error.retryable) throw error;
      // 400 InvalidBlockList: storage lost staged blocks (an emulator restart); stage them again.
      for (const p of batch) await this.options.store.stageBlock(this.options.container, this.blobName, p.block.blockId, p.stored);
      await this.options.store.commitBlockList(this.options.container, this.blobName, ids, this.contentType);
    }
    this.committed.push(...batch.map((p) => p.block));
    this.pending = this.pending.slice(batch.length);
    this.committedThrough = batch.at(-1)!.throughSequence;
    return true;
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
    await this.options.formatter.close();
  }

  /** The committed part, for the checkpoint and the manifest. */
  state(): StreamWriterState {
    const committedPlain = this.committed.reduce((sum, b) => sum + b.length, 0);
    const committedStored = this.committed.reduce((sum, b) => sum + b.storedLength, 0);
    return {
      streamId: this.streamId,
      kind: this.kind,
      msi: this.msi,
      segment: this.segment,
      blobName: this.blobName,
      contentType: this.contentType,
      blocks: [...this.committed],
      chainHeadSha256: this.committed.at(-1)?.chainSha256 ?? chainGenesis(this.options.interactionId, this.streamId),
      plaintextBytes: committedPlain,
      storedBytes: committedStored,
      committedThroughSequence: this.committedThrough,
      frameCount: this.frameCount,
      ...(this.firstTimestamp !== undefined ? { firstTimestamp100ns: this.firstTimestamp.toString() } : {}),
      ...(this.lastTimestamp !== undefined ? { lastTimestamp100ns: this.lastTimestamp.toString() } : {}),
      ...(this.firstFrameAt !== undefined ? { firstFrameAt: this.firstFrameAt } : {}),
      ...(this.lastFrameAt !== undefined ? { lastFrameAt: this.lastFrameAt } : {}),
      mediaEndInMs: this.bufferEndInMs,
      timeline: [...this.timeline],
    };
  }
}

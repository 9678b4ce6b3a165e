/**
 * The bytes of a block being filled, kept in fixed-size chunks taken from a shared free list
 * instead of one buffer of the block's full size: a stream holds only what it has received so far
 * (streams cut their blocks at different times, so across streams that is about half a block
 * each), and a chunk given back after a cut is reused by the next stream that needs one (no fresh
 * memory, no page faults).
 */

/** Size of one chunk: 6.4 frames of 16 kHz PCM; a stream wastes at most one partly filled chunk. */
export const BLOCK_CHUNK_BYTES = 4 * 1024;

/**
 * Free chunks kept for reuse at most (1 MiB). A cut gives back a block's chunks and the streams
 * still filling take them within moments, so a short list is enough; a long one would keep the
 * peak of a moment when many streams were full (all streams starting together) for good.
 */
const MAX_FREE_CHUNKS = 256;

const freeChunks: Buffer[] = [];

function takeChunk(): Buffer {
  return freeChunks.pop() ?? Buffer.allocUnsafeSlow(BLOCK_CHUNK_BYTES);
}

/** An append-only byte sequence in chunks; {@link release} gives the chunks back. */
export class BlockChunks {
  private chunks: Buffer[] = [];
  /** Bytes used in the last chunk. */
  private tailBytes = BLOCK_CHUNK_BYTES;
  private length = 0;

  get byteLength(): number {
    return this.length;
  }

  /** Copies `bytes` in (the caller may reuse or drop them afterwards). */
  append(bytes: Buffer): void {
    let from = 0;
    while (from < bytes.length) {
      if (this.tailBytes === BLOCK_CHUNK_BYTES) {
        this.chunks.push(takeChunk());
        this.tailBytes = 0;
      }
      const count = Math.min(BLOCK_CHUNK_BYTES - this.tailBytes, bytes.length - from);
      // `set` rather than `Buffer#copy`: for frame-sized copies it is several times cheaper.
      this.chunks[this.chunks.length - 1]!.set(
        count === bytes.length ? bytes : bytes.subarray(from, from + count),
        this.tailBytes,
      );
      this.tailBytes += count;
      from += count;
    }
    this.length += bytes.length;
  }

  /** Calls `visit` with each chunk's used bytes, in order (views valid until {@link release}). */
  forEach(visit: (bytes: Buffer) => void): void {
    const last = this.chunks.length - 1;
    for (let i = 0; i <= last; i += 1)
      visit(i === last ? this.chunks[i]!.subarray(0, this.tailBytes) : this.chunks[i]!);
  }

  /** Empties the sequence and gives its chunks back for reuse. */
  release(): void {
    for (const chunk of this.chunks)
      if (freeChunks.length < MAX_FREE_CHUNKS) freeChunks.push(chunk);
    this.chunks = [];
    this.tailBytes = BLOCK_CHUNK_BYTES;
    this.length = 0;
  }
}

/**
 * Buffers for stored blocks (the Put Block bodies), reused once storage took them: a fresh buffer
 * of a block's size is fresh memory from the allocator, and writing it page-faults every 4 KiB,
 * which cost more than encrypting into it. Blocks of a stream are about the same size, so a free
 * buffer of at least the size asked for (and not much larger) is handed out as a view of that size.
 */
export class StoredBlockBuffers {
  private readonly free: Buffer[] = [];
  private readonly maxFree: number;

  constructor(maxFree = 16) {
    this.maxFree = maxFree;
  }

  /** A buffer of exactly `size` bytes (its contents are not cleared). */
  take(size: number): Buffer {
    for (let i = this.free.length - 1; i >= 0; i -= 1) {
      const candidate = this.free[i]!;
      if (candidate.length >= size && candidate.length <= size + (size >> 2) + 4096) {
        this.free[i] = this.free[this.free.length - 1]!;
        this.free.pop();
        return candidate.subarray(0, size);
      }
    }
    // None fits: the oldest free buffer (likely of a size no block has any more) goes.
    this.free.shift();
    // Rounded up so that blocks a little longer than the last still find a free buffer.
    return Buffer.allocUnsafeSlow(size + 4096 - (size % 4096)).subarray(0, size);
  }

  /** Gives back a buffer from {@link take} that nothing reads any more. */
  give(buffer: Buffer): void {
    if (this.free.length >= this.maxFree) this.free.shift();
    this.free.push(
      Buffer.from(buffer.buffer, buffer.byteOffset, buffer.buffer.byteLength - buffer.byteOffset),
    );
  }
}

/** The host's stored block buffers (one process, one list). */
export const storedBlockBuffers = new StoredBlockBuffers();

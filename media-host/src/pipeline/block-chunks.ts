/**
 * The bytes of a block being filled, kept in fixed-size chunks taken from a shared free list
 * instead of one buffer of the block's full size: a stream holds only what it has received so far
 * (streams cut their blocks at different times, so across streams that is about half a block
 * each), and a chunk given back after a cut is reused by the next stream that needs one (no fresh
 * memory, no page faults).
 */

/** Size of one chunk: 12.8 frames of 16 kHz PCM; a stream wastes at most one partly filled chunk. */
export const BLOCK_CHUNK_BYTES = 8 * 1024;

/** Free chunks kept for reuse at most (16 MiB); more are left to the garbage collector. */
const MAX_FREE_CHUNKS = 2048;

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
      this.chunks[this.chunks.length - 1]!.set(count === bytes.length ? bytes : bytes.subarray(from, from + count), this.tailBytes);
      this.tailBytes += count;
      from += count;
    }
    this.length += bytes.length;
  }

  /** Calls `visit` with each chunk's used bytes, in order (views valid until {@link release}). */
  forEach(visit: (bytes: Buffer) => void): void {
    const last = this.chunks.length - 1;
    for (let i = 0; i <= last; i += 1) visit(i === last ? this.chunks[i]!.subarray(0, this.tailBytes) : this.chunks[i]!);
  }

  /** Empties the sequence and gives its chunks back for reuse. */
  release(): void {
    for (const chunk of this.chunks) if (freeChunks.length < MAX_FREE_CHUNKS) freeChunks.push(chunk);
    this.chunks = [];
    this.tailBytes = BLOCK_CHUNK_BYTES;
    this.length = 0;
  }
}

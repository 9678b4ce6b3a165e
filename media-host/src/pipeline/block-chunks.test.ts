import { BLOCK_CHUNK_BYTES, BlockChunks, StoredBlockBuffers } from './block-chunks';

const bytesOf = (chunks: BlockChunks): Buffer => {
  const parts: Buffer[] = [];
  chunks.forEach((chunk) => parts.push(Buffer.from(chunk)));
  return Buffer.concat(parts);
};

const pattern = (length: number, seed: number): Buffer =>
  Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) % 251));

describe('block chunks', () => {
  it('keeps appended bytes in order across chunk boundaries', () => {
    const chunks = new BlockChunks();
    const parts = [
      pattern(640, 1),
      pattern(BLOCK_CHUNK_BYTES - 100, 2),
      pattern(3 * BLOCK_CHUNK_BYTES + 7, 3),
      pattern(1, 4),
    ];
    for (const part of parts) chunks.append(part);
    expect(chunks.byteLength).toBe(parts.reduce((sum, p) => sum + p.length, 0));
    expect(bytesOf(chunks).equals(Buffer.concat(parts))).toBe(true);
  });

  it('is empty after release and takes new bytes without the old ones', () => {
    const chunks = new BlockChunks();
    chunks.append(pattern(5000, 1));
    chunks.release();
    expect(chunks.byteLength).toBe(0);
    chunks.append(pattern(700, 9));
    expect(bytesOf(chunks).equals(pattern(700, 9))).toBe(true);
  });

  it('does not share bytes between sequences that reuse released chunks', () => {
    const first = new BlockChunks();
    first.append(pattern(BLOCK_CHUNK_BYTES * 2, 1));
    first.release();
    const second = new BlockChunks();
    const third = new BlockChunks();
    second.append(pattern(BLOCK_CHUNK_BYTES, 2));
    third.append(pattern(BLOCK_CHUNK_BYTES, 3));
    expect(bytesOf(second).equals(pattern(BLOCK_CHUNK_BYTES, 2))).toBe(true);
    expect(bytesOf(third).equals(pattern(BLOCK_CHUNK_BYTES, 3))).toBe(true);
  });
});

describe('stored block buffers', () => {
  it('hands out buffers of exactly the size asked for', () => {
    const buffers = new StoredBlockBuffers();
    expect(buffers.take(64_028).length).toBe(64_028);
  });

  it('reuses a given back buffer for a block of about the same size', () => {
    const buffers = new StoredBlockBuffers();
    const first = buffers.take(64_028);
    buffers.give(first);
    const second = buffers.take(64_000);
    expect(second.length).toBe(64_000);
    expect(second.buffer).toBe(first.buffer);
  });

  it('does not hand a buffer out twice', () => {
    const buffers = new StoredBlockBuffers();
    buffers.give(buffers.take(1000));
    const a = buffers.take(1000);
    const b = buffers.take(1000);
    expect(a.buffer).not.toBe(b.buffer);
  });
});

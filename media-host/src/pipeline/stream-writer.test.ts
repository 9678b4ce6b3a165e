import { createRawPassthroughFormatter } from './raw-pcm.formatter';
import { StreamWriter } from './stream-writer';
import type { BlockStore } from '../sink/block-store';

/** A store whose Put Blocks wait until the test lets them through. */
function heldStore(): { store: BlockStore; release: () => void; staged: string[] } {
  const waiting: (() => void)[] = [];
  const staged: string[] = [];
  const store: BlockStore = {
    ensureContainer: () => Promise.resolve(),
    stageBlock: (_c, _b, blockId) =>
      new Promise<void>((resolve) => {
        staged.push(blockId);
        waiting.push(resolve);
      }),
    commitBlockList: () => Promise.resolve(),
    getCommittedBlockIds: () => Promise.resolve([]),
    upload: () => Promise.resolve(),
    download: () => Promise.resolve(undefined),
  };
  return { store, staged, release: () => waiting.splice(0).forEach((resolve) => resolve()) };
}

describe('StreamWriter', () => {
  it('counts the stored bytes of blocks storage has not taken yet, and none once it has', async () => {
    const { store, staged, release } = heldStore();
    const writer = new StreamWriter({
      streamId: 'audio-11',
      kind: 'audio',
      msi: '11',
      segment: 0,
      blobName: 't/i/streams/audio-11.pcm',
      container: 'recordings',
      interactionId: 'i',
      formatter: createRawPassthroughFormatter({ kind: 'audio', isLossless: true }),
      store,
      dataKey: undefined,
      blockMinDurationInMs: 40,
      now: () => new Date('2026-11-24T06:00:00Z'),
    });
    // The first block is 40 to 80 ms long: 8 frames of 20 ms cut at least one.
    for (let n = 1; n <= 8; n += 1) writer.pushSync({ timestamp100ns: 638_700_000_000_000_000n + BigInt(n) * 200_000n, payload: Buffer.alloc(640, n) }, n);
    expect(writer.blockCount).toBeGreaterThan(0);
    expect(staged).toHaveLength(writer.blockCount);
    // Unencrypted: what was cut is stored as it is; the rest is in the block being filled.
    expect(writer.storedBytesAwaitingStorage).toBe((8 - writer.bufferedDurationInMs / 20) * 640);

    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.storedBytesAwaitingStorage).toBe(0);
  });
});

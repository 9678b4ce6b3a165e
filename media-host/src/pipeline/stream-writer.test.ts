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
    appendBlock: () => Promise.resolve(),
    upload: () => Promise.resolve(),
    download: () => Promise.resolve(undefined),
  };
  return { store, staged, release: () => waiting.splice(0).forEach((resolve) => resolve()) };
}

/** A store that takes everything at once and remembers each committed list. */
function takingStore(): { store: BlockStore; lists: string[][] } {
  const lists: string[][] = [];
  const store: BlockStore = {
    ensureContainer: () => Promise.resolve(),
    stageBlock: () => Promise.resolve(),
    commitBlockList: (_c, _b, ids) => {
      lists.push([...ids]);
      return Promise.resolve();
    },
    getCommittedBlockIds: () => Promise.resolve([]),
    appendBlock: () => Promise.resolve(),
    upload: () => Promise.resolve(),
    download: () => Promise.resolve(undefined),
  };
  return { store, lists };
}

const TS = 638_700_000_000_000_000n;

/** An unencrypted writer of raw frames: speaker 11's audio, or source 21's video. */
function rawWriter(
  store: BlockStore,
  options: {
    kind?: 'audio' | 'video';
    blockMinDurationInMs?: number;
    segmentMaxDurationInMs?: number;
  } = {},
): StreamWriter {
  const kind = options.kind ?? 'audio';
  const streamId = kind === 'audio' ? 'audio-11' : 'video-21';
  return new StreamWriter({
    streamId,
    kind,
    msi: streamId.split('-')[1]!,
    segment: 0,
    blobName: `t/i/streams/${streamId}.raw`,
    container: 'recordings',
    interactionId: 'i',
    formatter: createRawPassthroughFormatter({ kind, isLossless: true }),
    store,
    dataKey: undefined,
    blockMinDurationInMs: options.blockMinDurationInMs ?? 40,
    ...(options.segmentMaxDurationInMs !== undefined
      ? { segmentMaxDurationInMs: options.segmentMaxDurationInMs }
      : {}),
    now: () => new Date('2026-11-24T06:00:00Z'),
  });
}

describe('StreamWriter', () => {
  it('hands each committed block to one checkpoint only and then holds none of them', async () => {
    const { store, lists } = takingStore();
    const writer = rawWriter(store);
    for (let n = 1; n <= 10; n += 1)
      writer.pushSync(
        { timestamp100ns: TS + BigInt(n) * 200_000n, payload: Buffer.alloc(640, n) },
        n,
      );
    await writer.commit();
    const first = writer.takeCheckpoint();
    expect(first.blocks.length).toBe(writer.committedBlockCount);
    expect(first.timeline).toEqual([{ mediaInMs: 0, timestamp100ns: (TS + 200_000n).toString() }]);
    expect(writer.uncheckpointedBlockCount).toBe(0);
    // Nothing committed since: an empty checkpoint with the same counters.
    expect(writer.takeCheckpoint()).toMatchObject({
      blocks: [],
      timeline: [],
      plaintextBytes: first.plaintextBytes,
    });

    for (let n = 11; n <= 20; n += 1)
      writer.pushSync(
        { timestamp100ns: TS + BigInt(n) * 200_000n, payload: Buffer.alloc(640, n) },
        n,
      );
    await writer.end();
    const second = writer.takeCheckpoint();
    expect([...first.blocks, ...second.blocks].map((b) => b.index)).toEqual([
      ...Array(writer.committedBlockCount).keys(),
    ]);
    expect(second).toMatchObject({
      plaintextBytes: 20 * 640,
      committedThroughSequence: 20,
      chainHeadSha256: second.blocks.at(-1)!.chainSha256,
    });
    // The block list commit still names every block of the segment, in order.
    expect(lists.at(-1)).toHaveLength(writer.committedBlockCount);
  });

  it('describes in its checkpoint only the media committed blocks hold, and all of it once ended', async () => {
    const { store } = takingStore();
    // Blocks of 40 ms: two 20 ms frames each. Frame n arrives at n seconds past the epoch.
    const writer = rawWriter(store, { blockMinDurationInMs: 40 });
    const frame = (n: number) =>
      writer.pushSync(
        { timestamp100ns: TS + BigInt(n) * 200_000n, payload: Buffer.alloc(640, n) },
        n,
        n * 1000,
      );
    for (let n = 1; n <= 9; n += 1) frame(n);
    await writer.commit();
    // A jump in timestamps at frame 20, still in the block being filled.
    frame(20);
    const checkpoint = writer.takeCheckpoint();
    const committedFrames = checkpoint.committedThroughSequence;
    expect(committedFrames).toBeGreaterThan(0);
    expect(committedFrames).toBeLessThan(10);
    expect(checkpoint).toMatchObject({
      frameCount: committedFrames,
      mediaEndInMs: committedFrames * 20,
      plaintextBytes: committedFrames * 640,
      lastTimestamp100ns: (TS + BigInt(committedFrames) * 200_000n).toString(),
      lastFrameAt: new Date(committedFrames * 1000).toISOString(),
    });
    // The jump's timeline point waits for the checkpoint that commits its frame.
    expect(checkpoint.timeline).toEqual([
      { mediaInMs: 0, timestamp100ns: (TS + 200_000n).toString() },
    ]);

    await writer.end();
    const last = writer.takeCheckpoint();
    expect(last).toMatchObject({
      frameCount: 10,
      mediaEndInMs: 200,
      lastTimestamp100ns: (TS + 20n * 200_000n).toString(),
      lastFrameAt: new Date(20_000).toISOString(),
    });
    expect(last.timeline).toEqual([
      { mediaInMs: 180, timestamp100ns: (TS + 20n * 200_000n).toString() },
    ]);
  });

  it('asks for a new audio segment once it holds the maximum media', () => {
    const writer = rawWriter(takingStore().store, { segmentMaxDurationInMs: 100 });
    for (let n = 1; n <= 4; n += 1)
      writer.pushSync({ timestamp100ns: TS + BigInt(n) * 200_000n, payload: Buffer.alloc(640) }, n);
    expect(writer.shouldEndSegmentBefore(false)).toBe(false);
    writer.pushSync({ timestamp100ns: TS + 5n * 200_000n, payload: Buffer.alloc(640) }, 5);
    expect(writer.mediaDurationInMs).toBe(100);
    expect(writer.shouldEndSegmentBefore(false)).toBe(true);
  });

  it("never asks for a new segment without a maximum, before Azure's block limit", () => {
    const writer = rawWriter(takingStore().store);
    for (let n = 1; n <= 50; n += 1)
      writer.pushSync({ timestamp100ns: TS + BigInt(n) * 200_000n, payload: Buffer.alloc(640) }, n);
    expect(writer.shouldEndSegmentBefore(false)).toBe(false);
  });

  it('asks for a new video segment only at a key frame', async () => {
    const writer = rawWriter(takingStore().store, {
      kind: 'video',
      blockMinDurationInMs: 1000,
      segmentMaxDurationInMs: 1000,
    });
    // 15 fps for 1.2 s.
    for (let n = 0; n < 18; n += 1)
      await writer.push(
        {
          timestamp100ns: TS + BigInt(n) * 666_666n,
          payload: Buffer.from('0000000165', 'hex'),
          isKeyFrame: n === 0,
          width: 640,
          height: 360,
        },
        n + 1,
      );
    expect(writer.mediaDurationInMs).toBeGreaterThanOrEqual(1000);
    expect(writer.shouldEndSegmentBefore(false)).toBe(false);
    expect(writer.shouldEndSegmentBefore(true)).toBe(true);
  });

  it('counts the stored bytes of blocks storage has not taken yet, and none once it has', async () => {
    const { store, staged, release } = heldStore();
    const writer = rawWriter(store);
    // The first block is 40 to 80 ms long: 8 frames of 20 ms cut at least one.
    for (let n = 1; n <= 8; n += 1)
      writer.pushSync(
        {
          timestamp100ns: 638_700_000_000_000_000n + BigInt(n) * 200_000n,
          payload: Buffer.alloc(640, n),
        },
        n,
      );
    expect(writer.blockCount).toBeGreaterThan(0);
    expect(staged).toHaveLength(writer.blockCount);
    // Unencrypted: what was cut is stored as it is; the rest is in the block being filled.
    expect(writer.storedBytesAwaitingStorage).toBe((8 - writer.bufferedDurationInMs / 20) * 640);

    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.storedBytesAwaitingStorage).toBe(0);
  });
});

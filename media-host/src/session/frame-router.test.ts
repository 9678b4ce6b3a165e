import type { MediaProtocolFrame } from '@attest/core';
import { silentLogger } from '../logging/logger';
import type { StreamWriter } from '../pipeline/stream-writer';
import { FrameRouter, isStoredFrame, segmentStreamId, streamKey } from './frame-router';

/** A writer that records what it was given; synchronous, never full. */
class RecordingWriter {
  readonly pushed: number[] = [];
  /** Per frame pushed: whether it was marked as following a break. */
  readonly breaks: boolean[] = [];
  constructor(
    readonly streamId: string,
    readonly kind: string,
    readonly msi: string,
    readonly segment: number,
  ) {}
  readonly canPushSync = true;
  readonly hasUncommitted = false;
  readonly committedThroughSequence = 0;
  readonly storedBytesAwaitingStorage = 0;
  shouldEndSegmentBefore(): boolean {
    return false;
  }
  pushSync(_frame: unknown, sequence: number): void {
    this.pushed.push(sequence);
  }
  push(frame: { followsBreak?: boolean }, sequence: number): Promise<void> {
    this.pushed.push(sequence);
    this.breaks.push(frame.followsBreak === true);
    return Promise.resolve();
  }
}

function unmixed(sequence: number, msis: number[]): MediaProtocolFrame {
  return {
    type: 'audioUnmixed',
    sessionId: 's',
    sequence,
    timestamp100ns: BigInt(sequence) * 200_000n,
    msi: 0,
    buffers: msis.map((msi) => ({ msi, payload: Buffer.alloc(640) })),
  } as unknown as MediaProtocolFrame;
}

function video(
  sequence: number,
  msi: number,
  type: 'video' | 'vbss' = 'video',
): MediaProtocolFrame {
  return {
    type,
    sessionId: 's',
    sequence,
    timestamp100ns: BigInt(sequence) * 666_667n,
    msi,
    payload: Buffer.from([0, 0, 0, 1, 0x41]),
  } as unknown as MediaProtocolFrame;
}

function router(skipThrough: Record<string, number> = {}): {
  router: FrameRouter;
  writers: Map<string, RecordingWriter>;
} {
  const writers = new Map<string, RecordingWriter>();
  return {
    writers,
    router: new FrameRouter({
      createWriter: (s) => {
        const writer = new RecordingWriter(s.streamId, s.kind, s.msi, s.segment);
        writers.set(s.streamId, writer);
        return writer as unknown as StreamWriter;
      },
      onSegmentEnded: () => undefined,
      skipThrough: new Map(Object.entries(skipThrough)),
      nextSegment: new Map(),
      processedThrough: 0,
      log: silentLogger,
    }),
  };
}

describe('frame routing helpers', () => {
  it('keys a stream by kind and MSI and names later segments after it', () => {
    expect(streamKey('audio', '11')).toBe('audio-11');
    expect(segmentStreamId('audio-11', 0)).toBe('audio-11');
    expect(segmentStreamId('audio-11', 2)).toBe('audio-11.2');
  });

  it('stores media frames only', () => {
    expect(isStoredFrame(unmixed(1, [1]))).toBe(true);
    expect(isStoredFrame({ type: 'dominantSpeaker' } as MediaProtocolFrame)).toBe(false);
  });
});

describe('FrameRouter', () => {
  it('writes each speaker of an unmixed frame to its own stream at once', () => {
    const { router: r, writers } = router();
    r.route([unmixed(1, [11, 12]), unmixed(2, [11])], 0, 2, 0);
    expect(writers.get('audio-11')?.pushed).toEqual([1, 2]);
    expect(writers.get('audio-12')?.pushed).toEqual([1]);
    expect(r.processedThrough).toBe(2);
  });

  it('skips after a restart what a stream already committed', () => {
    const { router: r, writers } = router({ 'audio-11': 1 });
    r.route([unmixed(1, [11, 12]), unmixed(2, [11, 12])], 0, 2, 0);
    expect(writers.get('audio-11')?.pushed).toEqual([2]);
    expect(writers.get('audio-12')?.pushed).toEqual([1, 2]);
  });

  it('writes replayed frames in order through its queue', async () => {
    const { router: r, writers } = router();
    r.replay(unmixed(3, [11]));
    r.replay(unmixed(4, [11]));
    await r.whenIdle();
    expect(writers.get('audio-11')?.pushed).toEqual([3, 4]);
    expect(r.processedThrough).toBe(4);
  });

  it("marks each video stream's next frame after a break, once, in sequence order", async () => {
    const { router: r, writers } = router();
    r.route([video(1, 1100), video(2, 2100, 'vbss')], 0, 2, 0);
    r.markBreak();
    r.route([video(3, 1100), video(4, 1100), video(5, 2100, 'vbss')], 0, 3, 0);
    await r.whenIdle();
    expect(writers.get('video-1100')?.breaks).toEqual([false, true, false]);
    expect(writers.get('vbss-2100')?.breaks).toEqual([false, true]);
  });

  it("takes a source's report of dropped frames as a break, replayed or live", async () => {
    const { router: r, writers } = router();
    const gap = { type: 'streamState', sequence: 2, gap: { droppedFrames: 3 } };
    r.replay(video(1, 1100));
    r.replay(gap as unknown as MediaProtocolFrame);
    r.replay(video(3, 1100));
    await r.whenIdle();
    expect(writers.get('video-1100')?.breaks).toEqual([false, true]);
  });
});

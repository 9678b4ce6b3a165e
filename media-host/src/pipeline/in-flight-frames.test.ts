import { InFlightFrames } from './in-flight-frames';

describe('InFlightFrames', () => {
  it('puts in a cut block the frames whose media starts before its end, with their marks', () => {
    const frames = new InFlightFrames();
    // Frames 1..5 of 20 ms, 200 000 × 100 ns apart, arriving at 1000 + n ms.
    for (let n = 1; n <= 5; n += 1) frames.push(n, (n - 1) * 20, (n - 1) * 200_000, 1000 + n);
    expect(frames.cut(40, 100n)).toEqual({
      throughSequence: 2,
      marks: { frameCount: 2, lastTimestamp: 200_100n, lastFrameAtInMs: 1002, mediaEndInMs: 40 },
    });
    expect(frames.isEmpty).toBe(false);
    // A block with no new frame keeps the last frame's marks and moves the media end.
    expect(frames.cut(40, 100n).throughSequence).toBe(2);
    expect(frames.cut(100, 100n)).toEqual({
      throughSequence: 5,
      marks: { frameCount: 5, lastTimestamp: 800_100n, lastFrameAtInMs: 1005, mediaEndInMs: 100 },
    });
    expect(frames.isEmpty).toBe(true);
  });
});

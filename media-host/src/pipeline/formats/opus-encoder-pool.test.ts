import OpusScript from 'opusscript';
import { OpusEncoderPool } from './opus-encoder-pool';
import { sineFrames } from '../../../testing/test-signals';

describe('OpusEncoderPool', () => {
  it('returns one packet per 20 ms frame, identical to encoding on this thread with the same settings', async () => {
    const pool = new OpusEncoderPool({ workerCount: 1 });
    const stream = pool.openStream({ bitrateInBitsPerSecond: 24_000, complexity: 3 });
    const frames = sineFrames(500, 30);
    const packets = [
      ...(await stream.encode(Buffer.concat(frames.slice(0, 10)))),
      ...(await stream.encode(Buffer.concat(frames.slice(10)))),
    ];
    await pool.close();
    const local = new OpusScript(16_000, 1, OpusScript.Application.VOIP);
    local.setBitrate(24_000);
    local.encoderCTL(4010, 3);
    const expected = frames.map((frame) => local.encode(frame, 320));
    local.delete();
    expect(packets).toEqual(expected);
  });

  it('keeps each stream in order when jobs of several streams interleave over two workers', async () => {
    const pool = new OpusEncoderPool({ workerCount: 2 });
    const a = pool.openStream();
    const b = pool.openStream();
    const c = pool.openStream();
    const frames = sineFrames(300, 20);
    const jobs = [a, b, c].flatMap((s) => [
      s.encode(Buffer.concat(frames.slice(0, 10))),
      s.encode(Buffer.concat(frames.slice(10))),
    ]);
    const results = await Promise.all(jobs);
    await pool.close();
    // Same input, same settings, fresh encoders: each stream's packets are the same sequence.
    const streamPackets = [0, 2, 4].map((i) => [...results[i]!, ...results[i + 1]!]);
    expect(streamPackets[1]).toEqual(streamPackets[0]);
    expect(streamPackets[2]).toEqual(streamPackets[0]);
  });

  it('rejects PCM that is not whole 640-byte frames', async () => {
    const pool = new OpusEncoderPool({ workerCount: 1 });
    await expect(pool.openStream().encode(Buffer.alloc(700))).rejects.toThrow(
      'ATT_INVALID_REQUEST',
    );
    await pool.close();
  });

  it('rejects with a retryable overload error once the waiting queue is full', async () => {
    const pool = new OpusEncoderPool({ workerCount: 1, maxInFlightJobs: 1, maxWaitingJobs: 1 });
    const stream = pool.openStream();
    const pcm = Buffer.concat(sineFrames(440, 5));
    const first = stream.encode(pcm);
    const second = stream.encode(pcm);
    await expect(stream.encode(pcm)).rejects.toMatchObject({
      code: 'ATT_MEDIA_HOST_UNAVAILABLE',
      retryable: true,
    });
    await expect(Promise.all([first, second])).resolves.toHaveLength(2);
    await pool.close();
  });

  it('refuses work after close, and close is idempotent', async () => {
    const pool = new OpusEncoderPool({ workerCount: 1 });
    const stream = pool.openStream();
    await pool.close();
    await pool.close();
    await expect(stream.encode(Buffer.alloc(640))).rejects.toThrow('ATT_INTERNAL');
    expect(() => pool.openStream()).toThrow('closed');
  });
});

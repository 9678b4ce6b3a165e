import { sineFrames } from '../../../testing/test-signals';
import { WAV_HEADER_BYTES, WavFormatter } from './wav.format';

const T0 = 5_000_000n;
const STEP = 200_000n;

async function formatAll(formatter: WavFormatter, frames: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const [i, payload] of frames.entries()) {
    for (const chunk of await formatter.push({ timestamp100ns: T0 + BigInt(i) * STEP, payload }))
      out.push(chunk.bytes);
  }
  for (const chunk of await formatter.end()) out.push(chunk.bytes);
  return Buffer.concat(out);
}

describe('WavFormatter', () => {
  it('stores the PCM byte for byte after a 44-byte header', async () => {
    const frames = sineFrames(440, 77);
    const bytes = await formatAll(new WavFormatter(), frames);
    expect(bytes.subarray(WAV_HEADER_BYTES).equals(Buffer.concat(frames))).toBe(true);
  });

  it('writes a 16 kHz 16-bit mono PCM header with unknown (maximal) sizes while streaming', async () => {
    const header = (await formatAll(new WavFormatter(), sineFrames(440, 1))).subarray(
      0,
      WAV_HEADER_BYTES,
    );
    expect(header.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(header.readUInt32LE(4)).toBe(0xffffffff);
    expect(header.subarray(8, 16).toString('latin1')).toBe('WAVEfmt ');
    expect([
      header.readUInt16LE(20),
      header.readUInt16LE(22),
      header.readUInt32LE(24),
      header.readUInt16LE(34),
    ]).toEqual([1, 1, 16000, 16]);
    expect(header.subarray(36, 40).toString('latin1')).toBe('data');
    expect(header.readUInt32LE(40)).toBe(0xffffffff - 36);
  });

  it('offers an exact header of the same length for sealing', async () => {
    const formatter = new WavFormatter();
    await formatAll(formatter, sineFrames(440, 10));
    const header = formatter.getFinalHeader();
    expect(header).toHaveLength(WAV_HEADER_BYTES);
    expect(header.readUInt32LE(40)).toBe(6400);
    expect(header.readUInt32LE(4)).toBe(6436);
  });

  it('returns chunks of one second and indexes them after the header', async () => {
    const formatter = new WavFormatter();
    const ends: number[] = [];
    for (const [i, payload] of sineFrames(440, 120).entries()) {
      ends.push(
        ...(await formatter.push({ timestamp100ns: T0 + BigInt(i) * STEP, payload })).map(
          (c) => c.mediaEndInMs,
        ),
      );
    }
    ends.push(...(await formatter.end()).map((c) => c.mediaEndInMs));
    expect(ends).toEqual([1000, 2000, 2400]);
    expect(formatter.getTimingIndex().entries.map((e) => e.byteOffset)).toEqual([
      44,
      44 + 32000,
      44 + 64000,
    ]);
  });

  it('records missing frames as a gap and stores only what arrived', async () => {
    const formatter = new WavFormatter();
    const frames = sineFrames(440, 4);
    const stamps = [T0, T0 + STEP, T0 + 10n * STEP, T0 + 11n * STEP];
    const out: Buffer[] = [];
    for (const [i, payload] of frames.entries())
      out.push(
        ...(await formatter.push({ timestamp100ns: stamps[i]!, payload })).map((c) => c.bytes),
      );
    out.push(...(await formatter.end()).map((c) => c.bytes));
    expect(Buffer.concat(out)).toHaveLength(44 + 4 * 640);
    expect(formatter.getTimingIndex().gaps).toEqual([
      {
        mediaAtInMs: 40,
        fromTimestamp100ns: String(T0 + 2n * STEP),
        toTimestamp100ns: String(T0 + 10n * STEP),
        durationInMs: 160,
      },
    ]);
  });

  it('treats small timestamp jitter as continuous audio', async () => {
    const formatter = new WavFormatter();
    const frames = sineFrames(440, 3);
    await formatter.push({ timestamp100ns: T0, payload: frames[0]! });
    await formatter.push({ timestamp100ns: T0 + STEP + 150_000n, payload: frames[1]! });
    await formatter.push({ timestamp100ns: T0 + 2n * STEP + 150_000n, payload: frames[2]! });
    expect(formatter.getTimingIndex().gaps).toEqual([]);
  });
});

/**
 * The stream formats as the writer pipeline drives them: through the factory, frames pushed in
 * order, chunks concatenated into one blob. Checks the properties the pipeline relies on: every
 * chunk is made of whole container units (Ogg pages, MP4 boxes) so a block boundary never splits
 * one, every chunk but the last covers at least a second of media, the timing index points at the
 * chunks' bytes, and the media comes back out (PCM exactly when lossless, within codec tolerance
 * for Opus, NAL units exactly for H.264).
 */
import OpusScript from 'opusscript';
import {
  OpusEncoderPool,
  createStreamFormatterFactory,
  readBoxes,
  readOggPages,
  splitAnnexB,
  type FormattedChunk,
  type StreamFormatter,
} from '../../media-host/src/pipeline/formats';
import { annexB, testPps, testSlice, testSps } from '../../media-host/testing/h264-test-streams';
import { bestAlignment, pcmToSamples, sineFrames } from '../../media-host/testing/test-signals';

const T0 = 638_000_000_000_000_000n; // a 2026 Teams-style timestamp in 100 ns units

let pool: OpusEncoderPool;
beforeAll(() => {
  pool = new OpusEncoderPool({ workerCount: 2 });
});
afterAll(async () => {
  await pool.close();
});

async function run(
  formatter: StreamFormatter,
  frames: { timestamp100ns: bigint; payload: Buffer; isKeyFrame?: boolean }[],
): Promise<FormattedChunk[]> {
  const chunks: FormattedChunk[] = [];
  for (const frame of frames) chunks.push(...(await formatter.push(frame)));
  chunks.push(...(await formatter.end()));
  await formatter.close();
  return chunks;
}

const audioFrames = (frequency: number, count: number) =>
  sineFrames(frequency, count).map((payload, i) => ({
    timestamp100ns: T0 + BigInt(i) * 200_000n,
    payload,
  }));

describe('stream formats through the factory', () => {
  const create = () => createStreamFormatterFactory({ opusPool: pool });

  it('Opus: every chunk is whole Ogg pages, chunks cover at least 1 s, and the blob decodes per speaker', async () => {
    const speakers = [330, 660, 990];
    const results = await Promise.all(
      speakers.map((f) => run(create()({ kind: 'audio', isLossless: false }), audioFrames(f, 260))),
    );
    results.forEach((chunks, s) => {
      for (const chunk of chunks) expect(() => readOggPages(chunk.bytes)).not.toThrow();
      const ends = chunks.map((c) => c.mediaEndInMs);
      expect(ends).toEqual([1000, 2000, 3000, 4000, 5000, 5200]);
      const pages = readOggPages(Buffer.concat(chunks.map((c) => c.bytes)));
      const decoder = new OpusScript(16_000, 1);
      const decoded = pcmToSamples(
        Buffer.concat(
          pages.slice(2).flatMap((p) => p.packets.map((packet) => decoder.decode(packet))),
        ),
      );
      decoder.delete();
      const source = pcmToSamples(Buffer.concat(sineFrames(speakers[s]!, 260)));
      const { correlation } = bestAlignment(
        source.subarray(1600, 80_000),
        decoded.subarray(104 + 1600, 104 + 80_000),
        2,
      );
      expect(correlation).toBeGreaterThan(0.98);
    });
  });

  it('lossless: the blob after its header is the PCM sent, byte for byte', async () => {
    const frames = audioFrames(440, 173);
    const chunks = await run(create()({ kind: 'audio', isLossless: true }), frames);
    const blob = Buffer.concat(chunks.map((c) => c.bytes));
    expect(blob.subarray(44).equals(Buffer.concat(frames.map((f) => f.payload)))).toBe(true);
    expect(chunks.slice(0, -1).every((c, i) => c.mediaEndInMs === (i + 1) * 1000)).toBe(true);
  });

  it('video: every chunk is whole boxes, and the NAL units of every frame come back in order', async () => {
    const sps = testSps({ width: 1280, height: 720, profileIdc: 100, levelIdc: 31 });
    const pps = testPps();
    const frames = Array.from({ length: 95 }, (_, i) => {
      const isKeyFrame = i % 45 === 0;
      const slice = testSlice(isKeyFrame, isKeyFrame ? 4000 : 600, i);
      return {
        timestamp100ns: T0 + BigInt(i) * 666_667n,
        payload: isKeyFrame ? annexB(sps, pps, slice) : annexB(slice),
        isKeyFrame,
      };
    });
    const formatter = create()({ kind: 'video', isLossless: false });
    const chunks = await run(formatter, frames);
    for (const chunk of chunks) expect(() => readBoxes(chunk.bytes)).not.toThrow();
    expect(formatter.contentType).toBe('video/mp4; codecs="avc1.64001F"');
    const blob = Buffer.concat(chunks.map((c) => c.bytes));
    const nals: Buffer[] = [];
    for (const mdat of readBoxes(blob).filter((b) => b.type === 'mdat')) {
      for (let p = 0; p < mdat.body.length;) {
        const length = mdat.body.readUInt32BE(p);
        nals.push(mdat.body.subarray(p + 4, p + 4 + length));
        p += 4 + length;
      }
    }
    expect(nals).toEqual(frames.flatMap((f) => splitAnnexB(f.payload)));
    const index = formatter.getTimingIndex!();
    expect(
      index.entries.map((e) => blob.toString('latin1', e.byteOffset + 4, e.byteOffset + 8)),
    ).toEqual(index.entries.map(() => 'moof'));
    const last = index.entries.at(-1)!;
    expect(last.byteOffset + last.byteLength).toBe(blob.length);
  });
});

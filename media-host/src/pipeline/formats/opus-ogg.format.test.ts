import OpusScript from 'opusscript';
import { buildOggPage, readOggPages } from './ogg';
import { decodeOggOpusToPcm } from './opus-decode';
import { OpusEncoderPool } from './opus-encoder-pool';
import { OPUS_PRE_SKIP_48K, OPUS_VENDOR, OpusOggFormatter } from './opus-ogg.format';
import { bestAlignment, pcmToSamples, sineFrames, snrInDb } from '../../../testing/test-signals';

const T0 = 1_000_000_000n;
const STEP = 200_000n;

let pool: OpusEncoderPool;
beforeAll(() => {
  pool = new OpusEncoderPool({ workerCount: 2 });
});
afterAll(async () => {
  await pool.close();
});

async function formatAll(
  formatter: OpusOggFormatter,
  frames: Buffer[],
  timestamps?: bigint[],
): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const [i, payload] of frames.entries()) {
    for (const chunk of await formatter.push({
      timestamp100ns: timestamps?.[i] ?? T0 + BigInt(i) * STEP,
      payload,
    })) {
      out.push(chunk.bytes);
    }
  }
  for (const chunk of await formatter.end()) out.push(chunk.bytes);
  await formatter.close();
  return Buffer.concat(out);
}

/** Decodes our own Ogg Opus back to 16 kHz PCM, dropping the pre-skip and honouring end trimming. */
function decodeOggOpus(bytes: Buffer): Int16Array {
  const pages = readOggPages(bytes);
  const head = pages[0]!.packets[0]!;
  const preSkip16k = head.readUInt16LE(10) / 3;
  const decoder = new OpusScript(16000, 1);
  const pcm = pages
    .slice(2)
    .flatMap((page) => page.packets.map((packet) => decoder.decode(packet)));
  decoder.delete();
  const samples = pcmToSamples(Buffer.concat(pcm));
  const lastGranule = Number(pages[pages.length - 1]!.granulePosition);
  return samples.subarray(preSkip16k, lastGranule / 3);
}

describe('OpusOggFormatter', () => {
  it('writes OpusHead and OpusTags pages first, with BOS, 16 kHz input rate and the pre-skip', async () => {
    const bytes = await formatAll(new OpusOggFormatter({ pool }), sineFrames(440, 60));
    const pages = readOggPages(bytes);
    expect(pages[0]!.headerType).toBe(0x02);
    const head = pages[0]!.packets[0]!;
    expect(head.subarray(0, 8).toString('latin1')).toBe('OpusHead');
    expect(head.readUInt8(8)).toBe(1);
    expect(head.readUInt8(9)).toBe(1);
    expect(head.readUInt16LE(10)).toBe(OPUS_PRE_SKIP_48K);
    expect(head.readUInt32LE(12)).toBe(16000);
    const tags = pages[1]!.packets[0]!;
    expect(tags.subarray(0, 8).toString('latin1')).toBe('OpusTags');
    expect(tags.subarray(12, 12 + tags.readUInt32LE(8)).toString('utf8')).toBe(OPUS_VENDOR);
    expect(pages[0]!.granulePosition).toBe(0n);
    expect(pages[1]!.granulePosition).toBe(0n);
  });

  it('writes pages with valid checksums, consecutive sequence numbers and EOS only on the last', async () => {
    const bytes = await formatAll(new OpusOggFormatter({ pool }), sineFrames(440, 130));
    const pages = readOggPages(bytes);
    expect(pages.every((page) => page.isChecksumValid)).toBe(true);
    expect(pages.map((page) => page.sequenceNumber)).toEqual(pages.map((_, i) => i));
    expect(pages.map((page) => (page.headerType & 0x04) !== 0)).toEqual(
      pages.map((_, i) => i === pages.length - 1),
    );
    expect(new Set(pages.map((page) => page.serialNumber)).size).toBe(1);
  });

  it('counts granule positions in 48 kHz samples and trims the flush frame at the end', async () => {
    const bytes = await formatAll(new OpusOggFormatter({ pool }), sineFrames(440, 130));
    const pages = readOggPages(bytes).slice(2);
    const granules = pages.map((page) => page.granulePosition);
    expect(granules.slice(0, -1)).toEqual([50n * 960n, 100n * 960n]);
    // 130 real frames + the pre-skip; the extra silent flush packet is trimmed.
    expect(granules[granules.length - 1]).toBe(130n * 960n + 312n);
    expect(pages.flatMap((page) => page.packets)).toHaveLength(131);
  });

  it('returns one chunk per second of media once a second is buffered', async () => {
    const formatter = new OpusOggFormatter({ pool });
    const frames = sineFrames(440, 100);
    const chunkEnds: number[] = [];
    for (const [i, payload] of frames.entries()) {
      const chunks = await formatter.push({ timestamp100ns: T0 + BigInt(i) * STEP, payload });
      chunkEnds.push(...chunks.map((chunk) => chunk.mediaEndInMs));
      if (chunks.length > 0) expect(i % 50).toBe(49);
    }
    await formatter.close();
    expect(chunkEnds).toEqual([1000, 2000]);
  });

  it('decodes back to the same sine within codec tolerance', async () => {
    const frames = sineFrames(440, 150);
    const decoded = decodeOggOpus(await formatAll(new OpusOggFormatter({ pool }), frames));
    const source = pcmToSamples(Buffer.concat(frames));
    expect(decoded.length).toBe(source.length);
    // Skip the encoder's first 100 ms of settling; allow the ±2 sample delay of 16 kHz decoding.
    const { lag, correlation: c } = bestAlignment(source.subarray(1600), decoded.subarray(1600), 2);
    expect(c).toBeGreaterThan(0.99);
    expect(
      snrInDb(source.subarray(1600, -100), decoded.subarray(1600 + lag, -100 + lag)),
    ).toBeGreaterThan(12);
  });

  it('keeps concurrent speakers apart when they share the pool', async () => {
    const frequencies = [300, 523, 811, 1200];
    const sources = frequencies.map((frequency) => sineFrames(frequency, 100));
    const outputs = await Promise.all(
      sources.map((frames) =>
        formatAll(new OpusOggFormatter({ pool, chunkDurationInMs: 200 }), frames),
      ),
    );
    const decoded = outputs.map(decodeOggOpus);
    sources.forEach((frames, i) => {
      const source = pcmToSamples(Buffer.concat(frames)).subarray(1600);
      decoded.forEach((other, j) => {
        const c = bestAlignment(source, other.subarray(1600), 2).correlation;
        if (i === j) expect(c).toBeGreaterThan(0.98);
        else expect(c).toBeLessThan(0.2);
      });
    });
  });

  it('records a gap in the timing index instead of inventing audio', async () => {
    const frames = sineFrames(440, 60);
    const timestamps = frames.map((_, i) => T0 + BigInt(i < 30 ? i : i + 25) * STEP);
    const formatter = new OpusOggFormatter({ pool });
    const bytes = await formatAll(formatter, frames, timestamps);
    const index = formatter.getTimingIndex();
    expect(index.gaps).toEqual([
      {
        mediaAtInMs: 600,
        fromTimestamp100ns: (T0 + 30n * STEP).toString(),
        toTimestamp100ns: (T0 + 55n * STEP).toString(),
        durationInMs: 500,
      },
    ]);
    expect(index.firstTimestamp100ns).toBe(T0.toString());
    expect(decodeOggOpus(bytes)).toHaveLength(60 * 320);
  });

  it('indexes chunks at their byte offsets after the header pages', async () => {
    const formatter = new OpusOggFormatter({ pool });
    const bytes = await formatAll(formatter, sineFrames(440, 120));
    const index = formatter.getTimingIndex();
    expect(index.entries.map((entry) => [entry.mediaStartInMs, entry.mediaEndInMs])).toEqual([
      [0, 1000],
      [1000, 2000],
      [2000, 2400],
    ]);
    const last = index.entries[index.entries.length - 1]!;
    expect(last.byteOffset + last.byteLength).toBe(bytes.length);
    for (const entry of index.entries)
      expect(bytes.subarray(entry.byteOffset, entry.byteOffset + 4).toString('latin1')).toBe(
        'OggS',
      );
    expect(index.entries[1]!.timestamp100ns).toBe((T0 + 50n * STEP).toString());
  });

  it('rejects a frame that is not 640 bytes with a protocol violation', async () => {
    const formatter = new OpusOggFormatter({ pool });
    await expect(
      formatter.push({ timestamp100ns: T0, payload: Buffer.alloc(100) }),
    ).rejects.toThrow('ATT_PROTOCOL_VIOLATION');
    await formatter.close();
  });

  it('rejects a frame whose timestamp goes backwards', async () => {
    const formatter = new OpusOggFormatter({ pool });
    const [a, b] = sineFrames(440, 2);
    await formatter.push({ timestamp100ns: T0, payload: a! });
    await expect(formatter.push({ timestamp100ns: T0 - STEP, payload: b! })).rejects.toThrow(
      'timestamp order',
    );
    await formatter.close();
  });

  it('emits nothing for a stream that never received a frame, and end() is idempotent', async () => {
    const formatter = new OpusOggFormatter({ pool });
    expect(await formatter.end()).toEqual([]);
    expect(await formatter.end()).toEqual([]);
    await formatter.close();
    await formatter.close();
  });
});

describe('decodeOggOpusToPcm', () => {
  it('gives back exactly as many samples as were sent', async () => {
    const frames = sineFrames(700, 77);
    const pcm = decodeOggOpusToPcm(await formatAll(new OpusOggFormatter({ pool }), frames));
    expect(pcm).toHaveLength(77 * 640);
    const { correlation } = bestAlignment(
      pcmToSamples(Buffer.concat(frames)).subarray(1600),
      pcmToSamples(pcm).subarray(1600),
      2,
    );
    expect(correlation).toBeGreaterThan(0.98);
  });

  it('refuses bytes that are not Ogg Opus', () => {
    const vorbisLike = buildOggPage({
      serialNumber: 1,
      sequenceNumber: 0,
      granulePosition: 0n,
      headerType: 2,
      packets: [Buffer.from('\x01vorbis')],
    });
    expect(() => decodeOggOpusToPcm(vorbisLike)).toThrow('not an Ogg Opus stream');
  });
});

/**
 * H.264 from a real encoder (libx264 fixtures, see formats-fixtures/README.md) through the
 * fragmented MP4 formatter: SPS with VUI and cropping, high-profile avcC, AUD/SEI handling.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  H264Fmp4Formatter,
  NalType,
  findBox,
  nalTypeOf,
  parseSps,
  readBoxes,
  splitAnnexB,
} from '../../media-host/src/pipeline/formats';

/** Splits an elementary stream into access units at its delimiters, dropping AUD and SEI as Teams sends none. */
function accessUnits(file: string): Buffer[] {
  const units: Buffer[][] = [];
  for (const nal of splitAnnexB(readFileSync(join(__dirname, 'formats-fixtures', file)))) {
    const type = nalTypeOf(nal);
    if (type === NalType.accessUnitDelimiter) units.push([]);
    else if (type !== NalType.sei) units.at(-1)!.push(nal);
  }
  return units.map((nals) =>
    Buffer.concat(nals.flatMap((nal) => [Buffer.from([0, 0, 0, 1]), nal])),
  );
}

async function toMp4(file: string, fps: number) {
  const formatter = new H264Fmp4Formatter({ kind: 'video' });
  const units = accessUnits(file);
  const step = BigInt(Math.round(10_000_000 / fps));
  const out: Buffer[] = [];
  for (const [i, payload] of units.entries())
    out.push(
      ...(await formatter.push({ timestamp100ns: 10_000_000n + BigInt(i) * step, payload })).map(
        (c) => c.bytes,
      ),
    );
  out.push(...(await formatter.end()).map((c) => c.bytes));
  return { formatter, units, blob: Buffer.concat(out) };
}

function samples(blob: Buffer) {
  return readBoxes(blob)
    .filter((b) => b.type === 'moof')
    .flatMap((moof) => {
      const trun = findBox(moof.children, 'traf', 'trun')!.body;
      return Array.from({ length: trun.readUInt32BE(4) }, (_, i) => ({
        duration: trun.readUInt32BE(12 + 12 * i),
        flags: trun.readUInt32BE(20 + 12 * i),
      }));
    });
}

describe('fragmented MP4 from real x264 streams', () => {
  it('reads size and profile from an x264 baseline SPS with VUI and cropping', () => {
    const sps = splitAnnexB(accessUnits('x264-baseline-320x180-15fps.h264')[0]!).find(
      (n) => nalTypeOf(n) === NalType.sps,
    )!;
    expect(parseSps(sps)).toMatchObject({ profileIdc: 66, levelIdc: 12, width: 320, height: 180 });
  });

  it('packages 3 s of 15 fps baseline video: 45 samples, key frames every 15, exact durations', async () => {
    const { formatter, blob } = await toMp4('x264-baseline-320x180-15fps.h264', 15);
    expect(formatter.contentType).toBe('video/mp4; codecs="avc1.42C00C"');
    const all = samples(blob);
    expect(all).toHaveLength(45);
    expect(all.map((s, i) => [i, s.flags === 0x02000000])).toEqual(
      all.map((_, i) => [i, i % 15 === 0]),
    );
    expect(all.slice(0, -1).every((s) => s.duration === 666_667)).toBe(true);
  });

  it('writes the high-profile avcC extension for an x264 high-profile stream', async () => {
    const { formatter, blob } = await toMp4('x264-high-424x240-10fps.h264', 10);
    expect(formatter.pictureSize).toEqual({ width: 424, height: 240 });
    expect(formatter.contentType).toBe('video/mp4; codecs="avc1.640015"');
    const stsd = findBox(readBoxes(blob), 'moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd')!.body;
    const avcC = readBoxes(readBoxes(stsd.subarray(8))[0]!.body.subarray(78))[0]!;
    const spsLength = avcC.body.readUInt16BE(6);
    const ppsLength = avcC.body.readUInt16BE(9 + spsLength);
    const extension = avcC.body.subarray(11 + spsLength + ppsLength);
    expect([...extension]).toEqual([0xfc | 1, 0xf8, 0xf8, 0]); // 4:2:0, 8-bit luma and chroma, no SPS extensions
  });

  it('keeps every NAL unit of every access unit, in order', async () => {
    const { units, blob } = await toMp4('x264-high-424x240-10fps.h264', 10);
    const stored = readBoxes(blob)
      .filter((b) => b.type === 'mdat')
      .flatMap((mdat) => {
        const out: Buffer[] = [];
        for (let p = 0; p < mdat.body.length; p += 4 + mdat.body.readUInt32BE(p))
          out.push(mdat.body.subarray(p + 4, p + 4 + mdat.body.readUInt32BE(p)));
        return out;
      });
    expect(stored).toEqual(units.flatMap((u) => splitAnnexB(u)));
  });
});

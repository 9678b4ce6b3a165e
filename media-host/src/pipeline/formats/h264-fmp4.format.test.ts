import { NalType, parseSps, splitAnnexB, unescapeRbsp } from './annex-b';
import { H264Fmp4Formatter } from './h264-fmp4.format';
import {
  annexB,
  escapeRbsp,
  testPps,
  testSlice,
  testSps,
} from '../../../testing/h264-test-streams';
import {
  NON_SYNC_SAMPLE_FLAGS,
  SYNC_SAMPLE_FLAGS,
  findBox,
  readBoxes,
  type Mp4Box,
} from './mp4-boxes';

const T0 = 7_000_000_000n;
const FRAME = 333_333n; // 30 fps in 100 ns

interface TestFrame {
  timestamp100ns: bigint;
  payload: Buffer;
  isKeyFrame: boolean;
}

function stream(
  frameCount: number,
  options: { width?: number; height?: number; keyEvery?: number; step?: bigint } = {},
): TestFrame[] {
  const sps = testSps({ width: options.width ?? 320, height: options.height ?? 180 });
  const pps = testPps();
  return Array.from({ length: frameCount }, (_, i) => {
    const isKey = i % (options.keyEvery ?? 60) === 0;
    const slice = testSlice(isKey, isKey ? 900 : 200 + (i % 7), i);
    return {
      timestamp100ns: T0 + BigInt(i) * (options.step ?? FRAME),
      payload: isKey ? annexB(sps, pps, slice) : annexB(slice),
      isKeyFrame: isKey,
    };
  });
}

async function formatAll(
  formatter: H264Fmp4Formatter,
  frames: TestFrame[],
): Promise<{ bytes: Buffer; ends: number[] }> {
  const out: Buffer[] = [];
  const ends: number[] = [];
  for (const frame of frames) {
    for (const chunk of await formatter.push(frame)) {
      out.push(chunk.bytes);
      ends.push(chunk.mediaEndInMs);
    }
  }
  for (const chunk of await formatter.end()) {
    out.push(chunk.bytes);
    ends.push(chunk.mediaEndInMs);
  }
  return { bytes: Buffer.concat(out), ends };
}

function trun(moof: Mp4Box): {
  count: number;
  dataOffset: number;
  samples: { duration: number; size: number; flags: number }[];
} {
  const body = findBox(moof.children, 'traf', 'trun')!.body;
  const count = body.readUInt32BE(4);
  const samples = Array.from({ length: count }, (_, i) => ({
    duration: body.readUInt32BE(12 + 12 * i),
    size: body.readUInt32BE(16 + 12 * i),
    flags: body.readUInt32BE(20 + 12 * i),
  }));
  return { count, dataOffset: body.readInt32BE(8), samples };
}

describe('Annex-B and SPS parsing', () => {
  it('splits 3- and 4-byte start codes and keeps NAL bytes intact', () => {
    const nals = [testSps({ width: 640, height: 360 }), testPps(), testSlice(true, 50, 1)];
    expect(splitAnnexB(annexB(...nals))).toEqual(nals);
  });

  it('removes emulation prevention bytes that escaping inserted', () => {
    const raw = Buffer.from([0, 0, 1, 0, 0, 0, 0, 0, 3, 7]);
    expect(escapeRbsp(raw)).not.toEqual(raw);
    expect(unescapeRbsp(escapeRbsp(raw))).toEqual(raw);
  });

  it.each([
    [1920, 1080, 66],
    [1280, 720, 77],
    [424, 240, 100],
    [320, 180, 100],
  ])('reads %ix%i from a profile %i SPS, applying frame cropping', (width, height, profileIdc) => {
    const info = parseSps(testSps({ width, height, profileIdc }));
    expect(info).toMatchObject({ width, height, profileIdc });
  });

  it('refuses a NAL unit that is not an SPS', () => {
    expect(() => parseSps(testPps())).toThrow('not an SPS');
  });
});

describe('H264Fmp4Formatter', () => {
  it('starts with ftyp and a moov whose avc1 entry carries the SPS size and an avcC with SPS/PPS', async () => {
    const formatter = new H264Fmp4Formatter({ kind: 'video' });
    const { bytes } = await formatAll(formatter, stream(90, { width: 640, height: 360 }));
    const boxes = readBoxes(bytes);
    expect(boxes.slice(0, 2).map((b) => b.type)).toEqual(['ftyp', 'moov']);
    expect(findBox(boxes, 'moov', 'mvex', 'trex')).toBeDefined();
    const tkhd = findBox(boxes, 'moov', 'trak', 'tkhd')!.body;
    expect([tkhd.readUInt32BE(76) / 0x10000, tkhd.readUInt32BE(80) / 0x10000]).toEqual([640, 360]);
    const mdhd = findBox(boxes, 'moov', 'trak', 'mdia', 'mdhd')!.body;
    expect(mdhd.readUInt32BE(12)).toBe(10_000_000);
    const stsd = findBox(boxes, 'moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd')!.body;
    const avc1 = readBoxes(stsd.subarray(8))[0]!;
    expect(avc1.type).toBe('avc1');
    expect([avc1.body.readUInt16BE(24), avc1.body.readUInt16BE(26)]).toEqual([640, 360]);
    const avcC = readBoxes(avc1.body.subarray(78))[0]!;
    expect(avcC.type).toBe('avcC');
    const sps = testSps({ width: 640, height: 360 });
    expect(avcC.body.subarray(0, 6)).toEqual(
      Buffer.from([1, sps[1]!, sps[2]!, sps[3]!, 0xff, 0xe1]),
    );
    expect(avcC.body.subarray(8, 8 + sps.length)).toEqual(sps);
    expect(formatter.contentType).toBe('video/mp4; codecs="avc1.42C01E"');
  });

  it('emits fragments of at least one second, each a moof and an mdat, with consecutive sequence numbers', async () => {
    const { bytes, ends } = await formatAll(new H264Fmp4Formatter({ kind: 'video' }), stream(100));
    const boxes = readBoxes(bytes);
    expect(boxes.map((b) => b.type)).toEqual([
      'ftyp',
      'moov',
      'moof',
      'mdat',
      'moof',
      'mdat',
      'moof',
      'mdat',
      'moof',
      'mdat',
    ]);
    const moofs = boxes.filter((b) => b.type === 'moof');
    expect(moofs.map((m) => findBox(m.children, 'mfhd')!.body.readUInt32BE(4))).toEqual([
      1, 2, 3, 4,
    ]);
    expect(moofs.map((m) => trun(m).count)).toEqual([30, 30, 30, 10]);
    expect(ends.slice(1, 4).map((ms) => Math.round(ms))).toEqual([1000, 2000, 3000]);
  });

  it('points each trun data offset at its samples, stored as 4-byte length-prefixed NAL units', async () => {
    const frames = stream(45);
    const { bytes } = await formatAll(new H264Fmp4Formatter({ kind: 'video' }), frames);
    const boxes = readBoxes(bytes);
    let frameIndex = 0;
    for (const [i, moof] of boxes.entries()) {
      if (moof.type !== 'moof') continue;
      const mdat = boxes[i + 1]!;
      const { dataOffset, samples } = trun(moof);
      expect(moof.offset + dataOffset).toBe(mdat.offset + 8);
      let at = moof.offset + dataOffset;
      for (const sample of samples) {
        const data = bytes.subarray(at, at + sample.size);
        const nals: Buffer[] = [];
        for (let p = 0; p < data.length;) {
          const length = data.readUInt32BE(p);
          nals.push(data.subarray(p + 4, p + 4 + length));
          p += 4 + length;
        }
        expect(nals).toEqual(splitAnnexB(frames[frameIndex]!.payload));
        at += sample.size;
        frameIndex += 1;
      }
      expect(at).toBe(mdat.offset + mdat.size);
    }
    expect(frameIndex).toBe(45);
  });

  it('takes sample durations and tfdt from the 100 ns timestamps, including irregular steps', async () => {
    const frames = stream(40, { step: 533_333n }); // 1.875 fps screen share
    frames[5]!.timestamp100ns += 100_000n;
    const { bytes } = await formatAll(new H264Fmp4Formatter({ kind: 'vbss' }), frames);
    const moofs = readBoxes(bytes).filter((b) => b.type === 'moof');
    const durations = moofs.flatMap((m) => trun(m).samples.map((s) => s.duration));
    expect(durations.slice(0, 6)).toEqual([533_333, 533_333, 533_333, 533_333, 633_333, 433_333]);
    expect(durations[durations.length - 1]).toBe(533_333); // the last repeats the previous step
    const tfdts = moofs.map((m) => findBox(m.children, 'traf', 'tfdt')!.body.readBigUInt64BE(4));
    expect(tfdts[0]).toBe(0n);
    let sum = 0n;
    moofs.forEach((m, i) => {
      expect(tfdts[i]).toBe(sum);
      sum += BigInt(trun(m).samples.reduce((a, s) => a + s.duration, 0));
    });
  });

  it('flags key frames as sync samples and the rest as non-sync', async () => {
    const { bytes } = await formatAll(
      new H264Fmp4Formatter({ kind: 'video' }),
      stream(40, { keyEvery: 15 }),
    );
    const flags = readBoxes(bytes)
      .filter((b) => b.type === 'moof')
      .flatMap((m) => trun(m).samples.map((s) => s.flags));
    expect(flags.map((f, i) => [i, f === SYNC_SAMPLE_FLAGS])).toEqual(
      flags.map((_, i) => [i, i % 15 === 0]),
    );
    expect(
      flags.filter((f) => f !== SYNC_SAMPLE_FLAGS).every((f) => f === NON_SYNC_SAMPLE_FLAGS),
    ).toBe(true);
  });

  it('drops frames before the first key frame with SPS/PPS and records them as a gap', async () => {
    const frames = stream(70, { keyEvery: 30 }).slice(10);
    const formatter = new H264Fmp4Formatter({ kind: 'video' });
    await formatAll(formatter, frames);
    expect(formatter.framesDroppedBeforeKeyFrame).toBe(20);
    const index = formatter.getTimingIndex();
    expect(index.firstTimestamp100ns).toBe(frames[20]!.timestamp100ns.toString());
    expect(index.gaps[0]).toMatchObject({
      mediaAtInMs: 0,
      fromTimestamp100ns: frames[0]!.timestamp100ns.toString(),
      toTimestamp100ns: frames[20]!.timestamp100ns.toString(),
    });
  });

  it('after a break drops frames until the next key frame; the picture before it lasts until then', async () => {
    // Frames 0-19 stored, 20-24 never arrive (paused), 25 follows the break, key frame at 30.
    const all = stream(45, { keyEvery: 15 });
    const frames = [...all.slice(0, 20), ...all.slice(25)].map((f, i) =>
      i === 20 ? { ...f, followsBreak: true } : f,
    );
    const formatter = new H264Fmp4Formatter({ kind: 'video' });
    const { bytes } = await formatAll(formatter, frames);
    expect(formatter.framesDroppedBeforeKeyFrame).toBe(5);
    const samples = readBoxes(bytes)
      .filter((b) => b.type === 'moof')
      .flatMap((m) => trun(m).samples);
    expect(samples).toHaveLength(35);
    expect(samples[19]!.duration).toBe(Number(all[30]!.timestamp100ns - all[19]!.timestamp100ns));
    expect(samples[20]!.flags).toBe(SYNC_SAMPLE_FLAGS);
  });

  it('keeps a key frame that follows a break, and waits across a restart for one that did not come', async () => {
    const frames = stream(20, { keyEvery: 10 });
    const kept = new H264Fmp4Formatter({ kind: 'video' });
    await formatAll(
      kept,
      frames.map((f, i) => (i === 10 ? { ...f, followsBreak: true } : f)),
    );
    expect(kept.framesDroppedBeforeKeyFrame).toBe(0);

    const before = new H264Fmp4Formatter({ kind: 'video', fragmentDurationInMs: 100 });
    for (const f of frames.slice(0, 6)) await before.push(f);
    await before.push({ ...frames[6]!, followsBreak: true });
    const state = before.getResumeState()!;
    expect(state.position.isAwaitingKeyFrame).toBe(1);
    const after = new H264Fmp4Formatter({ kind: 'video', resumeState: state });
    for (const f of frames.slice(7, 10)) expect(await after.push(f)).toEqual([]);
    expect(after.framesDroppedBeforeKeyFrame).toBe(3);
  });

  it('indexes each fragment at its moof offset with its first timestamp and sync flag', async () => {
    const formatter = new H264Fmp4Formatter({ kind: 'video' });
    const frames = stream(100, { keyEvery: 30 });
    const { bytes } = await formatAll(formatter, frames);
    const moofs = readBoxes(bytes).filter((b) => b.type === 'moof');
    const index = formatter.getTimingIndex();
    expect(index.entries.map((e) => e.byteOffset)).toEqual(moofs.map((m) => m.offset));
    expect(index.entries.map((e) => e.timestamp100ns)).toEqual(
      [0, 30, 60, 90].map((i) => frames[i]!.timestamp100ns.toString()),
    );
    expect(index.entries.every((e) => e.isSyncPoint)).toBe(true);
    expect(index.contentType).toBe('video/mp4; codecs="avc1.42C01E"');
  });

  it('records a pause of the video source longer than the threshold as a gap', async () => {
    const frames = stream(20);
    for (const frame of frames.slice(10)) frame.timestamp100ns += 30_000_000n;
    const formatter = new H264Fmp4Formatter({ kind: 'video' });
    await formatAll(formatter, frames);
    expect(formatter.getTimingIndex().gaps).toEqual([
      expect.objectContaining({
        fromTimestamp100ns: frames[9]!.timestamp100ns.toString(),
        toTimestamp100ns: frames[10]!.timestamp100ns.toString(),
      }),
    ]);
  });

  it('rejects a frame without any start code as a protocol violation', async () => {
    const formatter = new H264Fmp4Formatter({ kind: 'video' });
    await expect(
      formatter.push({ timestamp100ns: T0, payload: Buffer.from([1, 2, 3, 4]) }),
    ).rejects.toThrow('ATT_PROTOCOL_VIOLATION');
  });

  it('rejects a key frame whose SPS is truncated, without crashing', async () => {
    const formatter = new H264Fmp4Formatter({ kind: 'video' });
    const badSps = Buffer.from([0x67, 0x42]);
    await expect(
      formatter.push({
        timestamp100ns: T0,
        payload: annexB(badSps, testPps(), testSlice(true, 20, 0)),
        isKeyFrame: true,
      }),
    ).rejects.toThrow('SPS that cannot be parsed');
  });

  it('uses NAL types, not only the metadata flag, to find key frames', async () => {
    const frames = stream(5).map((f) => ({ ...f, isKeyFrame: false }));
    const formatter = new H264Fmp4Formatter({ kind: 'video' });
    const { bytes } = await formatAll(formatter, frames);
    expect(formatter.framesDroppedBeforeKeyFrame).toBe(0);
    expect(splitAnnexB(frames[0]!.payload).map((n) => n[0]! & 0x1f)).toEqual([
      NalType.sps,
      NalType.pps,
      NalType.idrSlice,
    ]);
    expect(readBoxes(bytes).map((b) => b.type)).toEqual(['ftyp', 'moov', 'moof', 'mdat']);
  });
});

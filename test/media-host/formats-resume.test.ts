/**
 * Continuing a stored stream after a restart: the pipeline keeps the formatter's resume state with
 * each committed block; a new formatter built from it, fed the frames replayed from the spool after
 * `lastFrameTimestamp100ns`, must extend the blob into one valid stream (no second header, page /
 * fragment numbers and times going on) holding every frame once.
 */
import {
  OpusEncoderPool,
  createStreamFormatterFactory,
  findBox,
  readBoxes,
  readOggPages,
  splitAnnexB,
  type FormatterResumeState,
  type MediaFrame,
  type StreamFormatterOptions,
} from '../../media-host/src/pipeline/formats';
import { annexB, testPps, testSlice, testSps } from '../../media-host/testing/h264-test-streams';
import { sineFrames } from '../../media-host/testing/test-signals';

const T0 = 900_000_000n;

let pool: OpusEncoderPool;
beforeAll(() => {
  pool = new OpusEncoderPool({ workerCount: 1 });
});
afterAll(async () => {
  await pool.close();
});

/**
 * Pushes every frame; "crashes" after the push that returned chunk number `crashAfterChunk`
 * (keeping only the bytes stored up to it and the state taken then), resumes with a new formatter
 * and replays the frames after the state's last frame. Returns the final blob.
 */
async function crashAndResume(
  options: StreamFormatterOptions,
  frames: MediaFrame[],
  crashAfterChunk: number,
) {
  const create = createStreamFormatterFactory({ opusPool: pool });
  const first = create(options);
  const stored: Buffer[] = [];
  let state: FormatterResumeState | undefined;
  for (const frame of frames) {
    const chunks = await first.push(frame);
    stored.push(...chunks.map((c) => c.bytes));
    if (chunks.length > 0 && stored.length >= crashAfterChunk) {
      state = JSON.parse(JSON.stringify(first.getResumeState!())) as FormatterResumeState;
      break;
    }
  }
  await first.close(); // the crash: whatever the formatter still buffered is lost with it
  expect(state).toBeDefined();
  const storedBytes = Buffer.concat(stored);
  expect(state!.byteLength).toBe(storedBytes.length);
  const resumed = create({ ...options, resumeState: state });
  const after: Buffer[] = [];
  const last = BigInt(state!.lastFrameTimestamp100ns);
  for (const frame of frames.filter((f) => f.timestamp100ns > last))
    after.push(...(await resumed.push(frame)).map((c) => c.bytes));
  after.push(...(await resumed.end()).map((c) => c.bytes));
  await resumed.close();
  return {
    blob: Buffer.concat([storedBytes, ...after]),
    state: state!,
    index: resumed.getTimingIndex!(),
  };
}

describe('resuming a stream after a restart', () => {
  const audio = (count: number): MediaFrame[] =>
    sineFrames(440, count).map((payload, i) => ({
      timestamp100ns: T0 + BigInt(i) * 200_000n,
      payload,
    }));

  it('Opus in Ogg: one header, consecutive pages, granules going on, every frame once', async () => {
    const { blob, state, index } = await crashAndResume(
      { kind: 'audio', isLossless: false },
      audio(260),
      2,
    );
    const pages = readOggPages(blob);
    expect(pages.every((p) => p.isChecksumValid)).toBe(true);
    expect(pages.map((p) => p.sequenceNumber)).toEqual(pages.map((_, i) => i));
    expect(
      pages.filter((p) => p.packets[0]?.subarray(0, 8).toString('latin1') === 'OpusHead'),
    ).toHaveLength(1);
    expect(pages.filter((p) => (p.headerType & 0x02) !== 0)).toHaveLength(1);
    const audioPages = pages.slice(2);
    expect(audioPages.flatMap((p) => p.packets)).toHaveLength(261); // 260 frames + the flush packet
    expect(audioPages.at(-1)!.granulePosition).toBe(260n * 960n + 312n);
    expect(state.mediaEndInMs).toBe(2000);
    expect(index.entries[0]!.byteOffset).toBe(state.byteLength);
  });

  it('WAV: the PCM after the header is every frame exactly once', async () => {
    const frames = audio(170);
    const { blob } = await crashAndResume({ kind: 'audio', isLossless: true }, frames, 1);
    expect(blob.subarray(44).equals(Buffer.concat(frames.map((f) => f.payload)))).toBe(true);
  });

  it('fragmented MP4: one init segment, consecutive fragments, continuous decode times, every NAL once', async () => {
    const sps = testSps({ width: 640, height: 360 });
    const pps = testPps();
    const frames: MediaFrame[] = Array.from({ length: 130 }, (_, i) => {
      const key = i % 30 === 0;
      return {
        timestamp100ns: T0 + BigInt(i) * 333_333n,
        payload: key ? annexB(sps, pps, testSlice(true, 800, i)) : annexB(testSlice(false, 150, i)),
        isKeyFrame: key,
      };
    });
    const { blob, index } = await crashAndResume({ kind: 'video', isLossless: false }, frames, 3);
    const boxes = readBoxes(blob);
    expect(boxes.filter((b) => b.type === 'moov')).toHaveLength(1);
    const moofs = boxes.filter((b) => b.type === 'moof');
    expect(moofs.map((m) => findBox(m.children, 'mfhd')!.body.readUInt32BE(4))).toEqual(
      moofs.map((_, i) => i + 1),
    );
    let expected = 0n;
    for (const moof of moofs) {
      expect(findBox(moof.children, 'traf', 'tfdt')!.body.readBigUInt64BE(4)).toBe(expected);
      const trun = findBox(moof.children, 'traf', 'trun')!.body;
      for (let i = 0; i < trun.readUInt32BE(4); i += 1)
        expected += BigInt(trun.readUInt32BE(12 + 12 * i));
    }
    const nals = boxes
      .filter((b) => b.type === 'mdat')
      .flatMap((mdat) => {
        const out: Buffer[] = [];
        for (let p = 0; p < mdat.body.length; p += 4 + mdat.body.readUInt32BE(p))
          out.push(mdat.body.subarray(p + 4, p + 4 + mdat.body.readUInt32BE(p)));
        return out;
      });
    expect(nals).toEqual(frames.flatMap((f) => splitAnnexB(f.payload)));
    expect(index.contentType).toBe('video/mp4; codecs="avc1.42C01E"');
  });

  it('refuses a resume state of another format with a clear error', () => {
    const state: FormatterResumeState = {
      v: 1,
      format: 'wav',
      byteLength: 44,
      mediaEndInMs: 0,
      firstTimestamp100ns: '1',
      lastFrameTimestamp100ns: '1',
      position: { framesStored: 0 },
    };
    expect(() =>
      createStreamFormatterFactory({ opusPool: pool })({
        kind: 'video',
        isLossless: false,
        resumeState: state,
      }),
    ).toThrow('ATT_INVALID_REQUEST');
  });
});

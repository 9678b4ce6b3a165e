import {
  FRAME_HEADER_BYTES,
  MediaFrameDecoder,
  MediaProtocolEncodeError,
  PayloadFormat,
  StreamStateKind,
  decodeFrames,
  encodeFrame,
  type MediaProtocolFrame,
} from './media-protocol';

const sessionId = '0f8fad5b-d9cb-469f-a165-70867728950e';
const base = { sessionId, sequence: 1, timestamp100ns: 638_000_000_000_000_000n, msi: 0 };

function pcm(seed: number, bytes = 640): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 1) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
}

const samples: MediaProtocolFrame[] = [
  { ...base, sequence: 0, type: 'hello', token: 'one-time-token-123' },
  { ...base, type: 'audioMixed', format: PayloadFormat.pcm16k, payload: pcm(1) },
  {
    ...base,
    sequence: 2,
    type: 'audioUnmixed',
    format: PayloadFormat.pcm16k,
    buffers: [
      { msi: 11, originalSenderTimestamp100ns: 5n, payload: pcm(2) },
      { msi: 12, originalSenderTimestamp100ns: 0n, payload: pcm(3) },
      { msi: 13, originalSenderTimestamp100ns: 7n, payload: pcm(4) },
      { msi: 0xfffffffe, originalSenderTimestamp100ns: 9n, payload: pcm(5) },
    ],
  },
  {
    ...base,
    sequence: 3,
    msi: 21,
    type: 'video',
    format: PayloadFormat.h264,
    isKeyFrame: true,
    width: 1280,
    height: 720,
    payload: pcm(6, 5000),
  },
  {
    ...base,
    sequence: 4,
    msi: 31,
    type: 'vbss',
    format: PayloadFormat.h264,
    isKeyFrame: false,
    width: 1920,
    height: 1080,
    payload: pcm(7, 100),
  },
  { ...base, sequence: 5, type: 'dominantSpeaker', dominantMsi: 0xffffffff },
  { ...base, sequence: 6, type: 'activeSpeakers', msis: [11, 12] },
  {
    ...base,
    sequence: 7,
    msi: 21,
    type: 'streamState',
    streamKind: StreamStateKind.video,
    isActive: false,
  },
  { ...base, sequence: 8, type: 'end' },
  { ...base, sequence: 0, type: 'ack', ackedSequence: 8, nextSequence: 9 },
  { ...base, sequence: 0, type: 'error', errorCode: 1, message: 'frame sequence out of order' },
];

describe('media protocol codec', () => {
  it.each(samples.map((frame) => [frame.type, frame] as const))(
    'round-trips a %s frame',
    (_type, frame) => {
      const bytes = encodeFrame(frame);
      const { frames, error } = decodeFrames(bytes);
      expect(error).toBeUndefined();
      expect(frames).toEqual([frame]);
    },
  );

  it('decodes a stream split at every possible byte boundary', () => {
    const all = Buffer.concat(samples.map((f) => encodeFrame(f)));
    for (const cut of [1, 2, 43, 44, 45, 700, 1999, all.length - 1]) {
      const decoder = new MediaFrameDecoder();
      const first = decoder.push(all.subarray(0, cut));
      const second = decoder.push(all.subarray(cut));
      expect(first.error ?? second.error).toBeUndefined();
      expect([...first.frames, ...second.frames]).toEqual(samples);
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const all = Buffer.concat(samples.slice(0, 4).map((f) => encodeFrame(f)));
    const decoder = new MediaFrameDecoder();
    const frames: MediaProtocolFrame[] = [];
    for (let i = 0; i < all.length; i += 1)
      frames.push(...decoder.push(all.subarray(i, i + 1)).frames);
    expect(frames).toEqual(samples.slice(0, 4));
    expect(decoder.end()).toBeUndefined();
  });

  it('reports a payload longer than the limit as oversized before reading it', () => {
    const bytes = encodeFrame({
      ...base,
      type: 'audioMixed',
      format: PayloadFormat.pcm16k,
      payload: pcm(1, 2000),
    });
    const decoder = new MediaFrameDecoder({ maxPayloadBytes: 1000 });
    const result = decoder.push(bytes.subarray(0, FRAME_HEADER_BYTES));
    expect(result.error?.kind).toBe('oversized');
  });

  it('reports a sequence gap as out of order', () => {
    const a = encodeFrame({ ...base, sequence: 1, type: 'end' });
    const b = encodeFrame({ ...base, sequence: 3, type: 'end' });
    const result = new MediaFrameDecoder({ expectedSequence: 1 }).push(Buffer.concat([a, b]));
    expect(result.frames).toHaveLength(1);
    expect(result.error).toMatchObject({ kind: 'outOfOrder', offset: a.length });
  });

  it('reports bad magic, unknown version and unknown frame type', () => {
    const good = encodeFrame({ ...base, type: 'end' });
    const magic = Buffer.from(good);
    magic[0] = 0;
    const version = Buffer.from(good);
    version[2] = 9;
    const type = Buffer.from(good);
    type[3] = 0x40;
    expect(decodeFrames(magic).error?.kind).toBe('badMagic');
    expect(decodeFrames(version).error?.kind).toBe('unsupportedVersion');
    expect(decodeFrames(type).error?.kind).toBe('unknownFrameType');
  });

  it('reports an unmixed buffer that overruns its payload as malformed', () => {
    const bytes = encodeFrame(samples[2]!);
    bytes.writeUInt32LE(10_000, FRAME_HEADER_BYTES + 4 + 12);
    expect(decodeFrames(bytes).error?.kind).toBe('malformed');
  });

  it('reports a connection that ends inside a frame as truncated', () => {
    const bytes = encodeFrame(samples[1]!);
    const decoder = new MediaFrameDecoder();
    expect(decoder.push(bytes.subarray(0, bytes.length - 1)).frames).toHaveLength(0);
    expect(decoder.end()?.kind).toBe('truncated');
  });

  it('stays spent after an error', () => {
    const decoder = new MediaFrameDecoder();
    decoder.push(Buffer.alloc(FRAME_HEADER_BYTES));
    expect(decoder.push(encodeFrame(samples[1]!)).frames).toHaveLength(0);
    expect(decoder.error?.kind).toBe('badMagic');
  });

  it('refuses to encode more than 4 unmixed buffers or a non-UUID session id', () => {
    const five = Array.from({ length: 5 }, (_, i) => ({
      msi: i,
      originalSenderTimestamp100ns: 0n,
      payload: pcm(i, 4),
    }));
    expect(() =>
      encodeFrame({ ...base, type: 'audioUnmixed', format: PayloadFormat.pcm16k, buffers: five }),
    ).toThrow(MediaProtocolEncodeError);
    expect(() => encodeFrame({ ...base, sessionId: 'nope', type: 'end' })).toThrow(
      MediaProtocolEncodeError,
    );
  });

  describe('fuzz', () => {
    // A fixed-seed generator so a failure reproduces.
    let state = 0x2545f491;
    const next = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 0x100000000;
    };
    const randomBytes = (length: number): Buffer =>
      Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
    const valid = Buffer.concat(samples.map((f) => encodeFrame(f)));

    it('never throws on random input and reports it as an error or needs more bytes', () => {
      for (let i = 0; i < 2000; i += 1) {
        const decoder = new MediaFrameDecoder({ maxPayloadBytes: 64 * 1024, expectedSequence: 1 });
        const input = randomBytes(Math.floor(next() * 300));
        const result = decoder.push(input);
        if (result.error === undefined) {
          expect(decoder.bufferedBytes).toBeLessThanOrEqual(input.length);
        }
        decoder.end();
      }
    });

    it('never throws on valid frames with random bytes flipped, and never returns more frames than sent', () => {
      for (let i = 0; i < 2000; i += 1) {
        const mutated = Buffer.from(valid);
        const flips = 1 + Math.floor(next() * 4);
        for (let f = 0; f < flips; f += 1)
          mutated[Math.floor(next() * mutated.length)] = Math.floor(next() * 256);
        const result = decodeFrames(mutated);
        expect(result.frames.length).toBeLessThanOrEqual(samples.length);
      }
    });

    it('decodes every whole frame of a truncated stream and reports the rest as truncated', () => {
      const lengths = samples.map((f) => encodeFrame(f).length);
      for (let i = 0; i < 120; i += 1) {
        const cut = Math.floor(next() * valid.length);
        const result = decodeFrames(valid.subarray(0, cut));
        let whole = 0;
        let sum = 0;
        for (const length of lengths) {
          if (sum + length > cut) break;
          sum += length;
          whole += 1;
        }
        expect(result.frames).toEqual(samples.slice(0, whole));
        expect(result.error?.kind).toBe(sum === cut ? undefined : 'truncated');
      }
    });
  });
});

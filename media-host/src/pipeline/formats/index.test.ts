import {
  H264Fmp4Formatter,
  OpusEncoderPool,
  OpusOggFormatter,
  WavFormatter,
  createStreamFormatterFactory,
} from './index';

describe('createStreamFormatterFactory', () => {
  let pool: OpusEncoderPool;
  beforeAll(() => {
    pool = new OpusEncoderPool({ workerCount: 1 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('chooses Opus in Ogg for audio by default and WAV when lossless', async () => {
    const create = createStreamFormatterFactory({ opusPool: pool });
    const opus = create({ kind: 'audio', isLossless: false });
    expect(opus).toBeInstanceOf(OpusOggFormatter);
    expect([opus.contentType, opus.extension]).toEqual(['audio/ogg; codecs=opus', 'ogg']);
    await opus.close();
    const wav = create({ kind: 'audio', isLossless: true });
    expect(wav).toBeInstanceOf(WavFormatter);
    expect(wav.extension).toBe('wav');
  });

  it('chooses fragmented MP4 for video and screen share, whatever the lossless switch', () => {
    const create = createStreamFormatterFactory({ opusPool: pool });
    for (const kind of ['video', 'vbss'] as const) {
      const formatter = create({ kind, isLossless: true });
      expect(formatter).toBeInstanceOf(H264Fmp4Formatter);
      expect([formatter.kind, formatter.extension]).toEqual([kind, 'mp4']);
    }
  });
});

/**
 * The simulator's video clips are real H.264 that the media host packages as it would Teams'
 * video: cut into access units without delimiters, key frames with SPS/PPS where the clip says,
 * and the fragmented MP4 formatter reads their size and profile from the SPS.
 */
import {
  H264Fmp4Formatter,
  NalType,
  nalTypeOf,
  parseSps,
  splitAnnexB,
} from '../../media-host/src/pipeline/formats';
import { cameraClip, cutAccessUnits, screenClip } from '../../local/src/simulator/media/clips';

const typesOf = (payload: Buffer) => splitAnnexB(payload).map(nalTypeOf);

describe('simulator video clips', () => {
  it('cuts the camera clip into 60 frames, key frames with SPS and PPS at 0 and 30', () => {
    const clip = cameraClip();
    expect(clip.frames).toHaveLength(60);
    expect(clip.frames.flatMap((f, i) => (f.isKeyFrame ? [i] : []))).toEqual([0, 30]);
    for (const frame of clip.frames) {
      const types = typesOf(frame.payload);
      expect(types).not.toContain(NalType.accessUnitDelimiter);
      if (frame.isKeyFrame)
        expect(types).toEqual(expect.arrayContaining([NalType.sps, NalType.pps, NalType.idrSlice]));
      else expect(types).toEqual([NalType.nonIdrSlice]);
    }
  });

  it('makes every slide of the screen clip a key frame', () => {
    const clip = screenClip();
    expect(clip.frames).toHaveLength(8);
    expect(clip.frames.every((f) => f.isKeyFrame)).toBe(true);
  });

  it('describes each clip with the size its SPS gives, in constrained baseline', () => {
    for (const clip of [cameraClip(), screenClip()]) {
      const sps = splitAnnexB(clip.frames[0]!.payload).find((n) => nalTypeOf(n) === NalType.sps)!;
      expect(parseSps(sps)).toMatchObject({
        profileIdc: 66,
        width: clip.width,
        height: clip.height,
      });
    }
  });

  it('packages a looped camera clip into fragmented MP4 without dropping a frame', async () => {
    const formatter = new H264Fmp4Formatter({ kind: 'video' });
    const frames = [...cameraClip().frames, ...cameraClip().frames];
    for (const [i, frame] of frames.entries())
      await formatter.push({
        timestamp100ns: 10_000_000n + BigInt(i) * 666_667n,
        payload: frame.payload,
        isKeyFrame: frame.isKeyFrame,
      });
    await formatter.end();
    expect(formatter.framesDroppedBeforeKeyFrame).toBe(0);
    expect(formatter.pictureSize).toEqual({ width: 320, height: 180 });
    expect(formatter.contentType).toMatch(/^video\/mp4; codecs="avc1\.42/);
  });

  it('cuts nothing from a stream without delimiters', () => {
    expect(cutAccessUnits(Buffer.from([0, 0, 0, 1, 0x65, 0x88]))).toEqual([]);
  });
});

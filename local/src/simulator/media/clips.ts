/**
 * The simulator's video: short real H.264 clips (constrained baseline, Annex-B, no B-frames),
 * looped, so a recorded camera or screen share decodes to pictures in a browser or ffmpeg.
 * Made once by `local/scripts/make-video-clips.mjs` (the browser's own H.264 encoder) and
 * committed in `clips/`. Every picture carries its frame index along its top edge: eight cells
 * of `CELL_SIZE_IN_PX`, bit 0 on the left, white for 1 and black for 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Side of one cell of the frame index drawn along the top edge of every picture, px. */
export const CELL_SIZE_IN_PX = 24;

export interface VideoClip {
  readonly width: number;
  readonly height: number;
  /** Access units in order, without access unit delimiters (Teams sends none). */
  readonly frames: readonly { readonly payload: Buffer; readonly isKeyFrame: boolean }[];
}

/** Access unit delimiter after a 4-byte start code: where the clip files cut their frames. */
const DELIMITER = Buffer.from([0, 0, 0, 1, 0x09]);
/** Start code, delimiter NAL header and its one payload byte. */
const DELIMITER_LENGTH = 6;
const NAL_IDR_SLICE = 5;

/** Finds a clip next to this file in `src/` (also when running from `dist/`). */
function clipPath(file: string): string {
  const local = join(__dirname, 'clips', file);
  if (existsSync(local)) return local;
  return resolve(__dirname, '..', '..', '..', 'src', 'simulator', 'media', 'clips', file);
}

function isKeyFrame(unit: Buffer): boolean {
  for (let i = 0; i + 3 < unit.length; i++)
    if (
      unit[i] === 0 &&
      unit[i + 1] === 0 &&
      unit[i + 2] === 1 &&
      (unit[i + 3]! & 0x1f) === NAL_IDR_SLICE
    )
      return true;
  return false;
}

/** Cuts an Annex-B stream whose access units each start with a delimiter. */
export function cutAccessUnits(stream: Buffer): VideoClip['frames'] {
  const starts: number[] = [];
  for (let at = stream.indexOf(DELIMITER); at >= 0; at = stream.indexOf(DELIMITER, at + 1))
    starts.push(at);
  return starts.map((start, i) => {
    const payload = stream.subarray(start + DELIMITER_LENGTH, starts[i + 1] ?? stream.length);
    return { payload, isKeyFrame: isKeyFrame(payload) };
  });
}

function load(file: string, width: number, height: number): () => VideoClip {
  let clip: VideoClip | undefined;
  return () => (clip ??= { width, height, frames: cutAccessUnits(readFileSync(clipPath(file))) });
}

/** A camera: 60 frames (4 s at 15 fps), key frames at 0 and 30; a square crosses and returns. */
export const cameraClip = load('camera-320x180-15fps.h264', 320, 180);

/** A shared screen: 8 slides, every one a key frame. */
export const screenClip = load('screen-640x360.h264', 640, 360);

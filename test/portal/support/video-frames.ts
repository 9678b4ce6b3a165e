/**
 * Reads what a `<video>` of the portal's player shows, from its decoded pixels: the frame index
 * the simulator's clips draw along the top edge of every picture (see
 * local/src/simulator/media/clips.ts), one pixel of the picture itself, the element's time and
 * how many frames it has decoded. In-page expressions are strings: the test project has no DOM
 * types.
 */
import type { Page } from 'playwright-core';
import { CELL_SIZE_IN_PX } from '../../../local/src/simulator/media/clips';

export interface ShownPicture {
  /** The clip's frame index read from the picture's top edge. */
  readonly index: number;
  /** Red, green, blue of one pixel of the picture (`at`, in picture pixels). */
  readonly pixel: readonly [number, number, number];
  readonly currentTimeInS: number;
  readonly decodedFrames: number;
  readonly width: number;
  readonly height: number;
}

/** What `selector`'s video shows now, once a picture is decoded and no seek is pending. */
export async function shownPicture(
  page: Page,
  selector: string,
  at: { x: number; y: number },
): Promise<ShownPicture> {
  const read = `(() => {
    const v = document.querySelector(${JSON.stringify(selector)});
    if (v === null || v.readyState < 2 || v.seeking || v.videoWidth === 0) return null;
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0);
    const rgb = (x, y) => [...g.getImageData(x, y, 1, 1).data.slice(0, 3)];
    let index = 0;
    for (let bit = 0; bit < 8; bit++) {
      const [r, gr, b] = rgb(bit * ${CELL_SIZE_IN_PX} + ${CELL_SIZE_IN_PX / 2}, ${CELL_SIZE_IN_PX / 2});
      if (r + gr + b > 384) index |= 1 << bit;
    }
    return {
      index,
      pixel: rgb(${at.x}, ${at.y}),
      currentTimeInS: v.currentTime,
      decodedFrames: v.getVideoPlaybackQuality().totalVideoFrames,
      width: v.videoWidth,
      height: v.videoHeight,
    };
  })()`;
  const handle = await page.waitForFunction(read);
  return (await handle.jsonValue()) as ShownPicture;
}

/** Distance between two frame indices of a looped clip of `length` frames. */
export function loopDistance(a: number, b: number, length: number): number {
  const d = (((a - b) % length) + length) % length;
  return Math.min(d, length - d);
}

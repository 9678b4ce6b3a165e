/** Synthetic media with known content, for tests and benchmarks of the formats. No I/O. */

/** `frameCount` 20 ms frames of a 16 kHz sine at `frequencyInHz`, continuing phase across frames. */
export function sineFrames(
  frequencyInHz: number,
  frameCount: number,
  amplitude = 8000,
  firstSample = 0,
): Buffer[] {
  const frames: Buffer[] = [];
  let t = firstSample;
  for (let f = 0; f < frameCount; f += 1) {
    const frame = Buffer.alloc(640);
    for (let i = 0; i < 320; i += 1, t += 1) {
      frame.writeInt16LE(
        Math.round(amplitude * Math.sin((2 * Math.PI * frequencyInHz * t) / 16_000)),
        i * 2,
      );
    }
    frames.push(frame);
  }
  return frames;
}

export function pcmToSamples(pcm: Buffer): Int16Array {
  const out = new Int16Array(pcm.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = pcm.readInt16LE(i * 2);
  return out;
}

/** Normalised correlation of two equally long sample runs (1 = identical shape). */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** Signal-to-noise ratio in dB of `decoded` against `reference`. */
export function snrInDb(reference: ArrayLike<number>, decoded: ArrayLike<number>): number {
  let signal = 0;
  let noise = 0;
  const n = Math.min(reference.length, decoded.length);
  for (let i = 0; i < n; i += 1) {
    const r = reference[i] ?? 0;
    signal += r * r;
    noise += (r - (decoded[i] ?? 0)) ** 2;
  }
  return 10 * Math.log10(signal / Math.max(noise, 1e-9));
}

/**
 * The shift (in samples, within ±`maxLag`) at which `decoded` best matches `reference`, and the
 * correlation there. Decoding Opus at 16 kHz instead of 48 kHz moves its delay by about a sample.
 */
export function bestAlignment(
  reference: Int16Array,
  decoded: Int16Array,
  maxLag: number,
): { lag: number; correlation: number } {
  let best = { lag: 0, correlation: -2 };
  for (let lag = -maxLag; lag <= maxLag; lag += 1) {
    const from = Math.max(0, -lag);
    const to = Math.min(reference.length, decoded.length - lag);
    const c = correlation(reference.subarray(from, to), decoded.subarray(from + lag, to + lag));
    if (c > best.correlation) best = { lag, correlation: c };
  }
  return best;
}

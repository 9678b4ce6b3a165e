/**
 * Deterministic synthetic media: each speaker's audio is a sine tone whose frequency is derived
 * from the speaker's MSI, so a test can tell who said what by recomputing the expected bytes.
 */

export const SAMPLE_RATE_IN_HZ = 16_000;
export const FRAME_DURATION_IN_MS = 20;
export const SAMPLES_PER_FRAME = (SAMPLE_RATE_IN_HZ * FRAME_DURATION_IN_MS) / 1000;
export const AUDIO_FRAME_BYTES = SAMPLES_PER_FRAME * 2;
/** One 20 ms frame in 100 ns units. */
export const FRAME_DURATION_IN_100NS = BigInt(FRAME_DURATION_IN_MS * 10_000);

/** 250 Hz to 2 kHz in 50 Hz steps, chosen by MSI: distinct for MSIs that differ by less than 36. */
export function toneFrequencyForMsi(msi: number): number {
  return 250 + (msi % 36) * 50;
}

/**
 * The PCM (16-bit little-endian mono) of `msi`'s voice in its `frameIndex`-th 20 ms frame since
 * the call started. Continuous phase across frames.
 */
export function synthesizeAudioFrame(msi: number, frameIndex: number, amplitude = 6000): Buffer {
  const out = Buffer.alloc(AUDIO_FRAME_BYTES);
  const frequency = toneFrequencyForMsi(msi);
  const first = frameIndex * SAMPLES_PER_FRAME;
  for (let i = 0; i < SAMPLES_PER_FRAME; i += 1) {
    const value = Math.round(
      amplitude * Math.sin((2 * Math.PI * frequency * (first + i)) / SAMPLE_RATE_IN_HZ),
    );
    out.writeInt16LE(value, i * 2);
  }
  return out;
}

/** Estimates the dominant frequency of PCM by counting zero crossings (good enough for pure tones). */
export function estimateToneFrequency(pcm: Buffer): number {
  let crossings = 0;
  let previous = pcm.readInt16LE(0);
  for (let offset = 2; offset + 1 < pcm.length; offset += 2) {
    const sample = pcm.readInt16LE(offset);
    if ((previous < 0 && sample >= 0) || (previous >= 0 && sample < 0)) crossings += 1;
    previous = sample;
  }
  const seconds = pcm.length / 2 / SAMPLE_RATE_IN_HZ;
  return crossings / 2 / seconds;
}

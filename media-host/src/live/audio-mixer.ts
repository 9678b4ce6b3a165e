/**
 * Mixes the per-speaker (unmixed) audio of one 20 ms frame into one mono frame: 16-bit samples
 * summed and clipped to the int16 range. Teams delivers up to four speakers' buffers for the same
 * 20 ms in one frame, so mixing needs no jitter buffer and adds no delay.
 */

export const MIX_FRAME_BYTES = 640;

/** Sums 16 kHz 16-bit little-endian PCM buffers with clipping; shorter buffers count as silence. */
export function mixPcm16(buffers: readonly Buffer[], frameBytes = MIX_FRAME_BYTES): Buffer {
  const out = Buffer.alloc(frameBytes);
  if (buffers.length === 1 && buffers[0]?.length === frameBytes) {
    buffers[0].copy(out);
    return out;
  }
  for (let offset = 0; offset + 1 < frameBytes; offset += 2) {
    let sum = 0;
    for (const buffer of buffers) if (offset + 1 < buffer.length) sum += buffer.readInt16LE(offset);
    out.writeInt16LE(sum > 32767 ? 32767 : sum < -32768 ? -32768 : sum, offset);
  }
  return out;
}

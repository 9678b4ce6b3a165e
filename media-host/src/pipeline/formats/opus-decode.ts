/**
 * Decodes an Opus-in-Ogg blob written by {@link OpusOggFormatter} back to 16 kHz mono PCM, with
 * the pre-skip removed and the end trimmed as the last granule says. For tests and offline
 * checks (runs libopus on the calling thread); never on the ingest path.
 */
import OpusScript from 'opusscript';
import { ErrorCode, RecorderError } from '@attest/core';
import { readOggPages } from './ogg';

export function decodeOggOpusToPcm(bytes: Buffer): Buffer {
  const pages = readOggPages(bytes);
  const head = pages[0]?.packets[0];
  if (
    head === undefined ||
    head.subarray(0, 8).toString('latin1') !== 'OpusHead' ||
    pages.length < 2
  ) {
    throw new RecorderError(ErrorCode.InvalidRequest, 'not an Ogg Opus stream');
  }
  if (pages.some((page) => !page.isChecksumValid))
    throw new RecorderError(ErrorCode.IntegrityViolation, 'Ogg page checksum mismatch');
  // Decoding at 16 kHz: 48 kHz sample counts divide by 3.
  const preSkip = Math.round(head.readUInt16LE(10) / 3);
  const decoder = new OpusScript(16_000, 1);
  try {
    const pcm = Buffer.concat(
      pages.slice(2).flatMap((page) => page.packets.map((packet) => decoder.decode(packet))),
    );
    const lastGranule = Number(pages[pages.length - 1]!.granulePosition);
    const end = Math.min(pcm.length, Math.round(lastGranule / 3) * 2);
    return pcm.subarray(preSkip * 2, end);
  } finally {
    decoder.delete();
  }
}

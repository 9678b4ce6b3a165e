/**
 * Plays an interaction's audio lane the way the portal's player does, without a browser: follows
 * the playback plan segment by segment, fetches each segment's capture manifest and stream through
 * the archive's routes, checks every block served against that manifest's SHA-256, decodes the
 * media (WAV, raw 16 kHz PCM or Ogg Opus) and answers what the lane sounds like at any instant.
 */
import { createHash } from 'node:crypto';
import OpusScript from 'opusscript';
import {
  streamMediaPositionInMs,
  type ManifestStream,
  type PlaybackLane,
  type PlaybackPlan,
  type RecordingManifest,
} from '@attest/core';
import { readOggPages } from '../../../media-host/src/pipeline/formats';
import { WAV_HEADER_BYTES } from '../../../media-host/src/pipeline/formats/wav.format';

const SAMPLES_PER_MS = 16;

interface Fetched {
  readonly stream: ManifestStream;
  readonly samples: Int16Array;
}

export interface PlayedLane {
  /** The PCM the lane plays in `[atInMs, atInMs + lengthInMs)` (wall-clock ms), or undefined where nothing plays. */
  pcmAt(atInMs: number, lengthInMs: number): Buffer | undefined;
  /** The capture whose segment plays at `atInMs`. */
  captureAt(atInMs: number): string | undefined;
  /** Blocks checked against their capture's manifest. */
  readonly blocksVerified: number;
}

function decode(contentType: string, bytes: Buffer): Int16Array {
  let pcm: Buffer;
  if (contentType.startsWith('audio/wav')) pcm = bytes.subarray(WAV_HEADER_BYTES);
  else if (contentType.startsWith('audio/L16')) pcm = bytes;
  else if (contentType.startsWith('audio/ogg')) {
    const pages = readOggPages(bytes);
    const head = pages[0]?.packets[0];
    // OpusHead's pre-skip is in 48 kHz samples; the stream decodes at 16 kHz.
    const preSkip = head === undefined ? 0 : head.readUInt16LE(10) / 3;
    const decoder = new OpusScript(16_000, 1);
    const decoded = Buffer.concat(
      pages.slice(2).flatMap((p) => p.packets.map((packet) => decoder.decode(packet))),
    );
    decoder.delete();
    pcm = decoded.subarray(preSkip * 2);
  } else throw new Error(`cannot decode ${contentType}`);
  const aligned = Buffer.from(pcm);
  return new Int16Array(aligned.buffer, aligned.byteOffset, Math.floor(aligned.length / 2));
}

export async function playLane(
  plan: PlaybackPlan,
  lane: PlaybackLane,
  get: (path: string) => Promise<Response>,
): Promise<PlayedLane> {
  const base = `/api/archive/interactions/${plan.tenantId}`;
  const fetched = new Map<string, Fetched>();
  let blocksVerified = 0;
  for (const segment of lane.segments) {
    const key = `${segment.captureId}/${segment.streamId}`;
    if (fetched.has(key)) continue;
    const manifestResponse = await get(`${base}/${segment.captureId}/manifest`);
    if (manifestResponse.status !== 200)
      throw new Error(`manifest of ${segment.captureId}: ${manifestResponse.status}`);
    const { manifestBase64 } = (await manifestResponse.json()) as { manifestBase64: string };
    const manifest = JSON.parse(
      Buffer.from(manifestBase64, 'base64').toString('utf8'),
    ) as RecordingManifest;
    const stream = manifest.streams.find((s) => s.streamId === segment.streamId);
    if (stream === undefined) throw new Error(`${key} is not in its capture's manifest`);
    const media = await get(`${base}/${segment.captureId}/streams/${segment.streamId}`);
    if (media.status !== 200) throw new Error(`stream ${key}: ${media.status}`);
    const bytes = Buffer.from(await media.arrayBuffer());
    for (const block of stream.blocks) {
      const actual = createHash('sha256')
        .update(bytes.subarray(block.offset, block.offset + block.length))
        .digest('hex');
      if (actual !== block.sha256)
        throw new Error(`${key} block ${block.index}: served bytes differ from the manifest`);
      blocksVerified += 1;
    }
    fetched.set(key, { stream, samples: decode(stream.contentType, bytes) });
  }
  const segmentAt = (atInMs: number) =>
    lane.segments.find((s) => Date.parse(s.startedAt) <= atInMs && atInMs < Date.parse(s.endedAt));
  return {
    blocksVerified,
    captureAt: (atInMs) => segmentAt(atInMs)?.captureId,
    pcmAt(atInMs, lengthInMs) {
      const segment = segmentAt(atInMs);
      if (segment === undefined) return undefined;
      const played = fetched.get(`${segment.captureId}/${segment.streamId}`)!;
      const position = streamMediaPositionInMs(played.stream, atInMs);
      if (position === undefined) return undefined;
      const from = Math.round(position * SAMPLES_PER_MS);
      const samples = played.samples.subarray(from, from + lengthInMs * SAMPLES_PER_MS);
      if (samples.length < lengthInMs * SAMPLES_PER_MS) return undefined;
      return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
    },
  };
}

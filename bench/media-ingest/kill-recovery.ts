/**
 * The media ingest benchmark's kill -9: sessions stream on a fresh host for a while, the host is
 * killed with SIGKILL, started again on the same spool and ports, and every session is sealed
 * without the source resending anything. Each stream's stored blocks are decrypted and checked:
 * every frame acknowledged before the kill must be there, in order, once; what was sent but not
 * acknowledged and is missing is the loss of a source that does not keep unacknowledged frames
 * (the bridge keeps them and resends from the host's `nextSequence`, so it loses nothing).
 */
import { createPrivateKey } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import {
  blockAad,
  decryptBlock,
  unwrapDataKey,
  wrappedKeyBlobName,
  type RecordingManifest,
  type WrappedKeyRecord,
} from '@attest/core';
import {
  FRAME_MS,
  openSessions,
  sealSessions,
  SPEAKERS_PER_SESSION,
  streamAll,
  type MediaTarget,
} from './load-generator';
import type { BenchHost } from './stack';

export interface KillRecoveryResult {
  readonly sessions: number;
  readonly streams: number;
  readonly killedAfterInMs: number;
  readonly framesSentBeforeKillPerStream: { readonly min: number; readonly max: number };
  /** Sent but not acknowledged at the kill (what the source must still hold), worst stream. */
  readonly unacknowledgedAtKillMaxInMs: number;
  readonly restartToReadyInMs: number;
  readonly sealAllInMs: number;
  /** Streams whose storage lacks a frame acknowledged before the kill (must be 0). */
  readonly streamsMissingAcknowledgedFrames: number;
  /** Streams with a frame stored twice or out of order (must be 0). */
  readonly streamsWithDuplicateOrDisorderedFrames: number;
  /** Media sent before the kill that is not in storage (a source that resends loses none of it). */
  readonly lostUnacknowledgedMaxInMs: number;
  readonly lostUnacknowledgedMeanInMs: number;
  /** Unacknowledged frames that were durable in the spool anyway and came back after the restart. */
  readonly recoveredUnacknowledgedFrames: number;
}

/**
 * Kill -9 under load: streams for a while, kills the host, starts it again on the same spool, seals
 * every session without resending and checks each stream's stored frames against what was sent
 * and acknowledged before the kill.
 */
export async function runKillRecovery(
  first: BenchHost,
  target: MediaTarget,
  sessionsCount: number,
  killAfterInMs: number,
  startHost: () => Promise<BenchHost>,
  connectionString: string,
  kekPrivateKeyPem: string,
): Promise<KillRecoveryResult> {
  const sessions = await openSessions(
    first.controlUrl,
    target,
    `kill-${sessionsCount}`,
    sessionsCount,
  );
  await streamAll(sessions, killAfterInMs);
  const exited = new Promise((resolve) => first.child.once('exit', resolve));
  first.child.kill('SIGKILL');
  await exited;
  // What the source knew at the kill: nothing acknowledged after this point can count.
  const atKill = sessions.map((s) => ({ sent: s.sent, acked: s.acked }));
  for (const s of sessions) s.socket.destroy();
  const restartStarted = performance.now();
  const second = await startHost();
  const restartToReadyInMs = Math.round(performance.now() - restartStarted);
  const sealStarted = performance.now();
  const summaries = await sealSessions(second.controlUrl, sessions);
  const sealAllInMs = Math.round(performance.now() - sealStarted);

  const service = BlobServiceClient.fromConnectionString(connectionString);
  const recordings = service.getContainerClient('recordings');
  const keys = service.getContainerClient('recordingkeys');
  const kekPrivateKey = createPrivateKey(kekPrivateKeyPem);
  let missing = 0;
  let disordered = 0;
  let recovered = 0;
  const lostInMs: number[] = [];
  const check = async (index: number): Promise<void> => {
    const session = sessions[index]!;
    const { sent, acked } = atKill[index]!;
    const summary = summaries[index]!;
    const manifest = JSON.parse(
      (await recordings.getBlockBlobClient(summary.manifestBlobName).downloadToBuffer()).toString(),
    ) as RecordingManifest;
    const keyRecord = JSON.parse(
      (
        await keys
          .getBlockBlobClient(wrappedKeyBlobName('bench', session.interactionId))
          .downloadToBuffer()
      ).toString(),
    ) as WrappedKeyRecord;
    const dataKey = unwrapDataKey(kekPrivateKey, keyRecord);
    for (let speaker = 0; speaker < SPEAKERS_PER_SESSION; speaker += 1) {
      // The stream's segments in order: audio-100, then audio-100.1 after the restart.
      const segments = manifest.streams
        .filter((st) => st.msi === String(100 + speaker))
        .sort(
          (a, b) => a.streamId.length - b.streamId.length || a.streamId.localeCompare(b.streamId),
        );
      const sequences: number[] = [];
      for (const segment of segments) {
        const blob = await recordings.getBlockBlobClient(segment.blobName).downloadToBuffer();
        for (const block of segment.blocks) {
          const plain = decryptBlock(
            dataKey,
            blockAad(manifest.interactionId, segment.streamId, block.index),
            blob.subarray(block.storedOffset, block.storedOffset + block.storedLength),
          );
          for (let at = 0; at + 640 <= plain.length; at += 640)
            sequences.push(plain.readUInt32LE(at));
        }
      }
      if (!sequences.every((n, i) => n === i + 1)) disordered += 1;
      if (sequences.length < acked) missing += 1;
      recovered += Math.max(0, Math.min(sequences.length, sent) - acked);
      lostInMs.push(Math.max(0, sent - sequences.length) * FRAME_MS);
    }
  };
  for (let i = 0; i < sessions.length; i += 25)
    await Promise.all(sessions.slice(i, i + 25).map((_, j) => check(i + j)));
  const sentCounts = atKill.map((a) => a.sent);
  return {
    sessions: sessionsCount,
    streams: sessionsCount * SPEAKERS_PER_SESSION,
    killedAfterInMs: killAfterInMs,
    framesSentBeforeKillPerStream: { min: Math.min(...sentCounts), max: Math.max(...sentCounts) },
    unacknowledgedAtKillMaxInMs: Math.max(...atKill.map((a) => a.sent - a.acked)) * FRAME_MS,
    restartToReadyInMs,
    sealAllInMs,
    streamsMissingAcknowledgedFrames: missing,
    streamsWithDuplicateOrDisorderedFrames: disordered,
    lostUnacknowledgedMaxInMs: Math.max(...lostInMs),
    lostUnacknowledgedMeanInMs: Math.round(lostInMs.reduce((a, b) => a + b, 0) / lostInMs.length),
    recoveredUnacknowledgedFrames: recovered,
  };
}

/**
 * A session's seal in storage, once it takes no more frames: the frames still queued are written
 * and the commits on their way end; a pause still open becomes a gap; every segment ends (its
 * last blocks committed) and the final checkpoint line is written; then the manifest is built
 * from the whole checkpoint log and stored, signed, beside the streams. What another host does
 * for a lost session from its journal is in `session-adoption.ts`.
 */
import type { SealSummary } from '@attest/core';
import { buildManifest, sealSummaryOf } from './manifest-builder';
import { uploadSignedManifest } from './manifest-upload';
import type { SessionEnvironment } from './session-environment';
import type { SessionParts } from './session-parts';

export type SealEnvironment = Pick<
  SessionEnvironment,
  'now' | 'hostId' | 'softwareVersion' | 'signer' | 'store' | 'container'
>;

export type SealedParts = Pick<
  SessionParts,
  'router' | 'commits' | 'checkpoints' | 'persistence' | 'identity' | 'participants'
>;

export interface SealWritten {
  readonly summary: SealSummary;
  /** When the session was sealed (ISO 8601): the manifest's `sealedAt`. */
  readonly sealedAt: string;
  readonly streamCount: number;
}

/** Writes the session's last blocks, checkpoint and signed manifest; see the module comment. */
export async function writeSeal(env: SealEnvironment, parts: SealedParts): Promise<SealWritten> {
  const { router, commits, checkpoints, persistence, identity } = parts;
  await router.whenIdle();
  await commits.settled();
  const sealedAt = env.now().toISOString();
  persistence.closePause(sealedAt);
  await router.endAll();
  // Every segment's blocks, from the log: the final line first, then the whole log folded.
  await commits.appendCheckpoint(router.processedThrough);
  const manifest = buildManifest({
    request: identity.request,
    sessionId: identity.sessionId,
    mediaHostId: env.hostId,
    softwareVersion: env.softwareVersion,
    signingKeyId: env.signer.keyId,
    kekId: identity.dataKey !== undefined ? identity.kekId : undefined,
    createdAt: identity.createdAt,
    persistingSince: persistence.persistingSince,
    sealedAt,
    participants: parts.participants,
    gaps: persistence.gaps,
    segments: await checkpoints.readAll(),
  });
  const summary = sealSummaryOf(manifest, await uploadSignedManifest(env, manifest));
  return { summary, sealedAt, streamCount: manifest.streams.length };
}

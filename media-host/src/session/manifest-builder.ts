/**
 * The manifest a sealed session writes, and the seal summary handed back: pure functions of the
 * session's request, participants, gaps and every segment's committed blocks (the folded
 * checkpoint log). Signing and uploading are the session's.
 */
import {
  manifestParticipantsOf,
  recordingBlobNames,
  streamSummaryOf,
  streamsMerkleRoot,
  type CreateMediaSessionRequest,
  type ManifestStream,
  type ParticipantMapping,
  type RecordingGap,
  type RecordingManifest,
  type SealSummary,
} from '@attest/core';
import type { StreamWriterState } from '../pipeline/stream-writer';

/** A segment as the manifest lists it; `createdAt` stands in for times a segment never had. */
export function manifestStream(
  s: StreamWriterState,
  participants: ReadonlyMap<string, ParticipantMapping>,
  createdAt: string,
): ManifestStream {
  const participantId = participants.get(s.msi)?.participantId;
  const startedAt = s.firstFrameAt ?? createdAt;
  const endedAt = s.lastFrameAt ?? startedAt;
  const durationInMs =
    s.kind === 'audio'
      ? s.mediaEndInMs
      : s.firstTimestamp100ns !== undefined && s.lastTimestamp100ns !== undefined
        ? Number((BigInt(s.lastTimestamp100ns) - BigInt(s.firstTimestamp100ns)) / 10_000n)
        : 0;
  return {
    streamId: s.streamId,
    kind: s.kind,
    msi: s.msi,
    ...(participantId !== undefined ? { participantId } : {}),
    blobName: s.blobName,
    contentType: s.contentType,
    firstTimestamp100ns: s.firstTimestamp100ns ?? '0',
    lastTimestamp100ns: s.lastTimestamp100ns ?? '0',
    startedAt,
    endedAt,
    durationInMs,
    frameCount: s.frameCount,
    plaintextBytes: s.plaintextBytes,
    storedBytes: s.storedBytes,
    blocks: s.blocks,
    chainHeadSha256: s.chainHeadSha256,
    timeline: s.timeline,
  };
}

export interface ManifestInput {
  readonly request: CreateMediaSessionRequest;
  readonly sessionId: string;
  readonly mediaHostId: string;
  readonly softwareVersion: string;
  readonly signingKeyId: string;
  /** With encryption: the key-encryption key's id. */
  readonly kekId: string | undefined;
  readonly createdAt: string;
  /** When persistence started (the recording's start), if it did. */
  readonly persistingSince: string | undefined;
  readonly sealedAt: string;
  readonly participants: ReadonlyMap<string, ParticipantMapping>;
  readonly gaps: readonly RecordingGap[];
  /** Every segment with its committed blocks; segments without a block are left out. */
  readonly segments: readonly StreamWriterState[];
}

/**
 * The manifest: streams with their blocks, participants, gaps and times. It starts when
 * persistence started (else at the first stream, else at creation) and ends when it was sealed.
 */
export function buildManifest(input: ManifestInput): RecordingManifest {
  const { request } = input;
  const streams = input.segments
    .filter((s) => s.blocks.length > 0)
    .map((s) => manifestStream(s, input.participants, input.createdAt));
  const times = streams.flatMap((s) => [s.startedAt, s.endedAt]).sort();
  const startedAt = input.persistingSince ?? times[0] ?? input.createdAt;
  const names = recordingBlobNames(request.tenantId, request.interactionId);
  return {
    formatVersion: 1,
    tenantId: request.tenantId,
    interactionId: request.interactionId,
    callId: request.callId,
    ...(request.callChainId !== undefined ? { callChainId: request.callChainId } : {}),
    sessionId: input.sessionId,
    mediaHostId: input.mediaHostId,
    softwareVersion: input.softwareVersion,
    signingKeyId: input.signingKeyId,
    ...(input.kekId !== undefined
      ? {
          encryption: {
            alg: 'A256GCM' as const,
            kekId: input.kekId,
            wrappedKeyBlobName: names.wrappedKey,
          },
        }
      : {}),
    startedAt,
    endedAt: input.sealedAt,
    sealedAt: input.sealedAt,
    participants: manifestParticipantsOf(input.participants.values()),
    streams,
    gaps: [...input.gaps],
    merkleRootSha256: streamsMerkleRoot(streams),
  };
}

/** What the seal answers: the manifest's place and hash, and a summary of each stream. */
export function sealSummaryOf(manifest: RecordingManifest, manifestSha256: string): SealSummary {
  return {
    sessionId: manifest.sessionId,
    callId: manifest.callId,
    interactionId: manifest.interactionId,
    manifestBlobName: recordingBlobNames(manifest.tenantId, manifest.interactionId).manifest,
    manifestSha256,
    merkleRootSha256: manifest.merkleRootSha256,
    startedAt: manifest.startedAt,
    endedAt: manifest.endedAt,
    streams: manifest.streams.map(streamSummaryOf),
    gaps: [...manifest.gaps],
  };
}

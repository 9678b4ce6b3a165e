/**
 * Adopting a lost host's session: this host seals, from storage alone, what another media host
 * committed before it was lost (killed, cut off, its disk gone). It reads the session's custody
 * journal (`session-journal.ts`), keeps each segment's journaled blocks (a blob that committed
 * more than the journal lists is cut back to them: their hashes are unknown here; a blob that
 * does not start with them is left out, reported), records the span from the last committed
 * media to `lostUntil` as a `mediaHostLost` gap, and writes the manifest signed with this host's
 * key (every media host of a deployment signs with the deployment's manifest key). Idempotent: a
 * session already sealed (by its host or an earlier adoption) answers its manifest's summary.
 */
import {
  ErrorCode,
  GapReason,
  RecorderError,
  recordingBlobNames,
  sha256Hex,
  type AdoptSessionRequest,
  type ParticipantMapping,
  type RecordingGap,
  type RecordingManifest,
  type SealSummary,
} from '@attest/core';
import type { Logger } from '../logging/logger';
import { blockIdsUpTo, type StreamWriterState } from '../pipeline/stream-writer';
import { foldCheckpoints } from './checkpoint-log';
import { buildManifest, sealSummaryOf } from './manifest-builder';
import { uploadSignedManifest } from './manifest-upload';
import type { SessionEnvironment } from './session-environment';
import { parseJournal } from './session-journal';

export type AdoptionEnvironment = Pick<
  SessionEnvironment,
  'store' | 'container' | 'signer' | 'hostId' | 'now'
> & { readonly logger: Logger };

/** A segment's blocks up to the first one missing from the journal (a line that never arrived). */
function contiguous(segment: StreamWriterState): StreamWriterState {
  const end = segment.blocks.findIndex((block, i) => block.index !== i);
  if (end < 0) return segment;
  const blocks = segment.blocks.slice(0, end);
  const last = blocks.at(-1);
  return {
    ...segment,
    blocks,
    chainHeadSha256: last?.chainSha256 ?? segment.chainHeadSha256,
    plaintextBytes: last === undefined ? 0 : last.offset + last.length,
    storedBytes: last === undefined ? 0 : last.storedOffset + last.storedLength,
  };
}

/** Seals the lost session `sessionId` from storage; see the module comment. */
export async function adoptSession(
  env: AdoptionEnvironment,
  sessionId: string,
  request: AdoptSessionRequest,
): Promise<SealSummary> {
  const { store, container } = env;
  const log = env.logger.child({
    sessionId,
    callId: request.callId,
    interactionId: request.interactionId,
  });
  const names = recordingBlobNames(request.tenantId, request.interactionId);
  const sealed = await store.download(container, names.manifest);
  if (sealed !== undefined) {
    const manifest = JSON.parse(sealed.toString('utf8')) as RecordingManifest;
    if (manifest.sessionId !== sessionId)
      throw new RecorderError(ErrorCode.Conflict, 'the interaction is sealed by another session');
    return sealSummaryOf(manifest, sha256Hex(sealed));
  }
  const bytes = await store.download(container, names.sessionJournal(sessionId));
  const journal = bytes === undefined ? undefined : parseJournal(bytes);
  const session = journal?.session;
  if (journal === undefined || session === undefined)
    throw new RecorderError(ErrorCode.NotFound, 'the session left no journal: nothing committed');
  if (
    session.sessionId !== sessionId ||
    session.request.tenantId !== request.tenantId ||
    session.request.interactionId !== request.interactionId ||
    session.request.callId !== request.callId
  )
    throw new RecorderError(ErrorCode.Conflict, 'the journal belongs to another session');

  const segments: StreamWriterState[] = [];
  for (const journaled of foldCheckpoints([], journal.checkpoints).streams) {
    const segment = contiguous(journaled);
    if (segment.blocks.length === 0) continue;
    const ids = blockIdsUpTo(segment.blocks.length);
    const committed = await store.getCommittedBlockIds(container, segment.blobName);
    if (!ids.every((id, i) => committed[i] === id)) {
      log.error('stored blob does not start with the journaled blocks', {
        streamId: segment.streamId,
      });
      continue;
    }
    if (committed.length > ids.length) {
      // Committed after the last journal line: unhashed here, so not listed; cut back.
      await store.commitBlockList(container, segment.blobName, ids, segment.contentType);
      log.warn('dropped blocks committed after the last journal line', {
        streamId: segment.streamId,
        blockCount: committed.length - ids.length,
      });
    }
    segments.push(segment);
  }

  const sealedAt = env.now().toISOString();
  const lastMediaAt = segments
    .map((s) => s.lastFrameAt)
    .filter((at): at is string => at !== undefined)
    .sort()
    .at(-1);
  const lostFrom = lastMediaAt ?? session.persistingSince ?? session.createdAt;
  const lostUntilCandidate = request.lostUntil ?? sealedAt;
  const lostUntil = lostUntilCandidate > lostFrom ? lostUntilCandidate : lostFrom;
  const gaps: RecordingGap[] = [
    ...session.gaps,
    ...(session.pause === undefined
      ? []
      : [
          {
            startedAt: session.pause.since,
            endedAt: lostUntil,
            reason: session.pause.reason,
            actor: session.pause.actor,
          },
        ]),
    { startedAt: lostFrom, endedAt: lostUntil, reason: GapReason.mediaHostLost },
  ];
  const participants = new Map<string, ParticipantMapping>(
    session.participants.map((p) => [p.msi, p]),
  );
  const manifest: RecordingManifest = {
    ...buildManifest({
      request: session.request,
      sessionId,
      mediaHostId: session.hostId,
      softwareVersion: session.softwareVersion,
      signingKeyId: env.signer.keyId,
      kekId: session.kekId,
      createdAt: session.createdAt,
      persistingSince: session.persistingSince,
      sealedAt,
      participants,
      gaps,
      segments,
    }),
    adoptedByHostId: env.hostId,
  };
  const summary = sealSummaryOf(manifest, await uploadSignedManifest(env, manifest));
  log.info('lost session adopted and sealed', {
    lostHostId: session.hostId,
    streamCount: manifest.streams.length,
  });
  return summary;
}

/**
 * The mappers of a call's participants and streams, one per hop: the lifecycle's history of a
 * participant to its interaction row, the media host's MSI mappings to the manifest's
 * participants, a manifest's stream to the seal's stream summary, and that summary to the
 * interaction's stream row. Pure.
 */
import type { CallParticipant, ParticipantMapping, StreamSummary } from './control-api';
import type { InteractionParticipant, InteractionStream } from './interaction';
import type { ManifestParticipant, ManifestStream } from './manifest';

/**
 * What the call's rosters showed of one participant, as the call lifecycle keeps it (its field
 * names are stored in orchestration state: they only grow by optional fields).
 */
export interface ParticipantHistory extends CallParticipant {
  /** Personal data: never logged. */
  readonly displayName?: string;
  readonly joinedAt: string;
  readonly leftAt?: string;
  readonly wasInLobby: boolean;
  readonly hasShared: boolean;
}

/** The interaction's row of a participant; someone who shared their screen is a `presenter`. */
export function interactionParticipantOf(
  interactionId: string,
  participant: ParticipantHistory,
): InteractionParticipant {
  return {
    interactionId,
    participantId: participant.participantId,
    identityKind: participant.identityKind,
    identityId: participant.identityId,
    displayName: participant.displayName,
    joinedAt: participant.joinedAt,
    leftAt: participant.leftAt,
    msis: participant.msis,
    isInLobby: participant.wasInLobby,
    role: participant.hasShared ? 'presenter' : undefined,
  };
}

/** One entry per participant with every MSI mapped to them, in the order first mapped. */
export function manifestParticipantsOf(
  mappings: Iterable<ParticipantMapping>,
): ManifestParticipant[] {
  const byParticipant = new Map<
    string,
    { identityKind: ManifestParticipant['identityKind']; identityId?: string; msis: string[] }
  >();
  for (const p of mappings) {
    const entry = byParticipant.get(p.participantId) ?? {
      identityKind: p.identityKind,
      ...(p.identityId !== undefined ? { identityId: p.identityId } : {}),
      msis: [],
    };
    entry.msis.push(p.msi);
    byParticipant.set(p.participantId, entry);
  }
  return [...byParticipant].map(([participantId, e]) => ({ participantId, ...e }));
}

/** The interaction's row of a stream the seal reported. */
export function interactionStreamOf(
  interactionId: string,
  stream: StreamSummary,
): InteractionStream {
  return {
    interactionId,
    streamId: stream.streamId,
    kind: stream.kind,
    msi: stream.msi,
    participantId: stream.participantId,
    blobName: stream.blobName,
    bytes: stream.bytes,
    durationInMs: stream.durationInMs,
  };
}

/** The seal's summary of one manifest stream (`bytes` are the stored, encrypted bytes). */
export function streamSummaryOf(stream: ManifestStream): StreamSummary {
  return {
    streamId: stream.streamId,
    kind: stream.kind,
    msi: stream.msi,
    ...(stream.participantId !== undefined ? { participantId: stream.participantId } : {}),
    blobName: stream.blobName,
    contentType: stream.contentType,
    bytes: stream.storedBytes,
    durationInMs: stream.durationInMs,
    blockCount: stream.blocks.length,
    chainHeadSha256: stream.chainHeadSha256,
  };
}

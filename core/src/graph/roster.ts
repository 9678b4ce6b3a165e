/** Roster (participants) notifications → MSI mappings for the media host. Pure. */
import type { CallParticipant, ParticipantMapping, StreamKind } from '../control-api';
import { identityOf } from './invite';
import {
  arrayProp,
  isJsonObject,
  objectProp,
  prop,
  stringProp,
  type JsonObject,
} from './comms-notifications';

/** A participant as one roster notification shows it. */
export interface RosterParticipant extends CallParticipant {
  readonly isInLobby: boolean;
  readonly isMuted: boolean;
  readonly isSharingScreen: boolean;
  readonly isVideoOn: boolean;
  /** Personal data: log only under `pii`. */
  readonly displayName?: string;
}

function streamKind(mediaType: string | undefined): StreamKind | undefined {
  switch ((mediaType ?? '').toLowerCase()) {
    case 'audio':
      return 'audio';
    case 'video':
      return 'video';
    case 'videobasedscreensharing':
      return 'vbss';
    default:
      return undefined;
  }
}

const isTrue = (value: unknown): boolean =>
  value === true || String(value).toLowerCase() === 'true';

/** Compliance recorder bots (ours and others') appear as `applicationInstance`; they are not parties of the call. */
export function isRecorderBot(participant: JsonObject): boolean {
  return (
    objectProp(objectProp(objectProp(participant, 'info'), 'identity'), 'applicationInstance') !==
    undefined
  );
}

export function parseRoster(participants: readonly JsonObject[]): readonly RosterParticipant[] {
  const result: RosterParticipant[] = [];
  for (const participant of participants) {
    const participantId = stringProp(participant, 'id');
    if (participantId === undefined || isRecorderBot(participant)) continue;
    const identity = identityOf(objectProp(objectProp(participant, 'info'), 'identity'));
    const streams = arrayProp(participant, 'mediaStreams').filter(isJsonObject);
    const sending = (kind: StreamKind): boolean =>
      streams.some((s) => {
        const direction = (stringProp(s, 'direction') ?? '').toLowerCase();
        return (
          streamKind(stringProp(s, 'mediaType')) === kind &&
          (direction === 'sendonly' || direction === 'sendreceive')
        );
      });
    result.push({
      participantId,
      identityKind: identity.kind,
      identityId: identity.id,
      displayName: identity.displayName,
      isInLobby: isTrue(prop(participant, 'isInLobby')),
      isMuted: isTrue(prop(participant, 'isMuted')),
      isSharingScreen: sending('vbss'),
      isVideoOn: sending('video'),
      msis: streams
        .map((s) => stringProp(s, 'sourceId'))
        .filter((id): id is string => id !== undefined),
    });
  }
  return result;
}

/** MSI → participant for every stream of a participant who is not in the lobby. */
export function toParticipantMappings(
  participants: readonly JsonObject[],
): readonly ParticipantMapping[] {
  const mappings: ParticipantMapping[] = [];
  for (const participant of participants) {
    if (isTrue(prop(participant, 'isInLobby')) || isRecorderBot(participant)) continue;
    const participantId = stringProp(participant, 'id');
    if (participantId === undefined) continue;
    const identity = identityOf(objectProp(objectProp(participant, 'info'), 'identity'));
    for (const stream of arrayProp(participant, 'mediaStreams').filter(isJsonObject)) {
      const msi = stringProp(stream, 'sourceId');
      const kind = streamKind(stringProp(stream, 'mediaType'));
      if (msi === undefined || kind === undefined) continue;
      mappings.push({
        msi,
        participantId,
        kind,
        identityKind: identity.kind,
        identityId: identity.id,
        pii: identity.displayName === undefined ? undefined : { displayName: identity.displayName },
      });
    }
  }
  return mappings;
}

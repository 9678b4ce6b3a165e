/**
 * Who a lane of the player is: the participant's display name (and number, for a phone caller)
 * as the interaction's participant list holds them, with the participant's id as secondary text.
 * A source no participant is known for is an unknown speaker, named by its media source id.
 */
import type { Participant } from './types';

export interface SpeakerLabel {
  /** What the lane shows. */
  readonly label: string;
  /** Shown on hover and as secondary text: the ids behind the name. */
  readonly labelDetail: string;
}

/** A lane's source: the participant the manifest maps it to, if any, and its media source id. */
export interface SpeakerSource {
  readonly participantId?: string;
  readonly msi?: string;
}

export const unknownSpeaker = (msi: string | undefined): string =>
  msi === undefined ? 'Unknown speaker' : `Unknown speaker (msi ${msi})`;

/** The participant of `source`: by participant id, else the one whose media sources hold its msi. */
export function participantOf(
  source: SpeakerSource,
  participants: readonly Participant[],
): Participant | undefined {
  const { participantId, msi } = source;
  return (
    participants.find((p) => participantId !== undefined && p.participantId === participantId) ??
    participants.find((p) => msi !== undefined && p.msis.includes(msi))
  );
}

/** The words that name `participant`: name, number or both; the id when there is neither. */
export function participantName(participant: Participant): string {
  const number = participant.identityKind === 'phone' ? participant.identityId : undefined;
  const name = participant.displayName?.trim() || undefined;
  if (name !== undefined && number !== undefined && name !== number) return `${name} (${number})`;
  return name ?? number ?? `Participant ${participant.participantId}`;
}

export function speakerLabel(
  source: SpeakerSource,
  participants: readonly Participant[],
): SpeakerLabel {
  const participant = participantOf(source, participants);
  if (participant === undefined)
    return {
      label: unknownSpeaker(source.msi),
      labelDetail: [
        source.participantId === undefined ? undefined : `participant ${source.participantId}`,
        source.msi === undefined ? undefined : `media source ${source.msi}`,
      ]
        .filter((id): id is string => id !== undefined)
        .join(', '),
    };
  const ids = [
    `participant ${participant.participantId}`,
    participant.identityKind !== 'phone' && participant.identityId !== undefined
      ? `${participant.identityKind} ${participant.identityId}`
      : undefined,
    source.msi === undefined ? undefined : `media source ${source.msi}`,
  ].filter((id): id is string => id !== undefined);
  return { label: participantName(participant), labelDetail: ids.join(', ') };
}

/**
 * Everyone the page knows of: the interaction's participant list (names, numbers), then those the
 * signed manifest names that the list lacks (ids only).
 */
export function knownParticipants(
  listed: readonly Participant[],
  manifest: readonly { participantId: string; identityId?: string; msis: readonly string[] }[],
): readonly Participant[] {
  const missing = manifest.filter((m) => !listed.some((p) => p.participantId === m.participantId));
  return [
    ...listed,
    ...missing.map((m) => ({
      participantId: m.participantId,
      identityKind: 'unknown',
      ...(m.identityId === undefined ? {} : { identityId: m.identityId }),
      msis: m.msis,
    })),
  ];
}

/** `lanes` named after their speakers (the loaders name every lane an unknown speaker). */
export function labelLanes<T extends SpeakerSource & { readonly label: string }>(
  lanes: readonly T[],
  participants: readonly Participant[],
): T[] {
  return lanes.map((lane) => ({ ...lane, ...speakerLabel(lane, participants) }));
}

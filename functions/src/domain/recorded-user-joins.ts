/**
 * Policy users who join a call that is already recorded for another policy user. With
 * `participantCapacity` on the answer, Teams sends the recording leg a
 * `participantJoiningNotification` for each further user of the same policy group instead of a
 * new invite (reference/graph-protocol.md §4 step 9). That user is a recorded user of the
 * interaction from then on: search, scope, holds and data subject requests find the call for
 * them. Pure: the patches a read-modify-write of the interaction row applies.
 */
import {
  objectProp,
  parseRoster,
  stringProp,
  type InteractionRecord,
  type JsonObject,
  type RecordedUserPresence,
} from '@attest/core';
import type { InteractionPatch } from './recorder-ports';

export interface JoiningUser {
  readonly userId: string;
  readonly participantId?: string;
}

/** The joining user of a `participantJoiningNotification`, or undefined when it names no user. */
export function joiningUserOf(entity: JsonObject): JoiningUser | undefined {
  const joining = objectProp(entity, 'joiningParticipant');
  const roster = joining === undefined ? [] : parseRoster([{ id: 'joining', ...joining }]);
  const participant = roster[0];
  if (participant?.identityKind !== 'user' || participant.identityId === undefined)
    return undefined;
  const participantId =
    stringProp(entity, 'participantId') ??
    (participant.participantId === 'joining' ? undefined : participant.participantId);
  return {
    userId: participant.identityId,
    ...(participantId === undefined ? {} : { participantId }),
  };
}

type Row = Pick<InteractionRecord, 'recordedUserIds' | 'joinedRecordedUsers'>;

/**
 * The presences with the joining user's added; undefined when this participant's join is already
 * there (a repeated delivery).
 */
export function presencesWithJoin(
  presences: readonly RecordedUserPresence[] | undefined,
  joining: JoiningUser,
  at: string,
): readonly RecordedUserPresence[] | undefined {
  const current = presences ?? [];
  const isRepeat = current.some(
    (p) =>
      p.userId === joining.userId &&
      p.leftAt === undefined &&
      (joining.participantId === undefined || p.participantId === joining.participantId),
  );
  if (isRepeat) return undefined;
  const presence: RecordedUserPresence = {
    userId: joining.userId,
    ...(joining.participantId === undefined ? {} : { participantId: joining.participantId }),
    joinedAt: at,
  };
  return [...current, presence];
}

/** The presences with `participantId`'s ended at `at`; undefined when it is none of theirs. */
export function presencesWithLeave(
  presences: readonly RecordedUserPresence[] | undefined,
  participantId: string,
  at: string,
): readonly RecordedUserPresence[] | undefined {
  const current = presences ?? [];
  if (!current.some((p) => p.participantId === participantId && p.leftAt === undefined))
    return undefined;
  return current.map((p) =>
    p.participantId === participantId && p.leftAt === undefined ? { ...p, leftAt: at } : p,
  );
}

/** The record's recorded-user fields: the invite's users, then every user who joined. */
export function recordedUsersOf(
  invitedUserIds: readonly string[],
  presences: readonly RecordedUserPresence[] | undefined,
): Pick<InteractionRecord, 'recordedUserIds' | 'joinedRecordedUsers'> {
  if (presences === undefined || presences.length === 0) return { recordedUserIds: invitedUserIds };
  return {
    recordedUserIds: [...new Set([...invitedUserIds, ...presences.map((p) => p.userId)])],
    joinedRecordedUsers: presences,
  };
}

/** The live row's patch for a join (undefined: already recorded). */
export function withJoinedUser(
  row: Row,
  joining: JoiningUser,
  at: string,
): InteractionPatch | undefined {
  const presences = presencesWithJoin(row.joinedRecordedUsers, joining, at);
  return presences === undefined ? undefined : recordedUsersOf(row.recordedUserIds, presences);
}

/** The live row's patch for a leave (undefined: the leaver was not a joined recorded user). */
export function withLeftUser(
  row: Row,
  participantId: string,
  at: string,
): InteractionPatch | undefined {
  const presences = presencesWithLeave(row.joinedRecordedUsers, participantId, at);
  return presences === undefined ? undefined : { joinedRecordedUsers: presences };
}

/**
 * The pure rules of the `callLifecycle` orchestration: how a roster changes the participants, when
 * the next keepAlive or health check is due, and where a failed keepAlive leaves the schedule.
 * No I/O, no clock: every time is an argument, so every version of the orchestration replays the
 * same, and the rules have unit tests of their own.
 */
import type { ParticipantHistory, ResultInfo, RosterParticipant } from '@attest/core';
import type { CallLifecycleSettings } from './call-lifecycle.contract';
import type { GraphCallLookup } from './recorder-ports';

export type Participants = Readonly<Record<string, ParticipantHistory>>;

/**
 * Applies a whole roster (Graph's default roster mode) received at `at`: present participants are
 * added or refreshed (their MSIs, lobby and sharing are remembered), missing ones have left.
 */
export function applyRoster(
  known: Participants,
  roster: readonly RosterParticipant[],
  at: string,
): Participants {
  const present = new Set<string>();
  const next: Record<string, ParticipantHistory> = { ...known };
  for (const participant of roster) {
    present.add(participant.participantId);
    const before = next[participant.participantId];
    next[participant.participantId] = {
      participantId: participant.participantId,
      identityKind: participant.identityKind,
      identityId: participant.identityId,
      displayName: participant.displayName,
      joinedAt: before?.joinedAt ?? at,
      msis: [...new Set([...(before?.msis ?? []), ...participant.msis])],
      wasInLobby: (before?.wasInLobby ?? false) || participant.isInLobby,
      hasShared: (before?.hasShared ?? false) || participant.isSharingScreen,
    };
  }
  for (const [id, participant] of Object.entries(next)) {
    if (!present.has(id) && participant.leftAt === undefined)
      next[id] = { ...participant, leftAt: at };
  }
  return next;
}

/** Marks one participant as gone at `at`; unknown or already gone participants are left alone. */
export function markLeft(known: Participants, participantId: string, at: string): Participants {
  const participant = known[participantId];
  if (participant === undefined || participant.leftAt !== undefined) return known;
  return { ...known, [participantId]: { ...participant, leftAt: at } };
}

/** What the schedule looks at. */
export interface ScheduleState {
  readonly phase: 'awaitingEstablished' | 'established';
  readonly lastKeepAliveAt: string;
  readonly lastHealthCheckAt: string;
  readonly isRecordingConfirmed: boolean;
  readonly isMediaHostLost: boolean;
}

type ScheduleSettings = Pick<
  CallLifecycleSettings,
  'keepAliveIntervalInMs' | 'mediaHealthCheckIntervalInMs' | 'establishTimeoutInMs'
>;

/** Whether a keepAlive is due at `nowInMs`. */
export const isKeepAliveDue = (
  state: ScheduleState,
  settings: ScheduleSettings,
  nowInMs: number,
): boolean => nowInMs >= Date.parse(state.lastKeepAliveAt) + settings.keepAliveIntervalInMs;

/** Whether a media health check is due at `nowInMs` (only while media is being persisted). */
export const isHealthCheckDue = (
  state: ScheduleState,
  settings: ScheduleSettings,
  nowInMs: number,
): boolean =>
  !state.isMediaHostLost &&
  state.isRecordingConfirmed &&
  nowInMs >= Date.parse(state.lastHealthCheckAt) + settings.mediaHealthCheckIntervalInMs;

/**
 * When the lifecycle next wakes without an event: the establish deadline before `established`;
 * afterwards the next keepAlive or health check, never in the past.
 */
export function nextDueAt(
  state: ScheduleState,
  settings: ScheduleSettings,
  answeredAt: string,
  nowInMs: number,
): Date {
  if (state.phase === 'awaitingEstablished')
    return new Date(Date.parse(answeredAt) + settings.establishTimeoutInMs);
  let due = Date.parse(state.lastKeepAliveAt) + settings.keepAliveIntervalInMs;
  if (!state.isMediaHostLost && state.isRecordingConfirmed)
    due = Math.min(
      due,
      Date.parse(state.lastHealthCheckAt) + settings.mediaHealthCheckIntervalInMs,
    );
  return new Date(Math.max(due, nowInMs));
}

/**
 * The `lastKeepAliveAt` to record after a failed keepAlive, so the next one is tried `delayInMs`
 * from now (Retry-After or the default delay) rather than a full interval later.
 */
export const keepAliveRetryBase = (
  settings: ScheduleSettings,
  nowInMs: number,
  delayInMs: number,
): string => new Date(nowInMs + delayInMs - settings.keepAliveIntervalInMs).toISOString();

/** Default of `callCheckMinIntervalInMs`. */
export const DEFAULT_CALL_CHECK_MIN_INTERVAL_IN_MS = 60_000;

/**
 * Whether the lifecycle asks Graph for its call now that the function app started: not again
 * within `callCheckMinIntervalInMs` of the last lookup (every instance of a scaled-out app that
 * starts announces itself; one lookup answers them all).
 */
export const isCallCheckDue = (
  lastCallCheckAt: string | undefined,
  settings: Pick<CallLifecycleSettings, 'callCheckMinIntervalInMs'>,
  nowInMs: number,
): boolean =>
  lastCallCheckAt === undefined ||
  nowInMs >=
    Date.parse(lastCallCheckAt) +
      (settings.callCheckMinIntervalInMs ?? DEFAULT_CALL_CHECK_MIN_INTERVAL_IN_MS);

/** What a lookup of the call tells the lifecycle. */
export type CallCheckVerdict =
  /** The call is over: Graph no longer knows it (`callGone`, as a keepAlive's 404) or says so. */
  | {
      readonly kind: 'ended';
      readonly reason: 'terminated' | 'callGone';
      readonly resultInfo?: ResultInfo;
    }
  /** Established while the lifecycle still waits for the notification (it was lost). */
  | { readonly kind: 'established' }
  /** Nothing the lifecycle does not know, or no answer (the next keepAlive asks again). */
  | { readonly kind: 'unchanged' };

/** Judges Graph's answer about the call against the lifecycle's phase. */
export function judgeCallLookup(
  lookup: GraphCallLookup,
  phase: ScheduleState['phase'],
): CallCheckVerdict {
  if (lookup.kind === 'notFound') return { kind: 'ended', reason: 'callGone' };
  if (lookup.kind !== 'found') return { kind: 'unchanged' };
  if (lookup.state === 'terminated')
    return {
      kind: 'ended',
      reason: 'terminated',
      ...(lookup.resultInfo === undefined ? {} : { resultInfo: lookup.resultInfo }),
    };
  if (lookup.state === 'established' && phase === 'awaitingEstablished')
    return { kind: 'established' };
  return { kind: 'unchanged' };
}

/**
 * What a finished call leg captured: its outcome and every span without stored media, decided
 * from the lifecycle's facts and the media host's seal. Pure; the lifecycle orchestration calls
 * it once, at the end, and hands the result to the interaction record.
 *
 * The recorded window runs from Graph's 200 for `recording` (before it nothing may be stored) to
 * the end of the call. `recorded` means media covers that window; a gap inside it makes
 * `recordedWithGaps`; no stored media at all makes `noMedia`. The span from `established` to the
 * 200 is always listed as a `beforeRecordingStatus` gap, but lies outside the recorded window.
 *
 * A media host lost mid-call fails the leg only when nothing of it was sealed: when another host
 * adopted the committed media (its seal lists streams and the lost span as a `mediaHostLost`
 * gap), the leg is decided by its media like any other (`recordedWithGaps`), the lifecycle's and
 * the seal's `mediaHostLost` gaps merged into one span. A lost host's leg with nothing stored
 * stays `failed` with reason `mediaHostLost` and the loss among its gaps.
 *
 * This module is the one owner of a call's gaps: the lifecycle's own (media host loss) and the
 * media host's (from the seal) are merged here and nowhere else. `decideLegacyOutcome` keeps the
 * rules `callLifecycleV1` and `V2` shipped with, for instances that still run them.
 */
import { GapReason, type RecordingGap } from '@attest/core';

export interface StoredStream {
  readonly streamId: string;
  readonly bytes: number;
}

export interface OutcomeFacts {
  /** When the call was established, ISO 8601; absent if it never was. */
  readonly establishedAt?: string;
  /** When Graph confirmed `recording` and the media host started persisting, ISO 8601. */
  readonly recordingConfirmedAt?: string;
  /** Why the call ended (`terminated`, `callGone`, `notEstablished`). */
  readonly endReason: string;
  /** Why recording could not continue (`mediaHostLost`, `recordingStatusNotConfirmed`, `sealFailed`). */
  readonly failureReason?: string;
  readonly endedAt: string;
  /** Gaps the lifecycle saw (media host loss); an open one (`endedAt === startedAt`) ends at `endedAt`. */
  readonly lifecycleGaps: readonly RecordingGap[];
  /** The media host's seal: its streams and the gaps it reported; absent when not sealed. */
  readonly seal?: {
    readonly streams: readonly StoredStream[];
    readonly gaps: readonly RecordingGap[];
  };
}

export type CallOutcome =
  | { readonly outcome: 'recorded'; readonly gaps: readonly RecordingGap[] }
  | { readonly outcome: 'recordedWithGaps'; readonly gaps: readonly RecordingGap[] }
  | {
      readonly outcome: 'noMedia' | 'failed';
      readonly outcomeReason: string;
      readonly gaps: readonly RecordingGap[];
    };

const isLater = (a: string, b: string): boolean => Date.parse(a) > Date.parse(b);

/** Decides the outcome of one call leg; see the module comment for the rules. */
export function decideOutcome(facts: OutcomeFacts): CallOutcome {
  if (facts.establishedAt === undefined) {
    return {
      outcome: 'failed',
      outcomeReason: facts.endReason === 'terminated' ? 'endedBeforeEstablished' : facts.endReason,
      gaps: [],
    };
  }
  const confirmedAt = facts.recordingConfirmedAt;
  const beforeStatusEnd = confirmedAt ?? facts.endedAt;
  const gaps: RecordingGap[] = isLater(beforeStatusEnd, facts.establishedAt)
    ? [
        {
          startedAt: facts.establishedAt,
          endedAt: beforeStatusEnd,
          reason: GapReason.beforeRecordingStatus,
        },
      ]
    : [];
  if (confirmedAt === undefined) {
    return {
      outcome: 'failed',
      outcomeReason: facts.failureReason ?? 'endedBeforeRecordingStatus',
      gaps,
    };
  }
  const inWindow: RecordingGap[] = mergeHostLoss([
    ...facts.lifecycleGaps.map((gap) =>
      gap.endedAt === gap.startedAt ? { ...gap, endedAt: facts.endedAt } : gap,
    ),
    ...(facts.seal?.gaps ?? []),
  ]);
  const streams = facts.seal?.streams ?? [];
  const covered = new Set(inWindow.map((gap) => gap.streamId));
  for (const stream of streams)
    if (stream.bytes === 0 && !covered.has(stream.streamId))
      inWindow.push({
        streamId: stream.streamId,
        startedAt: confirmedAt,
        endedAt: facts.endedAt,
        reason: GapReason.noMediaReceived,
      });
  const hasMedia = streams.some((stream) => stream.bytes > 0);
  // A lost host's leg is decided by its media only when some of it was stored (and adopted).
  const isFailed =
    facts.seal === undefined ||
    (facts.failureReason !== undefined &&
      (facts.failureReason !== GapReason.mediaHostLost || !hasMedia));
  if (isFailed) {
    return {
      outcome: 'failed',
      outcomeReason: facts.failureReason ?? facts.endReason,
      gaps: [...gaps, ...inWindow],
    };
  }
  if (!hasMedia) {
    const whole: RecordingGap = {
      startedAt: confirmedAt,
      endedAt: facts.endedAt,
      reason: GapReason.noMediaReceived,
    };
    return {
      outcome: 'noMedia',
      outcomeReason: GapReason.noMediaReceived,
      gaps: [...gaps, ...inWindow.filter((gap) => gap.streamId !== undefined), whole],
    };
  }
  return inWindow.length > 0
    ? { outcome: 'recordedWithGaps', gaps: [...gaps, ...inWindow] }
    : { outcome: 'recorded', gaps };
}

/** The whole-recording `mediaHostLost` gaps (the lifecycle's, an adoption's) as one span. */
function mergeHostLoss(gaps: readonly RecordingGap[]): RecordingGap[] {
  const isLoss = (gap: RecordingGap): boolean =>
    gap.reason === GapReason.mediaHostLost && gap.streamId === undefined;
  const losses = gaps.filter(isLoss);
  if (losses.length < 2) return [...gaps];
  const startedAt = losses.map((g) => g.startedAt).sort()[0]!;
  const endedAt = losses
    .map((g) => g.endedAt)
    .sort()
    .at(-1)!;
  return [
    ...gaps.filter((gap) => !isLoss(gap)),
    { startedAt, endedAt, reason: GapReason.mediaHostLost },
  ];
}

/** What `callLifecycleV1` and `V2` decide from (they predate the recorded window). */
export interface LegacyOutcomeFacts {
  readonly isEstablished: boolean;
  readonly endReason: string;
  readonly failureReason?: string;
  readonly endedAt: string;
  /** Gaps the lifecycle saw; an open `mediaHostLost` gap ends at `endedAt`. */
  readonly lifecycleGaps: readonly RecordingGap[];
  /** The media host's seal; absent when not sealed. */
  readonly seal?: { readonly gaps: readonly RecordingGap[] };
}

/**
 * The outcome and gaps as `callLifecycleV1` and `V2` shipped them: every gap counts (no
 * recorded window, no `noMedia`), and a missing seal fails the call.
 */
export function decideLegacyOutcome(facts: LegacyOutcomeFacts): CallOutcome {
  const ownGaps = facts.lifecycleGaps.map((gap) =>
    gap.reason === GapReason.mediaHostLost && gap.endedAt === gap.startedAt
      ? { ...gap, endedAt: facts.endedAt }
      : gap,
  );
  const gaps = [...ownGaps, ...(facts.seal?.gaps ?? [])];
  if (!facts.isEstablished)
    return {
      outcome: 'failed',
      outcomeReason: facts.endReason === 'terminated' ? 'endedBeforeEstablished' : facts.endReason,
      gaps,
    };
  if (facts.failureReason !== undefined || facts.seal === undefined)
    return { outcome: 'failed', outcomeReason: facts.failureReason ?? facts.endReason, gaps };
  return { outcome: gaps.length > 0 ? 'recordedWithGaps' : 'recorded', gaps };
}

/**
 * Several recorders, one record: when Teams invites two recorder legs to one call
 * (`ConcurrentInvitationCount = 2` or a paired application), each leg is a *capture* with its
 * own media session, record and signed manifest, and both belong to one *interaction*. This
 * module owns the interaction's id and merges its captures into one timeline: for every interval
 * the capture that covers it, and the interaction's gaps (the intervals no capture covered, with
 * their reasons). Pure; no I/O.
 */
import { sha256Hex } from '../crypto/hash';
import { GapReason, type RecordingGap } from '../control-api';
import type { InteractionOutcome } from '../interaction';

/**
 * The interaction id of a paired call: the same at every function instance that receives one of
 * its invites, from what every leg's invite carries (tenant, call chain, observed participant).
 */
export function pairedInteractionId(
  tenantId: string,
  callChainId: string,
  observedParticipantId: string,
): string {
  const digest = sha256Hex(
    `attest-paired-v1:${tenantId.toLowerCase()}/${callChainId}/${observedParticipantId}`,
  );
  return `ix-${digest.slice(0, 40)}`;
}

/** One capture of an interaction, as the interaction's record lists it. */
export interface InteractionCapture {
  /** The capture's own interaction record id (its recorder leg: `interactionIdForCall`). */
  readonly captureId: string;
  readonly callId: string;
  /** Place among the legs (0 first): the first capture that covers an interval plays it. */
  readonly legIndex: number;
  readonly mediaHostId?: string;
  readonly zone?: string;
  readonly answeredAt?: string;
  /** `inProgress` until the capture's lifecycle finished. */
  readonly outcome: InteractionOutcome;
  readonly outcomeReason?: string;
  /** Graph's 200 for `recording`: the capture may hold media from here. */
  readonly recordingConfirmedAt?: string;
  readonly endedAt?: string;
  /** The capture's own gaps, as its record holds them. */
  readonly gaps: readonly RecordingGap[];
  readonly manifestBlobName?: string;
  readonly manifestSha256?: string;
}

/** One interval of the merged timeline: the capture that covers it, or why none does. */
export interface CoverageInterval {
  readonly startedAt: string;
  readonly endedAt: string;
  /** The covering capture; absent when no capture covered the interval. */
  readonly captureId?: string;
  /** The covering capture misses some streams here (they are listed as the interaction's gaps). */
  readonly isPartial?: boolean;
  /** Why no capture covered it (the first capture's gap reason). */
  readonly reason?: string;
}

export interface MergedCaptures {
  readonly outcome: InteractionOutcome;
  readonly outcomeReason?: string;
  /** The recorded window: the first capture's recording start to the last capture's end. */
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly coverage: readonly CoverageInterval[];
  /** Intervals (of the whole call, or of one stream) that no capture covered, with reasons. */
  readonly gaps: readonly RecordingGap[];
}

interface Span {
  readonly from: number;
  readonly to: number;
}

const ms = (iso: string): number => Date.parse(iso);
const iso = (at: number): string => new Date(at).toISOString();
const overlaps = (gap: RecordingGap, span: Span): boolean =>
  ms(gap.startedAt) < span.to && ms(gap.endedAt) > span.from;

type Cover =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly streamGaps: readonly RecordingGap[] }
  | { readonly kind: 'none'; readonly reason?: string };

/** How one capture covers one elementary interval. */
function coverOf(capture: InteractionCapture, span: Span): Cover {
  const from = capture.recordingConfirmedAt === undefined ? NaN : ms(capture.recordingConfirmedAt);
  const to = capture.endedAt === undefined ? NaN : ms(capture.endedAt);
  const gaps = capture.gaps.filter((gap) => overlaps(gap, span));
  const whole = gaps.find((gap) => gap.streamId === undefined);
  if (!(from <= span.from && span.to <= to) || whole !== undefined)
    return { kind: 'none', reason: whole?.reason ?? gaps[0]?.reason };
  const streamGaps = gaps.filter((gap) => gap.streamId !== undefined);
  return streamGaps.length === 0 ? { kind: 'full' } : { kind: 'partial', streamGaps };
}

/**
 * Merges finished captures. Only sealed captures cover anything (one whose media host was lost
 * before it sealed holds no media that can be verified). The recorded window runs from the first
 * sealed capture's recording start to the last one's end (of those whose
 * media host was not lost, when there is one). An interval is covered by the first capture (by leg) that holds all
 * of it; failing that, by the first that holds some streams (the others are gaps); else it is a
 * gap of the interaction. A gap of one capture that another covers is not a gap of the
 * interaction. The span before Graph's 200 (`beforeRecordingStatus`) is listed as the earliest
 * capture has it.
 */
export function mergeCaptures(captures: readonly InteractionCapture[]): MergedCaptures {
  const legs = [...captures].sort((a, b) => a.legIndex - b.legIndex);
  // Only a sealed capture (a signed manifest) holds media anyone can verify or play back.
  const recorded = legs.filter(
    (c) =>
      c.recordingConfirmedAt !== undefined &&
      c.endedAt !== undefined &&
      c.manifestSha256 !== undefined,
  );
  const first = legs[0];
  if (recorded.length === 0) {
    return {
      outcome: first?.outcome === 'noMedia' ? 'noMedia' : 'failed',
      outcomeReason: first?.outcomeReason ?? 'noCapture',
      coverage: [],
      gaps: legs.flatMap((c) => c.gaps).slice(0, 1),
    };
  }
  const start = Math.min(...recorded.map((c) => ms(c.recordingConfirmedAt!)));
  // A capture whose media host was lost recorded nothing after the loss, and its end is when its
  // lifecycle found out (a health check, the call's end), often after the call ended: the window
  // ends with the captures that recorded to their end, when there is one.
  const lostHost = (c: InteractionCapture): boolean =>
    c.gaps.some((gap) => gap.streamId === undefined && gap.reason === GapReason.mediaHostLost);
  const ending = recorded.filter((c) => !lostHost(c));
  const end = Math.max(...(ending.length > 0 ? ending : recorded).map((c) => ms(c.endedAt!)));
  const points = new Set<number>([start, end]);
  for (const capture of recorded) {
    points.add(ms(capture.recordingConfirmedAt!));
    points.add(ms(capture.endedAt!));
    for (const gap of capture.gaps) {
      points.add(ms(gap.startedAt));
      points.add(ms(gap.endedAt));
    }
  }
  const cuts = [...points].filter((p) => p >= start && p <= end).sort((a, b) => a - b);
  const coverage: CoverageInterval[] = [];
  const gaps: RecordingGap[] = [];
  for (let i = 0; i + 1 < cuts.length; i += 1) {
    const span = { from: cuts[i]!, to: cuts[i + 1]! };
    const covers = recorded.map((capture) => ({ capture, cover: coverOf(capture, span) }));
    const full = covers.find((c) => c.cover.kind === 'full');
    const partial = covers.find((c) => c.cover.kind === 'partial');
    let interval: CoverageInterval;
    if (full !== undefined) {
      interval = {
        startedAt: iso(span.from),
        endedAt: iso(span.to),
        captureId: full.capture.captureId,
      };
    } else if (partial !== undefined && partial.cover.kind === 'partial') {
      interval = {
        startedAt: iso(span.from),
        endedAt: iso(span.to),
        captureId: partial.capture.captureId,
        isPartial: true,
      };
      for (const gap of partial.cover.streamGaps)
        gaps.push({ ...gap, startedAt: iso(span.from), endedAt: iso(span.to) });
    } else {
      const reason =
        covers.map((c) => (c.cover.kind === 'none' ? c.cover.reason : undefined)).find(Boolean) ??
        GapReason.mediaHostLost;
      interval = { startedAt: iso(span.from), endedAt: iso(span.to), reason };
      gaps.push({ startedAt: iso(span.from), endedAt: iso(span.to), reason });
    }
    coverage.push(interval);
  }
  const mergedGaps = joinAdjacent(gaps);
  const before = legs
    .flatMap((c) => c.gaps)
    .filter((gap) => gap.reason === GapReason.beforeRecordingStatus && ms(gap.startedAt) < start)
    .sort((a, b) => ms(a.startedAt) - ms(b.startedAt))[0];
  const beforeGaps: RecordingGap[] =
    before === undefined
      ? []
      : [{ startedAt: before.startedAt, endedAt: iso(start), reason: before.reason }];
  const isCovered = coverage.some((c) => c.captureId !== undefined);
  return {
    outcome: !isCovered ? 'noMedia' : mergedGaps.length > 0 ? 'recordedWithGaps' : 'recorded',
    ...(isCovered ? {} : { outcomeReason: GapReason.noMediaReceived }),
    startedAt: iso(start),
    endedAt: iso(end),
    coverage: joinCoverage(coverage),
    gaps: [...beforeGaps, ...mergedGaps],
  };
}

/** Adjacent intervals with the same capture (or the same reason) become one. */
function joinCoverage(intervals: readonly CoverageInterval[]): CoverageInterval[] {
  const joined: CoverageInterval[] = [];
  for (const interval of intervals) {
    const last = joined[joined.length - 1];
    if (
      last !== undefined &&
      last.endedAt === interval.startedAt &&
      last.captureId === interval.captureId &&
      last.isPartial === interval.isPartial &&
      last.reason === interval.reason
    )
      joined[joined.length - 1] = { ...last, endedAt: interval.endedAt };
    else joined.push(interval);
  }
  return joined;
}

function joinAdjacent(gaps: readonly RecordingGap[]): RecordingGap[] {
  const joined: RecordingGap[] = [];
  for (const gap of gaps) {
    const index = joined.findIndex(
      (g) => g.endedAt === gap.startedAt && g.streamId === gap.streamId && g.reason === gap.reason,
    );
    if (index >= 0) joined[index] = { ...joined[index]!, endedAt: gap.endedAt };
    else joined.push(gap);
  }
  return joined;
}

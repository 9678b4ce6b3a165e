/**
 * Usage and reliability of the recorder over a period, from its own log of every invite: calls per
 * day by type and outcome, answer and recording-start latency (p50/p99), failures and gaps by
 * reason, completeness and stored bytes. Pure: the route reads the rows and hands them here.
 *
 * Days are the viewer's (a fixed UTC offset in minutes, as the browser gives it); every day of the
 * period is listed, empty ones with zeros, so a chart shows quiet days as quiet. The answer's
 * shape (`Analytics`) is core's: the portal reads the same type.
 */
import type {
  Analytics,
  DayAnalytics,
  InteractionRecord,
  Percentiles,
  ReasonCount,
} from '@attest/core';

export const MAX_ANALYTICS_DAYS = 366;
const DAY_IN_MS = 86_400_000;

/** A call as analytics reads it: the interaction and the bytes its streams stored. */
export interface CallUsage {
  readonly interaction: InteractionRecord;
  readonly storedBytes: number;
}

/** Outcomes that say the recorder did not keep the call. */
const FAILED_OUTCOMES = new Set(['failed', 'rejectedBusy', 'noMedia']);
/** Outcomes left out of completeness: still running, or never recordable by design. */
const NOT_COUNTED = new Set(['inProgress', 'notRecordable']);

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  return {
    count: sorted.length,
    ...(p50 === undefined ? {} : { p50InMs: p50 }),
    ...(p99 === undefined ? {} : { p99InMs: p99 }),
  };
}

const span = (from: string | undefined, to: string | undefined): number | undefined => {
  if (from === undefined || to === undefined) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
};

/** Invite to answer. */
export function answerLatencyInMs(interaction: InteractionRecord): number | undefined {
  return span(interaction.invitedAt, interaction.answeredAt);
}

/**
 * Established to Graph's 200 for `recording`: the `beforeRecordingStatus` gap when the recorder
 * measured one, else answer to the confirmed `recording` status.
 */
export function recordingStartLatencyInMs(interaction: InteractionRecord): number | undefined {
  const before = interaction.gaps.find((g) => g.reason === 'beforeRecordingStatus');
  if (before !== undefined) return span(before.startedAt, before.endedAt);
  const confirmed = interaction.recordingStatusHistory.find(
    (s) => s.status === 'recording' && s.isConfirmed,
  );
  return span(interaction.answeredAt, confirmed?.at);
}

/** The viewer's calendar day of an instant. */
export function dayOf(instant: string | number, utcOffsetInMinutes: number): string {
  const ms = typeof instant === 'number' ? instant : Date.parse(instant);
  return new Date(ms + utcOffsetInMinutes * 60_000).toISOString().slice(0, 10);
}

/** Every day of [from, to) in the viewer's offset. */
export function daysOf(from: string, to: string, utcOffsetInMinutes: number): string[] {
  const days: string[] = [];
  const last = dayOf(Date.parse(to) - 1, utcOffsetInMinutes);
  for (let ms = Date.parse(from); days.length <= MAX_ANALYTICS_DAYS; ms += DAY_IN_MS) {
    const day = dayOf(ms, utcOffsetInMinutes);
    if (days.at(-1) !== day) days.push(day);
    if (day >= last) break;
  }
  return days;
}

const percent = (part: number, whole: number): number | undefined =>
  whole === 0 ? undefined : Math.round((part / whole) * 1000) / 10;

function countBy(target: Map<string, ReasonCount>, reason: string, lengthInMs?: number): void {
  const current = target.get(reason) ?? { reason, count: 0 };
  target.set(reason, {
    reason,
    count: current.count + 1,
    ...(lengthInMs === undefined ? {} : { totalInMs: (current.totalInMs ?? 0) + lengthInMs }),
  });
}

const sortedCounts = (counts: Map<string, ReasonCount>): ReasonCount[] =>
  [...counts.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));

interface DayAccumulator {
  calls: number;
  byType: Record<string, number>;
  byOutcome: Record<string, number>;
  answer: number[];
  recordingStart: number[];
  gaps: number;
  storedBytes: number;
  recordable: number;
  recordedInFull: number;
}

const emptyDay = (): DayAccumulator => ({
  calls: 0,
  byType: {},
  byOutcome: {},
  answer: [],
  recordingStart: [],
  gaps: 0,
  storedBytes: 0,
  recordable: 0,
  recordedInFull: 0,
});

/** Aggregates the calls invited in [from, to); calls outside the period are ignored. */
export function buildAnalytics(
  period: { readonly from: string; readonly to: string; readonly utcOffsetInMinutes: number },
  calls: Iterable<CallUsage>,
): Analytics {
  const { from, to, utcOffsetInMinutes } = period;
  const byDay = new Map(daysOf(from, to, utcOffsetInMinutes).map((d) => [d, emptyDay()]));
  const failures = new Map<string, ReasonCount>();
  const gaps = new Map<string, ReasonCount>();
  const fromMs = Date.parse(from);
  const toMs = Date.parse(to);
  for (const { interaction, storedBytes } of calls) {
    const invitedMs = Date.parse(interaction.invitedAt);
    if (!(invitedMs >= fromMs && invitedMs < toMs)) continue;
    const day = byDay.get(dayOf(invitedMs, utcOffsetInMinutes));
    if (day === undefined) continue;
    day.calls += 1;
    day.byType[interaction.type] = (day.byType[interaction.type] ?? 0) + 1;
    day.byOutcome[interaction.outcome] = (day.byOutcome[interaction.outcome] ?? 0) + 1;
    const answer = answerLatencyInMs(interaction);
    if (answer !== undefined) day.answer.push(answer);
    const start = recordingStartLatencyInMs(interaction);
    if (start !== undefined) day.recordingStart.push(start);
    day.storedBytes += storedBytes;
    if (!NOT_COUNTED.has(interaction.outcome)) {
      day.recordable += 1;
      if (interaction.outcome === 'recorded') day.recordedInFull += 1;
    }
    if (FAILED_OUTCOMES.has(interaction.outcome))
      countBy(failures, interaction.outcomeReason ?? interaction.outcome);
    for (const gap of interaction.gaps) {
      day.gaps += 1;
      countBy(gaps, gap.reason, span(gap.startedAt, gap.endedAt) ?? 0);
    }
  }
  let cumulative = 0;
  const days: DayAnalytics[] = [];
  for (const [day, d] of byDay) {
    cumulative += d.storedBytes;
    const completeness = percent(d.recordedInFull, d.recordable);
    days.push({
      day,
      calls: d.calls,
      byType: d.byType,
      byOutcome: d.byOutcome,
      answerLatency: percentiles(d.answer),
      recordingStartLatency: percentiles(d.recordingStart),
      gaps: d.gaps,
      storedBytes: d.storedBytes,
      cumulativeStoredBytes: cumulative,
      ...(completeness === undefined ? {} : { completenessPercent: completeness }),
    });
  }
  const all = [...byDay.values()];
  const sum = (f: (d: DayAccumulator) => number) => all.reduce((n, d) => n + f(d), 0);
  const recordable = sum((d) => d.recordable);
  const recordedInFull = sum((d) => d.recordedInFull);
  const completeness = percent(recordedInFull, recordable);
  return {
    from,
    to,
    utcOffsetInMinutes,
    days,
    failures: sortedCounts(failures),
    gaps: sortedCounts(gaps),
    totals: {
      calls: sum((d) => d.calls),
      recordable,
      recordedInFull,
      ...(completeness === undefined ? {} : { completenessPercent: completeness }),
      storedBytes: cumulative,
      answerLatency: percentiles(all.flatMap((d) => d.answer)),
      recordingStartLatency: percentiles(all.flatMap((d) => d.recordingStart)),
    },
  };
}

const csvCell = (value: string | number | undefined): string => {
  if (value === undefined) return '';
  // Every text cell is a day or a `type:`/`outcome:` header: none can start a formula.
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** One row per day, with a column per type and outcome seen in the period. */
export function analyticsCsv(analytics: Analytics): string {
  const types = [...new Set(analytics.days.flatMap((d) => Object.keys(d.byType)))].sort();
  const outcomes = [...new Set(analytics.days.flatMap((d) => Object.keys(d.byOutcome)))].sort();
  const header = [
    'day',
    'calls',
    ...types.map((t) => `type:${t}`),
    ...outcomes.map((o) => `outcome:${o}`),
    'answerP50Ms',
    'answerP99Ms',
    'recordingStartP50Ms',
    'recordingStartP99Ms',
    'gaps',
    'storedBytes',
    'cumulativeStoredBytes',
    'completenessPercent',
  ];
  const rows = analytics.days.map((d) => [
    d.day,
    d.calls,
    ...types.map((t) => d.byType[t] ?? 0),
    ...outcomes.map((o) => d.byOutcome[o] ?? 0),
    d.answerLatency.p50InMs,
    d.answerLatency.p99InMs,
    d.recordingStartLatency.p50InMs,
    d.recordingStartLatency.p99InMs,
    d.gaps,
    d.storedBytes,
    d.cumulativeStoredBytes,
    d.completenessPercent,
  ]);
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

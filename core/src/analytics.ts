/**
 * The analytics the admin API answers with (`GET archive/analytics`): usage and reliability of
 * the recorder over a period, per day in the viewer's offset. The function app builds it
 * (`functions/src/domain/analytics.ts`); the portal's analytics page reads it. Types only.
 */

/** Answer or recording-start latency over a set of calls (nearest-rank percentiles). */
export interface Percentiles {
  /** How many calls had the measurement. */
  readonly count: number;
  readonly p50InMs?: number;
  readonly p99InMs?: number;
}

export interface DayAnalytics {
  /** `YYYY-MM-DD` in the viewer's offset. */
  readonly day: string;
  readonly calls: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly byOutcome: Readonly<Record<string, number>>;
  readonly answerLatency: Percentiles;
  readonly recordingStartLatency: Percentiles;
  readonly gaps: number;
  readonly storedBytes: number;
  /** Stored bytes from the start of the period to the end of this day. */
  readonly cumulativeStoredBytes: number;
  /** Finished recordable calls recorded in full, in percent; absent on a day without one. */
  readonly completenessPercent?: number;
}

export interface ReasonCount {
  readonly reason: string;
  readonly count: number;
  /** Gaps only: their summed length. */
  readonly totalInMs?: number;
}

export interface Analytics {
  readonly from: string;
  readonly to: string;
  readonly utcOffsetInMinutes: number;
  /** Every day of the period, empty ones with zeros. */
  readonly days: readonly DayAnalytics[];
  /** Calls not recorded (failed, busy, no media), by the recorder's reason. */
  readonly failures: readonly ReasonCount[];
  readonly gaps: readonly ReasonCount[];
  readonly totals: {
    readonly calls: number;
    /** Calls that ended and could be recorded (not in progress, not unrecordable by design). */
    readonly recordable: number;
    readonly recordedInFull: number;
    readonly completenessPercent?: number;
    readonly storedBytes: number;
    readonly answerLatency: Percentiles;
    readonly recordingStartLatency: Percentiles;
  };
}

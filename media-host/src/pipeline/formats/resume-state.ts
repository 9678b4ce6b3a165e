/**
 * What a formatter needs to continue a stream whose earlier bytes are already stored, after the
 * media host restarted. JSON-serialisable; the pipeline saves the state taken right after the
 * `push`/`end` call that returned the last chunk of a committed block, and after a restart passes
 * it back as `StreamFormatterOptions.resumeState`, then replays from the spool every frame whose
 * timestamp is after `lastFrameTimestamp100ns`.
 */
import { ErrorCode, RecorderError } from '@attest/core';

export const FormatterResumeFormat = {
  opusOgg: 'opus-ogg',
  wav: 'wav',
  h264Fmp4: 'h264-fmp4',
} as const;
export type FormatterResumeFormat =
  (typeof FormatterResumeFormat)[keyof typeof FormatterResumeFormat];

export interface FormatterResumeState {
  readonly v: 1;
  readonly format: FormatterResumeFormat;
  /** Bytes of the stream already stored. */
  readonly byteLength: number;
  /** Stored media time at the end of those bytes. */
  readonly mediaEndInMs: number;
  /** Timestamp (100 ns, decimal) of the stream's first stored frame. */
  readonly firstTimestamp100ns: string;
  /** Timestamp (100 ns, decimal) of the last frame inside the stored bytes; replay frames after it. */
  readonly lastFrameTimestamp100ns: string;
  /** Format-specific counters. */
  readonly position: Readonly<Record<string, number | string>>;
}

/** Checks a state handed back by the pipeline; throws `ATT_INVALID_REQUEST` when it does not fit. */
export function checkResumeState(
  state: FormatterResumeState,
  format: FormatterResumeFormat,
): FormatterResumeState {
  if (state.v !== 1 || state.format !== format) {
    throw new RecorderError(
      ErrorCode.InvalidRequest,
      'resume state belongs to another stream format',
      {
        details: { expected: format, received: String(state.format) },
      },
    );
  }
  return state;
}

export function positionNumber(state: FormatterResumeState, key: string): number {
  const value = state.position[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RecorderError(ErrorCode.InvalidRequest, 'resume state lacks a counter', {
      details: { key },
    });
  }
  return value;
}

/**
 * Structured JSON log lines for the recorder, in the one shape of every process (core's
 * `formatLogLine`: `level`, `message`, fields). Messages are constant strings; people's identifiers
 * go only under `pii`, which is redacted unless explicitly enabled. Every line about a call
 * carries `callId` / `interactionId`.
 */
import { formatLogLine, type LogLevel } from '@attest/core';

export type { LogLevel };
export type LogFieldValue = string | number | boolean | undefined | null;
export interface LogFields {
  readonly [key: string]: LogFieldValue | Readonly<Record<string, LogFieldValue>>;
}

/** Where lines go: an `InvocationContext`, or anything with the same level methods. */
export interface LogTarget {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface StructuredLog {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): StructuredLog;
}

export function structuredLog(
  target: LogTarget,
  base: LogFields = {},
  options: { showPii?: boolean } = {},
): StructuredLog {
  const emit =
    (level: LogLevel) =>
    (message: string, fields: LogFields = {}): void => {
      target[level](
        formatLogLine(level, message, base, fields, { showPii: options.showPii === true }),
      );
    };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => structuredLog(target, { ...base, ...fields }, options),
  };
}

/** Lets one line per key through per window; counts what it suppressed. */
export class RateLimitedLog {
  readonly #windowInMs: number;
  readonly #now: () => number;
  readonly #lastByKey = new Map<string, { at: number; suppressed: number }>();

  constructor(windowInMs: number, now: () => number = Date.now) {
    this.#windowInMs = windowInMs;
    this.#now = now;
  }

  /** Returns the number of suppressed lines to report when a line may be written, else undefined. */
  admit(key: string): number | undefined {
    const now = this.#now();
    const last = this.#lastByKey.get(key);
    if (last !== undefined && now - last.at < this.#windowInMs) {
      last.suppressed += 1;
      return undefined;
    }
    if (this.#lastByKey.size > 1_000) this.#lastByKey.clear();
    this.#lastByKey.set(key, { at: now, suppressed: 0 });
    return last?.suppressed ?? 0;
  }
}

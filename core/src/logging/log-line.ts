/**
 * The one structured log line shape of every Attest process: a JSON object with `level`,
 * `message` (a constant string), then the line's fields (ids, counts). People's identifiers go
 * only under `pii`, which is written as `[redacted]` unless `showPii` is set. Processes that
 * stamp lines themselves add `time` first. Pure: formatting only; where lines go is the caller's.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Severity order of the levels (a logger writes a line at or above its level). */
export const LOG_LEVEL_RANK: Readonly<Record<LogLevel, number>> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
};

/** The value written in place of a line's `pii` field. */
export const REDACTED = '[redacted]';

export interface LogLineOptions {
  /** ISO time to stamp the line with; absent where the host stamps lines (Azure Functions). */
  readonly time?: string;
  /** Writes `pii` as it is (local troubleshooting only). Default false. */
  readonly showPii?: boolean;
}

/** One line (without the newline) for `message` with `fields` merged over `base`. */
export function formatLogLine(
  level: LogLevel,
  message: string,
  base: Readonly<Record<string, unknown>>,
  fields: Readonly<Record<string, unknown>> | undefined,
  options: LogLineOptions = {},
): string {
  const line: Record<string, unknown> = {
    ...(options.time !== undefined ? { time: options.time } : {}),
    level,
    message,
    ...base,
    ...fields,
  };
  if (line.pii !== undefined && options.showPii !== true) line.pii = REDACTED;
  return JSON.stringify(line);
}

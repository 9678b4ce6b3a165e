/**
 * Structured JSON log lines in the one shape of every process (core's `formatLogLine`: `time`,
 * `level`, `message`, fields). Messages are constant strings; ids go in fields. Personal data only
 * under `pii`, which is always redacted here. Tokens, keys and SAS never appear.
 */
import { formatLogLine, LOG_LEVEL_RANK, type LogLevel } from '@attest/core';

export type { LogLevel };
export type LogFields = Readonly<
  Record<string, string | number | boolean | undefined | Readonly<Record<string, unknown>>>
>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (for example the session and call ids). */
  child(fields: LogFields): Logger;
}

export interface JsonLoggerOptions {
  readonly level?: LogLevel;
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
  readonly base?: LogFields;
}

export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const now = options.now ?? (() => new Date());
  const make = (base: LogFields): Logger => {
    const emit = (lineLevel: LogLevel, message: string, fields?: LogFields): void => {
      if (LOG_LEVEL_RANK[lineLevel] < LOG_LEVEL_RANK[level]) return;
      write(`${formatLogLine(lineLevel, message, base, fields, { time: now().toISOString() })}\n`);
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make({ component: 'media-host', ...options.base });
}

/** Discards everything (tests that do not assert on logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** The message of an unknown thrown value, without stack or payloads. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

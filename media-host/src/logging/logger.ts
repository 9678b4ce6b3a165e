/**
 * Structured JSON log lines. Messages are constant strings; ids go in fields. Personal data only
 * under `pii`, which is redacted unless explicitly enabled. Tokens, keys and SAS never appear.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
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

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

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
      if (rank[lineLevel] < rank[level]) return;
      const merged: Record<string, unknown> = { ...base, ...fields };
      if (merged.pii !== undefined) merged.pii = '[redacted]';
      write(
        `${JSON.stringify({ time: now().toISOString(), level: lineLevel, msg: message, ...merged })}\n`,
      );
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

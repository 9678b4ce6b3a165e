import { formatLogLine } from '@attest/core';

/**
 * Structured JSON log lines of the local host. One object per line; the correlation fields
 * (functionName, invocationId, instanceId, …) travel with every line.
 */
export type HostLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface HostLogRecord {
  readonly time: string;
  readonly level: HostLogLevel;
  readonly message: string;
  readonly [field: string]: unknown;
}

/** Receives every log record of the host and of the functions it runs. */
export type LogSink = (record: HostLogRecord) => void;

const levelRank: Readonly<Record<HostLogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

export function isHostLogLevel(value: unknown): value is HostLogLevel {
  return typeof value === 'string' && value in levelRank;
}

/**
 * Writes each record at or above `minLevel` (default `debug`) as one JSON line (stdout by default),
 * in the one line shape of every process (core's `formatLogLine`: `time`, `level`, `message`,
 * fields; `pii` redacted).
 */
export function jsonLineSink(
  stream: { write(line: string): unknown } = process.stdout,
  minLevel: HostLogLevel = 'debug',
): LogSink {
  return (record) => {
    if (levelRank[record.level] < levelRank[minLevel]) return;
    const { time, level, message, ...fields } = record;
    stream.write(`${formatLogLine(level, message, fields, undefined, { time })}\n`);
  };
}

/** Collects records in memory (tests). */
export function memorySink(): LogSink & { readonly records: HostLogRecord[] } {
  const records: HostLogRecord[] = [];
  const sink = ((record: HostLogRecord) => {
    records.push(record);
  }) as LogSink & { records: HostLogRecord[] };
  sink.records = records;
  return sink;
}

export interface HostLogger {
  log(level: HostLogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void;
  child(fields: Readonly<Record<string, unknown>>): HostLogger;
}

export function createHostLogger(
  sink: LogSink,
  base: Readonly<Record<string, unknown>> = {},
  now: () => Date = () => new Date(),
): HostLogger {
  return {
    log(level, message, fields = {}) {
      sink({ time: now().toISOString(), level, message, ...base, ...fields });
    },
    child(fields) {
      return createHostLogger(sink, { ...base, ...fields }, now);
    },
  };
}

/** Maps the worker's RPC log levels onto the host's. */
export function fromRpcLogLevel(level: string): HostLogLevel {
  switch (level) {
    case 'trace':
    case 'debug':
      return 'debug';
    case 'warning':
      return 'warn';
    case 'error':
    case 'critical':
      return 'error';
    default:
      return 'info';
  }
}

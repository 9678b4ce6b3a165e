/**
 * Reads the app's `host.json` (Functions v2 schema): the settings the local host honours.
 * Lookup: the app root, then each parent folder (so `functions/` uses the repository's root
 * `host.json` in development; deployment packaging copies that file to the package root).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface HostJsonSettings {
  /** Path of the file read, or undefined when none was found (defaults apply). */
  readonly path: string | undefined;
  /** `extensions.http.routePrefix`; default `api`; empty string means no prefix. */
  readonly routePrefix: string;
  /** `extensions.durableTask.hubName`; default `AttestHub`. */
  readonly taskHubName: string;
  /** `extensions.durableTask.maxConcurrentOrchestratorFunctions`; undefined: the engine's default. */
  readonly maxConcurrentOrchestratorFunctions?: number;
  /** `extensions.durableTask.maxConcurrentActivityFunctions`; undefined: the engine's default. */
  readonly maxConcurrentActivityFunctions?: number;
  /** `extensions.queues.maxDequeueCount`; default 5. */
  readonly queueMaxDequeueCount: number;
  /** `extensions.queues.visibilityTimeout` (`hh:mm:ss`); default 0. */
  readonly queueVisibilityTimeoutInMs: number;
  /** `extensions.queues.maxPollingInterval`; default 1 minute, as Azure. */
  readonly queueMaxPollingIntervalInMs: number;
  /** `extensions.queues.batchSize`; default 16. */
  readonly queueBatchSize: number;
  /** `extensions.queues.messageEncoding`: `base64` (default) or `none`. */
  readonly queueMessageEncoding: 'base64' | 'none';
}

export const DEFAULT_TASK_HUB_NAME = 'AttestHub';

/** Parses `hh:mm:ss[.fff]` or `d.hh:mm:ss`, or a number of milliseconds. */
export function parseTimeSpanInMs(value: unknown, setting: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value !== 'string')
    throw new Error(`host.json ${setting} must be a time span like "00:00:30"`);
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/.exec(value.trim());
  if (match === null) throw new Error(`host.json ${setting} must be a time span like "00:00:30"`);
  const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction = '0'] = match;
  return (
    ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 +
    Number(seconds) * 1000 +
    Math.round(Number(`0.${fraction}`) * 1000)
  );
}

export function findHostJson(appRoot: string): string | undefined {
  let folder = resolve(appRoot);
  for (;;) {
    const candidate = join(folder, 'host.json');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}

function objectAt(root: unknown, ...keys: string[]): Record<string, unknown> {
  let current: unknown = root;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null) return {};
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'object' && current !== null
    ? (current as Record<string, unknown>)
    : {};
}

function positiveInteger(value: unknown, fallback: number, setting: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`host.json ${setting} must be a positive integer`);
  }
  return value;
}

/** `{ [name]: n }` when the section sets `name` (a positive integer), else `{}` (the consumer's default). */
function optionalPositiveInteger<K extends string>(
  section: Record<string, unknown>,
  name: K,
  path: string,
): Partial<Record<K, number>> {
  if (section[name] === undefined) return {};
  return { [name]: positiveInteger(section[name], 1, `${path}.${name}`) } as Partial<
    Record<K, number>
  >;
}

function messageEncoding(value: unknown): 'base64' | 'none' {
  if (value === undefined) return 'base64';
  if (typeof value === 'string' && ['base64', 'none'].includes(value.toLowerCase())) {
    return value.toLowerCase() as 'base64' | 'none';
  }
  throw new Error('host.json extensions.queues.messageEncoding must be "base64" or "none"');
}

/** Parses host.json content; throws one clear error for a malformed setting. */
export function parseHostJson(content: unknown, path?: string): HostJsonSettings {
  const http = objectAt(content, 'extensions', 'http');
  const durable = objectAt(content, 'extensions', 'durableTask');
  const queues = objectAt(content, 'extensions', 'queues');
  const routePrefix = http.routePrefix === undefined ? 'api' : http.routePrefix;
  if (typeof routePrefix !== 'string')
    throw new Error('host.json extensions.http.routePrefix must be a string');
  const hubName = durable.hubName === undefined ? DEFAULT_TASK_HUB_NAME : durable.hubName;
  if (typeof hubName !== 'string' || !/^[a-zA-Z][a-zA-Z0-9]{2,44}$/.test(hubName)) {
    throw new Error(
      'host.json extensions.durableTask.hubName must be 3-45 letters and digits, starting with a letter',
    );
  }
  return {
    path,
    routePrefix: routePrefix.replace(/^\/+|\/+$/g, ''),
    taskHubName: hubName,
    ...optionalPositiveInteger(
      durable,
      'maxConcurrentOrchestratorFunctions',
      'extensions.durableTask',
    ),
    ...optionalPositiveInteger(durable, 'maxConcurrentActivityFunctions', 'extensions.durableTask'),
    queueMaxDequeueCount: positiveInteger(
      queues.maxDequeueCount,
      5,
      'extensions.queues.maxDequeueCount',
    ),
    queueVisibilityTimeoutInMs:
      queues.visibilityTimeout === undefined
        ? 0
        : parseTimeSpanInMs(queues.visibilityTimeout, 'extensions.queues.visibilityTimeout'),
    queueMaxPollingIntervalInMs:
      queues.maxPollingInterval === undefined
        ? 60_000
        : parseTimeSpanInMs(queues.maxPollingInterval, 'extensions.queues.maxPollingInterval'),
    queueBatchSize: positiveInteger(queues.batchSize, 16, 'extensions.queues.batchSize'),
    queueMessageEncoding: messageEncoding(queues.messageEncoding),
  };
}

export function readHostJson(appRoot: string): HostJsonSettings {
  const path = findHostJson(appRoot);
  if (path === undefined) return parseHostJson({});
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`host.json at ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseHostJson(content, path);
}

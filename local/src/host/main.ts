/**
 * Local Functions host CLI:
 *
 *   node local/dist/host/main.js --app <entry file | app folder> [--port <n>]
 *
 * Storage (queue triggers, durable engine) comes from `AzureWebJobsStorage`. Prints one JSON
 * line `{"message":"host ready",…}` with the URLs once serving; exits 0 on SIGINT/SIGTERM after
 * a clean shutdown, 2 on bad arguments, 1 when the host cannot start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Clock } from './contracts';
import { resolveAppEntry } from './function-app';
import { systemClock } from './clock';
import {
  loadDurableModule,
  startFunctionsHost,
  DEFAULT_MAX_REQUEST_BODY_IN_BYTES,
} from './functions-host';
import { isHostLogLevel, jsonLineSink, type HostLogLevel } from './log-sink';

export interface HostCliConfig {
  readonly appPath: string;
  readonly port: number;
  readonly maxRequestBodyInBytes: number;
  /** `ATTEST_HOST_LOG_LEVEL`: debug, info (default), warn or error. */
  readonly logLevel: HostLogLevel;
  /**
   * `AzureFunctionsJobHost__extensions__durableTask__hubName` (Azure's app setting override of
   * host.json): the task hub, instead of host.json's.
   */
  readonly taskHubName?: string;
  /**
   * `ATTEST_HOST_JOIN_TASK_HUB=true`: this host is one more instance of a scaled-out app and joins
   * a task hub another live host runs instead of refusing to start.
   */
  readonly joinRunningTaskHub?: boolean;
}

export class UsageError extends Error {}

const usage = 'usage: main.js --app <entry file or app folder> [--port <n>]';

function integerIn(raw: string, name: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * Reads arguments and `ATTEST_HOST_PORT`, `ATTEST_HOST_MAX_REQUEST_BODY_BYTES`,
 * `ATTEST_HOST_LOG_LEVEL`, `ATTEST_HOST_JOIN_TASK_HUB`,
 * `AzureFunctionsJobHost__extensions__durableTask__hubName` (arguments win).
 * Throws {@link UsageError} naming every problem.
 */
export function loadHostCliConfig(argv: readonly string[], env: NodeJS.ProcessEnv): HostCliConfig {
  const args = new Map<string, string>();
  const problems: string[] = [];
  // Node's own parser, lenient so that every problem is named at once (unknown options and
  // positionals come back as tokens instead of throwing on the first).
  const { tokens } = parseArgs({
    args: [...argv],
    options: { app: { type: 'string' }, port: { type: 'string' } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === 'positional') problems.push(`unknown argument ${token.value}`);
    if (token.kind !== 'option') continue;
    if (token.name !== 'app' && token.name !== 'port')
      problems.push(`unknown argument ${token.rawName}`);
    else if (token.value === undefined || token.value === '')
      problems.push(`${token.rawName} needs a value`);
    else args.set(token.rawName, token.value);
  }
  const appPath = args.get('--app');
  if (appPath === undefined) problems.push('--app is required');
  let port = 0;
  let maxRequestBodyInBytes = DEFAULT_MAX_REQUEST_BODY_IN_BYTES;
  const collect = (fn: () => void): void => {
    try {
      fn();
    } catch (error) {
      problems.push((error as Error).message);
    }
  };
  const rawPort = args.get('--port') ?? env.ATTEST_HOST_PORT;
  if (rawPort !== undefined && rawPort !== '')
    collect(() => (port = integerIn(rawPort, 'port', 0, 65535)));
  const rawLimit = env.ATTEST_HOST_MAX_REQUEST_BODY_BYTES;
  if (rawLimit !== undefined && rawLimit !== '') {
    collect(
      () =>
        (maxRequestBodyInBytes = integerIn(
          rawLimit,
          'ATTEST_HOST_MAX_REQUEST_BODY_BYTES',
          1,
          2 ** 31 - 1,
        )),
    );
  }
  const rawLevel = env.ATTEST_HOST_LOG_LEVEL;
  let logLevel: HostLogLevel = 'info';
  if (rawLevel !== undefined && rawLevel !== '') {
    if (isHostLogLevel(rawLevel)) logLevel = rawLevel;
    else problems.push('ATTEST_HOST_LOG_LEVEL must be debug, info, warn or error');
  }
  const taskHubName = env.AzureFunctionsJobHost__extensions__durableTask__hubName;
  if (
    taskHubName !== undefined &&
    taskHubName !== '' &&
    !/^[a-zA-Z][a-zA-Z0-9]{2,44}$/.test(taskHubName)
  )
    problems.push(
      'AzureFunctionsJobHost__extensions__durableTask__hubName must be 3-45 letters and digits, starting with a letter',
    );
  const rawJoin = env.ATTEST_HOST_JOIN_TASK_HUB;
  if (rawJoin !== undefined && rawJoin !== '' && rawJoin !== 'true' && rawJoin !== 'false')
    problems.push('ATTEST_HOST_JOIN_TASK_HUB must be true or false');
  if (problems.length > 0 || appPath === undefined)
    throw new UsageError(`${problems.join('; ')}\n${usage}`);
  return Object.freeze({
    appPath,
    port,
    maxRequestBodyInBytes,
    logLevel,
    ...(taskHubName === undefined || taskHubName === '' ? {} : { taskHubName }),
    ...(rawJoin === 'true' ? { joinRunningTaskHub: true } : {}),
  });
}

/**
 * Adds the `Values` of `<appRoot>/local.settings.json` (the Core Tools convention; git-ignored)
 * to `env`. Variables already set in the environment win.
 */
export function withLocalSettings(env: NodeJS.ProcessEnv, appRoot: string): NodeJS.ProcessEnv {
  const path = join(appRoot, 'local.settings.json');
  if (!existsSync(path)) return env;
  let values: unknown;
  try {
    values = (JSON.parse(readFileSync(path, 'utf8')) as { Values?: unknown }).Values;
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (values === undefined) return env;
  if (typeof values !== 'object' || values === null)
    throw new Error(`${path}: "Values" must be an object`);
  const merged: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value !== 'string') throw new Error(`${path}: Values.${key} must be a string`);
    merged[key] = value;
  }
  return { ...merged, ...env };
}

/** The host's clock: the durable engine's env-configured clock when present, else system time. */
function hostClock(env: NodeJS.ProcessEnv): Clock {
  const durable = loadDurableModule();
  if (typeof durable !== 'string' && typeof durable.clockFromEnv === 'function') {
    return (durable.clockFromEnv as (e: NodeJS.ProcessEnv) => Clock)(env);
  }
  return systemClock;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let config: HostCliConfig;
  try {
    config = loadHostCliConfig(argv, env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const logSink = jsonLineSink(process.stdout, config.logLevel);
  let appSettings: NodeJS.ProcessEnv;
  try {
    appSettings = withLocalSettings(env, resolveAppEntry(config.appPath).appRoot);
  } catch (error) {
    process.stderr.write(`host failed to start: ${(error as Error).message}\n`);
    return 1;
  }
  // The app reads its settings from process.env, as under Azure Functions.
  Object.assign(process.env, appSettings);
  let host;
  try {
    host = await startFunctionsHost({
      appPath: config.appPath,
      port: config.port,
      maxRequestBodyInBytes: config.maxRequestBodyInBytes,
      clock: hostClock(appSettings),
      logSink,
      appSettings,
      ...(config.taskHubName === undefined
        ? {}
        : { hostSettings: { taskHubName: config.taskHubName } }),
      ...(config.joinRunningTaskHub === true ? { joinRunningTaskHub: true } : {}),
    });
  } catch (error) {
    process.stderr.write(`host failed to start: ${(error as Error).message}\n`);
    return 1;
  }
  // A host that joined another host's task hub serves no management endpoint of its own.
  const durable = host.durable as { rpcBaseUrl?: unknown; isHubOwner?: unknown } | undefined;
  const rpcBaseUrl = durable?.isHubOwner === false ? undefined : durable?.rpcBaseUrl;
  // Written whatever the log level: launchers wait for this line.
  jsonLineSink(process.stdout)({
    time: new Date().toISOString(),
    level: 'info',
    message: 'host ready',
    baseUrl: host.http.baseUrl,
    functionsUrl: host.http.functionsUrl,
    port: host.http.port,
    routes: host.http.routes.map((r) =>
      `${(r.methods ?? ['*']).join(',')} /${host.settings.routePrefix}/${r.template}`.replace(
        '//',
        '/',
      ),
    ),
    durable: host.durable !== undefined,
    ...(typeof durable?.isHubOwner === 'boolean' ? { isTaskHubOwner: durable.isHubOwner } : {}),
    ...(typeof rpcBaseUrl === 'string' ? { durableRpcBaseUrl: rpcBaseUrl } : {}),
    ...(host.durableUnavailableReason !== undefined
      ? { durableUnavailableReason: host.durableUnavailableReason }
      : {}),
    taskHubName: host.settings.taskHubName,
    pid: process.pid,
  });

  const running = host;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // Ctrl-C reaches a whole process group and a parent may follow with SIGTERM: only a
        // second SIGINT (a person pressing Ctrl-C again) skips the clean shutdown.
        if (signal !== 'SIGINT') return;
        process.stderr.write('second SIGINT: exiting without a clean shutdown\n');
        process.exit(1);
      }
      stopping = true;
      running.close().then(
        () => resolve(0),
        (error: unknown) => {
          process.stderr.write(`host shutdown failed: ${(error as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`host crashed: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}

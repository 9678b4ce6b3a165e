/**
 * The local Functions host: loads the app, serves its HTTP triggers, runs its timers and queue
 * triggers, and plugs in the local durable engine when one is available.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Clock, DurableBackend, HostHttpExtension } from './contracts';
import { createBlobTimerStatusStore } from './timer-status-store';
import { systemClock } from './clock';
import { loadFunctionApp, type LoadedFunctionApp } from './function-app';
import { readHostJson, type HostJsonSettings } from './host-config';
import { startHttpTriggerServer, type HttpTriggerServer } from './http-server';
import { createHostLogger, jsonLineSink, type LogSink } from './log-sink';
import { QueuePoller } from './queue-poller';
import { TimerScheduler } from './timer-scheduler';
import type { AppSettings } from './app-settings';

/** Options the host passes to `createLocalDurableEngine` of `local/src/durable`. */
export interface LocalDurableEngineOptions {
  readonly connectionString: string;
  readonly taskHubName: string;
  readonly clock: Clock;
  readonly logSink: LogSink;
  /** Join a task hub another live host runs instead of refusing to start (see the option below). */
  readonly joinRunningHub?: boolean;
}

export type DurableEngineFactory = (
  options: LocalDurableEngineOptions,
) => DurableBackend | Promise<DurableBackend>;

export interface FunctionsHostOptions {
  /** App entry file, or a folder whose package.json `main` is the entry. */
  readonly appPath: string;
  /** HTTP port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** App settings for `%NAME%` and `connection` lookups (the entry point passes `process.env`, as Azure Functions does). */
  readonly appSettings: AppSettings;
  /** Default: the system clock. A manual clock lets tests fast-forward timers. */
  readonly clock?: Clock;
  /** Default: JSON lines on stdout. */
  readonly logSink?: LogSink;
  /** Default 100 MiB (Azure's HTTP request limit). */
  readonly maxRequestBodyInBytes?: number;
  /** Overrides of host.json settings (e.g. a short polling interval in tests). */
  readonly hostSettings?: Partial<Omit<HostJsonSettings, 'path'>>;
  /**
   * The durable engine: a factory, `false` for none, or `'auto'` (default) to use
   * `createLocalDurableEngine` from `local/src/durable` when that module exists.
   */
  readonly durable?: DurableEngineFactory | false | 'auto';
  /**
   * This host is one more instance of a scaled-out app: when another live host runs the task hub,
   * the durable engine joins it (its durable client calls go to that host, which runs the work;
   * it takes the hub over when that host is gone) instead of refusing to start. Default false.
   */
  readonly joinRunningTaskHub?: boolean;
  /** Start background queue polling. Default true; tests use false and call `queues.pollOnce()`. */
  readonly pollQueues?: boolean;
  /**
   * Names this app's timer status in storage (`timers/<hostId>/…`). Default: the app's
   * package.json name, else its folder name. Timer status is kept in storage when
   * `AzureWebJobsStorage` is set, else in memory.
   */
  readonly hostId?: string;
}

export interface FunctionsHost {
  readonly app: LoadedFunctionApp;
  readonly settings: HostJsonSettings;
  readonly http: HttpTriggerServer;
  readonly timers: TimerScheduler;
  readonly queues: QueuePoller;
  readonly durable: DurableBackend | undefined;
  /** Why there is no durable engine, when there is none. */
  readonly durableUnavailableReason: string | undefined;
  /** Stops triggers, the durable engine and the server, then runs `appTerminate` hooks; idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_REQUEST_BODY_IN_BYTES = 100 * 1024 * 1024;

/** The app's package.json name (scope dropped), else its folder name. */
export function defaultHostId(appRoot: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8')) as {
      name?: unknown;
    };
    if (typeof pkg.name === 'string' && pkg.name !== '') return pkg.name.replace(/^@[^/]+\//, '');
  } catch {
    // No package.json: the folder name identifies the app.
  }
  return basename(appRoot);
}

/** The optional durable engine module (`local/src/durable`), or why it is unavailable. */
export function loadDurableModule(): Record<string, unknown> | string {
  try {
    // A computed path: the durable engine is optional at build time.
    const path = ['..', 'durable'].join('/');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' && /[\\/]durable['"]?/.test(String((error as Error).message))) {
      return 'the local durable engine (local/src/durable) is not built';
    }
    throw error;
  }
}

/** Finds `createLocalDurableEngine` in `local/src/durable`, or says why not. */
export function findDurableEngineFactory(): DurableEngineFactory | string {
  const durableModule = loadDurableModule();
  if (typeof durableModule === 'string') return durableModule;
  const factory = durableModule.createLocalDurableEngine;
  if (typeof factory !== 'function')
    return 'local/src/durable does not export createLocalDurableEngine';
  return factory as DurableEngineFactory;
}

export async function startFunctionsHost(options: FunctionsHostOptions): Promise<FunctionsHost> {
  const logSink = options.logSink ?? jsonLineSink();
  const clock = options.clock ?? systemClock;
  const appSettings = options.appSettings;
  const logger = createHostLogger(logSink, { component: 'functions-host' }, () => clock.now());
  const app = await loadFunctionApp(options.appPath, { logSink });
  const settings: HostJsonSettings = { ...readHostJson(app.appRoot), ...options.hostSettings };

  // Everything the host starts is stopped in reverse order if a later step fails.
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) {
      await stop().catch((error: unknown) =>
        logger.log('warn', 'host shutdown step failed', { errorMessage: (error as Error).message }),
      );
    }
    stops.length = 0;
  };

  try {
    let durable: DurableBackend | undefined;
    let durableUnavailableReason: string | undefined;
    const wanted = options.durable ?? 'auto';
    const factory =
      wanted === 'auto'
        ? findDurableEngineFactory()
        : wanted === false
          ? 'disabled by the host options'
          : wanted;
    if (typeof factory === 'string') {
      durableUnavailableReason = factory;
    } else {
      const connectionString = appSettings.AzureWebJobsStorage;
      if (connectionString === undefined || connectionString === '') {
        durableUnavailableReason = 'AzureWebJobsStorage is not set';
      } else {
        durable = await factory({
          connectionString,
          taskHubName: settings.taskHubName,
          clock,
          logSink,
          ...(options.joinRunningTaskHub === true ? { joinRunningHub: true } : {}),
          ...(settings.maxConcurrentOrchestratorFunctions === undefined
            ? {}
            : { maxConcurrentOrchestrations: settings.maxConcurrentOrchestratorFunctions }),
          ...(settings.maxConcurrentActivityFunctions === undefined
            ? {}
            : { maxConcurrentActivities: settings.maxConcurrentActivityFunctions }),
        });
      }
    }
    const durableFunctions = app
      .list()
      .filter((f) =>
        ['orchestrationTrigger', 'activityTrigger', 'entityTrigger'].includes(f.triggerType),
      );
    if (durable === undefined && durableFunctions.length > 0) {
      logger.log('warn', 'durable functions will not run', {
        reason: durableUnavailableReason,
        functionCount: durableFunctions.length,
      });
    }

    const extensions: HostHttpExtension[] = durable?.httpExtension ? [durable.httpExtension] : [];
    const http = await startHttpTriggerServer({
      app,
      logger,
      routePrefix: settings.routePrefix,
      maxRequestBodyInBytes: options.maxRequestBodyInBytes ?? DEFAULT_MAX_REQUEST_BODY_IN_BYTES,
      port: options.port ?? 0,
      extensions,
    });
    stops.push(() => http.close());

    if (durable !== undefined) {
      const engine = durable;
      await engine.start(app, { hostBaseUrl: http.baseUrl });
      stops.push(() => engine.close());
      app.setDurableClientData(() => engine.clientBindingData());
    }

    const storage = appSettings.AzureWebJobsStorage;
    const statusStore =
      storage !== undefined && storage !== ''
        ? createBlobTimerStatusStore(storage, options.hostId ?? defaultHostId(app.appRoot))
        : undefined;
    const timers = new TimerScheduler({ app, clock, logger, appSettings, statusStore });
    stops.push(() => timers.close());
    const queues = new QueuePoller({ app, logger, appSettings, settings });
    stops.push(() => queues.close());
    const hubOwner = durable?.isHubOwner === false ? durable.whenHubOwner?.() : undefined;
    if (hubOwner === undefined) {
      await timers.start();
    } else {
      // Another instance of the app runs the task hub, and its timers: this one starts them when
      // it takes the hub over (missed occurrences then fire as past due, from the status store).
      logger.log('info', 'timer triggers wait for this instance to run the task hub', {
        timers: timers.list().length,
      });
      void hubOwner.then(() =>
        timers.start().catch((error: unknown) =>
          logger.log('error', 'timer triggers failed to start', {
            errorMessage: error instanceof Error ? error.message : String(error),
          }),
        ),
      );
    }
    await queues.start({ poll: options.pollQueues ?? true });

    logger.log('info', 'functions host started', {
      baseUrl: http.baseUrl,
      httpRoutes: http.routes.length,
      timers: timers.list().length,
      queues: queues.list().length,
      durable: durable !== undefined,
    });

    let closing: Promise<void> | undefined;
    return {
      app,
      settings,
      http,
      timers,
      queues,
      durable,
      durableUnavailableReason,
      close() {
        closing ??= (async () => {
          await stopAll();
          await app.terminate();
          logger.log('info', 'functions host stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

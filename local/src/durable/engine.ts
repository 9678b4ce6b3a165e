/**
 * The local durable engine: drives the real `durable-functions` orchestrator handlers with
 * history kept in Azurite Tables, runs activities, fires timers, and serves the management API
 * that `DurableClient` calls. See docs/local-durable.md for the design.
 *
 * This file is the facade: it wires the instance store (`instance-store.ts`), the worker
 * (`worker.ts`: lease, scheduling, episodes, activities, outbox) and the client operations
 * (`client.ts`), and serves them over the management endpoint. An engine that may join a hub
 * another host runs (`joinRunningHub`) serves nothing while that host lives: its durable client
 * calls go to the owner's management endpoint, and it takes the hub over when the owner is gone.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, RecorderError } from '@attest/core';
import type {
  Clock,
  DurableBackend,
  DurableBackendStartContext,
  DurableClientBindingData,
  FunctionInvoker,
  HostHttpExtension,
} from '../host/contracts';
import { createHostLogger, jsonLineSink, type HostLogger, type LogSink } from '../host/log-sink';
import {
  InstanceClient,
  type InstanceFilter,
  type InstanceStatus,
  type StartNewResult,
  type StatusOptions,
} from './client';
import { InstanceStore } from './instance-store';
import {
  createManagementHandler,
  isManagementPath,
  startManagementServer,
  type ManagementServer,
} from './management-server';
import type { HubEndpoint } from './hub-lease';
import { Worker } from './worker';

export { RuntimeStatus, isTerminal, validateInstanceId } from './instance-rows';
export type { InstanceFilter, InstanceStatus, StartNewResult } from './client';

export interface LocalDurableEngineOptions {
  /** Storage account (Azurite) holding the task hub. */
  connectionString: string;
  /** Letters and digits, 3-45 characters; names the table `<hub>Instances` and the blob container. */
  taskHubName: string;
  /** Orchestration time source (timestamps, timer due times). Default: system time. */
  clock?: Clock;
  /** Loopback address of the management endpoint. Default `127.0.0.1`. */
  rpcHost?: string;
  /** Port of the management endpoint; 0 picks a free port. Default 0. */
  rpcPort?: number;
  /**
   * The key the management API requires (Azure: the extension's `durabletask_extension` system
   * key): URL-safe, at least 32 characters. Default: 32 random bytes, base64url, per engine.
   */
  systemKey?: string;
  /**
   * Fallback scan of storage for work (ms). Every enqueue of this engine wakes its workers at
   * once and the hub has one owner, so the scan only finds rows written by other means; it reads
   * the whole table, hence the long default. Default 15 000.
   */
  pollIntervalInMs?: number;
  /** Structured log lines. Default: JSON lines on stdout. */
  logSink?: LogSink;
  /** Episodes run at the same time (different instances). Default 8. */
  maxConcurrentOrchestrations?: number;
  /** Activities run at the same time. Default 16. */
  maxConcurrentActivities?: number;
  /** How long the task hub lease lasts without renewal (wall-clock ms). Default 15 000. */
  leaseDurationInMs?: number;
  /**
   * How long a raised event for a live instance is held in memory for the instance's next
   * episode, which stores it in its own commit, before it is stored as an inbox row instead
   * (wall-clock ms; 0 always stores the row first). The raise is answered only once the event is
   * stored either way. Default 500.
   */
  raiseHoldInMs?: number;
  /**
   * What `start` does when another live host runs the task hub: `false` (default) refuses with
   * `Conflict`; `true` joins it as one more instance of a scaled-out app, as the Durable
   * extension's instances share a hub: the durable client calls of this host's functions go to
   * the owner's management endpoint (published in the hub's lease row), this engine runs no
   * work, and it takes the hub over (and runs its work) once the owner's lease lapses.
   */
  joinRunningHub?: boolean;
}

export interface LocalDurableEngine extends DurableBackend {
  readonly taskHubName: string;
  /**
   * Base URL of the management endpoint (`http://127.0.0.1:<port>/<system key>/durabletask/`);
   * valid after `start`. Holds the key: never log it.
   */
  readonly rpcBaseUrl: string;
  /** The key the management API requires (`?code=` or `x-functions-key`). Never log it. */
  readonly systemKey: string;
  /** Whether this engine runs the hub's work (false while it is a client of another host). */
  readonly isHubOwner: boolean;
  /** Marks due timers' instances ready; call after advancing a manual clock. */
  processDueTimers(): void;
  /** Runs the fallback scan of storage for work now (rows written by other means, crash leftovers). */
  pollOnce(): Promise<void>;
  /** Resolves when nothing is running or ready (due timers included). */
  runUntilIdle(options?: { timeoutInMs?: number }): Promise<void>;
  startNew(
    name: string,
    options?: { instanceId?: string; input?: unknown },
  ): Promise<StartNewResult>;
  getStatus(instanceId: string, options?: StatusOptions): Promise<InstanceStatus | undefined>;
  raiseEvent(
    instanceId: string,
    eventName: string,
    inputJson: string | undefined,
  ): Promise<'accepted' | 'notFound' | 'gone'>;
  terminate(instanceId: string, reason: string): Promise<'accepted' | 'notFound' | 'gone'>;
  purge(instanceId: string): Promise<'purged' | 'notFound' | 'running'>;
  purgeBy(filter: InstanceFilter): Promise<number>;
  listInstances(filter: InstanceFilter): Promise<InstanceStatus[]>;
}

export function createLocalDurableEngine(options: LocalDurableEngineOptions): LocalDurableEngine {
  return new Engine(options);
}

class Engine implements LocalDurableEngine {
  readonly taskHubName: string;
  readonly systemKey: string;
  readonly #options: LocalDurableEngineOptions;
  readonly #log: HostLogger;
  readonly #store: InstanceStore;
  readonly #worker: Worker;
  readonly #client: InstanceClient;
  #server: ManagementServer | undefined;
  #hostBaseUrl: string | undefined;
  /** Serves the management API under `/runtime/webhooks/durabletask/` on the host's own server. */
  readonly httpExtension: HostHttpExtension;
  #started = false;
  #closing: Promise<void> | undefined;
  #isHubOwner = false;
  /** The owner's endpoint while this engine is a client of another host. */
  #joined: HubEndpoint | undefined;
  #watchTimer: NodeJS.Timeout | undefined;
  #isWatching = false;
  #becameOwner!: () => void;
  readonly #ownerPromise = new Promise<void>((resolve) => (this.#becameOwner = resolve));
  #invoker: FunctionInvoker | undefined;

  constructor(options: LocalDurableEngineOptions) {
    this.#options = options;
    this.taskHubName = options.taskHubName;
    this.systemKey = options.systemKey ?? randomBytes(32).toString('base64url');
    if (!/^[A-Za-z0-9_-]{32,}$/.test(this.systemKey))
      throw new RecorderError(
        ErrorCode.ConfigInvalid,
        'systemKey must be at least 32 URL-safe characters (letters, digits, - and _)',
      );
    const clock = options.clock ?? { now: () => new Date() };
    const store = (this.#store = new InstanceStore({
      connectionString: options.connectionString,
      taskHubName: options.taskHubName,
      clock,
    }));
    this.#log = createHostLogger(options.logSink ?? jsonLineSink(), {
      component: 'durable',
      taskHub: options.taskHubName,
    });
    this.#worker = new Worker({
      store,
      taskHubName: options.taskHubName,
      clock,
      log: this.#log,
      maxConcurrentOrchestrations: options.maxConcurrentOrchestrations ?? 8,
      maxConcurrentActivities: options.maxConcurrentActivities ?? 16,
      leaseDurationInMs: options.leaseDurationInMs ?? 15_000,
      pollIntervalInMs: options.pollIntervalInMs ?? 15_000,
      createInstance: (instanceId, name, inputText, parent) =>
        this.#client.createInstance(instanceId, name, inputText, parent),
      endpoint: () =>
        this.#server === undefined
          ? undefined
          : {
              rpcOrigin: this.#server.origin,
              hostBaseUrl: this.#hostBaseUrl,
              systemKey: this.systemKey,
            },
    });
    this.#client = new InstanceClient({
      store,
      held: this.#worker.held,
      scheduler: this.#worker.scheduler,
      episodes: this.#worker.episodes,
      clock,
      log: this.#log,
      invoker: () => this.#worker.invoker,
      isStopped: () => this.#worker.isStopped,
      raiseHoldInMs: options.raiseHoldInMs ?? 500,
    });
    const handler = createManagementHandler(this, { log: this.#log, systemKey: this.systemKey });
    this.httpExtension = {
      handle: async (request, response) => {
        if (this.#server === undefined || !isManagementPath(request.url)) return false;
        await handler(request, response);
        return true;
      },
    };
  }

  get rpcBaseUrl(): string {
    if (this.#server === undefined) throw new Error('the durable engine is not started');
    return `${this.#server.origin}/${this.systemKey}/durabletask/`;
  }

  get isHubOwner(): boolean {
    return this.#isHubOwner;
  }

  whenHubOwner(): Promise<void> {
    return this.#ownerPromise;
  }

  clientBindingData(): DurableClientBindingData {
    // A joined engine hands out the owner's endpoint: the client's calls run where the work runs.
    const endpoint: HubEndpoint | undefined =
      this.#joined ??
      (this.#server === undefined
        ? undefined
        : {
            rpcOrigin: this.#server.origin,
            hostBaseUrl: this.#hostBaseUrl,
            systemKey: this.systemKey,
          });
    if (endpoint === undefined) throw new Error('the durable engine is not started');
    const hub = this.taskHubName;
    // Public webhook URLs point at the host's server when there is one (as in Azure); the
    // client's own calls go to the loopback RPC endpoint.
    const webhooks = `${endpoint.hostBaseUrl ?? endpoint.rpcOrigin}/runtime/webhooks/durabletask`;
    const code = `code=${endpoint.systemKey}`;
    const query = `taskHub=${hub}&connection=Storage&${code}`;
    const instance = `${webhooks}/instances/INSTANCEID`;
    return {
      taskHubName: hub,
      creationUrls: {
        createNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]?${code}`,
        waitOnNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${code}`,
      },
      managementUrls: {
        id: 'INSTANCEID',
        statusQueryGetUri: `${instance}?${query}`,
        sendEventPostUri: `${instance}/raiseEvent/{eventName}?${query}`,
        terminatePostUri: `${instance}/terminate?reason={text}&${query}`,
        rewindPostUri: `${instance}/rewind?reason={text}&${query}`,
        purgeHistoryDeleteUri: `${instance}?${query}`,
        restartPostUri: `${instance}/restart?${query}`,
        suspendPostUri: `${instance}/suspend?reason={text}&${query}`,
        resumePostUri: `${instance}/resume?reason={text}&${query}`,
      },
      baseUrl: webhooks,
      requiredQueryStringParameters: code,
      rpcBaseUrl: `${endpoint.rpcOrigin}/${endpoint.systemKey}/durabletask/`,
      httpBaseUrl: '',
      maxGrpcMessageSizeInBytes: 0,
      grpcHttpClientTimeout: '00:01:40',
    };
  }

  async start(invoker: FunctionInvoker, context?: DurableBackendStartContext): Promise<void> {
    if (this.#started) throw new Error('the durable engine is already started');
    const rpcHost = this.#options.rpcHost ?? '127.0.0.1';
    if (!isLoopback(rpcHost)) {
      throw new RecorderError(
        ErrorCode.ConfigInvalid,
        `rpcHost must be a loopback address (the RPC endpoint is for this host's own clients); got '${rpcHost}'`,
      );
    }
    this.#started = true;
    this.#invoker = invoker;
    this.#hostBaseUrl = context?.hostBaseUrl.replace(/\/+$/, '');
    await this.#store.hub.ensureCreated();
    if (await this.#tryToOwnHub()) return;
    // Another live host runs the hub and this engine may join it: wait until the owner has
    // published its endpoint (it does with its lease), then watch the lease.
    const deadline = Date.now() + this.#leaseDurationInMs();
    for (;;) {
      const owner = await this.#worker.readLeaseOwner();
      if (owner?.isLive === true && owner.endpoint !== undefined) {
        this.#joined = owner.endpoint;
        this.#log.log('info', 'durable engine joined a task hub another host runs', {
          ownerPid: owner.pid,
          rpcOrigin: owner.endpoint.rpcOrigin,
        });
        break;
      }
      if (owner?.isLive !== true && (await this.#tryToOwnHub())) return;
      if (Date.now() > deadline)
        throw new RecorderError(
          ErrorCode.Conflict,
          `task hub '${this.taskHubName}' is run by a host that publishes no management endpoint; stop that host or use another task hub name`,
          { details: { taskHub: this.taskHubName } },
        );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    this.#watchTimer = setInterval(
      () =>
        void this.#watchLease().catch((error: unknown) =>
          this.#log.log('warn', 'task hub lease watch failed', {
            error: error instanceof Error ? error.message.slice(0, 300) : 'unknown',
          }),
        ),
      Math.max(250, Math.floor(this.#leaseDurationInMs() / 3)),
    );
    this.#watchTimer.unref();
  }

  #leaseDurationInMs(): number {
    return this.#options.leaseDurationInMs ?? 15_000;
  }

  /**
   * Serves the management endpoint and takes the hub lease (the row publishes the endpoint), then
   * runs the hub's work. False when another live host holds the lease and this engine may join.
   */
  async #tryToOwnHub(): Promise<boolean> {
    this.#server = await startManagementServer(this, {
      host: this.#options.rpcHost ?? '127.0.0.1',
      port: this.#options.rpcPort ?? 0,
      log: this.#log,
      systemKey: this.systemKey,
    });
    try {
      await this.#worker.acquireLease(this.#invoker as FunctionInvoker);
    } catch (error) {
      const server = this.#server;
      this.#server = undefined;
      await server.close();
      const isTaken = error instanceof RecorderError && error.code === ErrorCode.Conflict;
      if (isTaken && this.#options.joinRunningHub === true) return false;
      throw error;
    }
    try {
      await this.#worker.startPolling();
    } catch (error) {
      await this.#worker.releaseLease();
      await this.#server.close();
      this.#server = undefined;
      throw error;
    }
    this.#isHubOwner = true;
    this.#joined = undefined;
    this.#becameOwner();
    // The RPC base URL holds the system key: log the origin only.
    this.#log.log('info', 'durable engine started', { rpcOrigin: this.#server.origin });
    return true;
  }

  /** A joined engine follows the owner (a restarted owner serves elsewhere) or takes over. */
  async #watchLease(): Promise<void> {
    if (this.#isHubOwner || this.#isWatching || this.#closing !== undefined) return;
    this.#isWatching = true;
    try {
      await this.#followOrTakeOver();
    } finally {
      this.#isWatching = false;
    }
  }

  async #followOrTakeOver(): Promise<void> {
    const owner = await this.#worker.readLeaseOwner();
    if (owner?.isLive === true) {
      if (owner.endpoint !== undefined) this.#joined = owner.endpoint;
      return;
    }
    if (await this.#tryToOwnHub()) {
      if (this.#watchTimer !== undefined) clearInterval(this.#watchTimer);
      this.#watchTimer = undefined;
      this.#log.log('info', 'durable engine took over the task hub', {
        previousOwnerPid: owner?.pid ?? 0,
      });
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#watchTimer !== undefined) clearInterval(this.#watchTimer);
      this.#worker.stop();
      await this.#server?.close();
      await this.#worker.drain();
    })();
    return this.#closing;
  }

  processDueTimers(): void {
    this.#worker.scheduler.processDueTimers();
  }

  pollOnce(): Promise<void> {
    return this.#worker.scan();
  }

  runUntilIdle(options: { timeoutInMs?: number } = {}): Promise<void> {
    return this.#worker.runUntilIdle(options.timeoutInMs ?? 30_000);
  }

  startNew(
    name: string,
    options: { instanceId?: string; input?: unknown } = {},
  ): Promise<StartNewResult> {
    return this.#client.startNew(name, options);
  }

  getStatus(instanceId: string, options: StatusOptions = {}): Promise<InstanceStatus | undefined> {
    return this.#client.getStatus(instanceId, options);
  }

  raiseEvent(
    instanceId: string,
    eventName: string,
    inputJson: string | undefined,
  ): Promise<'accepted' | 'notFound' | 'gone'> {
    return this.#client.raiseEvent(instanceId, eventName, inputJson);
  }

  terminate(instanceId: string, reason: string): Promise<'accepted' | 'notFound' | 'gone'> {
    return this.#client.terminate(instanceId, reason);
  }

  purge(instanceId: string): Promise<'purged' | 'notFound' | 'running'> {
    return this.#client.purge(instanceId);
  }

  purgeBy(filter: InstanceFilter): Promise<number> {
    return this.#client.purgeBy(filter);
  }

  listInstances(filter: InstanceFilter): Promise<InstanceStatus[]> {
    return this.#client.listInstances(filter);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The local durable engine: drives the real `durable-functions` orchestrator handlers with
 * history kept in Azurite Tables, runs activities, fires timers, and serves the management API
 * that `DurableClient` calls. See docs/local-durable.md for the design.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { TableEntity, TransactionAction } from '@azure/data-tables';
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
import { HUB_PARTITION, HubStore, RowKeys, pad, statusOf, type Row } from './hub-store';
import {
  HistoryEventType,
  historyEvents,
  validateHistoryEvent,
  type HistoryEvent,
} from './history-events';
import {
  ActionType,
  LONG_TIMER_INTERVAL,
  Ledger,
  MAXIMUM_SHORT_TIMER,
  flattenActions,
  isSupported,
  nextTimerFireAt,
  retryDelayInMs,
  retryPolicyOf,
  takesId,
  type LedgerEntry,
  type WireAction,
} from './ledger';
import {
  createManagementHandler,
  isManagementPath,
  startManagementServer,
  type ManagementServer,
} from './management-server';

export const RuntimeStatus = {
  Pending: 'Pending',
  Running: 'Running',
  Completed: 'Completed',
  ContinuedAsNew: 'ContinuedAsNew',
  Failed: 'Failed',
  Terminated: 'Terminated',
} as const;
export type RuntimeStatus = (typeof RuntimeStatus)[keyof typeof RuntimeStatus];

const terminalStatuses: ReadonlySet<string> = new Set([
  RuntimeStatus.Completed,
  RuntimeStatus.Failed,
  RuntimeStatus.Terminated,
]);
export function isTerminal(status: string): boolean {
  return terminalStatuses.has(status);
}

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
}

export interface StartNewResult {
  readonly status: 'created' | 'conflict' | 'unknownOrchestrator';
  readonly instanceId: string;
  readonly runtimeStatus?: string;
}

export interface InstanceStatus {
  readonly name: string;
  readonly instanceId: string;
  readonly runtimeStatus: string;
  readonly input: unknown;
  readonly customStatus: unknown;
  readonly output: unknown;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly history?: readonly Record<string, unknown>[];
}

export interface InstanceFilter {
  readonly createdTimeFrom?: Date;
  readonly createdTimeTo?: Date;
  readonly runtimeStatus?: readonly string[];
}

export interface LocalDurableEngine extends DurableBackend {
  readonly taskHubName: string;
  /** Base URL of the management endpoint (`…/durabletask/`); valid after `start`. */
  readonly rpcBaseUrl: string;
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
  getStatus(
    instanceId: string,
    options?: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean },
  ): Promise<InstanceStatus | undefined>;
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

interface StateRow {
  readonly instanceId: string;
  readonly name: string;
  readonly status: string;
  readonly executionId: string;
  readonly historyLength: number;
  readonly createdTime: number;
  readonly lastUpdatedTime: number;
  readonly parentInstanceId: string | undefined;
  readonly parentExecutionId: string | undefined;
  readonly parentTaskId: number | undefined;
  readonly parentName: string | undefined;
  readonly etag: string;
  readonly raw: Row;
}

interface InboxMessage {
  readonly rowKey: string;
  readonly kind: 'start' | 'event' | 'terminate';
  readonly executionId: string | undefined;
  readonly dueAt: number;
  readonly enqueuedAt: number;
  readonly event: HistoryEvent | undefined;
  readonly reason: string | undefined;
  readonly corrupt: string | undefined;
  /**
   * Held in memory, not in the inbox: an activity result (`rowKey` is then its work item, deleted
   * by the commit) or a raised event (`rowKey` empty; see {@link HeldRaise}).
   */
  readonly direct?: boolean;
}

/** A raised event waiting in memory for its instance's next episode. */
interface HeldRaise {
  readonly message: InboxMessage;
  /** The episode that applied (or legitimately dropped) the event has committed. */
  readonly applied: () => void;
}

const OUT_OF_PROC = '$OutOfProcData$:';
/** How many running instances' removed-timer sets are kept in memory. */
const MAX_TRACKED_TIMER_INSTANCES = 10_000;
/**
 * Inbox messages one episode may take, as the extension takes a batch of queued messages: the
 * orchestrator replays once for all of them. An episode whose batch ends the execution (done,
 * continued as new, failed) is run again with its first message alone, so ending keeps the
 * one-message semantics (unprocessed events stay in the inbox).
 */
const MAX_MESSAGES_PER_EPISODE = 16;
const BATCHABLE_EVENT_TYPES: ReadonlySet<number> = new Set([
  HistoryEventType.EventRaised,
  HistoryEventType.TaskCompleted,
  HistoryEventType.SubOrchestrationInstanceCompleted,
]);

class Engine implements LocalDurableEngine {
  readonly taskHubName: string;
  readonly #options: LocalDurableEngineOptions;
  readonly #clock: Clock;
  readonly #store: HubStore;
  readonly #log: HostLogger;
  readonly #ownerId = randomUUID();
  readonly #maxOrchestrations: number;
  readonly #maxActivities: number;
  #invoker: FunctionInvoker | undefined;
  #server: ManagementServer | undefined;
  #hostBaseUrl: string | undefined;
  /** Serves the management API under `/runtime/webhooks/durabletask/` on the host's own server. */
  readonly httpExtension: HostHttpExtension;
  #started = false;
  #closing: Promise<void> | undefined;
  #stopped = false;

  // In-memory indexes of durable work (rebuilt from storage on start and by the fallback poll).
  readonly #ready: string[] = [];
  /** New instances; served alternately with `#ready` so a start is not queued behind every running instance. */
  readonly #readyNew: string[] = [];
  #servedNew = false;
  readonly #readySet = new Set<string>();
  readonly #running = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, { dueAt: number; instanceId: string }>();
  readonly #activityQueue: { partitionKey: string; rowKey: string; row: Row | undefined }[] = [];
  readonly #activityKeys = new Set<string>();
  #activeActivities = 0;
  #pendingSideWork = 0;
  #waiters: (() => void)[] = [];
  #pollTimer: NodeJS.Timeout | undefined;
  #wakeTimer: NodeJS.Timeout | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  #leaseEtag: string | undefined;
  #msgCounter = 0;
  /**
   * Partition rows of recently active instances as this (single) owner last wrote them, so an
   * episode needs one storage round trip (its commit) instead of a read and a commit. Any
   * doubt (failed write, row found by the poll that the cache lacks) drops the entry; the
   * conditional update of the state row guards against a stale entry.
   */
  readonly #cache = new Map<string, Row[]>();
  /**
   * Instances this engine has committed as pending or running and not yet as finished. This engine
   * is the task hub's only writer, so an event for one of them needs no read of its state row.
   */
  readonly #live = new Set<string>();
  /**
   * Timer rows already removed after a cancel, per instance. A cancelled timer stays in the
   * orchestrator's actions on every replay; without this each replay would delete its row again.
   * Message keys are unique, so a finished instance's set is harmless until the bound evicts it;
   * after a restart each cancelled timer is deleted once more (a no-op).
   */
  readonly #removedTimerKeys = new Map<string, Set<string>>();
  /**
   * Activity results not yet in storage. The episode that applies one deletes its work item in
   * the same transaction, so a crash before that re-runs the activity (at least once) and a
   * result is never applied twice. Saves one write per activity.
   */
  readonly #direct = new Map<string, InboxMessage[]>();
  /** Instances whose next episode takes one message only (a batch ended the execution). */
  readonly #singleNext = new Set<string>();
  /**
   * Raised events held for their instance's next episode (see `raiseHoldInMs`): the episode's
   * commit stores the event in history, which saves the inbox row's insert (and its delete).
   */
  readonly #heldRaises = new Map<string, HeldRaise[]>();
  /** Called, synchronously, when an instance's episode run ends (before any next one starts). */
  readonly #runEndWaiters = new Map<string, (() => void)[]>();

  constructor(options: LocalDurableEngineOptions) {
    this.#options = options;
    this.taskHubName = options.taskHubName;
    this.#clock = options.clock ?? { now: () => new Date() };
    this.#store = new HubStore({
      connectionString: options.connectionString,
      taskHubName: options.taskHubName,
    });
    this.#log = createHostLogger(options.logSink ?? jsonLineSink(), {
      component: 'durable',
      taskHub: options.taskHubName,
    });
    this.#maxOrchestrations = options.maxConcurrentOrchestrations ?? 8;
    this.#maxActivities = options.maxConcurrentActivities ?? 16;
    const handler = createManagementHandler(this, { log: this.#log });
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
    return `${this.#server.origin}/durabletask/`;
  }

  clientBindingData(): DurableClientBindingData {
    const origin = this.#server?.origin;
    if (origin === undefined) throw new Error('the durable engine is not started');
    const hub = this.taskHubName;
    // Public webhook URLs point at the host's server when there is one (as in Azure); the
    // client's own calls go to the loopback RPC endpoint.
    const webhooks = `${this.#hostBaseUrl ?? origin}/runtime/webhooks/durabletask`;
    const query = `taskHub=${hub}&connection=Storage&code=local`;
    const instance = `${webhooks}/instances/INSTANCEID`;
    return {
      taskHubName: hub,
      creationUrls: {
        createNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]?code=local`,
        waitOnNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=local`,
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
      requiredQueryStringParameters: 'code=local',
      rpcBaseUrl: this.rpcBaseUrl,
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
        `rpcHost must be a loopback address (the management API has no authentication); got '${rpcHost}'`,
      );
    }
    this.#started = true;
    this.#invoker = invoker;
    this.#hostBaseUrl = context?.hostBaseUrl.replace(/\/+$/, '');
    await this.#store.ensureCreated();
    await this.#acquireLease();
    try {
      this.#server = await startManagementServer(this, {
        host: rpcHost,
        port: this.#options.rpcPort ?? 0,
        log: this.#log,
      });
    } catch (error) {
      if (this.#leaseTimer !== undefined) clearInterval(this.#leaseTimer);
      await this.#releaseLease();
      throw error;
    }
    await this.#scan();
    const pollInterval = this.#options.pollIntervalInMs ?? 15_000;
    this.#pollTimer = setInterval(
      () => void this.#scan().catch((e: unknown) => this.#warn('poll failed', e)),
      pollInterval,
    );
    this.#pollTimer.unref();
    this.#log.log('info', 'durable engine started', { rpcBaseUrl: this.rpcBaseUrl });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopped = true;
      if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
      if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer);
      if (this.#leaseTimer !== undefined) clearInterval(this.#leaseTimer);
      await this.#server?.close();
      // Let in-flight episodes and activities finish so nothing is left half-written.
      const deadline = Date.now() + 10_000;
      while (
        (this.#running.size > 0 || this.#activeActivities > 0 || this.#pendingSideWork > 0) &&
        Date.now() < deadline
      ) {
        await new Promise<void>((resolve) => {
          this.#waiters.push(resolve);
          setTimeout(resolve, 100).unref();
        });
      }
      if (this.#activeActivities > 0) {
        // A hung activity keeps its work item: it runs again when the hub next starts.
        this.#log.log('warn', 'closing with activities still running', {
          count: this.#activeActivities,
        });
      }
      for (const instanceId of [...this.#direct.keys()]) {
        await this.#flushDirect(instanceId).catch((e: unknown) =>
          this.#warn('could not store an activity result; the activity will run again', e, {
            instanceId,
          }),
        );
      }
      await this.#releaseLease();
      this.#notify();
    })();
    return this.#closing;
  }

  // ---------------------------------------------------------------- task hub lease

  async #acquireLease(): Promise<void> {
    const duration = this.#options.leaseDurationInMs ?? 15_000;
    const entity = (): TableEntity<Record<string, unknown>> => ({
      partitionKey: HUB_PARTITION,
      rowKey: 'lease',
      OwnerId: this.#ownerId,
      Pid: process.pid,
      HostName: hostname(),
      ExpiresAt: Date.now() + duration,
    });
    const existing = await this.#store.getRow(HUB_PARTITION, 'lease');
    if (existing === undefined) {
      try {
        const created = await this.#store.table.createEntity(entity());
        this.#leaseEtag = created.etag;
      } catch (error) {
        if (statusOf(error) === 409)
          throw this.#leaseHeld(await this.#store.getRow(HUB_PARTITION, 'lease'));
        throw error;
      }
    } else {
      const expired = Number(existing.ExpiresAt) < Date.now();
      const ownerGone = existing.HostName === hostname() && !isProcessAlive(Number(existing.Pid));
      if (!expired && !ownerGone) throw this.#leaseHeld(existing);
      try {
        const updated = await this.#store.table.updateEntity(entity(), 'Replace', {
          etag: existing.etag,
        });
        this.#leaseEtag = updated.etag;
      } catch (error) {
        if (statusOf(error) === 412)
          throw this.#leaseHeld(await this.#store.getRow(HUB_PARTITION, 'lease'));
        throw error;
      }
      this.#log.log('info', 'task hub lease taken over', {
        previousPid: Number(existing.Pid),
        expired,
      });
    }
    this.#leaseTimer = setInterval(
      () => void this.#renewLease(entity()),
      Math.max(250, Math.floor(duration / 3)),
    );
    this.#leaseTimer.unref();
  }

  #leaseHeld(row: Row | undefined): RecorderError {
    const pid = row === undefined ? 'unknown' : String(row.Pid);
    const host = row === undefined ? 'unknown' : String(row.HostName);
    return new RecorderError(
      ErrorCode.Conflict,
      `task hub '${this.taskHubName}' is already run by another host (pid ${pid} on ${host}); stop that host or use another task hub name`,
      { details: { taskHub: this.taskHubName } },
    );
  }

  async #renewLease(entity: TableEntity<Record<string, unknown>>): Promise<void> {
    if (this.#stopped || this.#leaseEtag === undefined) return;
    try {
      const updated = await this.#store.table.updateEntity(entity, 'Replace', {
        etag: this.#leaseEtag,
      });
      this.#leaseEtag = updated.etag;
    } catch (error) {
      if (statusOf(error) === 412 || statusOf(error) === 404) {
        this.#log.log('error', 'task hub lease lost; the engine stops processing', {
          taskHub: this.taskHubName,
        });
        this.#stopped = true;
      } else {
        this.#warn('task hub lease renewal failed', error);
      }
    }
  }

  async #releaseLease(): Promise<void> {
    if (this.#leaseEtag === undefined) return;
    try {
      await this.#store.table.deleteEntity(HUB_PARTITION, 'lease', { etag: this.#leaseEtag });
    } catch (error) {
      this.#warn('task hub lease release failed', error);
    }
    this.#leaseEtag = undefined;
  }

  // ---------------------------------------------------------------- scheduling

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #markReady(instanceId: string, isNew = false): void {
    if (this.#running.has(instanceId)) {
      this.#dirty.add(instanceId);
      return;
    }
    if (!this.#readySet.has(instanceId)) {
      this.#readySet.add(instanceId);
      (isNew ? this.#readyNew : this.#ready).push(instanceId);
    }
    this.#pump();
  }

  #runEnded(instanceId: string): void {
    const waiters = this.#runEndWaiters.get(instanceId);
    if (waiters === undefined) return;
    this.#runEndWaiters.delete(instanceId);
    for (const w of waiters) w();
  }

  #nextReady(): string | undefined {
    const takeNew = this.#readyNew.length > 0 && (!this.#servedNew || this.#ready.length === 0);
    this.#servedNew = takeNew;
    return takeNew ? this.#readyNew.shift() : this.#ready.shift();
  }

  #addTimer(instanceId: string, rowKey: string, dueAt: number): void {
    this.#timers.set(`${instanceId}\u0000${rowKey}`, { dueAt, instanceId });
    this.#armWakeTimer();
  }

  processDueTimers(): void {
    const now = this.#clock.now().getTime();
    for (const [key, timer] of this.#timers) {
      if (timer.dueAt <= now) {
        this.#timers.delete(key);
        this.#markReady(timer.instanceId);
      }
    }
    this.#armWakeTimer();
  }

  #armWakeTimer(): void {
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    if (this.#stopped || this.#timers.size === 0) return;
    let earliest = Infinity;
    for (const t of this.#timers.values()) earliest = Math.min(earliest, t.dueAt);
    const delay = Math.min(Math.max(0, earliest - this.#clock.now().getTime()), 60_000);
    this.#wakeTimer = setTimeout(() => this.processDueTimers(), delay);
    this.#wakeTimer.unref();
  }

  #pump(): void {
    if (this.#stopped || this.#invoker === undefined) return;
    while (
      this.#running.size < this.#maxOrchestrations &&
      this.#ready.length + this.#readyNew.length > 0
    ) {
      const instanceId = this.#nextReady() as string;
      this.#readySet.delete(instanceId);
      if (this.#running.has(instanceId)) {
        this.#dirty.add(instanceId);
        continue;
      }
      this.#running.add(instanceId);
      void this.#runInstance(instanceId).finally(() => {
        this.#running.delete(instanceId);
        this.#runEnded(instanceId);
        if (this.#dirty.delete(instanceId)) this.#markReady(instanceId);
        this.#notify();
        this.#pump();
      });
    }
    while (this.#activeActivities < this.#maxActivities && this.#activityQueue.length > 0) {
      const item = this.#activityQueue.shift() as {
        partitionKey: string;
        rowKey: string;
        row: Row | undefined;
      };
      this.#activeActivities += 1;
      void this.#runActivity(item.partitionKey, item.rowKey, item.row).finally(() => {
        this.#activeActivities -= 1;
        this.#activityKeys.delete(`${item.partitionKey}\u0000${item.rowKey}`);
        this.#notify();
        this.#pump();
      });
    }
  }

  #enqueueActivity(partitionKey: string, rowKey: string, row?: Row): void {
    const key = `${partitionKey}\u0000${rowKey}`;
    if (this.#activityKeys.has(key)) return;
    this.#activityKeys.add(key);
    this.#activityQueue.push({ partitionKey, rowKey, row });
    this.#pump();
  }

  #isIdle(): boolean {
    return (
      this.#ready.length === 0 &&
      this.#readyNew.length === 0 &&
      this.#running.size === 0 &&
      this.#activeActivities === 0 &&
      this.#activityQueue.length === 0 &&
      this.#pendingSideWork === 0
    );
  }

  async runUntilIdle(options: { timeoutInMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutInMs ?? 30_000);
    for (;;) {
      this.processDueTimers();
      if (this.#isIdle()) return;
      if (Date.now() > deadline) throw new Error('the durable engine did not become idle in time');
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50).unref();
      });
    }
  }

  pollOnce(): Promise<void> {
    return this.#scan();
  }

  /** Reads pending inbox, activity and outbox rows from storage into the in-memory indexes. */
  async #scan(): Promise<void> {
    if (this.#stopped) return;
    this.#pendingSideWork += 1;
    try {
      const now = this.#clock.now().getTime();
      for await (const row of this.#store.scanRowKeyPrefix(RowKeys.inboxPrefix)) {
        const cached = this.#cache.get(row.partitionKey);
        if (cached !== undefined && !cached.some((r) => r.rowKey === row.rowKey))
          this.#cache.delete(row.partitionKey);
        const dueAt = Number(row.DueAt ?? 0);
        if (dueAt <= now) this.#markReady(row.partitionKey);
        else this.#addTimer(row.partitionKey, row.rowKey, dueAt);
      }
      for await (const row of this.#store.scanRowKeyPrefix(RowKeys.workPrefix)) {
        this.#enqueueActivity(row.partitionKey, row.rowKey);
      }
      const outbox: { partitionKey: string; rowKey: string }[] = [];
      for await (const row of this.#store.scanRowKeyPrefix(RowKeys.outboxPrefix)) outbox.push(row);
      for (const o of outbox) await this.#dispatchOutbox(o.partitionKey, o.rowKey);
    } finally {
      this.#pendingSideWork -= 1;
      this.#notify();
    }
  }

  async #loadRows(instanceId: string): Promise<Row[]> {
    const cached = this.#cache.get(instanceId);
    if (cached !== undefined) return cached;
    const rows = await this.#store.loadPartition(instanceId);
    this.#cacheSet(instanceId, rows);
    return rows;
  }

  #cacheSet(instanceId: string, rows: Row[]): void {
    this.#cache.delete(instanceId);
    this.#cache.set(instanceId, rows);
    if (this.#cache.size > 2000) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }

  /** Adds a row this engine wrote to a cached partition. */
  #cacheAdd(instanceId: string, entity: TableEntity<Record<string, unknown>>, etag = ''): void {
    const rows = this.#cache.get(instanceId);
    if (rows === undefined) return;
    rows.push(toRow(entity, etag));
  }

  #newMessageKey(): string {
    this.#msgCounter = (this.#msgCounter + 1) % 1_000_000;
    return `${RowKeys.inboxPrefix}${pad(Date.now(), 15)}.${pad(this.#msgCounter, 6)}.${randomUUID().slice(0, 8)}`;
  }

  async #messageEntity(
    instanceId: string,
    rowKey: string,
    fields: {
      kind: InboxMessage['kind'];
      executionId?: string;
      dueAt?: number;
      event?: HistoryEvent;
      reason?: string;
    },
  ): Promise<TableEntity<Record<string, unknown>>> {
    const entity: TableEntity<Record<string, unknown>> = {
      partitionKey: instanceId,
      rowKey,
      Kind: fields.kind,
      DueAt: fields.dueAt ?? 0,
      EnqueuedAt: this.#clock.now().getTime(),
    };
    if (fields.executionId !== undefined) entity.ExecutionId = fields.executionId;
    if (fields.reason !== undefined) entity.Reason = fields.reason;
    if (fields.event !== undefined)
      await this.#store.packText(entity, 'Event', JSON.stringify(fields.event));
    return entity;
  }

  // ---------------------------------------------------------------- client operations

  async startNew(
    name: string,
    options: { instanceId?: string; input?: unknown } = {},
  ): Promise<StartNewResult> {
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    validateInstanceId(instanceId);
    const fn = this.#invoker?.get(name);
    if (fn === undefined || fn.triggerType !== 'orchestrationTrigger')
      return { status: 'unknownOrchestrator', instanceId };
    const inputText = options.input === undefined ? undefined : JSON.stringify(options.input);
    // Optimistic: run the first episode inline and create the instance with its first work in one
    // transaction; on a conflict look at what holds the id.
    if ((await this.#startDirect(instanceId, name, inputText)) === 'created')
      return { status: 'created', instanceId };
    const existing = await this.#store.getRow(instanceId, RowKeys.state);
    if (existing !== undefined && !isTerminal(String(existing.RuntimeStatus))) {
      return { status: 'conflict', instanceId, runtimeStatus: String(existing.RuntimeStatus) };
    }
    // Like the extension, a finished instance id may be reused: its old history goes.
    await this.#deletePartition(instanceId);
    const result = await this.#createInstance(instanceId, name, inputText, undefined);
    return result === 'conflict'
      ? { status: 'conflict', instanceId, runtimeStatus: RuntimeStatus.Pending }
      : { status: 'created', instanceId };
  }

  /**
   * Starts an instance by running its first episode at once: nothing is stored until that
   * episode commits the state row (a create, so an existing id conflicts), its history and its
   * first work items together. The caller learns of the start only after that commit.
   */
  async #startDirect(
    instanceId: string,
    name: string,
    inputText: string | undefined,
  ): Promise<'created' | 'conflict'> {
    if (
      this.#stopped ||
      this.#running.has(instanceId) ||
      this.#cache.has(instanceId) ||
      this.#direct.has(instanceId)
    ) {
      return this.#createInstance(instanceId, name, inputText, undefined);
    }
    const now = this.#clock.now();
    const executionId = randomUUID().replace(/-/g, '');
    const state = pendingStateRow(instanceId, name, executionId, now);
    await this.#store.packText(state, 'Input', inputText);
    const started = historyEvents.executionStarted(now, {
      name,
      input: inputText,
      instanceId,
      executionId,
    });
    const message: InboxMessage = {
      rowKey: '',
      kind: 'start',
      executionId,
      dueAt: 0,
      enqueuedAt: now.getTime(),
      event: started,
      reason: undefined,
      corrupt: undefined,
      direct: true,
    };
    this.#running.add(instanceId);
    this.#cacheSet(instanceId, [toRow(state, '')]);
    this.#direct.set(instanceId, [message]);
    try {
      await this.#episode(instanceId);
      if (this.#direct.get(instanceId)?.includes(message) === true)
        throw new Error('the first episode did not run');
      return 'created';
    } catch (error) {
      this.#cache.delete(instanceId);
      this.#direct.delete(instanceId);
      if (statusOf(error) === 409) return 'conflict';
      throw error;
    } finally {
      this.#running.delete(instanceId);
      this.#runEnded(instanceId);
      if (this.#dirty.delete(instanceId)) this.#markReady(instanceId);
      this.#notify();
      this.#pump();
    }
  }

  async #createInstance(
    instanceId: string,
    name: string,
    inputText: string | undefined,
    parent: { instanceId: string; executionId: string; taskId: number; name: string } | undefined,
  ): Promise<'created' | 'conflict'> {
    const now = this.#clock.now();
    const executionId = randomUUID().replace(/-/g, '');
    const state = pendingStateRow(instanceId, name, executionId, now);
    if (parent !== undefined) {
      state.ParentInstanceId = parent.instanceId;
      state.ParentExecutionId = parent.executionId;
      state.ParentTaskId = parent.taskId;
      state.ParentName = parent.name;
    }
    await this.#store.packText(state, 'Input', inputText);
    const started = historyEvents.executionStarted(now, {
      name,
      input: inputText,
      instanceId,
      executionId,
      parent: parent === undefined ? undefined : { ...parent },
    });
    const msgKey = this.#newMessageKey();
    const message = await this.#messageEntity(instanceId, msgKey, {
      kind: 'start',
      executionId,
      event: started,
    });
    let response;
    try {
      response = await this.#store.submit(
        [],
        [
          ['create', state],
          ['create', message],
        ],
      );
    } catch (error) {
      if (statusOf(error) === 409) return 'conflict';
      throw error;
    }
    const etag = response.commitEtags[0];
    if (etag !== undefined) this.#cacheSet(instanceId, [toRow(state, etag), toRow(message, '')]);
    else this.#cache.delete(instanceId);
    this.#live.add(instanceId);
    this.#log.log('info', 'orchestration scheduled', { instanceId, name });
    this.#markReady(instanceId, true);
    return 'created';
  }

  async raiseEvent(
    instanceId: string,
    eventName: string,
    inputJson: string | undefined,
  ): Promise<'accepted' | 'notFound' | 'gone'> {
    // This engine is the task hub's only writer: an instance it knows to be live, or a cached state
    // row (a terminal commit drops the cache first), is current, so the event needs no read.
    if (!this.#live.has(instanceId)) {
      const state =
        this.#cache.get(instanceId)?.find((r) => r.rowKey === RowKeys.state) ??
        (await this.#store.getRow(instanceId, RowKeys.state));
      if (state === undefined) return 'notFound';
      if (isTerminal(String(state.RuntimeStatus))) return 'gone';
    }
    const now = this.#clock.now();
    const event = historyEvents.eventRaised(now, eventName, inputJson);
    if (
      this.#live.has(instanceId) &&
      (await this.#holdRaise(instanceId, event, now.getTime())) === 'applied'
    )
      return 'accepted';
    const message = await this.#messageEntity(instanceId, this.#newMessageKey(), {
      kind: 'event',
      event,
    });
    await this.#store.table.createEntity(message);
    this.#cacheAdd(instanceId, message);
    this.#markReady(instanceId);
    return 'accepted';
  }

  /**
   * Holds a raised event for the instance's next episode, for at most `raiseHoldInMs`. 'applied':
   * an episode committed it (in history, or dropped as the extension would). 'withdrawn': it was
   * taken back, with no episode of the instance in flight, and must be stored as an inbox row.
   */
  #holdRaise(
    instanceId: string,
    event: HistoryEvent,
    enqueuedAt: number,
  ): Promise<'applied' | 'withdrawn'> {
    const holdInMs = this.#options.raiseHoldInMs ?? 500;
    if (holdInMs <= 0 || this.#stopped || this.#invoker === undefined)
      return Promise.resolve('withdrawn');
    const heldAt = Date.now();
    return new Promise((resolve) => {
      // Synchronous, and only while no episode of the instance runs: none can be applying it.
      const withdraw = (): void => {
        if (this.#running.has(instanceId)) {
          const waiters = this.#runEndWaiters.get(instanceId) ?? [];
          waiters.push(withdraw);
          this.#runEndWaiters.set(instanceId, waiters);
          return;
        }
        const list = this.#heldRaises.get(instanceId);
        const index = list?.indexOf(held) ?? -1;
        if (list === undefined || index < 0) return; // applied meanwhile
        list.splice(index, 1);
        if (list.length === 0) this.#heldRaises.delete(instanceId);
        this.#log.log('debug', 'raised event not applied within the hold; stored as an inbox row', {
          instanceId,
          heldInMs: Date.now() - heldAt,
        });
        resolve('withdrawn');
      };
      const timer = setTimeout(withdraw, holdInMs);
      const held: HeldRaise = {
        message: {
          rowKey: '',
          kind: 'event',
          executionId: undefined,
          dueAt: 0,
          enqueuedAt,
          event,
          reason: undefined,
          corrupt: undefined,
          direct: true,
        },
        applied: () => {
          clearTimeout(timer);
          resolve('applied');
        },
      };
      const list = this.#heldRaises.get(instanceId) ?? [];
      list.push(held);
      this.#heldRaises.set(instanceId, list);
      this.#markReady(instanceId);
    });
  }

  async terminate(instanceId: string, reason: string): Promise<'accepted' | 'notFound' | 'gone'> {
    const state = await this.#store.getRow(instanceId, RowKeys.state);
    if (state === undefined) return 'notFound';
    if (isTerminal(String(state.RuntimeStatus))) return 'gone';
    const message = await this.#messageEntity(instanceId, this.#newMessageKey(), {
      kind: 'terminate',
      reason,
    });
    await this.#store.table.createEntity(message);
    this.#cacheAdd(instanceId, message);
    this.#markReady(instanceId);
    return 'accepted';
  }

  async purge(instanceId: string): Promise<'purged' | 'notFound' | 'running'> {
    const state = await this.#store.getRow(instanceId, RowKeys.state);
    if (state === undefined) return 'notFound';
    if (!isTerminal(String(state.RuntimeStatus))) return 'running';
    await this.#deletePartition(instanceId);
    return 'purged';
  }

  async purgeBy(filter: InstanceFilter): Promise<number> {
    let count = 0;
    for (const status of await this.listInstances(filter)) {
      if (!isTerminal(status.runtimeStatus)) continue;
      if ((await this.purge(status.instanceId)) === 'purged') count += 1;
    }
    return count;
  }

  async #deletePartition(instanceId: string): Promise<void> {
    this.#cache.delete(instanceId);
    this.#live.delete(instanceId);
    const rows = await this.#store.loadPartition(instanceId);
    // The state row goes last so a crash midway leaves a purgeable instance, not orphans.
    const others = rows.filter((r) => r.rowKey !== RowKeys.state);
    await this.#store.deleteRows(others);
    await this.#store.deleteRows(rows.filter((r) => r.rowKey === RowKeys.state));
    await this.#store.deleteBlobsOf(instanceId);
  }

  async getStatus(
    instanceId: string,
    options: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean } = {},
  ): Promise<InstanceStatus | undefined> {
    if (options.showHistory === true) {
      const rows = await this.#store.loadPartition(instanceId);
      const stateRow = rows.find((r) => r.rowKey === RowKeys.state);
      if (stateRow === undefined) return undefined;
      const state = readState(stateRow);
      const status = await this.#statusOf(stateRow, options.showInput !== false);
      const events = await this.#readHistory(rows, state);
      return {
        ...status,
        history: toPublicHistory(
          events.events,
          options.showHistoryOutput === true,
          options.showInput !== false,
        ),
      };
    }
    const row = await this.#store.getRow(instanceId, RowKeys.state);
    return row === undefined ? undefined : this.#statusOf(row, options.showInput !== false);
  }

  async listInstances(filter: InstanceFilter): Promise<InstanceStatus[]> {
    const out: InstanceStatus[] = [];
    const statuses =
      filter.runtimeStatus !== undefined && filter.runtimeStatus.length > 0
        ? new Set(filter.runtimeStatus)
        : undefined;
    for await (const row of this.#store.scanStates()) {
      const created = Number(row.CreatedTime);
      if (filter.createdTimeFrom !== undefined && created < filter.createdTimeFrom.getTime())
        continue;
      if (filter.createdTimeTo !== undefined && created > filter.createdTimeTo.getTime()) continue;
      if (statuses !== undefined && !statuses.has(String(row.RuntimeStatus))) continue;
      out.push(await this.#statusOf(row, true));
    }
    out.sort(
      (a, b) =>
        a.createdTime.localeCompare(b.createdTime) || a.instanceId.localeCompare(b.instanceId),
    );
    return out;
  }

  async #statusOf(row: Row, showInput: boolean): Promise<InstanceStatus> {
    const input = showInput ? parseJsonOr(await this.#store.unpackText(row, 'Input'), null) : null;
    const outputText = await this.#store.unpackText(row, 'Output');
    const customText = await this.#store.unpackText(row, 'CustomStatus');
    return {
      name: String(row.Name),
      instanceId: row.partitionKey,
      runtimeStatus: String(row.RuntimeStatus),
      input,
      customStatus: parseJsonOr(customText, null),
      output: parseJsonOr(outputText, null),
      createdTime: new Date(Number(row.CreatedTime)).toISOString(),
      lastUpdatedTime: new Date(Number(row.LastUpdatedTime)).toISOString(),
    };
  }

  // ---------------------------------------------------------------- episodes

  async #runInstance(instanceId: string): Promise<void> {
    try {
      for (let guard = 0; guard < 10_000 && !this.#stopped; guard++) {
        // Keeps the slot while the instance has work (its activities often finish during its own
        // commit), like the extension's extended sessions: fewer hand-offs, more throughput.
        if (!(await this.#episode(instanceId))) return;
      }
    } catch (error) {
      this.#cache.delete(instanceId);
      if (statusOf(error) === 412) {
        // The state row changed under us (our copy was stale): reload and try again now.
        this.#log.log('warn', 'instance state changed concurrently; episode retried', {
          instanceId,
        });
        this.#dirty.add(instanceId);
        return;
      }
      this.#warn('episode failed; retried in 5 s', error, { instanceId });
      setTimeout(() => this.#markReady(instanceId), 5000).unref();
      await this.#flushDirect(instanceId).catch((e: unknown) =>
        this.#warn('could not store an activity result; the activity will run again', e, {
          instanceId,
        }),
      );
    }
  }

  async #readHistory(
    rows: readonly Row[],
    state: StateRow,
  ): Promise<{ events: HistoryEvent[]; ledger: Ledger; corrupt?: string }> {
    const prefix = `${RowKeys.historyPrefix}${state.executionId}.`;
    const historyRows = rows
      .filter((r) => r.rowKey.startsWith(prefix))
      .sort((a, b) => a.rowKey.localeCompare(b.rowKey));
    const events: HistoryEvent[] = [];
    const ledger = new Ledger();
    for (const row of historyRows.slice(0, state.historyLength)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse((await this.#store.unpackText(row, 'Event')) ?? '');
      } catch {
        return { events, ledger, corrupt: `history row ${row.rowKey} is not valid JSON` };
      }
      const problem = validateHistoryEvent(parsed);
      if (problem !== undefined)
        return { events, ledger, corrupt: `history row ${row.rowKey}: ${problem}` };
      events.push(parsed as HistoryEvent);
      if (typeof row.Ledger === 'string') {
        try {
          ledger.add(JSON.parse(row.Ledger) as LedgerEntry);
        } catch {
          return {
            events,
            ledger,
            corrupt: `history row ${row.rowKey} has an unreadable id ledger entry`,
          };
        }
      }
    }
    if (events.length < state.historyLength)
      return {
        events,
        ledger,
        corrupt: `history rows missing (${events.length} of ${state.historyLength})`,
      };
    return { events, ledger };
  }

  /** Processes the instance's due inbox messages (a batch, in order); false when none is due. */
  async #episode(instanceId: string): Promise<boolean> {
    const invoker = this.#invoker as FunctionInvoker;
    const rows = await this.#loadRows(instanceId);
    const stateRow = rows.find((r) => r.rowKey === RowKeys.state);
    const inbox = rows.filter((r) => r.rowKey.startsWith(RowKeys.inboxPrefix));
    const outbox = rows.filter((r) => r.rowKey.startsWith(RowKeys.outboxPrefix));
    if (outbox.length > 0) this.#cache.delete(instanceId);
    for (const o of outbox) await this.#dispatchOutbox(o.partitionKey, o.rowKey);
    if (stateRow === undefined) {
      this.#cache.delete(instanceId);
      if (inbox.length > 0) await this.#store.deleteRows(inbox);
      return false;
    }
    const state = readState(stateRow);
    const now = new Date(this.#clock.now().getTime());
    const messages: InboxMessage[] = [];
    for (const row of inbox) {
      const m = await this.#readMessage(row);
      if (m.dueAt > now.getTime()) this.#addTimer(instanceId, m.rowKey, m.dueAt);
      else messages.push(m);
    }
    messages.push(...(this.#direct.get(instanceId) ?? []));
    for (const held of this.#heldRaises.get(instanceId) ?? []) messages.push(held.message);
    if (messages.length === 0) return false;
    messages.sort(
      (a, b) =>
        Math.max(a.dueAt, a.enqueuedAt) - Math.max(b.dueAt, b.enqueuedAt) ||
        a.rowKey.localeCompare(b.rowKey),
    );
    if (isTerminal(state.status)) {
      this.#cache.delete(instanceId);
      await this.#store.deleteRows(
        messages
          .filter((m) => m.rowKey !== '')
          .map((m) => ({ partitionKey: instanceId, rowKey: m.rowKey })),
      );
      for (const m of messages) this.#consumeDirect(instanceId, m);
      return false;
    }
    const message = messages[0] as InboxMessage;
    const dropMessage = async (why: string): Promise<boolean> => {
      this.#log.log('debug', 'inbox message dropped', { instanceId, why });
      this.#cache.delete(instanceId);
      if (message.rowKey !== '') await this.#store.deleteRowIfExists(instanceId, message.rowKey);
      this.#consumeDirect(instanceId, message);
      return true;
    };
    if (message.corrupt !== undefined) {
      this.#log.log('warn', 'corrupt inbox message dropped', {
        instanceId,
        problem: message.corrupt,
      });
      return dropMessage('corrupt');
    }
    if (message.executionId !== undefined && message.executionId !== state.executionId)
      return dropMessage('stale execution');
    if (
      message.kind === 'start' &&
      state.status !== RuntimeStatus.Pending &&
      state.status !== RuntimeStatus.ContinuedAsNew
    ) {
      return dropMessage('already started');
    }
    if (
      message.kind !== 'start' &&
      (state.status === RuntimeStatus.Pending || state.status === RuntimeStatus.ContinuedAsNew)
    ) {
      // Wait for the start message, which sorts first unless storage misbehaved.
      if (!messages.some((m) => m.kind === 'start')) return dropMessage('instance never started');
    }

    const history = await this.#readHistory(rows, state);
    const lastStarted = [...history.events]
      .reverse()
      .find((e) => e.EventType === HistoryEventType.OrchestratorStarted);
    const episodeTime = new Date(
      Math.max(now.getTime(), lastStarted === undefined ? 0 : Date.parse(lastStarted.Timestamp)),
    );
    if (history.corrupt !== undefined) {
      const reason = `[${ErrorCode.IntegrityViolation}] instance ${instanceId} cannot be replayed: ${history.corrupt}`;
      this.#log.log('error', 'orchestration history is corrupt; the instance fails', {
        instanceId,
        problem: history.corrupt,
      });
      await this.#commitTerminal(
        state,
        message,
        [],
        episodeTime,
        RuntimeStatus.Failed,
        JSON.stringify(reason),
        rows,
      );
      this.#consumeDirect(instanceId, message);
      return false;
    }
    if (message.kind === 'terminate') {
      const reason = message.reason ?? '';
      const events = [historyEvents.executionTerminated(episodeTime, reason)];
      await this.#commitTerminal(
        state,
        message,
        events,
        episodeTime,
        RuntimeStatus.Terminated,
        JSON.stringify(reason),
        rows,
      );
      this.#consumeDirect(instanceId, message);
      this.#log.log('info', 'orchestration terminated', { instanceId });
      return false;
    }
    const event = message.event as HistoryEvent;
    const completed = new Set<number>();
    const fired = new Set<number>();
    for (const e of history.events) {
      if (typeof e.TaskScheduledId === 'number') completed.add(e.TaskScheduledId);
      if (e.EventType === HistoryEventType.TimerFired && typeof e.TimerId === 'number')
        fired.add(e.TimerId);
    }
    /** Why an event cannot be applied now (checked against history and the batch so far). */
    const refusal = (e: HistoryEvent): string | undefined => {
      if (typeof e.TaskScheduledId === 'number') {
        if (!history.ledger.has(e.TaskScheduledId)) return 'completion for an unscheduled task';
        if (completed.has(e.TaskScheduledId)) return 'duplicate completion';
      }
      if (e.EventType === HistoryEventType.TimerFired && typeof e.TimerId === 'number') {
        if (!history.ledger.has(e.TimerId)) return 'timer not in the ledger';
        if (fired.has(e.TimerId)) return 'duplicate timer';
      }
      return undefined;
    };
    const take = (e: HistoryEvent): void => {
      if (typeof e.TaskScheduledId === 'number') completed.add(e.TaskScheduledId);
      if (e.EventType === HistoryEventType.TimerFired && typeof e.TimerId === 'number')
        fired.add(e.TimerId);
    };
    const firstRefusal = refusal(event);
    if (firstRefusal !== undefined) return dropMessage(firstRefusal);
    take(event);
    // Further due events of this execution join the episode, in order, up to the first that
    // cannot (anything else, or one to drop, waits for the next episode).
    const batch: InboxMessage[] = [message];
    const isSingle = this.#singleNext.delete(instanceId);
    for (const next of isSingle ? [] : messages.slice(1)) {
      if (batch.length >= MAX_MESSAGES_PER_EPISODE) break;
      if (next.kind !== 'event' || next.corrupt !== undefined || next.event === undefined) break;
      if (next.executionId !== undefined && next.executionId !== state.executionId) break;
      // Only events that make the SDK allocate no internal id (a retry timer after a failure, a
      // retry or the next sub-timer after a timer) join after the first: internal ids are
      // allocated for the first event, then user actions in yield order, exactly as the SDK does.
      if (!BATCHABLE_EVENT_TYPES.has(next.event.EventType)) break;
      if (refusal(next.event) !== undefined) break;
      take(next.event);
      batch.push(next);
    }

    const played = history.events.map((e) => ({ ...e, IsPlayed: true }));
    const newEvents: HistoryEvent[] = [
      historyEvents.orchestratorStarted(episodeTime),
      ...batch.map((m) => ({ ...(m.event as HistoryEvent), IsPlayed: false })),
    ];
    const executionInput = await this.#store.unpackText(stateRow, 'Input');
    const payload = {
      history: [...played, ...newEvents],
      input: executionInput === undefined ? undefined : parseJsonOr(executionInput, undefined),
      instanceId,
      isReplaying: played.length > 0,
      parentInstanceId: state.parentInstanceId,
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 2,
      maximumShortTimerDuration: MAXIMUM_SHORT_TIMER,
      longRunningTimerIntervalDuration: LONG_TIMER_INTERVAL,
      defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
    };

    let result: OrchestratorResult;
    if (invoker.get(state.name)?.triggerType !== 'orchestrationTrigger') {
      result = {
        failure: `[${ErrorCode.NotFound}] orchestrator function '${state.name}' is not registered in this app`,
      };
    } else {
      result = await invokeOrchestrator(invoker, state.name, payload);
    }

    const ledger = history.ledger;
    const prepare: TransactionAction[] = [];
    const afterCommit: (() => void)[] = [];
    /** User ids of timers the orchestrator cancelled (Task.any won by another task). */
    const cancelledTimerIds: number[] = [];
    const ledgerOf = new Map<HistoryEvent, LedgerEntry>();
    const epochMs = episodeTime.getTime();

    const scheduleTimer = async (
      entry: LedgerEntry & { msgKey?: string },
      fireAtMs: number,
    ): Promise<void> => {
      const msgKey = this.#newMessageKey();
      const full = { ...entry, msgKey } as LedgerEntry;
      const created = historyEvents.timerCreated(episodeTime, entry.id, new Date(fireAtMs));
      newEvents.push(created);
      ledgerOf.set(created, full);
      const msg = await this.#messageEntity(instanceId, msgKey, {
        kind: 'event',
        executionId: state.executionId,
        dueAt: fireAtMs,
        event: historyEvents.timerFired(
          new Date(fireAtMs),
          entry.id,
          new Date(fireAtMs).toISOString(),
        ),
      });
      prepare.push(['upsert', msg, 'Replace']);
      afterCommit.push(() => this.#addTimer(instanceId, msgKey, fireAtMs));
    };
    const scheduleTask = async (
      entry: LedgerEntry,
      actionType: number,
      name: string,
      input: string | undefined,
      childId?: string,
    ): Promise<void> => {
      if (
        actionType === ActionType.CallActivity ||
        actionType === ActionType.CallActivityWithRetry
      ) {
        const scheduled = historyEvents.taskScheduled(episodeTime, entry.id, name, input);
        newEvents.push(scheduled);
        ledgerOf.set(scheduled, entry);
        const rowKey = `${RowKeys.workPrefix}${state.executionId}.${pad(entry.id, 6)}`;
        const work: TableEntity<Record<string, unknown>> = {
          partitionKey: instanceId,
          rowKey,
          Name: name,
          ExecutionId: state.executionId,
          TaskId: entry.id,
          ScheduledAt: epochMs,
        };
        await this.#store.packText(work, 'Input', input);
        prepare.push(['upsert', work, 'Replace']);
        afterCommit.push(() => this.#enqueueActivity(instanceId, rowKey, toRow(work, '')));
      } else {
        const child = childId ?? `${instanceId}:${state.executionId.slice(0, 12)}:${entry.id}`;
        const created = historyEvents.subOrchestrationCreated(
          episodeTime,
          entry.id,
          name,
          child,
          input,
        );
        newEvents.push(created);
        ledgerOf.set(created, entry);
        const rowKey = `${RowKeys.outboxPrefix}${state.executionId}.${pad(entry.id, 6)}`;
        const out: TableEntity<Record<string, unknown>> = {
          partitionKey: instanceId,
          rowKey,
          Kind: 'startChild',
          ChildId: child,
          Name: name,
          ParentExecutionId: state.executionId,
          ParentName: state.name,
          TaskId: entry.id,
        };
        await this.#store.packText(out, 'Input', input);
        prepare.push(['upsert', out, 'Replace']);
        afterCommit.push(() => void this.#dispatchOutboxTracked(instanceId, rowKey));
      }
    };

    let failure = result.failure;
    const actions = result.state === undefined ? [] : flattenActions(result.state.actions);
    const isDone = result.state?.isDone === true && failure === undefined;

    if (failure === undefined) {
      // 1. Internal tasks created by the new events (the SDK numbers these first).
      for (const event of batch.map((m) => m.event as HistoryEvent)) {
        const completedId =
          typeof event.TaskScheduledId === 'number' ? event.TaskScheduledId : undefined;
        const isFailure =
          event.EventType === HistoryEventType.TaskFailed ||
          event.EventType === HistoryEventType.SubOrchestrationInstanceFailed;
        if (completedId !== undefined && isFailure) {
          const entry = ledger.get(completedId);
          const group =
            entry?.kind === 'user'
              ? entry
              : entry?.kind === 'retryAttempt'
                ? ledger.get(entry.group)
                : undefined;
          if (group?.kind === 'user' && group.retry !== undefined) {
            const failures = entry?.kind === 'retryAttempt' ? entry.attempt : 1;
            const id = ledger.allocate();
            await scheduleTimer(
              { id, kind: 'retryTimer', group: group.id, failures },
              epochMs + retryDelayInMs(group.retry, failures),
            );
          }
        }
        if (event.EventType === HistoryEventType.TimerFired && typeof event.TimerId === 'number') {
          const entry = ledger.get(event.TimerId);
          if (entry?.kind === 'retryTimer') {
            const group = ledger.get(entry.group);
            if (
              group?.kind === 'user' &&
              group.retry !== undefined &&
              entry.failures < group.retry.maxNumberOfAttempts
            ) {
              const id = ledger.allocate();
              const first = history.events.find(
                (e) =>
                  e.EventId === group.id &&
                  (e.EventType === HistoryEventType.TaskScheduled ||
                    e.EventType === HistoryEventType.SubOrchestrationInstanceCreated),
              );
              const input = typeof first?.Input === 'string' ? first.Input : undefined;
              await scheduleTask(
                { id, kind: 'retryAttempt', group: group.id, attempt: entry.failures + 1 },
                group.actionType,
                group.name ?? '',
                input,
                group.childId,
              );
            }
          } else if (
            (entry?.kind === 'user' && entry.finalFireAt !== undefined) ||
            entry?.kind === 'subTimer'
          ) {
            const finalMs = Date.parse(entry.finalFireAt as string);
            if (finalMs > epochMs) {
              const id = ledger.allocate();
              await scheduleTimer(
                {
                  id,
                  kind: 'subTimer',
                  group: entry.kind === 'subTimer' ? entry.group : entry.id,
                  finalFireAt: entry.finalFireAt as string,
                },
                nextTimerFireAt(epochMs, finalMs),
              );
            }
          }
        }
      }

      // 2. User actions: existing ones must match the ledger, new ones get the next ids.
      const idActions = actions.filter(takesId);
      const unsupported = actions.find((a) => !isSupported(a));
      if (unsupported !== undefined) {
        failure = `[${ErrorCode.InvalidRequest}] action type ${unsupported.actionType} (entities, callHttp) is not supported by the local durable engine`;
      }
      for (let index = 0; failure === undefined && index < idActions.length; index++) {
        const action = idActions[index] as WireAction;
        const known = ledger.user(index);
        if (known !== undefined) {
          if (
            known.kind !== 'user' ||
            known.actionType !== action.actionType ||
            (known.name ?? '') !== (action.functionName ?? '')
          ) {
            failure = `[${ErrorCode.Internal}] non-deterministic orchestrator: action ${index} is now type ${action.actionType} '${action.functionName ?? ''}', history has type ${known.kind === 'user' ? known.actionType : '?'} '${known.kind === 'user' ? (known.name ?? '') : ''}'`;
          } else if (action.actionType === ActionType.CreateTimer && action.isCanceled === true) {
            cancelledTimerIds.push(known.id);
          }
          continue;
        }
        if (isDone) continue;
        const id = ledger.allocate();
        const entryBase = {
          id,
          kind: 'user' as const,
          index,
          actionType: action.actionType,
          name: action.functionName,
        };
        switch (action.actionType) {
          case ActionType.CallActivity:
          case ActionType.CallActivityWithRetry:
          case ActionType.CallSubOrchestrator:
          case ActionType.CallSubOrchestratorWithRetry: {
            const retry = retryPolicyOf(action.retryOptions);
            const childId =
              typeof action.instanceId === 'string' && action.instanceId !== ''
                ? action.instanceId
                : undefined;
            const entry: LedgerEntry = {
              ...entryBase,
              ...(retry === undefined ? {} : { retry }),
              ...(childId === undefined ? {} : { childId }),
            };
            ledger.add(entry);
            const input = action.input === undefined ? undefined : JSON.stringify(action.input);
            await scheduleTask(entry, action.actionType, action.functionName ?? '', input, childId);
            break;
          }
          case ActionType.CreateTimer: {
            const finalMs = Date.parse(action.fireAt ?? '');
            const fireAtMs = Number.isNaN(finalMs) ? epochMs : nextTimerFireAt(epochMs, finalMs);
            const entry: LedgerEntry =
              fireAtMs !== finalMs
                ? { ...entryBase, finalFireAt: new Date(finalMs).toISOString() }
                : entryBase;
            ledger.add(entry);
            await scheduleTimer(entry, fireAtMs);
            if (action.isCanceled === true) cancelledTimerIds.push(id);
            break;
          }
        }
      }
    }

    if (batch.length > 1 && (failure !== undefined || isDone)) {
      // The batch ends the execution: run again with the first message alone (nothing was
      // stored or scheduled yet).
      this.#singleNext.add(instanceId);
      this.#log.log('debug', 'batch ends the execution; its first message runs alone', {
        instanceId,
        messages: batch.length,
      });
      return true;
    }
    newEvents.push(historyEvents.orchestratorCompleted(episodeTime));
    const customStatus =
      result.state?.customStatus === undefined
        ? undefined
        : JSON.stringify(result.state.customStatus);

    if (failure !== undefined) {
      const output = `Orchestrator function '${state.name}' failed: ${failure}`;
      this.#log.log('warn', 'orchestration failed', { instanceId, name: state.name });
      await this.#commitTerminal(
        state,
        message,
        [
          ...newEvents,
          historyEvents.executionCompleted(episodeTime, JSON.stringify(output), 'Failed'),
        ],
        episodeTime,
        RuntimeStatus.Failed,
        JSON.stringify(output),
        rows,
        customStatus,
        ledgerOf,
      );
      this.#consumeDirect(instanceId, message);
      return false;
    }
    const continueAction = actions.find((a) => a.actionType === ActionType.ContinueAsNew);
    if (isDone && continueAction !== undefined) {
      await this.#commitContinueAsNew(
        state,
        message,
        newEvents,
        episodeTime,
        continueAction,
        rows,
        customStatus,
        ledgerOf,
      );
      this.#consumeDirect(instanceId, message);
      return true;
    }
    if (isDone) {
      const output = JSON.stringify(result.state?.output ?? null);
      await this.#commitTerminal(
        state,
        message,
        [...newEvents, historyEvents.executionCompleted(episodeTime, output, 'Completed')],
        episodeTime,
        RuntimeStatus.Completed,
        output,
        rows,
        customStatus,
        ledgerOf,
      );
      this.#consumeDirect(instanceId, message);
      this.#log.log('info', 'orchestration completed', { instanceId, name: state.name });
      return false;
    }

    const historyRows = await this.#historyEntities(instanceId, state, newEvents, ledgerOf);
    const stateEntity = await this.#stateEntity(state, {
      status: RuntimeStatus.Running,
      historyLength: state.historyLength + newEvents.length,
      now: episodeTime,
      customStatus,
    });
    // Cancelled timers: a row written by this episode is not written at all; a stored one is
    // deleted in the commit transaction (one request less per cancel than a delete of its own).
    const cancels = this.#timerRowsToCancel(
      instanceId,
      [...ledger.entries(), ...ledgerOf.values()],
      cancelledTimerIds,
      rows,
      batch,
    );
    const dropped = new Set(cancels.unwritten);
    const kept =
      dropped.size === 0 ? prepare : prepare.filter(([, entity]) => !dropped.has(entity.rowKey));
    const prepared = [
      ...historyRows.map((h): TransactionAction => ['upsert', h, 'Replace']),
      ...kept,
    ];
    const commitOps = this.#stateCommitOps(state, stateEntity, ...batch);
    for (const rowKey of cancels.stored)
      commitOps.push(['delete', { partitionKey: instanceId, rowKey }]);
    let response;
    try {
      response = await this.#store.submit(prepared, commitOps);
    } catch (error) {
      this.#cache.delete(instanceId);
      throw error;
    }
    for (const m of batch) this.#consumeDirect(instanceId, m);
    this.#live.add(instanceId);
    const newEtag = response.commitEtags[0];
    if (newEtag === undefined || prepared.length + commitOps.length > 100) {
      this.#cache.delete(instanceId);
    } else {
      const consumed = new Set([...batch.map((m) => m.rowKey), ...cancels.stored]);
      const next = rows.filter((r) => !consumed.has(r.rowKey) && r.rowKey !== RowKeys.state);
      next.push(toRow(stateEntity, newEtag));
      for (const [, entity] of prepared) next.push(toRow(entity, ''));
      this.#cacheSet(instanceId, next);
    }
    if (state.status === RuntimeStatus.Pending)
      this.#log.log('info', 'orchestration started', { instanceId, name: state.name });
    for (const fn of afterCommit) fn();
    // After the commit's own timers are armed: a cancelled one is disarmed again.
    this.#markTimersRemoved(instanceId, [...cancels.stored, ...cancels.unwritten]);
    return true;
  }

  async #historyEntities(
    instanceId: string,
    state: StateRow,
    events: readonly HistoryEvent[],
    ledgerOf: ReadonlyMap<HistoryEvent, LedgerEntry>,
    executionId = state.executionId,
    startSeq = state.historyLength,
  ): Promise<TableEntity<Record<string, unknown>>[]> {
    const out: TableEntity<Record<string, unknown>>[] = [];
    for (const [i, e] of events.entries()) {
      const entity: TableEntity<Record<string, unknown>> = {
        partitionKey: instanceId,
        rowKey: `${RowKeys.historyPrefix}${executionId}.${pad(startSeq + i, 8)}`,
        EventType: e.EventType,
      };
      const entry = ledgerOf.get(e);
      if (entry !== undefined) entity.Ledger = JSON.stringify(entry);
      await this.#store.packText(entity, 'Event', JSON.stringify(e));
      out.push(entity);
    }
    return out;
  }

  async #stateEntity(
    state: StateRow,
    change: {
      status: string;
      historyLength: number;
      now: Date;
      customStatus?: string;
      output?: string;
      executionId?: string;
      input?: string | null;
    },
  ): Promise<TableEntity<Record<string, unknown>>> {
    const entity: TableEntity<Record<string, unknown>> = {
      partitionKey: state.instanceId,
      rowKey: RowKeys.state,
      Name: state.name,
      RuntimeStatus: change.status,
      ExecutionId: change.executionId ?? state.executionId,
      HistoryLength: change.historyLength,
      CreatedTime: state.createdTime,
      LastUpdatedTime: change.now.getTime(),
    };
    if (state.parentInstanceId !== undefined) {
      entity.ParentInstanceId = state.parentInstanceId;
      entity.ParentExecutionId = state.parentExecutionId;
      entity.ParentTaskId = state.parentTaskId;
      entity.ParentName = state.parentName;
    }
    const keep = (field: string): void => {
      if (typeof state.raw[field] === 'string') entity[field] = state.raw[field];
      if (typeof state.raw[`${field}Blob`] === 'string')
        entity[`${field}Blob`] = state.raw[`${field}Blob`];
    };
    if (change.input === null) {
      // continueAsNew without input
    } else if (change.input !== undefined)
      await this.#store.packText(entity, 'Input', change.input);
    else keep('Input');
    if (change.customStatus !== undefined)
      await this.#store.packText(entity, 'CustomStatus', change.customStatus);
    else keep('CustomStatus');
    if (change.output !== undefined) await this.#store.packText(entity, 'Output', change.output);
    return entity;
  }

  async #commitTerminal(
    state: StateRow,
    message: InboxMessage,
    events: readonly HistoryEvent[],
    at: Date,
    status: RuntimeStatus,
    output: string,
    rows: readonly Row[],
    customStatus?: string,
    ledgerOf: ReadonlyMap<HistoryEvent, LedgerEntry> = new Map(),
  ): Promise<void> {
    const instanceId = state.instanceId;
    // Forgotten before the commit: an event raised meanwhile reads the state row instead.
    this.#live.delete(instanceId);
    const historyRows = await this.#historyEntities(instanceId, state, events, ledgerOf);
    const stateEntity = await this.#stateEntity(state, {
      status,
      historyLength: state.historyLength + events.length,
      now: at,
      customStatus,
      output,
    });
    const commit: TransactionAction[] = [...this.#stateCommitOps(state, stateEntity, message)];
    let notifyKey: string | undefined;
    if (
      state.parentInstanceId !== undefined &&
      state.parentExecutionId !== undefined &&
      state.parentTaskId !== undefined
    ) {
      const parentEvent =
        status === RuntimeStatus.Completed
          ? historyEvents.subOrchestrationCompleted(at, state.parentTaskId, output)
          : historyEvents.subOrchestrationFailed(
              at,
              state.parentTaskId,
              `Sub-orchestration '${state.name}' (${instanceId}) ${status === RuntimeStatus.Failed ? 'failed' : 'was terminated'}: ${String(parseJsonOr(output, output))}`,
              '',
            );
      notifyKey = `${RowKeys.outboxPrefix}notify.${state.executionId}`;
      const out: TableEntity<Record<string, unknown>> = {
        partitionKey: instanceId,
        rowKey: notifyKey,
        Kind: 'notifyParent',
        ParentId: state.parentInstanceId,
        ParentExecutionId: state.parentExecutionId,
        MessageKey: this.#newMessageKey(),
      };
      await this.#store.packText(out, 'Event', JSON.stringify(parentEvent));
      commit.push(['upsert', out, 'Replace']);
    }
    this.#cache.delete(instanceId);
    await this.#store.submit(
      historyRows.map((h): TransactionAction => ['upsert', h, 'Replace']),
      commit,
    );
    // Leftover work of a finished instance: pending activities and timers no longer matter.
    // (The partition may be a cached copy still listing cancelled timers already removed, and the
    // message just consumed, an inbox row or, for an activity result, its work item, is already
    // deleted by the commit: a transaction deleting a missing row fails as a whole.)
    const removedTimers = this.#removedTimerKeys.get(instanceId);
    const leftovers = rows.filter(
      (r) =>
        (r.rowKey.startsWith(RowKeys.inboxPrefix) || r.rowKey.startsWith(RowKeys.workPrefix)) &&
        r.rowKey !== message.rowKey &&
        removedTimers?.has(r.rowKey) !== true,
    );
    if (leftovers.length > 0) {
      this.#pendingSideWork += 1;
      void this.#store
        .deleteRows(leftovers)
        .catch((e: unknown) => this.#warn('cleanup failed', e, { instanceId }))
        .finally(() => {
          this.#pendingSideWork -= 1;
          this.#notify();
        });
    }
    if (notifyKey !== undefined) void this.#dispatchOutboxTracked(instanceId, notifyKey);
  }

  async #commitContinueAsNew(
    state: StateRow,
    message: InboxMessage,
    events: HistoryEvent[],
    at: Date,
    action: WireAction,
    rows: readonly Row[],
    customStatus: string | undefined,
    ledgerOf: ReadonlyMap<HistoryEvent, LedgerEntry>,
  ): Promise<void> {
    const instanceId = state.instanceId;
    const inputText = action.input === undefined ? undefined : JSON.stringify(action.input);
    const newExecutionId = randomUUID().replace(/-/g, '');
    const historyRows = await this.#historyEntities(
      instanceId,
      state,
      [...events, historyEvents.continueAsNew(at, inputText)],
      ledgerOf,
    );
    const stateEntity = await this.#stateEntity(state, {
      status: RuntimeStatus.ContinuedAsNew,
      historyLength: 0,
      now: at,
      customStatus,
      executionId: newExecutionId,
      input: inputText ?? null,
    });
    const started = historyEvents.executionStarted(at, {
      name: state.name,
      input: inputText,
      instanceId,
      executionId: newExecutionId,
      parent:
        state.parentInstanceId === undefined
          ? undefined
          : {
              name: state.parentName ?? '',
              instanceId: state.parentInstanceId,
              executionId: state.parentExecutionId ?? '',
              taskId: state.parentTaskId ?? -1,
            },
    });
    this.#cache.delete(instanceId);
    const startKey = this.#newMessageKey();
    const startMsg = await this.#messageEntity(instanceId, startKey, {
      kind: 'start',
      executionId: newExecutionId,
      event: started,
    });
    await this.#store.submit(
      historyRows.map((h): TransactionAction => ['upsert', h, 'Replace']),
      [...this.#stateCommitOps(state, stateEntity, message), ['create', startMsg]],
    );
    this.#log.log('info', 'orchestration continued as new', { instanceId });
    // The previous execution's history, timers and work are no longer needed.
    const old = rows.filter(
      (r) =>
        (r.rowKey.startsWith(RowKeys.historyPrefix) || r.rowKey.startsWith(RowKeys.workPrefix)) &&
        !r.rowKey.includes(newExecutionId),
    );
    const oldHistory = historyRows.map((h) => ({ partitionKey: h.partitionKey, rowKey: h.rowKey }));
    this.#pendingSideWork += 1;
    void this.#store
      .deleteRows([...old, ...oldHistory])
      .catch((e: unknown) => this.#warn('cleanup failed', e, { instanceId }))
      .finally(() => {
        this.#pendingSideWork -= 1;
        this.#notify();
      });
  }

  /**
   * The message rows of cancelled timers (each user timer and its sub-timers) not yet removed:
   * `stored` are in the partition as this episode read it (deleted by its commit), `unwritten`
   * were created by this episode (never written). A row the episode consumes is neither: its
   * message delete is already in the commit, and a transaction may not touch a row twice.
   */
  #timerRowsToCancel(
    instanceId: string,
    entries: Iterable<LedgerEntry>,
    userIds: readonly number[],
    rows: readonly Row[],
    batch: readonly InboxMessage[],
  ): { stored: string[]; unwritten: string[] } {
    const stored: string[] = [];
    const unwritten: string[] = [];
    if (userIds.length === 0) return { stored, unwritten };
    const removed = this.#removedTimerKeys.get(instanceId);
    const present = new Set(rows.map((r) => r.rowKey));
    const consumed = new Set(batch.map((m) => m.rowKey));
    for (const entry of entries) {
      const belongs =
        userIds.includes(entry.id) || (entry.kind === 'subTimer' && userIds.includes(entry.group));
      if (!belongs || !('msgKey' in entry) || entry.msgKey === undefined) continue;
      const msgKey = entry.msgKey;
      if (
        removed?.has(msgKey) === true ||
        consumed.has(msgKey) ||
        stored.includes(msgKey) ||
        unwritten.includes(msgKey)
      )
        continue;
      if (present.has(msgKey)) stored.push(msgKey);
      else unwritten.push(msgKey);
    }
    return { stored, unwritten };
  }

  /** Remembers removed timer rows (so replays do not remove them again) and disarms them. */
  #markTimersRemoved(instanceId: string, msgKeys: readonly string[]): void {
    if (msgKeys.length === 0) return;
    let removed = this.#removedTimerKeys.get(instanceId);
    if (removed === undefined) {
      // Bounded: the oldest instance's set goes first (it only costs a repeated delete).
      if (this.#removedTimerKeys.size >= MAX_TRACKED_TIMER_INSTANCES)
        this.#removedTimerKeys.delete(this.#removedTimerKeys.keys().next().value as string);
      removed = new Set<string>();
      this.#removedTimerKeys.set(instanceId, removed);
    }
    for (const msgKey of msgKeys) {
      removed.add(msgKey);
      this.#timers.delete(`${instanceId}\u0000${msgKey}`);
    }
  }

  /** Writes the state row (create for an instance started inline) and removes the consumed messages. */
  #stateCommitOps(
    state: StateRow,
    stateEntity: TableEntity<Record<string, unknown>>,
    ...messages: readonly InboxMessage[]
  ): TransactionAction[] {
    const ops: TransactionAction[] = [
      state.etag === ''
        ? ['create', stateEntity]
        : ['update', stateEntity, 'Replace', { etag: state.etag }],
    ];
    for (const message of messages) {
      if (message.rowKey !== '')
        ops.push(['delete', { partitionKey: state.instanceId, rowKey: message.rowKey }]);
    }
    return ops;
  }

  #consumeDirect(instanceId: string, message: InboxMessage): void {
    if (message.direct !== true) return;
    const held = this.#heldRaises.get(instanceId);
    const heldIndex = held?.findIndex((h) => h.message === message) ?? -1;
    if (held !== undefined && heldIndex >= 0) {
      const [raise] = held.splice(heldIndex, 1);
      if (held.length === 0) this.#heldRaises.delete(instanceId);
      raise?.applied();
      return;
    }
    const list = this.#direct.get(instanceId);
    if (list === undefined) return;
    const index = list.indexOf(message);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.#direct.delete(instanceId);
  }

  /** Stores held activity results as inbox rows (result and work item removal in one transaction). */
  async #flushDirect(instanceId: string): Promise<void> {
    const list = this.#direct.get(instanceId) ?? [];
    this.#direct.delete(instanceId);
    this.#cache.delete(instanceId);
    for (const m of list)
      await this.#storeResult(instanceId, m.rowKey, m.executionId ?? '', m.event as HistoryEvent);
    if (list.length > 0 && !this.#stopped) this.#markReady(instanceId);
  }

  async #storeResult(
    partitionKey: string,
    workRowKey: string,
    executionId: string,
    event: HistoryEvent,
  ): Promise<void> {
    const msg = await this.#messageEntity(partitionKey, this.#newMessageKey(), {
      kind: 'event',
      executionId,
      event,
    });
    try {
      await this.#store.submit(
        [],
        [
          ['create', msg],
          ['delete', { partitionKey, rowKey: workRowKey }],
        ],
      );
    } catch (error) {
      if (statusOf(error) === 404) return; // the work item is gone: instance finished or purged
      throw error;
    }
  }

  async #readMessage(row: Row): Promise<InboxMessage> {
    const kind = String(row.Kind);
    const base = {
      rowKey: row.rowKey,
      executionId: typeof row.ExecutionId === 'string' ? row.ExecutionId : undefined,
      dueAt: Number(row.DueAt ?? 0),
      enqueuedAt: Number(row.EnqueuedAt ?? 0),
      reason: typeof row.Reason === 'string' ? row.Reason : undefined,
    };
    if (kind === 'terminate') return { ...base, kind, event: undefined, corrupt: undefined };
    if (kind !== 'start' && kind !== 'event')
      return { ...base, kind: 'event', event: undefined, corrupt: `unknown message kind ${kind}` };
    let parsed: unknown;
    try {
      parsed = JSON.parse((await this.#store.unpackText(row, 'Event')) ?? '');
    } catch {
      return { ...base, kind, event: undefined, corrupt: 'event is not valid JSON' };
    }
    const problem = validateHistoryEvent(parsed);
    return {
      ...base,
      kind,
      event: problem === undefined ? (parsed as HistoryEvent) : undefined,
      corrupt: problem,
    };
  }

  // ---------------------------------------------------------------- outbox (cross-instance)

  async #dispatchOutboxTracked(partitionKey: string, rowKey: string): Promise<void> {
    this.#pendingSideWork += 1;
    try {
      await this.#dispatchOutbox(partitionKey, rowKey);
    } catch (error) {
      this.#warn('outbox dispatch failed; retried on the next poll', error, {
        instanceId: partitionKey,
      });
    } finally {
      this.#pendingSideWork -= 1;
      this.#notify();
    }
  }

  async #dispatchOutbox(partitionKey: string, rowKey: string): Promise<void> {
    const row = await this.#store.getRow(partitionKey, rowKey);
    if (row === undefined) return;
    if (row.Kind === 'startChild') {
      const childId = String(row.ChildId);
      const taskId = Number(row.TaskId);
      const parentExecutionId = String(row.ParentExecutionId);
      const existing = await this.#store.getRow(childId, RowKeys.state);
      const ours =
        existing !== undefined &&
        existing.ParentInstanceId === partitionKey &&
        existing.ParentExecutionId === parentExecutionId &&
        Number(existing.ParentTaskId) === taskId;
      if (!ours) {
        if (existing !== undefined && !isTerminal(String(existing.RuntimeStatus))) {
          const failed = historyEvents.subOrchestrationFailed(
            this.#clock.now(),
            taskId,
            `[${ErrorCode.Conflict}] sub-orchestration instance '${childId}' already exists and is ${String(existing.RuntimeStatus)}`,
            '',
          );
          const msg = await this.#messageEntity(partitionKey, this.#newMessageKey(), {
            kind: 'event',
            executionId: parentExecutionId,
            event: failed,
          });
          await this.#store.table.createEntity(msg);
          this.#cache.delete(partitionKey);
          this.#markReady(partitionKey);
        } else {
          if (existing !== undefined) await this.#deletePartition(childId);
          const input = await this.#store.unpackText(row, 'Input');
          const created = await this.#createInstance(childId, String(row.Name), input, {
            instanceId: partitionKey,
            executionId: parentExecutionId,
            taskId,
            name: typeof row.ParentName === 'string' ? row.ParentName : '',
          });
          if (created === 'conflict') return;
        }
      }
    } else if (row.Kind === 'notifyParent') {
      const parentId = String(row.ParentId);
      const text = await this.#store.unpackText(row, 'Event');
      const event = JSON.parse(text ?? 'null') as HistoryEvent;
      const msg = await this.#messageEntity(parentId, String(row.MessageKey), {
        kind: 'event',
        executionId: String(row.ParentExecutionId),
        event,
      });
      await this.#store.table.upsertEntity(msg, 'Replace');
      this.#cache.delete(parentId);
      this.#markReady(parentId);
    }
    await this.#store.deleteRowIfExists(partitionKey, rowKey);
    const cached = this.#cache.get(partitionKey);
    const index = cached?.findIndex((r) => r.rowKey === rowKey) ?? -1;
    if (cached !== undefined && index >= 0) cached.splice(index, 1);
  }

  // ---------------------------------------------------------------- activities

  async #runActivity(partitionKey: string, rowKey: string, known: Row | undefined): Promise<void> {
    const invoker = this.#invoker as FunctionInvoker;
    try {
      // The work item as just committed, or as found by a scan after a restart.
      const row = known ?? (await this.#store.getRow(partitionKey, rowKey));
      if (row === undefined) return;
      const name = String(row.Name);
      const taskId = Number(row.TaskId);
      const inputText = await this.#store.unpackText(row, 'Input');
      const input = decodeActivityInput(inputText);
      let event: HistoryEvent;
      try {
        const value = await invoker.invokeActivity(name, input, { instanceId: partitionKey });
        event = historyEvents.taskCompleted(
          this.#clock.now(),
          taskId,
          JSON.stringify(value ?? null),
        );
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        event = historyEvents.taskFailed(
          this.#clock.now(),
          taskId,
          `Activity function '${name}' failed: ${err.message}`,
          err.stack ?? '',
        );
        this.#log.log('warn', 'activity failed', { instanceId: partitionKey, name, taskId });
      }
      if (this.#stopped) {
        await this.#storeResult(partitionKey, rowKey, String(row.ExecutionId), event);
        return;
      }
      const held: InboxMessage = {
        rowKey,
        kind: 'event',
        executionId: String(row.ExecutionId),
        dueAt: 0,
        enqueuedAt: this.#clock.now().getTime(),
        event,
        reason: undefined,
        corrupt: undefined,
        direct: true,
      };
      const list = this.#direct.get(partitionKey) ?? [];
      list.push(held);
      this.#direct.set(partitionKey, list);
      this.#markReady(partitionKey);
    } catch (error) {
      this.#warn('activity dispatch failed; retried on the next poll', error, {
        instanceId: partitionKey,
      });
    }
  }

  #warn(message: string, error: unknown, fields: Record<string, unknown> = {}): void {
    const err = error instanceof Error ? error : new Error(String(error));
    this.#log.log('warn', message, { ...fields, error: err.message.slice(0, 500) });
  }
}

interface OrchestratorResult {
  readonly state?: {
    isDone?: boolean;
    actions?: unknown;
    output?: unknown;
    customStatus?: unknown;
    error?: string;
  };
  readonly failure?: string;
}

async function invokeOrchestrator(
  invoker: FunctionInvoker,
  name: string,
  payload: Record<string, unknown>,
): Promise<OrchestratorResult> {
  try {
    const raw = await invoker.invokeOrchestrator(name, payload);
    const state = JSON.parse(JSON.stringify(raw ?? null)) as OrchestratorResult['state'] | null;
    if (state === null || typeof state !== 'object')
      return { failure: 'the orchestrator returned no state' };
    return { state };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = message.indexOf(OUT_OF_PROC);
    if (at < 0) return { failure: message };
    try {
      const state = JSON.parse(
        message.slice(at + OUT_OF_PROC.length),
      ) as OrchestratorResult['state'];
      return { state, failure: state?.error ?? message.slice(0, at).trim() };
    } catch {
      return { failure: message.slice(0, at).trim() };
    }
  }
}

/** Activity input as the worker hands it over: JSON text, parsed once more when it held a string. */
function decodeActivityInput(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  const value = parseJsonOr(text, undefined);
  if (typeof value === 'string') return parseJsonOr(value, value);
  return value;
}

function parseJsonOr<T>(text: string | undefined, fallback: T): unknown {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fallback;
  }
}

function toRow(entity: TableEntity<Record<string, unknown>>, etag: string): Row {
  const row: Row = { ...entity, etag };
  return row;
}

function readState(row: Row): StateRow {
  return {
    instanceId: row.partitionKey,
    name: String(row.Name),
    status: String(row.RuntimeStatus),
    executionId: String(row.ExecutionId),
    historyLength: Number(row.HistoryLength ?? 0),
    createdTime: Number(row.CreatedTime),
    lastUpdatedTime: Number(row.LastUpdatedTime),
    parentInstanceId: typeof row.ParentInstanceId === 'string' ? row.ParentInstanceId : undefined,
    parentExecutionId:
      typeof row.ParentExecutionId === 'string' ? row.ParentExecutionId : undefined,
    parentTaskId: row.ParentTaskId === undefined ? undefined : Number(row.ParentTaskId),
    parentName: typeof row.ParentName === 'string' ? row.ParentName : undefined,
    etag: row.etag,
    raw: row,
  };
}

const INSTANCE_ID_FORBIDDEN = /[/\\#?]/;

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

export function validateInstanceId(instanceId: string): void {
  if (
    instanceId.length === 0 ||
    instanceId.length > 256 ||
    instanceId.startsWith('@') ||
    INSTANCE_ID_FORBIDDEN.test(instanceId) ||
    hasControlCharacter(instanceId)
  ) {
    throw new RecorderError(
      ErrorCode.InvalidRequest,
      'instance ids are 1-256 characters, do not start with @ and contain no / \\ # ? or control characters',
    );
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** History in the shape of the extension's status API (scheduling events folded away). */
function toPublicHistory(
  events: readonly HistoryEvent[],
  showOutput: boolean,
  showInput: boolean,
): Record<string, unknown>[] {
  const scheduled = new Map<number, HistoryEvent>();
  const out: Record<string, unknown>[] = [];
  for (const e of events) {
    switch (e.EventType) {
      case HistoryEventType.TaskScheduled:
      case HistoryEventType.SubOrchestrationInstanceCreated:
      case HistoryEventType.TimerCreated:
        scheduled.set(e.EventId, e);
        break;
      case HistoryEventType.ExecutionStarted:
        out.push({
          EventType: 'ExecutionStarted',
          FunctionName: e.Name,
          Timestamp: e.Timestamp,
          ...(showInput ? { Input: parseJsonOr(e.Input as string | undefined, null) } : {}),
        });
        break;
      case HistoryEventType.TaskCompleted:
      case HistoryEventType.SubOrchestrationInstanceCompleted: {
        const s = scheduled.get(e.TaskScheduledId as number);
        out.push({
          EventType:
            e.EventType === HistoryEventType.TaskCompleted
              ? 'TaskCompleted'
              : 'SubOrchestrationInstanceCompleted',
          FunctionName: s?.Name,
          ScheduledTime: s?.Timestamp,
          Timestamp: e.Timestamp,
          ...(showOutput ? { Result: parseJsonOr(e.Result as string, null) } : {}),
        });
        break;
      }
      case HistoryEventType.TaskFailed:
      case HistoryEventType.SubOrchestrationInstanceFailed: {
        const s = scheduled.get(e.TaskScheduledId as number);
        out.push({
          EventType:
            e.EventType === HistoryEventType.TaskFailed
              ? 'TaskFailed'
              : 'SubOrchestrationInstanceFailed',
          FunctionName: s?.Name,
          ScheduledTime: s?.Timestamp,
          Timestamp: e.Timestamp,
          Reason: e.Reason,
        });
        break;
      }
      case HistoryEventType.TimerFired:
        out.push({ EventType: 'TimerFired', FireAt: e.FireAt, Timestamp: e.Timestamp });
        break;
      case HistoryEventType.EventRaised:
        out.push({
          EventType: 'EventRaised',
          Name: e.Name,
          Timestamp: e.Timestamp,
          ...(showInput ? { Input: parseJsonOr(e.Input as string | undefined, null) } : {}),
        });
        break;
      case HistoryEventType.ExecutionCompleted:
      case HistoryEventType.ExecutionFailed:
        out.push({
          EventType: 'ExecutionCompleted',
          OrchestrationStatus: e.OrchestrationStatus,
          Timestamp: e.Timestamp,
          ...(showOutput ? { Result: parseJsonOr(e.Result as string, null) } : {}),
        });
        break;
      case HistoryEventType.ExecutionTerminated:
        out.push({
          EventType: 'ExecutionTerminated',
          Timestamp: e.Timestamp,
          Reason: parseJsonOr(e.Input as string | undefined, null),
        });
        break;
      case HistoryEventType.ContinueAsNew:
        out.push({ EventType: 'ContinueAsNew', Timestamp: e.Timestamp });
        break;
      default:
        break;
    }
  }
  return out;
}

/** The state row of a new, pending instance. */
function pendingStateRow(
  instanceId: string,
  name: string,
  executionId: string,
  now: Date,
): TableEntity<Record<string, unknown>> {
  return {
    partitionKey: instanceId,
    rowKey: RowKeys.state,
    Name: name,
    RuntimeStatus: RuntimeStatus.Pending,
    ExecutionId: executionId,
    HistoryLength: 0,
    CreatedTime: now.getTime(),
    LastUpdatedTime: now.getTime(),
  };
}

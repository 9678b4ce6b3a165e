/**
 * The worker: everything that runs durable work in the background, wired together. It holds the
 * task hub lease, schedules episodes, activities and timers, dispatches the outbox, scans storage
 * for work it does not know of (at start and by the fallback poll), and drains at close.
 */
import type { Clock, FunctionInvoker } from '../host/contracts';
import type { HostLogger } from '../host/log-sink';
import { ActivityRunner } from './activities';
import { EpisodeRunner } from './episode';
import { EpisodeEnd } from './episode-end';
import { HeldMessages } from './held-messages';
import { HubLease, type HubEndpoint, type HubOwner } from './hub-lease';
import { RowKeys } from './hub-store';
import type { InstanceStore } from './instance-store';
import { logFailure } from './log';
import { Outbox, type CreateInstance } from './outbox';
import { Scheduler } from './scheduler';

export interface WorkerOptions {
  readonly store: InstanceStore;
  readonly taskHubName: string;
  readonly clock: Clock;
  readonly log: HostLogger;
  readonly maxConcurrentOrchestrations: number;
  readonly maxConcurrentActivities: number;
  readonly leaseDurationInMs: number;
  readonly pollIntervalInMs: number;
  /** Creates a (child) instance with its start message (the client's create). */
  readonly createInstance: CreateInstance;
  /** Where the engine serves the management API, published in the lease row. */
  readonly endpoint: () => HubEndpoint | undefined;
}

/** How long `close` waits for in-flight episodes and activities (wall clock). */
const DRAIN_TIMEOUT_IN_MS = 10_000;

export class Worker {
  readonly scheduler: Scheduler;
  readonly held = new HeldMessages();
  readonly episodes: EpisodeRunner;
  readonly #options: WorkerOptions;
  readonly #activities: ActivityRunner;
  readonly #outbox: Outbox;
  readonly #lease: HubLease;
  #invoker: FunctionInvoker | undefined;
  #isStopped = false;
  #pollTimer: NodeJS.Timeout | undefined;

  constructor(options: WorkerOptions) {
    this.#options = options;
    const { store, clock, log } = options;
    const isStopped = (): boolean => this.#isStopped;
    const invoker = (): FunctionInvoker => this.#invoker as FunctionInvoker;
    this.scheduler = new Scheduler({
      clock,
      maxConcurrentOrchestrations: options.maxConcurrentOrchestrations,
      maxConcurrentActivities: options.maxConcurrentActivities,
      isStopped,
      isStarted: () => this.#invoker !== undefined,
      runInstance: (instanceId) => this.episodes.runInstance(instanceId),
      runActivity: (partitionKey, rowKey, row) => this.#activities.run(partitionKey, rowKey, row),
    });
    const markReady = (instanceId: string): void => this.scheduler.markReady(instanceId);
    this.#activities = new ActivityRunner({
      store,
      held: this.held,
      clock,
      log,
      invoker,
      isStopped,
      markReady,
    });
    this.#outbox = new Outbox({
      store,
      scheduler: this.scheduler,
      clock,
      log,
      createInstance: options.createInstance,
    });
    this.episodes = new EpisodeRunner({
      store,
      held: this.held,
      scheduler: this.scheduler,
      outbox: this.#outbox,
      end: new EpisodeEnd({ store, scheduler: this.scheduler, outbox: this.#outbox, log }),
      clock,
      log,
      invoker,
      isStopped,
      flushResults: (instanceId) => this.#activities.flushResultsOrWarn(instanceId),
    });
    this.#lease = new HubLease({
      store: store.hub,
      taskHubName: options.taskHubName,
      log,
      durationInMs: options.leaseDurationInMs,
      onLost: () => {
        this.#isStopped = true;
      },
      endpoint: options.endpoint,
    });
  }

  get isStopped(): boolean {
    return this.#isStopped;
  }

  get invoker(): FunctionInvoker | undefined {
    return this.#invoker;
  }

  /** Takes the task hub lease (throws `Conflict` when another host runs the hub). */
  async acquireLease(invoker: FunctionInvoker): Promise<void> {
    this.#invoker = invoker;
    await this.#lease.acquire();
  }

  /** The hub's owner as its lease row tells (for an engine that joined the hub as a client). */
  readLeaseOwner(): Promise<HubOwner | undefined> {
    return this.#lease.readOwner();
  }

  /** Gives the lease back when the engine cannot start after taking it. */
  releaseLease(): Promise<void> {
    return this.#lease.release();
  }

  /** Reads the work stored in the hub, then keeps scanning every `pollIntervalInMs`. */
  async startPolling(): Promise<void> {
    await this.scan();
    this.#pollTimer = setInterval(
      () => void this.scan().catch((e: unknown) => logFailure(this.#options.log, 'poll failed', e)),
      this.#options.pollIntervalInMs,
    );
    this.#pollTimer.unref();
  }

  /** Reads pending inbox, activity and outbox rows from storage into the in-memory indexes. */
  async scan(): Promise<void> {
    if (this.#isStopped) return;
    const { store, clock } = this.#options;
    await this.scheduler.track(async () => {
      const now = clock.now().getTime();
      for await (const row of store.hub.scanRowKeyPrefix(RowKeys.inboxPrefix)) {
        const cached = store.cached(row.partitionKey);
        if (cached !== undefined && !cached.some((r) => r.rowKey === row.rowKey))
          store.forget(row.partitionKey);
        const dueAt = Number(row.DueAt ?? 0);
        if (dueAt <= now) this.scheduler.markReady(row.partitionKey);
        else this.scheduler.addTimer(row.partitionKey, row.rowKey, dueAt);
      }
      for await (const row of store.hub.scanRowKeyPrefix(RowKeys.workPrefix)) {
        this.scheduler.enqueueActivity(row.partitionKey, row.rowKey);
      }
      const outbox: { partitionKey: string; rowKey: string }[] = [];
      for await (const row of store.hub.scanRowKeyPrefix(RowKeys.outboxPrefix)) outbox.push(row);
      for (const o of outbox) await this.#outbox.dispatch(o.partitionKey, o.rowKey);
    });
  }

  /** Resolves when nothing is running or ready (due timers included). */
  async runUntilIdle(timeoutInMs: number): Promise<void> {
    const deadline = Date.now() + timeoutInMs;
    for (;;) {
      this.scheduler.processDueTimers();
      if (this.scheduler.isIdle) return;
      if (Date.now() > deadline) throw new Error('the durable engine did not become idle in time');
      await this.scheduler.waitForChange(50);
    }
  }

  /** Starts nothing new from now on (the first step of closing). */
  stop(): void {
    this.#isStopped = true;
    if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
    this.scheduler.stop();
    this.#lease.stopRenewing();
  }

  /**
   * Lets in-flight episodes and activities finish so nothing is left half-written, stores held
   * activity results, and releases the lease.
   */
  async drain(): Promise<void> {
    const { log } = this.#options;
    const deadline = Date.now() + DRAIN_TIMEOUT_IN_MS;
    while (this.scheduler.isBusy && Date.now() < deadline) {
      await this.scheduler.waitForChange(100);
    }
    if (this.scheduler.activeActivities > 0) {
      // A hung activity keeps its work item: it runs again when the hub next starts.
      log.log('warn', 'closing with activities still running', {
        count: this.scheduler.activeActivities,
      });
    }
    for (const instanceId of this.held.instancesWithResults()) {
      await this.#activities.flushResultsOrWarn(instanceId);
    }
    await this.#lease.release();
    this.scheduler.notify();
  }
}

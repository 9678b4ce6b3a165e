/**
 * The worker's scheduling: which instances are ready for an episode, which activities wait for a
 * slot, which timers are due; runs them within the concurrency limits and tells waiters when work
 * ends. In memory only: rebuilt from storage by the scan at start and by the fallback poll.
 */
import type { Clock } from '../host/contracts';
import type { Row } from './hub-store';

export interface SchedulerOptions {
  readonly clock: Clock;
  /** Episodes run at the same time (different instances). */
  readonly maxConcurrentOrchestrations: number;
  /** Activities run at the same time. */
  readonly maxConcurrentActivities: number;
  /** Nothing new starts once the engine has stopped (closing, or its lease lost). */
  readonly isStopped: () => boolean;
  /** Nothing runs before the engine has a function invoker. */
  readonly isStarted: () => boolean;
  /** Runs the instance's episodes while it has work; never rejects. */
  readonly runInstance: (instanceId: string) => Promise<void>;
  /** Runs one activity work item (`row` when already known); never rejects. */
  readonly runActivity: (
    partitionKey: string,
    rowKey: string,
    row: Row | undefined,
  ) => Promise<void>;
}

interface ActivityItem {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly row: Row | undefined;
}

/** The longest a wake timer sleeps before looking at the clock again (a manual clock may jump). */
const MAX_WAKE_DELAY_IN_MS = 60_000;

export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #ready: string[] = [];
  /** New instances; served alternately with `#ready` so a start is not queued behind every running instance. */
  readonly #readyNew: string[] = [];
  #servedNew = false;
  readonly #readySet = new Set<string>();
  readonly #running = new Set<string>();
  /** Instances that became ready again while their episode ran: they run once more after it. */
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, { dueAt: number; instanceId: string }>();
  readonly #activityQueue: ActivityItem[] = [];
  readonly #activityKeys = new Set<string>();
  #activeActivities = 0;
  #pendingSideWork = 0;
  #waiters: (() => void)[] = [];
  #wakeTimer: NodeJS.Timeout | undefined;
  /** Called, synchronously, when an instance's episode run ends (before any next one starts). */
  readonly #runEndWaiters = new Map<string, (() => void)[]>();

  constructor(options: SchedulerOptions) {
    this.#options = options;
  }

  get activeActivities(): number {
    return this.#activeActivities;
  }

  /** Whether episodes, activities or side work (cleanup, outbox, scan) are in flight. */
  get isBusy(): boolean {
    return this.#running.size > 0 || this.#activeActivities > 0 || this.#pendingSideWork > 0;
  }

  /** Nothing running or ready (due timers are not looked at: see `processDueTimers`). */
  get isIdle(): boolean {
    return (
      this.#ready.length === 0 &&
      this.#readyNew.length === 0 &&
      this.#running.size === 0 &&
      this.#activeActivities === 0 &&
      this.#activityQueue.length === 0 &&
      this.#pendingSideWork === 0
    );
  }

  isRunning(instanceId: string): boolean {
    return this.#running.has(instanceId);
  }

  /** Resolves at the next end of work, or after `timeoutInMs` (wall clock). */
  waitForChange(timeoutInMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waiters.push(resolve);
      setTimeout(resolve, timeoutInMs).unref();
    });
  }

  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Calls `fn` when the instance's running episode ends (the caller checks it runs). */
  onRunEnd(instanceId: string, fn: () => void): void {
    const waiters = this.#runEndWaiters.get(instanceId) ?? [];
    waiters.push(fn);
    this.#runEndWaiters.set(instanceId, waiters);
  }

  markReady(instanceId: string, isNew = false): void {
    if (this.#running.has(instanceId)) {
      this.#dirty.add(instanceId);
      return;
    }
    if (!this.#readySet.has(instanceId)) {
      this.#readySet.add(instanceId);
      (isNew ? this.#readyNew : this.#ready).push(instanceId);
    }
    this.pump();
  }

  /** The instance runs once more after its current episode run. */
  markDirty(instanceId: string): void {
    this.#dirty.add(instanceId);
  }

  /** Takes the instance's slot for an episode run outside the queue (an inline start). */
  claim(instanceId: string): void {
    this.#running.add(instanceId);
  }

  /** Ends an episode run: wakes its waiters, runs it again when it became ready meanwhile. */
  release(instanceId: string): void {
    this.#running.delete(instanceId);
    const waiters = this.#runEndWaiters.get(instanceId);
    if (waiters !== undefined) {
      this.#runEndWaiters.delete(instanceId);
      for (const w of waiters) w();
    }
    if (this.#dirty.delete(instanceId)) this.markReady(instanceId);
    this.notify();
    this.pump();
  }

  // ---------------------------------------------------------------- timers

  addTimer(instanceId: string, rowKey: string, dueAt: number): void {
    this.#timers.set(timerKey(instanceId, rowKey), { dueAt, instanceId });
    this.#armWakeTimer();
  }

  /** Disarms a timer whose row was removed (a cancelled timer). */
  removeTimer(instanceId: string, rowKey: string): void {
    this.#timers.delete(timerKey(instanceId, rowKey));
  }

  /** Marks due timers' instances ready; call after advancing a manual clock. */
  processDueTimers(): void {
    const now = this.#options.clock.now().getTime();
    for (const [key, timer] of this.#timers) {
      if (timer.dueAt <= now) {
        this.#timers.delete(key);
        this.markReady(timer.instanceId);
      }
    }
    this.#armWakeTimer();
  }

  /** Clears the wake timer (at close). */
  stop(): void {
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer);
  }

  #armWakeTimer(): void {
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    if (this.#options.isStopped() || this.#timers.size === 0) return;
    let earliest = Infinity;
    for (const t of this.#timers.values()) earliest = Math.min(earliest, t.dueAt);
    const delay = Math.min(
      Math.max(0, earliest - this.#options.clock.now().getTime()),
      MAX_WAKE_DELAY_IN_MS,
    );
    this.#wakeTimer = setTimeout(() => this.processDueTimers(), delay);
    this.#wakeTimer.unref();
  }

  // ---------------------------------------------------------------- activities and side work

  enqueueActivity(partitionKey: string, rowKey: string, row?: Row): void {
    const key = timerKey(partitionKey, rowKey);
    if (this.#activityKeys.has(key)) return;
    this.#activityKeys.add(key);
    this.#activityQueue.push({ partitionKey, rowKey, row });
    this.pump();
  }

  /** Runs work that `isIdle` and `close` wait for (cleanup, outbox dispatch, the scan). */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.#pendingSideWork += 1;
    try {
      return await work();
    } finally {
      this.#pendingSideWork -= 1;
      this.notify();
    }
  }

  /** Starts ready episodes and queued activities up to the limits. */
  pump(): void {
    if (this.#options.isStopped() || !this.#options.isStarted()) return;
    while (
      this.#running.size < this.#options.maxConcurrentOrchestrations &&
      this.#ready.length + this.#readyNew.length > 0
    ) {
      const instanceId = this.#nextReady() as string;
      this.#readySet.delete(instanceId);
      if (this.#running.has(instanceId)) {
        this.#dirty.add(instanceId);
        continue;
      }
      this.#running.add(instanceId);
      void this.#options.runInstance(instanceId).finally(() => this.release(instanceId));
    }
    while (
      this.#activeActivities < this.#options.maxConcurrentActivities &&
      this.#activityQueue.length > 0
    ) {
      const item = this.#activityQueue.shift() as ActivityItem;
      this.#activeActivities += 1;
      void this.#options.runActivity(item.partitionKey, item.rowKey, item.row).finally(() => {
        this.#activeActivities -= 1;
        this.#activityKeys.delete(timerKey(item.partitionKey, item.rowKey));
        this.notify();
        this.pump();
      });
    }
  }

  #nextReady(): string | undefined {
    const takeNew = this.#readyNew.length > 0 && (!this.#servedNew || this.#ready.length === 0);
    this.#servedNew = takeNew;
    return takeNew ? this.#readyNew.shift() : this.#ready.shift();
  }
}

function timerKey(partitionKey: string, rowKey: string): string {
  return `${partitionKey}\u0000${rowKey}`;
}

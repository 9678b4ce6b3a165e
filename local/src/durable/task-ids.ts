/**
 * Task ids of one execution: which history event id the SDK gave to which task (the docs call
 * this the id ledger; it is unrelated to the compliance ledger in core).
 *
 * The SDK numbers tasks itself (0, 1, 2, … in the order it starts tracking them) and matches
 * completion events by that number, so the engine must hand out the same numbers. User actions
 * take the next number in the order they appear (depth-first) in the cumulative action list;
 * the SDK's internal tasks take numbers when the event that creates them is processed: the retry
 * timer after a failed attempt, the next attempt after that timer, the next sub-timer of a long
 * timer. The engine feeds exactly one new event per episode, so internal numbers are taken first,
 * then numbers for newly yielded user actions. Each entry is stored on the history row of the
 * event that carries its id (TaskScheduled, TimerCreated, SubOrchestrationInstanceCreated), in
 * its `Ledger` column (the stored name is kept so existing task hubs replay unchanged).
 */

export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  ScheduledSignalEntity: 10,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export interface RetryPolicy {
  readonly firstRetryIntervalInMilliseconds: number;
  readonly maxNumberOfAttempts: number;
  readonly backoffCoefficient: number;
  readonly maxRetryIntervalInMilliseconds: number | undefined;
}

export type TaskIdEntry =
  | {
      readonly id: number;
      readonly kind: 'user';
      /** Position among the id-taking actions of the cumulative action list. */
      readonly index: number;
      readonly actionType: number;
      readonly name?: string;
      readonly retry?: RetryPolicy;
      /** ISO time of the final fire time when this is a long timer split into sub-timers. */
      readonly finalFireAt?: string;
      /** Inbox row key of the TimerFired message (timers only). */
      readonly msgKey?: string;
      /** Instance id the orchestrator chose for a sub-orchestration (reused by retries). */
      readonly childId?: string;
    }
  | {
      readonly id: number;
      readonly kind: 'retryTimer';
      readonly group: number;
      readonly failures: number;
      readonly msgKey?: string;
    }
  | {
      readonly id: number;
      readonly kind: 'retryAttempt';
      readonly group: number;
      readonly attempt: number;
    }
  | {
      readonly id: number;
      readonly kind: 'subTimer';
      readonly group: number;
      readonly finalFireAt: string;
      readonly msgKey?: string;
    };

/** A wire action from the SDK's `OrchestratorState.actions` (after a JSON round trip). */
export interface WireAction {
  readonly actionType: number;
  readonly functionName?: string;
  readonly input?: unknown;
  readonly instanceId?: string;
  readonly retryOptions?: Record<string, unknown>;
  readonly fireAt?: string;
  readonly isCanceled?: boolean;
  readonly externalEventName?: string;
  readonly compoundActions?: readonly WireAction[];
}

/** Depth-first list of the atomic actions, in the order the SDK tracks their tasks. */
export function flattenActions(actions: unknown): WireAction[] {
  const out: WireAction[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const action = value as WireAction;
    if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny) {
      visit(action.compoundActions ?? []);
      return;
    }
    out.push(action);
  };
  visit(actions);
  return out;
}

/** Whether an action takes a task id from the SDK's counter. */
export function takesId(action: WireAction): boolean {
  return (
    action.actionType !== ActionType.WaitForExternalEvent &&
    action.actionType !== ActionType.ContinueAsNew
  );
}

const supported: ReadonlySet<number> = new Set([
  ActionType.CallActivity,
  ActionType.CallActivityWithRetry,
  ActionType.CallSubOrchestrator,
  ActionType.CallSubOrchestratorWithRetry,
  ActionType.ContinueAsNew,
  ActionType.CreateTimer,
  ActionType.WaitForExternalEvent,
]);

export function isSupported(action: WireAction): boolean {
  return supported.has(action.actionType);
}

export function retryPolicyOf(
  options: Record<string, unknown> | undefined,
): RetryPolicy | undefined {
  if (options === undefined) return undefined;
  const first = Number(options.firstRetryIntervalInMilliseconds);
  const max = Number(options.maxNumberOfAttempts);
  const backoff = options.backoffCoefficient === undefined ? 1 : Number(options.backoffCoefficient);
  const maxInterval =
    options.maxRetryIntervalInMilliseconds === undefined
      ? undefined
      : Number(options.maxRetryIntervalInMilliseconds);
  if (!(first > 0) || !Number.isFinite(max)) return undefined;
  return {
    firstRetryIntervalInMilliseconds: first,
    maxNumberOfAttempts: max,
    backoffCoefficient: Number.isFinite(backoff) && backoff > 0 ? backoff : 1,
    maxRetryIntervalInMilliseconds:
      maxInterval !== undefined && maxInterval > 0 ? maxInterval : undefined,
  };
}

/** Delay before the next attempt after `failures` failed attempts (DurableTask's RetryInterceptor). */
export function retryDelayInMs(policy: RetryPolicy, failures: number): number {
  const delay =
    policy.firstRetryIntervalInMilliseconds *
    Math.pow(policy.backoffCoefficient, Math.max(0, failures - 1));
  return policy.maxRetryIntervalInMilliseconds === undefined
    ? delay
    : Math.min(delay, policy.maxRetryIntervalInMilliseconds);
}

/** What the extension sends as `maximumShortTimerDuration` / `longRunningTimerIntervalDuration`. */
export const MAXIMUM_SHORT_TIMER = '6.00:00:00';
export const LONG_TIMER_INTERVAL = '3.00:00:00';
export const MAXIMUM_SHORT_TIMER_IN_MS = 6 * 24 * 3600_000;
export const LONG_TIMER_INTERVAL_IN_MS = 3 * 24 * 3600_000;

/** Fire time of the next (sub-)timer towards `finalInMs` at `nowInMs`, as the SDK computes it. */
export function nextTimerFireAt(nowInMs: number, finalInMs: number): number {
  return finalInMs - nowInMs > MAXIMUM_SHORT_TIMER_IN_MS
    ? nowInMs + LONG_TIMER_INTERVAL_IN_MS
    : finalInMs;
}

export class TaskIds {
  readonly #byId = new Map<number, TaskIdEntry>();
  readonly #user: TaskIdEntry[] = [];
  #nextId = 0;

  add(entry: TaskIdEntry): void {
    this.#byId.set(entry.id, entry);
    if (entry.kind === 'user') this.#user[entry.index] = entry;
    this.#nextId = Math.max(this.#nextId, entry.id + 1);
  }

  get(id: number): TaskIdEntry | undefined {
    return this.#byId.get(id);
  }

  has(id: number): boolean {
    return this.#byId.has(id);
  }

  get userCount(): number {
    return this.#user.length;
  }

  user(index: number): TaskIdEntry | undefined {
    return this.#user[index];
  }

  allocate(): number {
    return this.#nextId++;
  }

  entries(): IterableIterator<TaskIdEntry> {
    return this.#byId.values();
  }
}

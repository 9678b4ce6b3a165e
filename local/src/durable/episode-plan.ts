/**
 * The pure rules of an episode, as the Durable extension applies them: which message an episode
 * takes (or drops, and why), which further messages join its batch, and what the orchestrator's
 * actions schedule (task ids, timers, activities, sub-orchestrations, retries). No I/O: the
 * episode (`episode.ts`) reads the partition, invokes the orchestrator and commits the plan.
 */
import { ErrorCode } from '@attest/core';
import { HistoryEventType, historyEvents, type HistoryEvent } from './history-events';
import type { Row } from './hub-store';
import { isAwaitingStart, type InboxMessage, type StateRow } from './instance-rows';
import {
  ActionType,
  isSupported,
  nextTimerFireAt,
  retryDelayInMs,
  retryPolicyOf,
  takesId,
  type TaskIdEntry,
  type TaskIds,
  type WireAction,
} from './task-ids';

/**
 * Inbox messages one episode may take, as the extension takes a batch of queued messages: the
 * orchestrator replays once for all of them. An episode whose batch ends the execution (done,
 * continued as new, failed) is run again with its first message alone, so ending keeps the
 * one-message semantics (unprocessed events stay in the inbox).
 */
export const MAX_MESSAGES_PER_EPISODE = 16;
const BATCHABLE_EVENT_TYPES: ReadonlySet<number> = new Set([
  HistoryEventType.EventRaised,
  HistoryEventType.TaskCompleted,
  HistoryEventType.SubOrchestrationInstanceCompleted,
]);

/** The episode's time: now, or the last episode's time when the clock went back. */
export function episodeTime(history: readonly HistoryEvent[], now: Date): Date {
  const lastStarted = [...history]
    .reverse()
    .find((e) => e.EventType === HistoryEventType.OrchestratorStarted);
  return new Date(
    Math.max(now.getTime(), lastStarted === undefined ? 0 : Date.parse(lastStarted.Timestamp)),
  );
}

/**
 * Why the first due message of a live instance is dropped unread, if it is: corrupt, for another
 * execution, a start for a started instance, or an event for an instance that never starts.
 * `messages` are all due messages in order (the first is `message`).
 */
export function admissionRefusal(
  message: InboxMessage,
  state: StateRow,
  messages: readonly InboxMessage[],
): 'corrupt' | 'stale execution' | 'already started' | 'instance never started' | undefined {
  if (message.corrupt !== undefined) return 'corrupt';
  if (message.executionId !== undefined && message.executionId !== state.executionId)
    return 'stale execution';
  if (message.kind === 'start' && !isAwaitingStart(state.status)) return 'already started';
  // Wait for the start message, which sorts first unless storage misbehaved.
  if (
    message.kind !== 'start' &&
    isAwaitingStart(state.status) &&
    !messages.some((m) => m.kind === 'start')
  )
    return 'instance never started';
  return undefined;
}

/**
 * The messages an episode applies: the first event, then further due events of this execution, in
 * order, up to the first that cannot join (anything else, or one to drop, waits for the next
 * episode). `refusal` when the first event itself is to be dropped.
 */
export function selectBatch(
  messages: readonly InboxMessage[],
  history: { readonly events: readonly HistoryEvent[]; readonly taskIds: TaskIds },
  executionId: string,
  isSingle: boolean,
): { readonly batch: InboxMessage[] } | { readonly refusal: string } {
  const completed = new Set<number>();
  const fired = new Set<number>();
  const take = (e: HistoryEvent): void => {
    if (typeof e.TaskScheduledId === 'number') completed.add(e.TaskScheduledId);
    if (e.EventType === HistoryEventType.TimerFired && typeof e.TimerId === 'number')
      fired.add(e.TimerId);
  };
  for (const e of history.events) take(e);
  /** Why an event cannot be applied now (checked against history and the batch so far). */
  const refusal = (e: HistoryEvent): string | undefined => {
    if (typeof e.TaskScheduledId === 'number') {
      if (!history.taskIds.has(e.TaskScheduledId)) return 'completion for an unscheduled task';
      if (completed.has(e.TaskScheduledId)) return 'duplicate completion';
    }
    if (e.EventType === HistoryEventType.TimerFired && typeof e.TimerId === 'number') {
      if (!history.taskIds.has(e.TimerId)) return 'timer not in the ledger';
      if (fired.has(e.TimerId)) return 'duplicate timer';
    }
    return undefined;
  };
  const [first, ...rest] = messages;
  const firstRefusal = refusal(first?.event as HistoryEvent);
  if (firstRefusal !== undefined) return { refusal: firstRefusal };
  take(first?.event as HistoryEvent);
  const batch: InboxMessage[] = [first as InboxMessage];
  for (const next of isSingle ? [] : rest) {
    if (batch.length >= MAX_MESSAGES_PER_EPISODE) break;
    if (next.kind !== 'event' || next.corrupt !== undefined || next.event === undefined) break;
    if (next.executionId !== undefined && next.executionId !== executionId) break;
    // Only events that make the SDK allocate no internal id (a retry timer after a failure, a
    // retry or the next sub-timer after a timer) join after the first: internal ids are
    // allocated for the first event, then user actions in yield order, exactly as the SDK does.
    if (!BATCHABLE_EVENT_TYPES.has(next.event.EventType)) break;
    if (refusal(next.event) !== undefined) break;
    take(next.event);
    batch.push(next);
  }
  return { batch };
}

/** Work an episode schedules, in the order the SDK numbers it. */
export type ScheduledWork =
  | {
      readonly kind: 'timer';
      /** The task id entry, with the row key of the TimerFired message. */
      readonly entry: TaskIdEntry;
      readonly msgKey: string;
      readonly fireAtMs: number;
      /** The TimerCreated history event. */
      readonly event: HistoryEvent;
    }
  | {
      readonly kind: 'activity';
      readonly entry: TaskIdEntry;
      readonly name: string;
      readonly input: string | undefined;
      /** The TaskScheduled history event. */
      readonly event: HistoryEvent;
    }
  | {
      readonly kind: 'subOrchestration';
      readonly entry: TaskIdEntry;
      readonly name: string;
      readonly input: string | undefined;
      readonly childId: string;
      /** The SubOrchestrationInstanceCreated history event. */
      readonly event: HistoryEvent;
    };

export interface ActionPlanInput {
  readonly instanceId: string;
  readonly executionId: string;
  /** Stored history of the execution (before this episode). */
  readonly history: readonly HistoryEvent[];
  /** The execution's task ids; the plan adds and allocates ids in it. */
  readonly taskIds: TaskIds;
  /** The events this episode applies. */
  readonly batch: readonly HistoryEvent[];
  /** The orchestrator's cumulative atomic actions (`flattenActions`). */
  readonly actions: readonly WireAction[];
  /** The orchestrator finished: new user actions schedule nothing. */
  readonly isDone: boolean;
  readonly at: Date;
  /** A new inbox row key for a timer's TimerFired message. */
  readonly newTimerKey: () => string;
}

export interface ActionPlan {
  /** Why the execution fails (an unsupported action, a non-deterministic orchestrator). */
  readonly failure: string | undefined;
  readonly scheduled: ScheduledWork[];
  /** User ids of timers the orchestrator cancelled (Task.any won by another task). */
  readonly cancelledTimerIds: number[];
}

/**
 * What the episode schedules: first the SDK's internal tasks created by the new events (retry
 * timer after a failed attempt, next attempt after that timer, next sub-timer of a long timer),
 * then new user actions, which take the next ids; user actions already in the task ids must match
 * their type and function name.
 */
export function planActions(input: ActionPlanInput): ActionPlan {
  const { taskIds, at } = input;
  const epochMs = at.getTime();
  const scheduled: ScheduledWork[] = [];
  const cancelledTimerIds: number[] = [];
  let failure: string | undefined;

  const timer = (entry: TaskIdEntry, fireAtMs: number): void => {
    const msgKey = input.newTimerKey();
    const event = historyEvents.timerCreated(at, entry.id, new Date(fireAtMs));
    scheduled.push({
      kind: 'timer',
      entry: { ...entry, msgKey } as TaskIdEntry,
      msgKey,
      fireAtMs,
      event,
    });
  };
  const task = (
    entry: TaskIdEntry,
    actionType: number,
    name: string,
    taskInput: string | undefined,
    childId?: string,
  ): void => {
    if (actionType === ActionType.CallActivity || actionType === ActionType.CallActivityWithRetry) {
      const event = historyEvents.taskScheduled(at, entry.id, name, taskInput);
      scheduled.push({ kind: 'activity', entry, name, input: taskInput, event });
      return;
    }
    const child = childId ?? `${input.instanceId}:${input.executionId.slice(0, 12)}:${entry.id}`;
    const event = historyEvents.subOrchestrationCreated(at, entry.id, name, child, taskInput);
    scheduled.push({
      kind: 'subOrchestration',
      entry,
      name,
      input: taskInput,
      childId: child,
      event,
    });
  };

  // 1. Internal tasks created by the new events (the SDK numbers these first).
  for (const event of input.batch) {
    const completedId =
      typeof event.TaskScheduledId === 'number' ? event.TaskScheduledId : undefined;
    const isFailure =
      event.EventType === HistoryEventType.TaskFailed ||
      event.EventType === HistoryEventType.SubOrchestrationInstanceFailed;
    if (completedId !== undefined && isFailure) {
      const entry = taskIds.get(completedId);
      const group =
        entry?.kind === 'user'
          ? entry
          : entry?.kind === 'retryAttempt'
            ? taskIds.get(entry.group)
            : undefined;
      if (group?.kind === 'user' && group.retry !== undefined) {
        const failures = entry?.kind === 'retryAttempt' ? entry.attempt : 1;
        const id = taskIds.allocate();
        timer(
          { id, kind: 'retryTimer', group: group.id, failures },
          epochMs + retryDelayInMs(group.retry, failures),
        );
      }
    }
    if (event.EventType === HistoryEventType.TimerFired && typeof event.TimerId === 'number') {
      const entry = taskIds.get(event.TimerId);
      if (entry?.kind === 'retryTimer') {
        const group = taskIds.get(entry.group);
        if (
          group?.kind === 'user' &&
          group.retry !== undefined &&
          entry.failures < group.retry.maxNumberOfAttempts
        ) {
          const id = taskIds.allocate();
          const first = input.history.find(
            (e) =>
              e.EventId === group.id &&
              (e.EventType === HistoryEventType.TaskScheduled ||
                e.EventType === HistoryEventType.SubOrchestrationInstanceCreated),
          );
          const firstInput = typeof first?.Input === 'string' ? first.Input : undefined;
          task(
            { id, kind: 'retryAttempt', group: group.id, attempt: entry.failures + 1 },
            group.actionType,
            group.name ?? '',
            firstInput,
            group.childId,
          );
        }
      } else if (
        (entry?.kind === 'user' && entry.finalFireAt !== undefined) ||
        entry?.kind === 'subTimer'
      ) {
        const finalMs = Date.parse(entry.finalFireAt as string);
        if (finalMs > epochMs) {
          const id = taskIds.allocate();
          timer(
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

  // 2. User actions: existing ones must match the task ids, new ones get the next ids.
  const idActions = input.actions.filter(takesId);
  const unsupported = input.actions.find((a) => !isSupported(a));
  if (unsupported !== undefined) {
    failure = `[${ErrorCode.InvalidRequest}] action type ${unsupported.actionType} (entities, callHttp) is not supported by the local durable engine`;
  }
  for (let index = 0; failure === undefined && index < idActions.length; index++) {
    const action = idActions[index] as WireAction;
    const known = taskIds.user(index);
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
    if (input.isDone) continue;
    const id = taskIds.allocate();
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
        const entry: TaskIdEntry = {
          ...entryBase,
          ...(retry === undefined ? {} : { retry }),
          ...(childId === undefined ? {} : { childId }),
        };
        taskIds.add(entry);
        const actionInput = action.input === undefined ? undefined : JSON.stringify(action.input);
        task(entry, action.actionType, action.functionName ?? '', actionInput, childId);
        break;
      }
      case ActionType.CreateTimer: {
        const finalMs = Date.parse(action.fireAt ?? '');
        const fireAtMs = Number.isNaN(finalMs) ? epochMs : nextTimerFireAt(epochMs, finalMs);
        const entry: TaskIdEntry =
          fireAtMs !== finalMs
            ? { ...entryBase, finalFireAt: new Date(finalMs).toISOString() }
            : entryBase;
        taskIds.add(entry);
        timer(entry, fireAtMs);
        if (action.isCanceled === true) cancelledTimerIds.push(id);
        break;
      }
    }
  }
  return { failure, scheduled, cancelledTimerIds };
}

/**
 * The message rows of cancelled timers (each user timer and its sub-timers) not yet removed:
 * `stored` are in the partition as this episode read it (deleted by its commit), `unwritten`
 * were created by this episode (never written). A row the episode consumes is neither: its
 * message delete is already in the commit, and a transaction may not touch a row twice.
 */
export function timerRowsToCancel(
  entries: Iterable<TaskIdEntry>,
  userIds: readonly number[],
  rows: readonly Row[],
  batch: readonly InboxMessage[],
  removed: ReadonlySet<string> | undefined,
): { stored: string[]; unwritten: string[] } {
  const stored: string[] = [];
  const unwritten: string[] = [];
  if (userIds.length === 0) return { stored, unwritten };
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

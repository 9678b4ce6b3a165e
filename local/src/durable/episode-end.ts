/**
 * The commits that end an execution: finished (completed, failed, terminated; a parent is told
 * through the outbox) or continued as new (a new execution with its start message). Leftover rows
 * of the old execution are removed afterwards, as side work.
 */
import type { TransactionAction } from '@azure/data-tables';
import type { HostLogger } from '../host/log-sink';
import { historyEvents, type HistoryEvent } from './history-events';
import { RowKeys, type Row } from './hub-store';
import {
  RuntimeStatus,
  newExecutionId,
  parseJsonOr,
  stateCommitOps,
  type Entity,
  type InboxMessage,
  type StateRow,
} from './instance-rows';
import type { InstanceStore } from './instance-store';
import { logFailure } from './log';
import type { Outbox } from './outbox';
import type { Scheduler } from './scheduler';
import type { TaskIdEntry, WireAction } from './task-ids';

export interface EpisodeEndOptions {
  readonly store: InstanceStore;
  readonly scheduler: Scheduler;
  readonly outbox: Outbox;
  readonly log: HostLogger;
}

export class EpisodeEnd {
  readonly #options: EpisodeEndOptions;

  constructor(options: EpisodeEndOptions) {
    this.#options = options;
  }

  /** Commits a finished execution: `events` end its history, `message` is consumed. */
  async commitTerminal(
    state: StateRow,
    message: InboxMessage,
    events: readonly HistoryEvent[],
    at: Date,
    status: RuntimeStatus,
    output: string,
    rows: readonly Row[],
    customStatus?: string,
    taskIdOf: ReadonlyMap<HistoryEvent, TaskIdEntry> = new Map(),
  ): Promise<void> {
    const { store } = this.#options;
    const instanceId = state.instanceId;
    // Forgotten before the commit: an event raised meanwhile reads the state row instead.
    store.live.delete(instanceId);
    const historyRows = await store.historyEntities(instanceId, state, events, taskIdOf);
    const stateEntity = await store.stateEntity(state, {
      status,
      historyLength: state.historyLength + events.length,
      now: at,
      customStatus,
      output,
    });
    const commit: TransactionAction[] = [...stateCommitOps(state, stateEntity, message)];
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
      const out: Entity = {
        partitionKey: instanceId,
        rowKey: notifyKey,
        Kind: 'notifyParent',
        ParentId: state.parentInstanceId,
        ParentExecutionId: state.parentExecutionId,
        MessageKey: store.newMessageKey(),
      };
      await store.hub.packText(out, 'Event', JSON.stringify(parentEvent));
      commit.push(['upsert', out, 'Replace']);
    }
    store.forget(instanceId);
    await store.hub.submit(
      historyRows.map((h): TransactionAction => ['upsert', h, 'Replace']),
      commit,
    );
    // Leftover work of a finished instance: pending activities and timers no longer matter.
    // (The partition may be a cached copy still listing cancelled timers already removed, and the
    // message just consumed, an inbox row or, for an activity result, its work item, is already
    // deleted by the commit: a transaction deleting a missing row fails as a whole.)
    const removedTimers = store.removedTimers(instanceId);
    const leftovers = rows.filter(
      (r) =>
        (r.rowKey.startsWith(RowKeys.inboxPrefix) || r.rowKey.startsWith(RowKeys.workPrefix)) &&
        r.rowKey !== message.rowKey &&
        removedTimers?.has(r.rowKey) !== true,
    );
    if (leftovers.length > 0) this.#cleanUp(instanceId, leftovers);
    if (notifyKey !== undefined) void this.#options.outbox.dispatchTracked(instanceId, notifyKey);
  }

  /** Commits the end of an execution that continues as new, with the new execution's start. */
  async commitContinueAsNew(
    state: StateRow,
    message: InboxMessage,
    events: HistoryEvent[],
    at: Date,
    action: WireAction,
    rows: readonly Row[],
    customStatus: string | undefined,
    taskIdOf: ReadonlyMap<HistoryEvent, TaskIdEntry>,
  ): Promise<void> {
    const { store, log } = this.#options;
    const instanceId = state.instanceId;
    const inputText = action.input === undefined ? undefined : JSON.stringify(action.input);
    const executionId = newExecutionId();
    const historyRows = await store.historyEntities(
      instanceId,
      state,
      [...events, historyEvents.continueAsNew(at, inputText)],
      taskIdOf,
    );
    const stateEntity = await store.stateEntity(state, {
      status: RuntimeStatus.ContinuedAsNew,
      historyLength: 0,
      now: at,
      customStatus,
      executionId,
      input: inputText ?? null,
    });
    const started = historyEvents.executionStarted(at, {
      name: state.name,
      input: inputText,
      instanceId,
      executionId,
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
    store.forget(instanceId);
    const startMsg = await store.messageEntity(instanceId, store.newMessageKey(), {
      kind: 'start',
      executionId,
      event: started,
    });
    await store.hub.submit(
      historyRows.map((h): TransactionAction => ['upsert', h, 'Replace']),
      [...stateCommitOps(state, stateEntity, message), ['create', startMsg]],
    );
    log.log('info', 'orchestration continued as new', { instanceId });
    // The previous execution's history, timers and work are no longer needed.
    const old = rows.filter(
      (r) =>
        (r.rowKey.startsWith(RowKeys.historyPrefix) || r.rowKey.startsWith(RowKeys.workPrefix)) &&
        !r.rowKey.includes(executionId),
    );
    const oldHistory = historyRows.map((h) => ({ partitionKey: h.partitionKey, rowKey: h.rowKey }));
    this.#cleanUp(instanceId, [...old, ...oldHistory]);
  }

  /** Deletes rows no longer needed, in the background (counted as side work). */
  #cleanUp(instanceId: string, rows: readonly { partitionKey: string; rowKey: string }[]): void {
    const { store, scheduler, log } = this.#options;
    void scheduler.track(() =>
      store.hub
        .deleteRows(rows)
        .catch((e: unknown) => logFailure(log, 'cleanup failed', e, { instanceId })),
    );
  }
}

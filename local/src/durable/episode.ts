/**
 * One episode of an instance: read its partition, take its due messages (stored inbox and held in
 * memory), replay the orchestrator over its history plus the new events, and commit the outcome
 * (history, state row, new work, consumed messages) in one transaction of its partition. The rules
 * of what to take and schedule are in `episode-plan.ts`; the ending commits in `episode-end.ts`.
 */
import type { TransactionAction } from '@azure/data-tables';
import { ErrorCode } from '@attest/core';
import type { Clock, FunctionInvoker } from '../host/contracts';
import type { HostLogger } from '../host/log-sink';
import { historyEvents, type HistoryEvent } from './history-events';
import type { HeldMessages } from './held-messages';
import { RowKeys, pad, statusOf } from './hub-store';
import {
  admissionRefusal,
  episodeTime as episodeTimeOf,
  planActions,
  selectBatch,
  timerRowsToCancel,
  type ScheduledWork,
} from './episode-plan';
import type { EpisodeEnd } from './episode-end';
import {
  RuntimeStatus,
  compareMessages,
  isTerminal,
  parseJsonOr,
  readState,
  stateCommitOps,
  toRow,
  type Entity,
  type InboxMessage,
} from './instance-rows';
import type { InstanceStore } from './instance-store';
import { logFailure } from './log';
import type { Outbox } from './outbox';
import type { Scheduler } from './scheduler';
import {
  ActionType,
  LONG_TIMER_INTERVAL,
  MAXIMUM_SHORT_TIMER,
  flattenActions,
  type TaskIdEntry,
} from './task-ids';

export interface EpisodeRunnerOptions {
  readonly store: InstanceStore;
  readonly held: HeldMessages;
  readonly scheduler: Scheduler;
  readonly outbox: Outbox;
  readonly end: EpisodeEnd;
  readonly clock: Clock;
  readonly log: HostLogger;
  readonly invoker: () => FunctionInvoker;
  readonly isStopped: () => boolean;
  /** Stores the instance's held activity results as inbox rows (after a failed episode); never rejects. */
  readonly flushResults: (instanceId: string) => Promise<void>;
}

/** How long a failed episode waits before it is tried again (wall clock). */
const EPISODE_RETRY_DELAY_IN_MS = 5000;
/** Above this many rows a commit spans several transactions; its partition is not cached. */
const MAX_CACHED_COMMIT_ROWS = 100;

export class EpisodeRunner {
  readonly #options: EpisodeRunnerOptions;
  /** Instances whose next episode takes one message only (a batch ended the execution). */
  readonly #singleNext = new Set<string>();

  constructor(options: EpisodeRunnerOptions) {
    this.#options = options;
  }

  /** Runs the instance's episodes while it has due messages; never rejects. */
  async runInstance(instanceId: string): Promise<void> {
    const { store, scheduler, log } = this.#options;
    try {
      for (let guard = 0; guard < 10_000 && !this.#options.isStopped(); guard++) {
        // Keeps the slot while the instance has work (its activities often finish during its own
        // commit), like the extension's extended sessions: fewer hand-offs, more throughput.
        if (!(await this.episode(instanceId))) return;
      }
    } catch (error) {
      store.forget(instanceId);
      if (statusOf(error) === 412) {
        // The state row changed under us (our copy was stale): reload and try again now.
        log.log('warn', 'instance state changed concurrently; episode retried', { instanceId });
        scheduler.markDirty(instanceId);
        return;
      }
      logFailure(log, 'episode failed; retried in 5 s', error, { instanceId });
      setTimeout(() => scheduler.markReady(instanceId), EPISODE_RETRY_DELAY_IN_MS).unref();
      await this.#options.flushResults(instanceId);
    }
  }

  /** Processes the instance's due inbox messages (a batch, in order); false when none is due. */
  async episode(instanceId: string): Promise<boolean> {
    const { store, held, scheduler, outbox, end, log } = this.#options;
    const rows = await store.loadRows(instanceId);
    const stateRow = rows.find((r) => r.rowKey === RowKeys.state);
    const inbox = rows.filter((r) => r.rowKey.startsWith(RowKeys.inboxPrefix));
    const outboxRows = rows.filter((r) => r.rowKey.startsWith(RowKeys.outboxPrefix));
    if (outboxRows.length > 0) store.forget(instanceId);
    for (const o of outboxRows) await outbox.dispatch(o.partitionKey, o.rowKey);
    if (stateRow === undefined) {
      store.forget(instanceId);
      if (inbox.length > 0) await store.hub.deleteRows(inbox);
      return false;
    }
    const state = readState(stateRow);
    const now = new Date(this.#options.clock.now().getTime());
    const messages: InboxMessage[] = [];
    for (const row of inbox) {
      const m = await store.readMessage(row);
      if (m.dueAt > now.getTime()) scheduler.addTimer(instanceId, m.rowKey, m.dueAt);
      else messages.push(m);
    }
    messages.push(...held.of(instanceId));
    if (messages.length === 0) return false;
    messages.sort(compareMessages);
    if (isTerminal(state.status)) {
      store.forget(instanceId);
      await store.hub.deleteRows(
        messages
          .filter((m) => m.rowKey !== '')
          .map((m) => ({ partitionKey: instanceId, rowKey: m.rowKey })),
      );
      for (const m of messages) held.consume(instanceId, m);
      return false;
    }
    const message = messages[0] as InboxMessage;
    const dropMessage = async (why: string): Promise<boolean> => {
      log.log('debug', 'inbox message dropped', { instanceId, why });
      store.forget(instanceId);
      if (message.rowKey !== '') await store.hub.deleteRowIfExists(instanceId, message.rowKey);
      held.consume(instanceId, message);
      return true;
    };
    const refused = admissionRefusal(message, state, messages);
    if (refused === 'corrupt') {
      log.log('warn', 'corrupt inbox message dropped', { instanceId, problem: message.corrupt });
    }
    if (refused !== undefined) return dropMessage(refused);

    const history = await store.readHistory(rows, state);
    const at = episodeTimeOf(history.events, now);
    if (history.corrupt !== undefined) {
      const reason = `[${ErrorCode.IntegrityViolation}] instance ${instanceId} cannot be replayed: ${history.corrupt}`;
      log.log('error', 'orchestration history is corrupt; the instance fails', {
        instanceId,
        problem: history.corrupt,
      });
      await end.commitTerminal(
        state,
        message,
        [],
        at,
        RuntimeStatus.Failed,
        JSON.stringify(reason),
        rows,
      );
      held.consume(instanceId, message);
      return false;
    }
    if (message.kind === 'terminate') {
      const reason = message.reason ?? '';
      const events = [historyEvents.executionTerminated(at, reason)];
      await end.commitTerminal(
        state,
        message,
        events,
        at,
        RuntimeStatus.Terminated,
        JSON.stringify(reason),
        rows,
      );
      held.consume(instanceId, message);
      log.log('info', 'orchestration terminated', { instanceId });
      return false;
    }
    const selection = selectBatch(
      messages,
      history,
      state.executionId,
      this.#singleNext.delete(instanceId),
    );
    if ('refusal' in selection) return dropMessage(selection.refusal);
    const { batch } = selection;

    const played = history.events.map((e) => ({ ...e, IsPlayed: true }));
    const newEvents: HistoryEvent[] = [
      historyEvents.orchestratorStarted(at),
      ...batch.map((m) => ({ ...(m.event as HistoryEvent), IsPlayed: false })),
    ];
    const executionInput = await store.hub.unpackText(stateRow, 'Input');
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
    const invoker = this.#options.invoker();
    const result: OrchestratorResult =
      invoker.get(state.name)?.triggerType !== 'orchestrationTrigger'
        ? {
            failure: `[${ErrorCode.NotFound}] orchestrator function '${state.name}' is not registered in this app`,
          }
        : await invokeOrchestrator(invoker, state.name, payload);

    const taskIds = history.taskIds;
    const taskIdOf = new Map<HistoryEvent, TaskIdEntry>();
    let failure = result.failure;
    const actions = result.state === undefined ? [] : flattenActions(result.state.actions);
    const isDone = result.state?.isDone === true && failure === undefined;
    let scheduled: ScheduledWork[] = [];
    let cancelledTimerIds: number[] = [];
    if (failure === undefined) {
      const plan = planActions({
        instanceId,
        executionId: state.executionId,
        history: history.events,
        taskIds,
        batch: batch.map((m) => m.event as HistoryEvent),
        actions,
        isDone,
        at,
        newTimerKey: () => store.newMessageKey(),
      });
      ({ failure, scheduled, cancelledTimerIds } = plan);
    }
    for (const work of scheduled) {
      newEvents.push(work.event);
      taskIdOf.set(work.event, work.entry);
    }

    if (batch.length > 1 && (failure !== undefined || isDone)) {
      // The batch ends the execution: run again with the first message alone (nothing was
      // stored or scheduled yet).
      this.#singleNext.add(instanceId);
      log.log('debug', 'batch ends the execution; its first message runs alone', {
        instanceId,
        messages: batch.length,
      });
      return true;
    }
    newEvents.push(historyEvents.orchestratorCompleted(at));
    const customStatus =
      result.state?.customStatus === undefined
        ? undefined
        : JSON.stringify(result.state.customStatus);

    if (failure !== undefined) {
      const output = `Orchestrator function '${state.name}' failed: ${failure}`;
      log.log('warn', 'orchestration failed', { instanceId, name: state.name });
      await end.commitTerminal(
        state,
        message,
        [...newEvents, historyEvents.executionCompleted(at, JSON.stringify(output), 'Failed')],
        at,
        RuntimeStatus.Failed,
        JSON.stringify(output),
        rows,
        customStatus,
        taskIdOf,
      );
      held.consume(instanceId, message);
      return false;
    }
    const continueAction = actions.find((a) => a.actionType === ActionType.ContinueAsNew);
    if (isDone && continueAction !== undefined) {
      await end.commitContinueAsNew(
        state,
        message,
        newEvents,
        at,
        continueAction,
        rows,
        customStatus,
        taskIdOf,
      );
      held.consume(instanceId, message);
      return true;
    }
    if (isDone) {
      const output = JSON.stringify(result.state?.output ?? null);
      await end.commitTerminal(
        state,
        message,
        [...newEvents, historyEvents.executionCompleted(at, output, 'Completed')],
        at,
        RuntimeStatus.Completed,
        output,
        rows,
        customStatus,
        taskIdOf,
      );
      held.consume(instanceId, message);
      log.log('info', 'orchestration completed', { instanceId, name: state.name });
      return false;
    }

    // The execution goes on: commit history, state, new work and consumed messages together.
    const prepare: TransactionAction[] = [];
    const afterCommit: (() => void)[] = [];
    for (const work of scheduled) {
      const { entity, armed } = await this.#workEntity(
        instanceId,
        state.executionId,
        state.name,
        work,
        at,
      );
      prepare.push(['upsert', entity, 'Replace']);
      afterCommit.push(armed);
    }
    const historyRows = await store.historyEntities(instanceId, state, newEvents, taskIdOf);
    const stateEntity = await store.stateEntity(state, {
      status: RuntimeStatus.Running,
      historyLength: state.historyLength + newEvents.length,
      now: at,
      customStatus,
    });
    // Cancelled timers: a row written by this episode is not written at all; a stored one is
    // deleted in the commit transaction (one request less per cancel than a delete of its own).
    const cancels = timerRowsToCancel(
      [...taskIds.entries(), ...taskIdOf.values()],
      cancelledTimerIds,
      rows,
      batch,
      store.removedTimers(instanceId),
    );
    const dropped = new Set(cancels.unwritten);
    const kept =
      dropped.size === 0 ? prepare : prepare.filter(([, entity]) => !dropped.has(entity.rowKey));
    const prepared = [
      ...historyRows.map((h): TransactionAction => ['upsert', h, 'Replace']),
      ...kept,
    ];
    const commitOps = stateCommitOps(state, stateEntity, ...batch);
    for (const rowKey of cancels.stored)
      commitOps.push(['delete', { partitionKey: instanceId, rowKey }]);
    let response;
    try {
      response = await store.hub.submit(prepared, commitOps);
    } catch (error) {
      store.forget(instanceId);
      throw error;
    }
    for (const m of batch) held.consume(instanceId, m);
    store.live.add(instanceId);
    const newEtag = response.commitEtags[0];
    if (newEtag === undefined || prepared.length + commitOps.length > MAX_CACHED_COMMIT_ROWS) {
      store.forget(instanceId);
    } else {
      const consumed = new Set([...batch.map((m) => m.rowKey), ...cancels.stored]);
      const next = rows.filter((r) => !consumed.has(r.rowKey) && r.rowKey !== RowKeys.state);
      next.push(toRow(stateEntity, newEtag));
      for (const [, entity] of prepared) next.push(toRow(entity, ''));
      store.cacheSet(instanceId, next);
    }
    if (state.status === RuntimeStatus.Pending)
      log.log('info', 'orchestration started', { instanceId, name: state.name });
    for (const fn of afterCommit) fn();
    // After the commit's own timers are armed: a cancelled one is disarmed again.
    const removed = [...cancels.stored, ...cancels.unwritten];
    store.markTimersRemoved(instanceId, removed);
    for (const msgKey of removed) scheduler.removeTimer(instanceId, msgKey);
    return true;
  }

  /** The row one piece of scheduled work writes, and what to arm once it is committed. */
  async #workEntity(
    instanceId: string,
    executionId: string,
    parentName: string,
    work: ScheduledWork,
    at: Date,
  ): Promise<{ entity: Entity; armed: () => void }> {
    const { store, scheduler, outbox } = this.#options;
    switch (work.kind) {
      case 'timer': {
        const fireAt = new Date(work.fireAtMs);
        const entity = await store.messageEntity(instanceId, work.msgKey, {
          kind: 'event',
          executionId,
          dueAt: work.fireAtMs,
          event: historyEvents.timerFired(fireAt, work.entry.id, fireAt.toISOString()),
        });
        return {
          entity,
          armed: () => scheduler.addTimer(instanceId, work.msgKey, work.fireAtMs),
        };
      }
      case 'activity': {
        const rowKey = `${RowKeys.workPrefix}${executionId}.${pad(work.entry.id, 6)}`;
        const entity: Entity = {
          partitionKey: instanceId,
          rowKey,
          Name: work.name,
          ExecutionId: executionId,
          TaskId: work.entry.id,
          ScheduledAt: at.getTime(),
        };
        await store.hub.packText(entity, 'Input', work.input);
        return {
          entity,
          armed: () => scheduler.enqueueActivity(instanceId, rowKey, toRow(entity, '')),
        };
      }
      case 'subOrchestration': {
        const rowKey = `${RowKeys.outboxPrefix}${executionId}.${pad(work.entry.id, 6)}`;
        const entity: Entity = {
          partitionKey: instanceId,
          rowKey,
          Kind: 'startChild',
          ChildId: work.childId,
          Name: work.name,
          ParentExecutionId: executionId,
          ParentName: parentName,
          TaskId: work.entry.id,
        };
        await store.hub.packText(entity, 'Input', work.input);
        return { entity, armed: () => void outbox.dispatchTracked(instanceId, rowKey) };
      }
    }
  }
}

const OUT_OF_PROC = '$OutOfProcData$:';

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

/** Runs the orchestrator once; a thrown failure carries the SDK's state after `$OutOfProcData$:`. */
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

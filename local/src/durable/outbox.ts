/**
 * The worker's outbox: work an episode commits for another instance (start a sub-orchestration,
 * tell a parent its child finished) is written as an outbox row in the episode's own transaction
 * and dispatched afterwards; the row is deleted once the other instance has it, so a crash in
 * between dispatches it again (idempotently) from the next scan or episode.
 */
import { ErrorCode } from '@attest/core';
import type { Clock } from '../host/contracts';
import type { HostLogger } from '../host/log-sink';
import { historyEvents, type HistoryEvent, type ParentRef } from './history-events';
import { RowKeys } from './hub-store';
import { isTerminal } from './instance-rows';
import type { InstanceStore } from './instance-store';
import { logFailure } from './log';
import type { Scheduler } from './scheduler';

/** Creates a (child) instance with its start message; 'conflict' when the id is taken. */
export type CreateInstance = (
  instanceId: string,
  name: string,
  inputText: string | undefined,
  parent: ParentRef,
) => Promise<'created' | 'conflict'>;

export interface OutboxOptions {
  readonly store: InstanceStore;
  readonly scheduler: Scheduler;
  readonly clock: Clock;
  readonly log: HostLogger;
  readonly createInstance: CreateInstance;
}

export class Outbox {
  readonly #options: OutboxOptions;

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  /** Dispatches in the background, counted as side work; a failure waits for the next poll. */
  async dispatchTracked(partitionKey: string, rowKey: string): Promise<void> {
    await this.#options.scheduler.track(async () => {
      try {
        await this.dispatch(partitionKey, rowKey);
      } catch (error) {
        logFailure(this.#options.log, 'outbox dispatch failed; retried on the next poll', error, {
          instanceId: partitionKey,
        });
      }
    });
  }

  /** Hands the outbox row's work to the other instance, then deletes the row. */
  async dispatch(partitionKey: string, rowKey: string): Promise<void> {
    const { store, scheduler } = this.#options;
    const row = await store.hub.getRow(partitionKey, rowKey);
    if (row === undefined) return;
    if (row.Kind === 'startChild') {
      const childId = String(row.ChildId);
      const taskId = Number(row.TaskId);
      const parentExecutionId = String(row.ParentExecutionId);
      const existing = await store.hub.getRow(childId, RowKeys.state);
      const ours =
        existing !== undefined &&
        existing.ParentInstanceId === partitionKey &&
        existing.ParentExecutionId === parentExecutionId &&
        Number(existing.ParentTaskId) === taskId;
      if (!ours) {
        if (existing !== undefined && !isTerminal(String(existing.RuntimeStatus))) {
          const failed = historyEvents.subOrchestrationFailed(
            this.#options.clock.now(),
            taskId,
            `[${ErrorCode.Conflict}] sub-orchestration instance '${childId}' already exists and is ${String(existing.RuntimeStatus)}`,
            '',
          );
          const msg = await store.messageEntity(partitionKey, store.newMessageKey(), {
            kind: 'event',
            executionId: parentExecutionId,
            event: failed,
          });
          await store.hub.table.createEntity(msg);
          store.forget(partitionKey);
          scheduler.markReady(partitionKey);
        } else {
          if (existing !== undefined) await store.deletePartition(childId);
          const input = await store.hub.unpackText(row, 'Input');
          const created = await this.#options.createInstance(childId, String(row.Name), input, {
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
      const text = await store.hub.unpackText(row, 'Event');
      const event = JSON.parse(text ?? 'null') as HistoryEvent;
      const msg = await store.messageEntity(parentId, String(row.MessageKey), {
        kind: 'event',
        executionId: String(row.ParentExecutionId),
        event,
      });
      await store.hub.table.upsertEntity(msg, 'Replace');
      store.forget(parentId);
      scheduler.markReady(parentId);
    }
    await store.hub.deleteRowIfExists(partitionKey, rowKey);
    store.cacheRemove(partitionKey, rowKey);
  }
}

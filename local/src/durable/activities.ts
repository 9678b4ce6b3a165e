/**
 * The worker's activities: runs an activity work item through the function invoker and hands its
 * result to the instance's next episode (held in memory; stored as an inbox row only when the
 * engine stops or an episode fails).
 */
import type { Clock, FunctionInvoker } from '../host/contracts';
import type { HostLogger } from '../host/log-sink';
import { historyEvents, type HistoryEvent } from './history-events';
import type { HeldMessages } from './held-messages';
import { statusOf, type Row } from './hub-store';
import { heldMessage, parseJsonOr } from './instance-rows';
import type { InstanceStore } from './instance-store';
import { logFailure } from './log';

export interface ActivityRunnerOptions {
  readonly store: InstanceStore;
  readonly held: HeldMessages;
  readonly clock: Clock;
  readonly log: HostLogger;
  readonly invoker: () => FunctionInvoker;
  readonly isStopped: () => boolean;
  /** The instance has a message for its next episode. */
  readonly markReady: (instanceId: string) => void;
}

export class ActivityRunner {
  readonly #options: ActivityRunnerOptions;

  constructor(options: ActivityRunnerOptions) {
    this.#options = options;
  }

  /** Runs one work item (as just committed, or as found by a scan after a restart); never rejects. */
  async run(partitionKey: string, rowKey: string, known: Row | undefined): Promise<void> {
    const { store, clock, log } = this.#options;
    try {
      const row = known ?? (await store.hub.getRow(partitionKey, rowKey));
      if (row === undefined) return;
      const name = String(row.Name);
      const taskId = Number(row.TaskId);
      const inputText = await store.hub.unpackText(row, 'Input');
      const input = decodeActivityInput(inputText);
      let event: HistoryEvent;
      try {
        const value = await this.#options
          .invoker()
          .invokeActivity(name, input, { instanceId: partitionKey });
        event = historyEvents.taskCompleted(clock.now(), taskId, JSON.stringify(value ?? null));
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        event = historyEvents.taskFailed(
          clock.now(),
          taskId,
          `Activity function '${name}' failed: ${err.message}`,
          err.stack ?? '',
        );
        log.log('warn', 'activity failed', { instanceId: partitionKey, name, taskId });
      }
      if (this.#options.isStopped()) {
        await this.#storeResult(partitionKey, rowKey, String(row.ExecutionId), event);
        return;
      }
      this.#options.held.addResult(
        partitionKey,
        heldMessage({
          rowKey,
          kind: 'event',
          executionId: String(row.ExecutionId),
          enqueuedAt: clock.now().getTime(),
          event,
        }),
      );
      this.#options.markReady(partitionKey);
    } catch (error) {
      logFailure(log, 'activity dispatch failed; retried on the next poll', error, {
        instanceId: partitionKey,
      });
    }
  }

  /** Stores held activity results as inbox rows (result and work item removal in one transaction). */
  async flushResults(instanceId: string): Promise<void> {
    const list = this.#options.held.takeResults(instanceId);
    this.#options.store.forget(instanceId);
    for (const m of list)
      await this.#storeResult(instanceId, m.rowKey, m.executionId ?? '', m.event as HistoryEvent);
    if (list.length > 0 && !this.#options.isStopped()) this.#options.markReady(instanceId);
  }

  /** As `flushResults`, logging a failure instead of throwing (the activity then runs again). */
  async flushResultsOrWarn(instanceId: string): Promise<void> {
    await this.flushResults(instanceId).catch((e: unknown) =>
      logFailure(
        this.#options.log,
        'could not store an activity result; the activity will run again',
        e,
        { instanceId },
      ),
    );
  }

  async #storeResult(
    partitionKey: string,
    workRowKey: string,
    executionId: string,
    event: HistoryEvent,
  ): Promise<void> {
    const { store } = this.#options;
    const msg = await store.messageEntity(partitionKey, store.newMessageKey(), {
      kind: 'event',
      executionId,
      event,
    });
    try {
      await store.hub.submit(
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
}

/** Activity input as the worker hands it over: JSON text, parsed once more when it held a string. */
export function decodeActivityInput(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  const value = parseJsonOr(text, undefined);
  if (typeof value === 'string') return parseJsonOr(value, value);
  return value;
}

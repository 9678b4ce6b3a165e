/**
 * The client operations the management API serves (what `DurableClient` calls): start, raise an
 * event, terminate, purge, read status and list instances. A start runs the instance's first
 * episode inline; a raised event for a live instance is held for its next episode.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, FunctionInvoker } from '../host/contracts';
import type { HostLogger } from '../host/log-sink';
import type { EpisodeRunner } from './episode';
import type { HeldMessages, HeldRaise } from './held-messages';
import { historyEvents, type HistoryEvent, type ParentRef } from './history-events';
import { RowKeys, statusOf, type Row } from './hub-store';
import {
  RuntimeStatus,
  heldMessage,
  isTerminal,
  newExecutionId,
  parseJsonOr,
  pendingStateRow,
  readState,
  toRow,
  validateInstanceId,
  type Entity,
} from './instance-rows';
import type { InstanceStore } from './instance-store';
import { toPublicHistory } from './public-history';
import type { Scheduler } from './scheduler';

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

export interface StatusOptions {
  readonly showHistory?: boolean;
  readonly showHistoryOutput?: boolean;
  readonly showInput?: boolean;
}

export interface InstanceClientOptions {
  readonly store: InstanceStore;
  readonly held: HeldMessages;
  readonly scheduler: Scheduler;
  readonly episodes: EpisodeRunner;
  readonly clock: Clock;
  readonly log: HostLogger;
  /** Undefined before the engine starts. */
  readonly invoker: () => FunctionInvoker | undefined;
  readonly isStopped: () => boolean;
  /** How long a raised event is held for the instance's next episode (wall-clock ms; 0: never). */
  readonly raiseHoldInMs: number;
}

export class InstanceClient {
  readonly #options: InstanceClientOptions;

  constructor(options: InstanceClientOptions) {
    this.#options = options;
  }

  async startNew(
    name: string,
    options: { instanceId?: string; input?: unknown } = {},
  ): Promise<StartNewResult> {
    const { store } = this.#options;
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    validateInstanceId(instanceId);
    const fn = this.#options.invoker()?.get(name);
    if (fn === undefined || fn.triggerType !== 'orchestrationTrigger')
      return { status: 'unknownOrchestrator', instanceId };
    const inputText = options.input === undefined ? undefined : JSON.stringify(options.input);
    // Optimistic: run the first episode inline and create the instance with its first work in one
    // transaction; on a conflict look at what holds the id.
    if ((await this.#startDirect(instanceId, name, inputText)) === 'created')
      return { status: 'created', instanceId };
    const existing = await store.hub.getRow(instanceId, RowKeys.state);
    if (existing !== undefined && !isTerminal(String(existing.RuntimeStatus))) {
      return { status: 'conflict', instanceId, runtimeStatus: String(existing.RuntimeStatus) };
    }
    // Like the extension, a finished instance id may be reused: its old history goes.
    await store.deletePartition(instanceId);
    const result = await this.createInstance(instanceId, name, inputText, undefined);
    return result === 'conflict'
      ? { status: 'conflict', instanceId, runtimeStatus: RuntimeStatus.Pending }
      : { status: 'created', instanceId };
  }

  /** Stores a new pending instance with its start message and marks it ready. */
  async createInstance(
    instanceId: string,
    name: string,
    inputText: string | undefined,
    parent: ParentRef | undefined,
  ): Promise<'created' | 'conflict'> {
    const { store, log, scheduler } = this.#options;
    const { executionId, state, started } = await this.#newExecution(
      instanceId,
      name,
      inputText,
      parent,
    );
    const message = await store.messageEntity(instanceId, store.newMessageKey(), {
      kind: 'start',
      executionId,
      event: started,
    });
    let response;
    try {
      response = await store.hub.submit(
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
    if (etag !== undefined) store.cacheSet(instanceId, [toRow(state, etag), toRow(message, '')]);
    else store.forget(instanceId);
    store.live.add(instanceId);
    log.log('info', 'orchestration scheduled', { instanceId, name });
    scheduler.markReady(instanceId, true);
    return 'created';
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
    const { store, held, scheduler } = this.#options;
    if (
      this.#options.isStopped() ||
      scheduler.isRunning(instanceId) ||
      store.isCached(instanceId) ||
      held.hasResults(instanceId)
    ) {
      return this.createInstance(instanceId, name, inputText, undefined);
    }
    const { now, executionId, state, started } = await this.#newExecution(
      instanceId,
      name,
      inputText,
      undefined,
    );
    const message = heldMessage({
      rowKey: '',
      kind: 'start',
      executionId,
      enqueuedAt: now.getTime(),
      event: started,
    });
    scheduler.claim(instanceId);
    store.cacheSet(instanceId, [toRow(state, '')]);
    held.addResult(instanceId, message);
    try {
      await this.#options.episodes.episode(instanceId);
      if (held.holdsResult(instanceId, message)) throw new Error('the first episode did not run');
      return 'created';
    } catch (error) {
      store.forget(instanceId);
      held.takeResults(instanceId);
      if (statusOf(error) === 409) return 'conflict';
      throw error;
    } finally {
      scheduler.release(instanceId);
    }
  }

  /** The state row and ExecutionStarted event of a new execution (nothing stored yet). */
  async #newExecution(
    instanceId: string,
    name: string,
    inputText: string | undefined,
    parent: ParentRef | undefined,
  ): Promise<{ now: Date; executionId: string; state: Entity; started: HistoryEvent }> {
    const now = this.#options.clock.now();
    const executionId = newExecutionId();
    const state = pendingStateRow(instanceId, name, executionId, now);
    if (parent !== undefined) {
      state.ParentInstanceId = parent.instanceId;
      state.ParentExecutionId = parent.executionId;
      state.ParentTaskId = parent.taskId;
      state.ParentName = parent.name;
    }
    await this.#options.store.hub.packText(state, 'Input', inputText);
    const started = historyEvents.executionStarted(now, {
      name,
      input: inputText,
      instanceId,
      executionId,
      parent: parent === undefined ? undefined : { ...parent },
    });
    return { now, executionId, state, started };
  }

  async raiseEvent(
    instanceId: string,
    eventName: string,
    inputJson: string | undefined,
  ): Promise<'accepted' | 'notFound' | 'gone'> {
    const { store, clock, scheduler } = this.#options;
    // This engine is the task hub's only writer: an instance it knows to be live, or a cached state
    // row (a terminal commit drops the cache first), is current, so the event needs no read.
    if (!store.live.has(instanceId)) {
      const state =
        store.cached(instanceId)?.find((r) => r.rowKey === RowKeys.state) ??
        (await store.hub.getRow(instanceId, RowKeys.state));
      if (state === undefined) return 'notFound';
      if (isTerminal(String(state.RuntimeStatus))) return 'gone';
    }
    const now = clock.now();
    const event = historyEvents.eventRaised(now, eventName, inputJson);
    if (
      store.live.has(instanceId) &&
      (await this.#holdRaise(instanceId, event, now.getTime())) === 'applied'
    )
      return 'accepted';
    await store.enqueueMessage(instanceId, { kind: 'event', event });
    scheduler.markReady(instanceId);
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
    const { held, scheduler, log, raiseHoldInMs } = this.#options;
    if (raiseHoldInMs <= 0 || this.#options.isStopped() || this.#options.invoker() === undefined)
      return Promise.resolve('withdrawn');
    const heldAt = Date.now();
    return new Promise((resolve) => {
      // Synchronous, and only while no episode of the instance runs: none can be applying it.
      const withdraw = (): void => {
        if (scheduler.isRunning(instanceId)) {
          scheduler.onRunEnd(instanceId, withdraw);
          return;
        }
        if (!held.withdrawRaise(instanceId, raise)) return; // applied meanwhile
        log.log('debug', 'raised event not applied within the hold; stored as an inbox row', {
          instanceId,
          heldInMs: Date.now() - heldAt,
        });
        resolve('withdrawn');
      };
      const timer = setTimeout(withdraw, raiseHoldInMs);
      const raise: HeldRaise = {
        message: heldMessage({
          rowKey: '',
          kind: 'event',
          executionId: undefined,
          enqueuedAt,
          event,
        }),
        applied: () => {
          clearTimeout(timer);
          resolve('applied');
        },
      };
      held.addRaise(instanceId, raise);
      scheduler.markReady(instanceId);
    });
  }

  async terminate(instanceId: string, reason: string): Promise<'accepted' | 'notFound' | 'gone'> {
    const { store, scheduler } = this.#options;
    const state = await store.hub.getRow(instanceId, RowKeys.state);
    if (state === undefined) return 'notFound';
    if (isTerminal(String(state.RuntimeStatus))) return 'gone';
    await store.enqueueMessage(instanceId, { kind: 'terminate', reason });
    scheduler.markReady(instanceId);
    return 'accepted';
  }

  async purge(instanceId: string): Promise<'purged' | 'notFound' | 'running'> {
    const { store } = this.#options;
    const state = await store.hub.getRow(instanceId, RowKeys.state);
    if (state === undefined) return 'notFound';
    if (!isTerminal(String(state.RuntimeStatus))) return 'running';
    await store.deletePartition(instanceId);
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

  async getStatus(
    instanceId: string,
    options: StatusOptions = {},
  ): Promise<InstanceStatus | undefined> {
    const { store } = this.#options;
    if (options.showHistory === true) {
      const rows = await store.hub.loadPartition(instanceId);
      const stateRow = rows.find((r) => r.rowKey === RowKeys.state);
      if (stateRow === undefined) return undefined;
      const state = readState(stateRow);
      const status = await this.#statusOf(stateRow, options.showInput !== false);
      const history = await store.readHistory(rows, state);
      return {
        ...status,
        history: toPublicHistory(
          history.events,
          options.showHistoryOutput === true,
          options.showInput !== false,
        ),
      };
    }
    const row = await store.hub.getRow(instanceId, RowKeys.state);
    return row === undefined ? undefined : this.#statusOf(row, options.showInput !== false);
  }

  async listInstances(filter: InstanceFilter): Promise<InstanceStatus[]> {
    const out: InstanceStatus[] = [];
    const statuses =
      filter.runtimeStatus !== undefined && filter.runtimeStatus.length > 0
        ? new Set(filter.runtimeStatus)
        : undefined;
    for await (const row of this.#options.store.hub.scanStates()) {
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
    const { hub } = this.#options.store;
    const input = showInput ? parseJsonOr(await hub.unpackText(row, 'Input'), null) : null;
    const outputText = await hub.unpackText(row, 'Output');
    const customText = await hub.unpackText(row, 'CustomStatus');
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
}

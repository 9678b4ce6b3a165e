/**
 * The instance store: reads and writes one instance's partition (state row, history, inbox) in
 * the task hub, with the in-memory knowledge this engine has as the hub's only writer (a cache of
 * recently written partitions, which instances are live, which timer rows are already removed).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../host/contracts';
import { validateHistoryEvent, type HistoryEvent } from './history-events';
import { HubStore, RowKeys, pad, type Row } from './hub-store';
import { toRow, type Entity, type InboxMessage, type StateRow } from './instance-rows';
import { TaskIds, type TaskIdEntry } from './task-ids';

/** How many partitions are kept in the cache. */
const MAX_CACHED_PARTITIONS = 2000;
/** How many running instances' removed-timer sets are kept in memory. */
const MAX_TRACKED_TIMER_INSTANCES = 10_000;

export interface InstanceStoreOptions {
  readonly connectionString: string;
  readonly taskHubName: string;
  /** Orchestration time (message enqueue times). */
  readonly clock: Clock;
}

/** An execution's history as stored, with the task ids it allocated. */
export interface StoredHistory {
  readonly events: HistoryEvent[];
  readonly taskIds: TaskIds;
  /** Why the history cannot be replayed (then `events` holds what was read before the problem). */
  readonly corrupt?: string;
}

/** Fields of an inbox message row. */
export interface MessageFields {
  readonly kind: InboxMessage['kind'];
  readonly executionId?: string;
  readonly dueAt?: number;
  readonly event?: HistoryEvent;
  readonly reason?: string;
}

/** A change to the state row. */
export interface StateChange {
  readonly status: string;
  readonly historyLength: number;
  readonly now: Date;
  readonly customStatus?: string;
  readonly output?: string;
  readonly executionId?: string;
  /** New execution input; `null` for a new execution without input; undefined keeps it. */
  readonly input?: string | null;
}

export class InstanceStore {
  readonly hub: HubStore;
  readonly #clock: Clock;
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
  readonly live = new Set<string>();
  /**
   * Timer rows already removed after a cancel, per instance. A cancelled timer stays in the
   * orchestrator's actions on every replay; without this each replay would delete its row again.
   * Message keys are unique, so a finished instance's set is harmless until the bound evicts it;
   * after a restart each cancelled timer is deleted once more (a no-op).
   */
  readonly #removedTimerKeys = new Map<string, Set<string>>();
  #msgCounter = 0;

  constructor(options: InstanceStoreOptions) {
    this.hub = new HubStore({
      connectionString: options.connectionString,
      taskHubName: options.taskHubName,
    });
    this.#clock = options.clock;
  }

  // ---------------------------------------------------------------- partition cache

  /** The instance's partition: the cached copy, else read from storage (and cached). */
  async loadRows(instanceId: string): Promise<Row[]> {
    const cached = this.#cache.get(instanceId);
    if (cached !== undefined) return cached;
    const rows = await this.hub.loadPartition(instanceId);
    this.cacheSet(instanceId, rows);
    return rows;
  }

  cached(instanceId: string): Row[] | undefined {
    return this.#cache.get(instanceId);
  }

  isCached(instanceId: string): boolean {
    return this.#cache.has(instanceId);
  }

  cacheSet(instanceId: string, rows: Row[]): void {
    this.#cache.delete(instanceId);
    this.#cache.set(instanceId, rows);
    if (this.#cache.size > MAX_CACHED_PARTITIONS) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }

  /** Adds a row this engine wrote to a cached partition. */
  cacheAdd(instanceId: string, entity: Entity, etag = ''): void {
    const rows = this.#cache.get(instanceId);
    if (rows === undefined) return;
    rows.push(toRow(entity, etag));
  }

  /** Removes one row from a cached partition (a row deleted outside a commit). */
  cacheRemove(instanceId: string, rowKey: string): void {
    const cached = this.#cache.get(instanceId);
    const index = cached?.findIndex((r) => r.rowKey === rowKey) ?? -1;
    if (cached !== undefined && index >= 0) cached.splice(index, 1);
  }

  /** Drops the cached partition: the next read goes to storage. */
  forget(instanceId: string): void {
    this.#cache.delete(instanceId);
  }

  // ---------------------------------------------------------------- removed timer rows

  removedTimers(instanceId: string): ReadonlySet<string> | undefined {
    return this.#removedTimerKeys.get(instanceId);
  }

  /** Remembers removed timer rows so replays do not remove them again. */
  markTimersRemoved(instanceId: string, msgKeys: readonly string[]): void {
    if (msgKeys.length === 0) return;
    let removed = this.#removedTimerKeys.get(instanceId);
    if (removed === undefined) {
      // Bounded: the oldest instance's set goes first (it only costs a repeated delete).
      if (this.#removedTimerKeys.size >= MAX_TRACKED_TIMER_INSTANCES)
        this.#removedTimerKeys.delete(this.#removedTimerKeys.keys().next().value as string);
      removed = new Set<string>();
      this.#removedTimerKeys.set(instanceId, removed);
    }
    for (const msgKey of msgKeys) removed.add(msgKey);
  }

  // ---------------------------------------------------------------- inbox messages

  /** A new inbox row key: sorts by wall-clock time of writing, unique within the hub. */
  newMessageKey(): string {
    this.#msgCounter = (this.#msgCounter + 1) % 1_000_000;
    return `${RowKeys.inboxPrefix}${pad(Date.now(), 15)}.${pad(this.#msgCounter, 6)}.${randomUUID().slice(0, 8)}`;
  }

  async messageEntity(instanceId: string, rowKey: string, fields: MessageFields): Promise<Entity> {
    const entity: Entity = {
      partitionKey: instanceId,
      rowKey,
      Kind: fields.kind,
      DueAt: fields.dueAt ?? 0,
      EnqueuedAt: this.#clock.now().getTime(),
    };
    if (fields.executionId !== undefined) entity.ExecutionId = fields.executionId;
    if (fields.reason !== undefined) entity.Reason = fields.reason;
    if (fields.event !== undefined)
      await this.hub.packText(entity, 'Event', JSON.stringify(fields.event));
    return entity;
  }

  /** Stores a new inbox message for the instance (and adds it to its cached partition). */
  async enqueueMessage(instanceId: string, fields: MessageFields): Promise<void> {
    const message = await this.messageEntity(instanceId, this.newMessageKey(), fields);
    await this.hub.table.createEntity(message);
    this.cacheAdd(instanceId, message);
  }

  async readMessage(row: Row): Promise<InboxMessage> {
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
      parsed = JSON.parse((await this.hub.unpackText(row, 'Event')) ?? '');
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

  // ---------------------------------------------------------------- history and state rows

  async readHistory(rows: readonly Row[], state: StateRow): Promise<StoredHistory> {
    const prefix = `${RowKeys.historyPrefix}${state.executionId}.`;
    const historyRows = rows
      .filter((r) => r.rowKey.startsWith(prefix))
      .sort((a, b) => a.rowKey.localeCompare(b.rowKey));
    const events: HistoryEvent[] = [];
    const taskIds = new TaskIds();
    for (const row of historyRows.slice(0, state.historyLength)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse((await this.hub.unpackText(row, 'Event')) ?? '');
      } catch {
        return { events, taskIds, corrupt: `history row ${row.rowKey} is not valid JSON` };
      }
      const problem = validateHistoryEvent(parsed);
      if (problem !== undefined)
        return { events, taskIds, corrupt: `history row ${row.rowKey}: ${problem}` };
      events.push(parsed as HistoryEvent);
      if (typeof row.Ledger === 'string') {
        try {
          taskIds.add(JSON.parse(row.Ledger) as TaskIdEntry);
        } catch {
          return {
            events,
            taskIds,
            corrupt: `history row ${row.rowKey} has an unreadable id ledger entry`,
          };
        }
      }
    }
    if (events.length < state.historyLength)
      return {
        events,
        taskIds,
        corrupt: `history rows missing (${events.length} of ${state.historyLength})`,
      };
    return { events, taskIds };
  }

  /** History rows for `events`, appended at `startSeq` of the execution. */
  async historyEntities(
    instanceId: string,
    state: StateRow,
    events: readonly HistoryEvent[],
    taskIdOf: ReadonlyMap<HistoryEvent, TaskIdEntry>,
    executionId = state.executionId,
    startSeq = state.historyLength,
  ): Promise<Entity[]> {
    const out: Entity[] = [];
    for (const [i, e] of events.entries()) {
      const entity: Entity = {
        partitionKey: instanceId,
        rowKey: `${RowKeys.historyPrefix}${executionId}.${pad(startSeq + i, 8)}`,
        EventType: e.EventType,
      };
      const entry = taskIdOf.get(e);
      if (entry !== undefined) entity.Ledger = JSON.stringify(entry);
      await this.hub.packText(entity, 'Event', JSON.stringify(e));
      out.push(entity);
    }
    return out;
  }

  /** The state row after `change`; fields the change does not name are kept. */
  async stateEntity(state: StateRow, change: StateChange): Promise<Entity> {
    const entity: Entity = {
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
    } else if (change.input !== undefined) await this.hub.packText(entity, 'Input', change.input);
    else keep('Input');
    if (change.customStatus !== undefined)
      await this.hub.packText(entity, 'CustomStatus', change.customStatus);
    else keep('CustomStatus');
    if (change.output !== undefined) await this.hub.packText(entity, 'Output', change.output);
    return entity;
  }

  /** Deletes the instance's partition and its blobs. */
  async deletePartition(instanceId: string): Promise<void> {
    this.#cache.delete(instanceId);
    this.live.delete(instanceId);
    const rows = await this.hub.loadPartition(instanceId);
    // The state row goes last so a crash midway leaves a purgeable instance, not orphans.
    const others = rows.filter((r) => r.rowKey !== RowKeys.state);
    await this.hub.deleteRows(others);
    await this.hub.deleteRows(rows.filter((r) => r.rowKey === RowKeys.state));
    await this.hub.deleteBlobsOf(instanceId);
  }
}

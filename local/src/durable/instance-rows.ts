/**
 * The rows of one instance's partition as the engine reads and writes them: the state row, inbox
 * messages, and the pure rules over them (runtime statuses, instance ids, message order, the
 * state commit). No I/O here; `instance-store.ts` reads and writes these rows.
 */
import { randomUUID } from 'node:crypto';
import type { TableEntity, TransactionAction } from '@azure/data-tables';
import { ErrorCode, RecorderError } from '@attest/core';
import type { HistoryEvent } from './history-events';
import { RowKeys, type Row } from './hub-store';

export const RuntimeStatus = {
  Pending: 'Pending',
  Running: 'Running',
  Completed: 'Completed',
  ContinuedAsNew: 'ContinuedAsNew',
  Failed: 'Failed',
  Terminated: 'Terminated',
} as const;
export type RuntimeStatus = (typeof RuntimeStatus)[keyof typeof RuntimeStatus];

const terminalStatuses: ReadonlySet<string> = new Set([
  RuntimeStatus.Completed,
  RuntimeStatus.Failed,
  RuntimeStatus.Terminated,
]);
export function isTerminal(status: string): boolean {
  return terminalStatuses.has(status);
}

/** Whether the instance has not run its first episode of the current execution yet. */
export function isAwaitingStart(status: string): boolean {
  return status === RuntimeStatus.Pending || status === RuntimeStatus.ContinuedAsNew;
}

/** A table entity as the engine writes it. */
export type Entity = TableEntity<Record<string, unknown>>;

/** The state row, decoded. */
export interface StateRow {
  readonly instanceId: string;
  readonly name: string;
  readonly status: string;
  readonly executionId: string;
  readonly historyLength: number;
  readonly createdTime: number;
  readonly lastUpdatedTime: number;
  readonly parentInstanceId: string | undefined;
  readonly parentExecutionId: string | undefined;
  readonly parentTaskId: number | undefined;
  readonly parentName: string | undefined;
  /** Empty for a state row not stored yet (an instance started inline): its commit creates it. */
  readonly etag: string;
  readonly raw: Row;
}

export interface InboxMessage {
  readonly rowKey: string;
  readonly kind: 'start' | 'event' | 'terminate';
  readonly executionId: string | undefined;
  readonly dueAt: number;
  readonly enqueuedAt: number;
  readonly event: HistoryEvent | undefined;
  readonly reason: string | undefined;
  readonly corrupt: string | undefined;
  /**
   * Held in memory, not in the inbox: an activity result (`rowKey` is then its work item, deleted
   * by the commit) or a raised event (`rowKey` empty; see `HeldMessages`).
   */
  readonly direct?: boolean;
}

/** An in-memory message: an event that is stored only by the commit of the episode applying it. */
export function heldMessage(
  fields: Pick<InboxMessage, 'rowKey' | 'kind' | 'executionId' | 'enqueuedAt' | 'event'>,
): InboxMessage {
  return { ...fields, dueAt: 0, reason: undefined, corrupt: undefined, direct: true };
}

export function readState(row: Row): StateRow {
  return {
    instanceId: row.partitionKey,
    name: String(row.Name),
    status: String(row.RuntimeStatus),
    executionId: String(row.ExecutionId),
    historyLength: Number(row.HistoryLength ?? 0),
    createdTime: Number(row.CreatedTime),
    lastUpdatedTime: Number(row.LastUpdatedTime),
    parentInstanceId: typeof row.ParentInstanceId === 'string' ? row.ParentInstanceId : undefined,
    parentExecutionId:
      typeof row.ParentExecutionId === 'string' ? row.ParentExecutionId : undefined,
    parentTaskId: row.ParentTaskId === undefined ? undefined : Number(row.ParentTaskId),
    parentName: typeof row.ParentName === 'string' ? row.ParentName : undefined,
    etag: row.etag,
    raw: row,
  };
}

/** The row an entity becomes once written with `etag` (empty when the etag is not known). */
export function toRow(entity: Entity, etag: string): Row {
  const row: Row = { ...entity, etag };
  return row;
}

/** The state row of a new, pending instance. */
export function pendingStateRow(
  instanceId: string,
  name: string,
  executionId: string,
  now: Date,
): Entity {
  return {
    partitionKey: instanceId,
    rowKey: RowKeys.state,
    Name: name,
    RuntimeStatus: RuntimeStatus.Pending,
    ExecutionId: executionId,
    HistoryLength: 0,
    CreatedTime: now.getTime(),
    LastUpdatedTime: now.getTime(),
  };
}

/**
 * Order in which an episode takes messages: by when they became due (a timer by its due time,
 * anything else by its enqueue time), then by row key.
 */
export function compareMessages(a: InboxMessage, b: InboxMessage): number {
  return (
    Math.max(a.dueAt, a.enqueuedAt) - Math.max(b.dueAt, b.enqueuedAt) ||
    a.rowKey.localeCompare(b.rowKey)
  );
}

/** Writes the state row (create for an instance started inline) and removes the consumed messages. */
export function stateCommitOps(
  state: StateRow,
  stateEntity: Entity,
  ...messages: readonly InboxMessage[]
): TransactionAction[] {
  const ops: TransactionAction[] = [
    state.etag === ''
      ? ['create', stateEntity]
      : ['update', stateEntity, 'Replace', { etag: state.etag }],
  ];
  for (const message of messages) {
    if (message.rowKey !== '')
      ops.push(['delete', { partitionKey: state.instanceId, rowKey: message.rowKey }]);
  }
  return ops;
}

export function parseJsonOr<T>(text: string | undefined, fallback: T): unknown {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fallback;
  }
}

/** A fresh execution id (32 hex digits, as the extension writes them). */
export function newExecutionId(): string {
  return randomUUID().replace(/-/g, '');
}

const INSTANCE_ID_FORBIDDEN = /[/\\#?]/;

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

export function validateInstanceId(instanceId: string): void {
  if (
    instanceId.length === 0 ||
    instanceId.length > 256 ||
    instanceId.startsWith('@') ||
    INSTANCE_ID_FORBIDDEN.test(instanceId) ||
    hasControlCharacter(instanceId)
  ) {
    throw new RecorderError(
      ErrorCode.InvalidRequest,
      'instance ids are 1-256 characters, do not start with @ and contain no / \\ # ? or control characters',
    );
  }
}

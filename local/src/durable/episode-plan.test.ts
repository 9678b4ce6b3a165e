import { HistoryEventType, historyEvents, type HistoryEvent } from './history-events';
import {
  MAX_MESSAGES_PER_EPISODE,
  admissionRefusal,
  episodeTime,
  planActions,
  selectBatch,
  timerRowsToCancel,
  type ActionPlanInput,
} from './episode-plan';
import { RuntimeStatus, readState, type InboxMessage } from './instance-rows';
import { ActionType, TaskIds, type TaskIdEntry } from './task-ids';

const at = new Date(Date.UTC(2026, 0, 1));
const DAY = 24 * 3600_000;

function state(status: string, executionId = 'e1') {
  return readState({
    partitionKey: 'i1',
    rowKey: 'state',
    etag: 'W/1',
    Name: 'orch',
    RuntimeStatus: status,
    ExecutionId: executionId,
    HistoryLength: 0,
    CreatedTime: at.getTime(),
    LastUpdatedTime: at.getTime(),
  });
}

function message(fields: Partial<InboxMessage> & Pick<InboxMessage, 'kind'>): InboxMessage {
  return {
    rowKey: 'm.1',
    executionId: undefined,
    dueAt: 0,
    enqueuedAt: 0,
    event: historyEvents.eventRaised(at, 'go', undefined),
    reason: undefined,
    corrupt: undefined,
    ...fields,
  };
}

function ids(...entries: TaskIdEntry[]): TaskIds {
  const taskIds = new TaskIds();
  for (const e of entries) taskIds.add(e);
  return taskIds;
}

function plan(overrides: Partial<ActionPlanInput>) {
  let key = 0;
  return planActions({
    instanceId: 'i1',
    executionId: 'e1234567890123',
    history: [],
    taskIds: new TaskIds(),
    batch: [],
    actions: [],
    isDone: false,
    at,
    newTimerKey: () => `m.timer.${++key}`,
    ...overrides,
  });
}

describe('episodeTime', () => {
  it('is now when no earlier episode ran later', () => {
    expect(episodeTime([historyEvents.orchestratorStarted(new Date(0))], at)).toEqual(at);
  });

  it('never goes back behind the last episode (a clock set back)', () => {
    const later = new Date(at.getTime() + 5000);
    expect(episodeTime([historyEvents.orchestratorStarted(later)], at)).toEqual(later);
  });
});

describe('admissionRefusal', () => {
  it('drops a corrupt message', () => {
    const m = message({ kind: 'event', corrupt: 'bad' });
    expect(admissionRefusal(m, state(RuntimeStatus.Running), [m])).toBe('corrupt');
  });

  it('drops a message for another execution', () => {
    const m = message({ kind: 'event', executionId: 'old' });
    expect(admissionRefusal(m, state(RuntimeStatus.Running), [m])).toBe('stale execution');
  });

  it('drops a start for an instance already running', () => {
    const m = message({ kind: 'start' });
    expect(admissionRefusal(m, state(RuntimeStatus.Running), [m])).toBe('already started');
  });

  it('drops an event for a pending instance that has no start message', () => {
    const m = message({ kind: 'event' });
    expect(admissionRefusal(m, state(RuntimeStatus.Pending), [m])).toBe('instance never started');
  });

  it('keeps an event for a pending instance whose start is queued', () => {
    const m = message({ kind: 'event' });
    const start = message({ kind: 'start', rowKey: 'm.2' });
    expect(admissionRefusal(m, state(RuntimeStatus.Pending), [m, start])).toBeUndefined();
  });
});

describe('selectBatch', () => {
  const scheduled: TaskIdEntry = { id: 0, kind: 'user', index: 0, actionType: 0, name: 'a' };

  it('refuses a completion for a task that was never scheduled', () => {
    const m = message({ kind: 'event', event: historyEvents.taskCompleted(at, 7, 'null') });
    expect(selectBatch([m], { events: [], taskIds: new TaskIds() }, 'e1', false)).toEqual({
      refusal: 'completion for an unscheduled task',
    });
  });

  it('refuses a second completion of the same task', () => {
    const done = historyEvents.taskCompleted(at, 0, 'null');
    const m = message({ kind: 'event', event: done });
    expect(selectBatch([m], { events: [done], taskIds: ids(scheduled) }, 'e1', false)).toEqual({
      refusal: 'duplicate completion',
    });
  });

  it('batches further raised events and completions, in order', () => {
    const a = message({ kind: 'event', rowKey: 'm.1' });
    const b = message({
      kind: 'event',
      rowKey: 'm.2',
      event: historyEvents.taskCompleted(at, 0, 'null'),
    });
    const c = message({ kind: 'event', rowKey: 'm.3' });
    const result = selectBatch([a, b, c], { events: [], taskIds: ids(scheduled) }, 'e1', false);
    expect('batch' in result && result.batch.map((m) => m.rowKey)).toEqual(['m.1', 'm.2', 'm.3']);
  });

  it('stops the batch at an event that makes the SDK allocate an id (a failure)', () => {
    const a = message({ kind: 'event', rowKey: 'm.1' });
    const failed = message({
      kind: 'event',
      rowKey: 'm.2',
      event: historyEvents.taskFailed(at, 0, 'x', ''),
    });
    const result = selectBatch([a, failed], { events: [], taskIds: ids(scheduled) }, 'e1', false);
    expect('batch' in result && result.batch).toHaveLength(1);
  });

  it('takes one message only when told to', () => {
    const a = message({ kind: 'event', rowKey: 'm.1' });
    const b = message({ kind: 'event', rowKey: 'm.2' });
    const result = selectBatch([a, b], { events: [], taskIds: new TaskIds() }, 'e1', true);
    expect('batch' in result && result.batch).toHaveLength(1);
  });

  it('takes at most the episode limit', () => {
    const many = Array.from({ length: MAX_MESSAGES_PER_EPISODE + 4 }, (_, i) =>
      message({ kind: 'event', rowKey: `m.${String(i).padStart(3, '0')}` }),
    );
    const result = selectBatch(many, { events: [], taskIds: new TaskIds() }, 'e1', false);
    expect('batch' in result && result.batch).toHaveLength(MAX_MESSAGES_PER_EPISODE);
  });
});

describe('planActions', () => {
  it('gives new user actions the next ids in yield order', () => {
    const result = plan({
      actions: [
        { actionType: ActionType.CallActivity, functionName: 'a', input: { n: 1 } },
        { actionType: ActionType.WaitForExternalEvent, externalEventName: 'e' },
        { actionType: ActionType.CallSubOrchestrator, functionName: 'child' },
      ],
    });
    expect(result.failure).toBeUndefined();
    expect(result.scheduled.map((w) => [w.kind, w.entry.id])).toEqual([
      ['activity', 0],
      ['subOrchestration', 1],
    ]);
    const activity = result.scheduled[0];
    expect(activity?.kind === 'activity' && activity.input).toBe('{"n":1}');
    const child = result.scheduled[1];
    expect(child?.kind === 'subOrchestration' && child.childId).toBe('i1:e12345678901:1');
  });

  it('schedules nothing new once the orchestrator is done', () => {
    const result = plan({
      isDone: true,
      actions: [{ actionType: ActionType.CallActivity, functionName: 'a' }],
    });
    expect(result.scheduled).toEqual([]);
  });

  it('fails a non-deterministic orchestrator whose action differs from history', () => {
    const result = plan({
      taskIds: ids({
        id: 0,
        kind: 'user',
        index: 0,
        actionType: ActionType.CallActivity,
        name: 'a',
      }),
      actions: [{ actionType: ActionType.CallActivity, functionName: 'b' }],
    });
    expect(result.failure).toMatch(/non-deterministic orchestrator: action 0/);
  });

  it('fails on an action the engine does not support', () => {
    const result = plan({ actions: [{ actionType: ActionType.CallHttp }] });
    expect(result.failure).toMatch(/action type 8 .* not supported/);
  });

  it('splits a long timer into sub-timers as the SDK does', () => {
    const fireAt = new Date(at.getTime() + 10 * DAY).toISOString();
    const result = plan({ actions: [{ actionType: ActionType.CreateTimer, fireAt }] });
    const timer = result.scheduled[0];
    expect(timer?.kind).toBe('timer');
    expect(timer?.kind === 'timer' && timer.fireAtMs).toBe(at.getTime() + 3 * DAY);
    expect(timer?.entry).toMatchObject({ id: 0, finalFireAt: fireAt, msgKey: 'm.timer.1' });
  });

  it('collects the ids of cancelled timers', () => {
    const fireAt = new Date(at.getTime() + 60_000).toISOString();
    const result = plan({
      actions: [{ actionType: ActionType.CreateTimer, fireAt, isCanceled: true }],
    });
    expect(result.cancelledTimerIds).toEqual([0]);
  });

  it('schedules a retry timer before user actions after a failed attempt with a retry policy', () => {
    const retry = {
      firstRetryIntervalInMilliseconds: 1000,
      maxNumberOfAttempts: 3,
      backoffCoefficient: 2,
      maxRetryIntervalInMilliseconds: undefined,
    };
    const taskIds = ids({
      id: 0,
      kind: 'user',
      index: 0,
      actionType: ActionType.CallActivityWithRetry,
      name: 'a',
      retry,
    });
    const result = plan({
      taskIds,
      batch: [historyEvents.taskFailed(at, 0, 'boom', '')],
      actions: [
        { actionType: ActionType.CallActivityWithRetry, functionName: 'a' },
        { actionType: ActionType.CallActivity, functionName: 'b' },
      ],
    });
    expect(result.scheduled.map((w) => [w.kind, w.entry.id, w.entry.kind])).toEqual([
      ['timer', 1, 'retryTimer'],
      ['activity', 2, 'user'],
    ]);
    const timer = result.scheduled[0];
    expect(timer?.kind === 'timer' && timer.fireAtMs).toBe(at.getTime() + 1000);
  });

  it('runs the next attempt with the first attempt input when the retry timer fires', () => {
    const retry = {
      firstRetryIntervalInMilliseconds: 1000,
      maxNumberOfAttempts: 3,
      backoffCoefficient: 1,
      maxRetryIntervalInMilliseconds: undefined,
    };
    const first = { ...historyEvents.taskScheduled(at, 0, 'a', '"in"'), EventId: 0 };
    const history: HistoryEvent[] = [first];
    const taskIds = ids(
      {
        id: 0,
        kind: 'user',
        index: 0,
        actionType: ActionType.CallActivityWithRetry,
        name: 'a',
        retry,
      },
      { id: 1, kind: 'retryTimer', group: 0, failures: 1 },
    );
    const result = plan({
      history,
      taskIds,
      batch: [historyEvents.timerFired(at, 1, at.toISOString())],
      actions: [{ actionType: ActionType.CallActivityWithRetry, functionName: 'a' }],
    });
    expect(result.scheduled).toHaveLength(1);
    expect(result.scheduled[0]).toMatchObject({
      kind: 'activity',
      name: 'a',
      input: '"in"',
      entry: { id: 2, kind: 'retryAttempt', group: 0, attempt: 2 },
    });
    expect(result.scheduled[0]?.event.EventType).toBe(HistoryEventType.TaskScheduled);
  });
});

describe('timerRowsToCancel', () => {
  const timer: TaskIdEntry = {
    id: 3,
    kind: 'user',
    index: 0,
    actionType: ActionType.CreateTimer,
    msgKey: 'm.t3',
  };
  const sub: TaskIdEntry = { id: 4, kind: 'subTimer', group: 3, finalFireAt: '', msgKey: 'm.t4' };
  const row = (rowKey: string) => ({ partitionKey: 'i1', rowKey, etag: '' });

  it('deletes stored rows and skips unwritten ones of a cancelled timer and its sub-timers', () => {
    expect(timerRowsToCancel([timer, sub], [3], [row('m.t3')], [], undefined)).toEqual({
      stored: ['m.t3'],
      unwritten: ['m.t4'],
    });
  });

  it('leaves rows already removed and the row the episode consumes', () => {
    const consumed = message({ kind: 'event', rowKey: 'm.t4' });
    expect(
      timerRowsToCancel(
        [timer, sub],
        [3],
        [row('m.t3'), row('m.t4')],
        [consumed],
        new Set(['m.t3']),
      ),
    ).toEqual({ stored: [], unwritten: [] });
  });
});

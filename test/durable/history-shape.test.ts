/**
 * The history the engine stores must be what the Durable extension writes, event for event:
 * the SDK matches completions by the ids it numbered itself, so an id off by one stalls or
 * corrupts a replay. These read the stored rows directly.
 */
import type { TableClient } from '@azure/data-tables';
import { startHarness, type Harness } from './harness';

const DAY = 24 * 3600_000;
const T = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
};

describe('local durable engine: stored history matches the extension', () => {
  let h: Harness;
  let table: TableClient;
  beforeAll(async () => {
    h = await startHarness();
    table = h.instances;
  });
  afterAll(async () => {
    await h.close();
  });

  async function history(instanceId: string): Promise<Record<string, unknown>[]> {
    const rows: { rowKey: string; event: Record<string, unknown> }[] = [];
    const filter = `PartitionKey eq '${instanceId}' and RowKey ge 'h.' and RowKey lt 'h/'`;
    for await (const row of table.listEntities<{ Event: string }>({ queryOptions: { filter } })) {
      rows.push({ rowKey: row.rowKey!, event: JSON.parse(row.Event) as Record<string, unknown> });
    }
    return rows.sort((a, b) => a.rowKey.localeCompare(b.rowKey)).map((r) => r.event);
  }

  it('writes one episode per event with PascalCase fields and JSON-string results', async () => {
    await h.client.startNew('dSequence', { instanceId: 'shape-seq', input: 'z' });
    await h.engine.runUntilIdle();
    const events = await history('shape-seq');
    expect(events.map((e) => e.EventType)).toEqual([
      T.OrchestratorStarted,
      T.ExecutionStarted,
      T.TaskScheduled,
      T.OrchestratorCompleted,
      T.OrchestratorStarted,
      T.TaskCompleted,
      T.TaskScheduled,
      T.OrchestratorCompleted,
      T.OrchestratorStarted,
      T.TaskCompleted,
      T.TaskScheduled,
      T.OrchestratorCompleted,
      T.OrchestratorStarted,
      T.TaskCompleted,
      T.OrchestratorCompleted,
      T.ExecutionCompleted,
    ]);
    expect(events[1]).toMatchObject({
      Name: 'dSequence',
      Input: '"z"',
      OrchestrationInstance: { InstanceId: 'shape-seq' },
    });
    // Input is the JSON of the action's input as the worker sends it; the SDK has already
    // JSON-encoded string inputs (Utils.processInput), so a string arrives encoded twice.
    expect(
      events
        .filter((e) => e.EventType === T.TaskScheduled)
        .map((e): unknown[] => [
          e.EventId,
          e.Name,
          JSON.parse(JSON.parse(String(e.Input)) as string),
        ]),
    ).toEqual([
      [0, 'dHello', 'z1'],
      [1, 'dHello', 'z2'],
      [2, 'dHello', 'z3'],
    ]);
    expect(events[5]).toMatchObject({ TaskScheduledId: 0, Result: '"Hello z1"' });
    expect(events[15]).toMatchObject({
      OrchestrationStatus: 'Completed',
      Result: '["Hello z1","Hello z2","Hello z3"]',
    });
  });

  it('numbers retry timers and attempts as the SDK expects (TaskFailed n, TimerCreated n+1, TaskScheduled n+2)', async () => {
    await h.client.startNew('dRetry', {
      instanceId: 'shape-retry',
      input: { key: 'shape-retry', failuresBeforeSuccess: 1 },
    });
    await h.engine.runUntilIdle();
    h.clock.advance(1000);
    await h.engine.runUntilIdle();
    const events = (await history('shape-retry')).filter(
      (e) => ![T.OrchestratorStarted, T.OrchestratorCompleted].includes(e.EventType as number),
    );
    expect(
      events.map((e) => [e.EventType, e.EventId, e.TaskScheduledId ?? e.TimerId ?? null]),
    ).toEqual([
      [T.ExecutionStarted, -1, null],
      [T.TaskScheduled, 0, null],
      [T.TaskFailed, -1, 0],
      [T.TimerCreated, 1, null],
      [T.TimerFired, -1, 1],
      [T.TaskScheduled, 2, null],
      [T.TaskCompleted, -1, 2],
      [T.ExecutionCompleted, -1, null],
    ]);
    const created = events[3] as { Timestamp: string; FireAt: string };
    expect(Date.parse(created.FireAt) - Date.parse(created.Timestamp)).toBe(1000);
  });

  it('splits a long timer into consecutive sub-timer ids, 3 days apart, ending at the requested time', async () => {
    const id = await h.client.startNew('dTimer', { instanceId: 'shape-long', input: 8 * DAY });
    await h.engine.runUntilIdle();
    h.clock.advance(3 * DAY);
    await h.engine.runUntilIdle();
    h.clock.advance(5 * DAY);
    await h.engine.runUntilIdle();
    expect((await h.client.getStatus(id)).runtimeStatus).toBe('Completed');
    const events = await history('shape-long');
    const started = Date.parse(String(events[0]?.Timestamp));
    const timers = events
      .filter((e) => e.EventType === T.TimerCreated)
      .map((e) => [e.EventId, Date.parse(String(e.FireAt)) - started]);
    expect(timers).toEqual([
      [0, 3 * DAY],
      [1, 8 * DAY],
    ]);
    expect(events.filter((e) => e.EventType === T.TimerFired).map((e) => e.TimerId)).toEqual([
      0, 1,
    ]);
  });
});

import { TableClient } from '@azure/data-tables';
import { createLocalDurableEngine, ManualClock } from '../../local/src/durable';
import type * as DurableApp from '../apps/durable-app';
import { clientFor, startHarness, testConnection, uniqueHubName, type Harness } from './harness';

const HOUR = 3600_000;

/** The sample app's probe, read from the module instance the host loaded (never imported before it). */
function probe(): typeof DurableApp.durableAppProbe {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../apps/durable-app') as typeof DurableApp).durableAppProbe;
}

describe('local durable engine: robustness', () => {
  let h: Harness;
  let table: TableClient;
  beforeAll(async () => {
    h = await startHarness();
    table = h.instances;
  });
  afterAll(async () => {
    await h.close();
  });

  it('fails only the instance whose history row is corrupt, with a clear reason', async () => {
    // Storage is damaged while no host runs (a running host keeps its own copy of what it wrote).
    const taskHubName = uniqueHubName('cor');
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 8));
    const first = await startHarness({ taskHubName, clock });
    const broken = await first.client.startNew('dEventAfterTimer', { instanceId: 'corrupt-1' });
    const healthy = await first.client.startNew('dEventAfterTimer', { instanceId: 'healthy-1' });
    await first.engine.runUntilIdle();
    await first.close();
    const hub = TableClient.fromConnectionString(testConnection(), `${taskHubName}Instances`, {
      allowInsecureConnection: true,
    });
    let corrupted = false;
    for await (const row of hub.listEntities<Record<string, unknown>>({
      queryOptions: { filter: `PartitionKey eq '${broken}'` },
    })) {
      if (String(row.rowKey).startsWith('h.') && !corrupted) {
        await hub.updateEntity(
          {
            partitionKey: row.partitionKey!,
            rowKey: row.rowKey!,
            EventType: 0,
            Event: '{"EventType": oops',
          },
          'Merge',
        );
        corrupted = true;
      }
    }
    expect(corrupted).toBe(true);

    const second = await startHarness({ taskHubName, clock });
    try {
      await second.client.raiseEvent(broken, 'approval', 1);
      await second.client.raiseEvent(healthy, 'approval', 2);
      clock.advance(HOUR);
      await second.engine.runUntilIdle();
      const failed = await second.client.getStatus(broken);
      expect(failed.runtimeStatus).toBe('Failed');
      expect(String(failed.output)).toMatch(/ATT_INTEGRITY_VIOLATION.*corrupt-1.*not valid JSON/);
      const ok = await second.client.getStatus(healthy);
      expect(ok.runtimeStatus).toBe('Completed');
      expect(ok.output).toEqual({ approved: 2 });
    } finally {
      await second.close();
    }
  });

  it('applies a completed activity result once even when it is delivered twice', async () => {
    probe().reset();
    const id = await h.client.startNew('dActivityThenEvent', { instanceId: 'dup-1', input: 'dup' });
    await h.engine.runUntilIdle();
    // A second delivery of the activity's TaskCompleted (at-least-once transport), with another result.
    const duplicate = {
      partitionKey: id,
      rowKey: 'm.000000000000001.000000.dupdupdu',
      Kind: 'event',
      DueAt: 0,
      EnqueuedAt: h.clock.now().getTime(),
      Event: JSON.stringify({
        EventType: 5,
        EventId: -1,
        IsPlayed: false,
        Timestamp: h.clock.now().toISOString(),
        TaskScheduledId: 0,
        Result: '"forged"',
      }),
    };
    await table.createEntity(duplicate);
    await h.engine.pollOnce(); // finds the row the engine did not write
    await h.engine.runUntilIdle();
    await expect(table.getEntity(id, duplicate.rowKey)).rejects.toMatchObject({ statusCode: 404 });
    await h.client.raiseEvent(id, 'done', 'ok');
    await h.engine.runUntilIdle();
    const status = await h.client.getStatus(id, { showHistory: true });
    expect(status.output).toEqual({ fromActivity: 'dup', fromEvent: 'ok' });
    const history = status.history as { EventType: string }[];
    expect(history.filter((e) => e.EventType === 'TaskCompleted')).toHaveLength(1);
    expect(probe().runsOf('dup')).toBe(1);
  });

  it('rejects an episode whose state row changed underneath it and replays from storage', async () => {
    const id = await h.client.startNew('dEvent', { instanceId: 'etag-1' });
    await h.engine.runUntilIdle();
    // Another writer touches the state row: the engine's copy now carries a stale ETag.
    await table.updateEntity({ partitionKey: id, rowKey: 'state', Touched: true }, 'Merge');
    await h.client.raiseEvent(id, 'approval', 'after-touch');
    await h.engine.runUntilIdle();
    expect(
      h.logs.records.some(
        (r) =>
          r.message === 'instance state changed concurrently; episode retried' &&
          r.instanceId === id,
      ),
    ).toBe(true);
    const status = await h.client.getStatus(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ approved: 'after-touch' });
  });

  it('fails an instance whose orchestrator is not registered, and goes on with the others', async () => {
    const state = {
      partitionKey: 'orphan-1',
      rowKey: 'state',
      Name: 'noLongerDeployed',
      RuntimeStatus: 'Pending',
      ExecutionId: 'e1',
      HistoryLength: 0,
      CreatedTime: h.clock.now().getTime(),
      LastUpdatedTime: h.clock.now().getTime(),
    };
    const start = {
      partitionKey: 'orphan-1',
      rowKey: 'm.000000000000002.000000.orphanxx',
      Kind: 'start',
      ExecutionId: 'e1',
      DueAt: 0,
      EnqueuedAt: h.clock.now().getTime(),
      Event: JSON.stringify({
        EventType: 0,
        EventId: -1,
        IsPlayed: false,
        Timestamp: h.clock.now().toISOString(),
        Name: 'noLongerDeployed',
      }),
    };
    await table.submitTransaction([
      ['create', state],
      ['create', start],
    ]);
    const other = await h.client.startNew('dSequence');
    // Rows written behind the engine's back are found by its fallback poll; run one now.
    await h.engine.pollOnce();
    await h.engine.runUntilIdle();
    const orphan = await h.client.getStatus('orphan-1');
    expect(orphan.runtimeStatus).toBe('Failed');
    expect(String(orphan.output)).toContain(
      "orchestrator function 'noLongerDeployed' is not registered",
    );
    expect((await h.client.getStatus(other)).runtimeStatus).toBe('Completed');
  });
});

describe('local durable engine: configuration', () => {
  it('refuses to serve the management API on a non-loopback address', async () => {
    const engine = createLocalDurableEngine({
      connectionString: testConnection(),
      taskHubName: uniqueHubName('cfg'),
      rpcHost: '0.0.0.0',
      logSink: () => undefined,
    });
    const app = {
      list: () => [],
      get: () => undefined,
      invokeOrchestrator: () => Promise.resolve(undefined),
      invokeActivity: () => Promise.resolve(undefined),
    };
    await expect(engine.start(app)).rejects.toThrow(/ATT_CONFIG_INVALID.*loopback/);
    await engine.close();
  });

  it('rejects a task hub name that would not make a valid table name', () => {
    expect(() =>
      createLocalDurableEngine({ connectionString: testConnection(), taskHubName: 'bad-hub!' }),
    ).toThrow(/task hub name/);
  });
});

describe('local durable engine: two hosts on the same task hub', () => {
  it('refuses to start a second engine on a task hub that another live host runs, and says so', async () => {
    const taskHubName = uniqueHubName('two');
    const first = await startHarness({ taskHubName });
    try {
      await expect(startHarness({ taskHubName, clock: new ManualClock() })).rejects.toThrow(
        new RegExp(
          `ATT_CONFLICT.*task hub '${taskHubName}' is already run by another host \\(pid ${process.pid}`,
        ),
      );
      const id = await first.client.startNew('dCounted', { input: 'solo' });
      await first.engine.runUntilIdle();
      expect((await first.client.getStatus(id)).output).toEqual(['solo-a', 'solo-b']);
      expect(probe().runsOf('solo-a')).toBe(1);
    } finally {
      await first.close();
    }
    // Once the first host has shut down cleanly, another may take the hub over.
    const second = await startHarness({ taskHubName });
    await second.close();
  });

  it('lets an engine that may join run as a client of the live owner, then take the hub over once the owner is gone', async () => {
    const taskHubName = uniqueHubName('join');
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 8));
    const owner = await startHarness({ taskHubName, clock });
    let joined: Harness | undefined;
    try {
      joined = await startHarness({
        taskHubName,
        clock,
        joinRunningHub: true,
        leaseDurationInMs: 900,
      });
      expect(owner.engine.isHubOwner).toBe(true);
      expect(joined.engine.isHubOwner).toBe(false);
      // The joined host's durable client calls go to the owner, which runs the work once.
      expect(joined.engine.clientBindingData().rpcBaseUrl).toBe(owner.engine.rpcBaseUrl);
      const id = await joined.client.startNew('dCounted', { input: 'joined' });
      await owner.engine.runUntilIdle();
      expect((await joined.client.getStatus(id)).output).toEqual(['joined-a', 'joined-b']);
      expect(probe().runsOf('joined-a')).toBe(1);

      await owner.close();
      const deadline = Date.now() + 30_000;
      while (!joined.engine.isHubOwner) {
        if (Date.now() > deadline) throw new Error('the joined engine did not take the hub over');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Now it serves its own endpoint and runs the hub's work itself.
      const client = clientFor(joined.engine);
      expect(joined.engine.clientBindingData().rpcBaseUrl).toBe(joined.engine.rpcBaseUrl);
      const next = await client.startNew('dCounted', { input: 'taken' });
      await joined.engine.runUntilIdle();
      expect((await client.getStatus(next)).output).toEqual(['taken-a', 'taken-b']);
      expect(probe().runsOf('taken-a')).toBe(1);
    } finally {
      await joined?.close();
      await owner.close();
    }
  });
});

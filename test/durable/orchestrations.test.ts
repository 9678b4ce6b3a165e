import { TableClient } from '@azure/data-tables';
import type { DurableClient } from 'durable-functions';
import { HubStore } from '../../local/src/durable/hub-store';
import { startHarness, type Harness } from './harness';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('local durable engine: orchestration patterns through the real SDK', () => {
  let h: Harness;
  let client: DurableClient;
  beforeAll(async () => {
    h = await startHarness();
    client = h.client;
  });
  afterAll(async () => {
    await h.close();
  });

  async function finish(id: string): Promise<Awaited<ReturnType<DurableClient['getStatus']>>> {
    await h.engine.runUntilIdle();
    return client.getStatus(id);
  }

  it('runs a sequence of activities and returns their results in order', async () => {
    const id = await client.startNew('dSequence', { input: 'seq' });
    const status = await finish(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['Hello seq1', 'Hello seq2', 'Hello seq3']);
  });

  it('fans out to 25 activities and fans in their results', async () => {
    const id = await client.startNew('dFanOut', { input: 25 });
    const status = await finish(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toBe(2 * ((24 * 25) / 2));
  });

  it('takes results that arrived together in one episode: fewer replays, each result once', async () => {
    const id = await client.startNew('dFanOut', { input: 25 });
    const status = await finish(id);
    expect(status.output).toBe(2 * ((24 * 25) / 2));
    const history = (await client.getStatus(id, { showHistory: true })).history as {
      EventType: string;
    }[];
    expect(history.filter((e) => e.EventType === 'TaskCompleted')).toHaveLength(25);
    // One episode per message would be 26 (the start and 25 results).
    expect(history.filter((e) => e.EventType === 'OrchestratorStarted').length).toBeLessThan(26);
  });

  it('ends on the first of results that arrived together and leaves the others unprocessed', async () => {
    const id = await client.startNew('dFirstOf', { input: 8 });
    const status = await finish(id);
    expect(status.runtimeStatus).toBe('Completed');
    const history = (await client.getStatus(id, { showHistory: true, showHistoryOutput: true }))
      .history as { EventType: string; Result?: unknown }[];
    const completions = history.filter((e) => e.EventType === 'TaskCompleted');
    // The execution ends with the first result alone, as with one message per episode.
    expect(completions).toHaveLength(1);
    expect(status.output).toEqual(completions[0]?.Result);
    // The results came in one batch, which ended the execution and ran again with one message.
    expect(
      h.logs.records.filter(
        (r) =>
          r.message === 'batch ends the execution; its first message runs alone' &&
          r.instanceId === id,
      ).length,
    ).toBeGreaterThanOrEqual(1);
  });

  it('retries a failing activity after the backoff timer and then succeeds', async () => {
    const id = await client.startNew('dRetry', {
      input: { key: 'retry-ok', failuresBeforeSuccess: 2 },
    });
    await h.engine.runUntilIdle();
    expect((await client.getStatus(id)).runtimeStatus).toBe('Running');
    h.clock.advance(1000); // first retry after 1 s
    await h.engine.runUntilIdle();
    expect((await client.getStatus(id)).runtimeStatus).toBe('Running');
    h.clock.advance(2000); // second retry after 2 s (backoff 2)
    const status = await finish(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ ok: { key: 'retry-ok', calls: 3 } });
  });

  it('fails a retried activity once its attempts are used up', async () => {
    const id = await client.startNew('dRetry', {
      input: { key: 'retry-never', failuresBeforeSuccess: 10 },
    });
    for (let i = 0; i < 4; i++) {
      await h.engine.runUntilIdle();
      h.clock.advance(10_000);
    }
    const status = await finish(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ failed: expect.stringContaining('flaky failure 3') });
  });

  it('lets the orchestrator catch an activity failure and read its error code', async () => {
    const id = await client.startNew('dCatch');
    const status = await finish(id);
    expect(status.output).toBe('caught ATT_MEDIA_HOST_UNAVAILABLE');
  });

  it('marks an orchestration that throws as Failed with its message', async () => {
    const id = await client.startNew('dFailing');
    const status = await finish(id);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('orchestrator gave up on purpose');
  });

  it('fires a durable timer only when the clock reaches it', async () => {
    const id = await client.startNew('dTimer', { input: 2 * HOUR });
    await h.engine.runUntilIdle();
    h.clock.advance(HOUR);
    await h.engine.runUntilIdle();
    expect((await client.getStatus(id)).runtimeStatus).toBe('Running');
    h.clock.advance(HOUR);
    const status = await finish(id);
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as { startedAt: string; resumedAt: string };
    expect(Date.parse(output.resumedAt) - Date.parse(output.startedAt)).toBeGreaterThanOrEqual(
      2 * HOUR,
    );
  });

  it('splits a 10-day timer into sub-timers as the extension does and fires it at the end', async () => {
    const id = await client.startNew('dTimer', { input: 10 * DAY });
    await h.engine.runUntilIdle();
    h.clock.advance(3 * DAY); // first sub-timer (now + 3 days)
    await h.engine.runUntilIdle();
    expect((await client.getStatus(id)).runtimeStatus).toBe('Running');
    h.clock.advance(3 * DAY); // second sub-timer; 4 days remain, so the next one is the final time
    await h.engine.runUntilIdle();
    expect((await client.getStatus(id)).runtimeStatus).toBe('Running');
    h.clock.advance(4 * DAY);
    const status = await finish(id);
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as { startedAt: string; resumedAt: string };
    expect(Date.parse(output.resumedAt) - Date.parse(output.startedAt)).toBe(10 * DAY);
    const history = (await client.getStatus(id, { showHistory: true })).history as {
      EventType: string;
    }[];
    expect(history.filter((e) => e.EventType === 'TimerFired')).toHaveLength(3);
  });

  it('delivers an external event raised after the orchestrator waits', async () => {
    const id = await client.startNew('dEvent');
    await h.engine.runUntilIdle();
    await client.raiseEvent(id, 'approval', { by: 'officer-1' });
    const status = await finish(id);
    expect(status.output).toEqual({ approved: { by: 'officer-1' } });
  });

  it('keeps an external event raised before the orchestrator waits for it', async () => {
    const id = await client.startNew('dEventAfterTimer');
    await h.engine.runUntilIdle();
    await client.raiseEvent(id, 'approval', 'early');
    await h.engine.runUntilIdle();
    h.clock.advance(HOUR);
    const status = await finish(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ approved: 'early' });
  });

  it('delivers two early events of the same name in the order they were raised', async () => {
    const id = await client.startNew('dTwoEvents');
    await h.engine.runUntilIdle();
    await client.raiseEvent(id, 'step', 'one');
    await client.raiseEvent(id, 'step', 'two');
    await h.engine.runUntilIdle();
    h.clock.advance(HOUR);
    const status = await finish(id);
    expect(status.output).toEqual(['one', 'two']);
  });

  it('runs a sub-orchestration without an explicit id under a derived child id', async () => {
    const id = await client.startNew('dChildNoId');
    const status = await finish(id);
    expect(status.output).toEqual(['Hello anon1', 'Hello anon2', 'Hello anon3']);
    const children = (await client.getStatusAll()).filter((s) => s.instanceId.startsWith(`${id}:`));
    expect(children.map((c) => [c.name, c.runtimeStatus])).toEqual([['dSequence', 'Completed']]);
  });

  it('lets an event win a race against a timer and cancels the timer', async () => {
    const id = await client.startNew('dRace');
    await h.engine.runUntilIdle();
    await client.raiseEvent(id, 'go', 42);
    const status = await finish(id);
    expect(status.output).toEqual({ won: 'event', data: 42 });
  });

  it('deletes each cancelled timer row once, in the commit of the episode that cancels it', async () => {
    const singleDeletes = jest.spyOn(HubStore.prototype, 'deleteRowIfExists');
    const submits = jest.spyOn(HubStore.prototype, 'submit');
    const table = h.instances;
    const pendingMessages = async (instanceId: string): Promise<number> => {
      let count = 0;
      for await (const row of table.listEntities({
        queryOptions: { filter: `PartitionKey eq '${instanceId}'` },
      }))
        if (String(row.rowKey).startsWith('m.')) count++;
      return count;
    };
    try {
      const id = await client.startNew('dRaceLoop', { input: 6 });
      await h.engine.runUntilIdle();
      for (let round = 1; round <= 6; round++) {
        await client.raiseEvent(id, 'tick', round);
        await h.engine.runUntilIdle();
        // Only the timer of the round now waiting is left (none after the last round).
        expect(await pendingMessages(id)).toBe(round < 6 ? 1 : 0);
      }
      const status = await finish(id);
      expect(status.output).toEqual({ total: 21, timedOut: false });
      // No request of its own per cancel: the rows go in the episodes' transactions.
      expect(singleDeletes.mock.calls.filter(([partitionKey]) => partitionKey === id)).toEqual([]);
      const deleted = submits.mock.calls
        .flatMap(([prepare, commit]) => [...prepare, ...commit])
        .filter(([kind, entity]) => kind === 'delete' && entity.partitionKey === id)
        .map(([, entity]) => String(entity.rowKey));
      // The timers of rounds 1-5 go in commits, each once (the last one with the finished
      // instance's leftovers); the raised events were never inbox rows (held for the episode).
      expect(deleted).toHaveLength(5);
      expect(new Set(deleted).size).toBe(5);
    } finally {
      singleDeletes.mockRestore();
      submits.mockRestore();
    }
  });

  it('lets the timer win a race when no event comes', async () => {
    const id = await client.startNew('dRace');
    await h.engine.runUntilIdle();
    h.clock.advance(HOUR);
    const status = await finish(id);
    expect(status.output).toEqual({ won: 'timer' });
  });

  it('carries state across continueAsNew executions', async () => {
    const id = await client.startNew('dContinue', { input: { round: 0, total: 0 } });
    const status = await finish(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ round: 4, total: 2 * (0 + 1 + 2 + 3) });
  });

  it('runs sub-orchestrations with an explicit id and surfaces a child failure', async () => {
    const id = await client.startNew('dParent', { input: { childId: 'child-of-parent-1' } });
    const status = await finish(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({
      child: ['Hello sub1', 'Hello sub2', 'Hello sub3'],
      childError: expect.stringContaining('orchestrator gave up on purpose'),
    });
    const child = await client.getStatus('child-of-parent-1');
    expect(child.runtimeStatus).toBe('Completed');
  });

  it('terminates a waiting instance and records the reason', async () => {
    const id = await client.startNew('dWaitForever');
    await h.engine.runUntilIdle();
    expect((await client.getStatus(id)).customStatus).toEqual({ phase: 'waiting' });
    await client.terminate(id, 'operator request');
    const status = await finish(id);
    expect(status.runtimeStatus).toBe('Terminated');
    expect(status.output).toBe('operator request');
  });

  it('shows history with outputs in the status query', async () => {
    const id = await client.startNew('dSequence', { input: 'hist' });
    await h.engine.runUntilIdle();
    const status = await client.getStatus(id, {
      showHistory: true,
      showHistoryOutput: true,
      showInput: true,
    });
    expect(status.input).toBe('hist');
    const history = status.history as {
      EventType: string;
      FunctionName?: string;
      Result?: unknown;
    }[];
    expect(history.map((e) => e.EventType)).toEqual([
      'ExecutionStarted',
      'TaskCompleted',
      'TaskCompleted',
      'TaskCompleted',
      'ExecutionCompleted',
    ]);
    expect(history[1]).toMatchObject({ FunctionName: 'dHello', Result: 'Hello hist1' });
    expect(history[4]).toMatchObject({ Result: ['Hello hist1', 'Hello hist2', 'Hello hist3'] });
  });

  it('rejects raising an event to an unknown instance', async () => {
    await expect(client.raiseEvent('no-such-instance', 'x', 1)).rejects.toThrow(
      "No instance with ID 'no-such-instance' found.",
    );
  });

  it('raises events to a live instance without reading its state row, and reads it once the instance has ended', async () => {
    const id = await client.startNew('dRaceLoop', { input: 2 });
    await h.engine.runUntilIdle();
    const reads = jest.spyOn(HubStore.prototype, 'getRow');
    try {
      const stateReads = (): number =>
        reads.mock.calls.filter(
          ([partitionKey, rowKey]) => partitionKey === id && rowKey === 'state',
        ).length;
      await client.raiseEvent(id, 'tick', 1);
      await h.engine.runUntilIdle();
      await client.raiseEvent(id, 'tick', 2);
      expect(stateReads()).toBe(0);
      const status = await finish(id);
      expect(status.output).toEqual({ total: 3, timedOut: false });
      const before = stateReads();
      await client.raiseEvent(id, 'tick', 3);
      expect(stateReads()).toBe(before + 1);
      expect((await finish(id)).output).toEqual({ total: 3, timedOut: false });
    } finally {
      reads.mockRestore();
    }
  });

  it('accepts (and drops) an event raised to a completed instance', async () => {
    const id = await client.startNew('dSequence');
    await h.engine.runUntilIdle();
    await expect(client.raiseEvent(id, 'late', 1)).resolves.toBeUndefined();
    expect((await client.getStatus(id)).runtimeStatus).toBe('Completed');
  });

  it('stores an event raised to an idle live instance in the commit of the episode that applies it, before the raise is answered', async () => {
    const id = await client.startNew('dEvent');
    await h.engine.runUntilIdle();
    const rowInserts = jest.spyOn(TableClient.prototype, 'createEntity');
    try {
      await client.raiseEvent(id, 'approval', 'yes');
      // Answered only once stored: the episode has already committed the event and completed.
      const status = await client.getStatus(id);
      expect(status.runtimeStatus).toBe('Completed');
      expect(status.output).toEqual({ approved: 'yes' });
      expect(rowInserts.mock.calls.filter(([entity]) => inboxRowOf(entity, id))).toEqual([]);
    } finally {
      rowInserts.mockRestore();
    }
  });
});

/** An inbox message row of the instance (createEntity also builds transactions' create operations). */
function inboxRowOf(entity: unknown, instanceId: string): boolean {
  const row = entity as { partitionKey?: string; rowKey?: string };
  return row.partitionKey === instanceId && row.rowKey?.startsWith('m.') === true;
}

describe('local durable engine: clean-up of a finished instance', () => {
  it('deletes nothing after the last commit when no work is left (the consumed result is not deleted twice)', async () => {
    const h2 = await startHarness();
    const batchDeletes = jest.spyOn(HubStore.prototype, 'deleteRows');
    const singleDeletes = jest.spyOn(HubStore.prototype, 'deleteRowIfExists');
    try {
      const id = await h2.client.startNew('dSequence');
      await h2.engine.runUntilIdle();
      expect((await h2.client.getStatus(id)).runtimeStatus).toBe('Completed');
      expect(
        batchDeletes.mock.calls.filter(([rows]) => rows.some((r) => r.partitionKey === id)),
      ).toEqual([]);
      expect(singleDeletes.mock.calls.filter(([partitionKey]) => partitionKey === id)).toEqual([]);
      let workOrInbox = 0;
      for await (const row of h2.instances.listEntities({
        queryOptions: { filter: `PartitionKey eq '${id}'` },
      })) {
        if (/^[mw]\./.test(String(row.rowKey))) workOrInbox += 1;
      }
      expect(workOrInbox).toBe(0);
    } finally {
      batchDeletes.mockRestore();
      singleDeletes.mockRestore();
      await h2.close();
    }
  });
});

describe('local durable engine: raised events when holding is off or the episode fails', () => {
  it('stores the event as an inbox row when holding is off', async () => {
    const off = await startHarness({ raiseHoldInMs: 0 });
    const rowInserts = jest.spyOn(TableClient.prototype, 'createEntity');
    try {
      const id = await off.client.startNew('dEvent');
      await off.engine.runUntilIdle();
      await off.client.raiseEvent(id, 'approval', 'row');
      expect(rowInserts.mock.calls.filter(([entity]) => inboxRowOf(entity, id))).toHaveLength(1);
      await off.engine.runUntilIdle();
      expect((await off.client.getStatus(id)).output).toEqual({ approved: 'row' });
    } finally {
      rowInserts.mockRestore();
      await off.close();
    }
  });

  it('stores a held event as an inbox row once the hold ends without a committed episode', async () => {
    const short = await startHarness({ raiseHoldInMs: 20 });
    const rowInserts = jest.spyOn(TableClient.prototype, 'createEntity');
    const submits = jest.spyOn(HubStore.prototype, 'submit');
    try {
      const id = await short.client.startNew('dEvent');
      await short.engine.runUntilIdle();
      // The next commit fails: the episode holding the event does not store it.
      submits.mockRejectedValueOnce(
        Object.assign(new Error('storage unavailable'), { statusCode: 503 }),
      );
      await short.client.raiseEvent(id, 'approval', 'after-failure');
      expect(rowInserts.mock.calls.filter(([entity]) => inboxRowOf(entity, id))).toHaveLength(1);
      await short.engine.runUntilIdle();
      const status = await short.client.getStatus(id);
      expect(status.output).toEqual({ approved: 'after-failure' });
    } finally {
      rowInserts.mockRestore();
      submits.mockRestore();
      await short.close();
    }
  });
});

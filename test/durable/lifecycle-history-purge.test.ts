/**
 * The lifecycle history purge through the real DurableClient and the local durable engine: only
 * finished instances of the lifecycle orchestrations, created before the cutoff, are taken.
 */
import { InvocationContext, type Timer } from '@azure/functions';
import { DurableLifecycleClient } from '../../functions/src/adapters/durable-lifecycle-client';
import { createLifecycleHistoryPurgeHandler } from '../../functions/src/timers/lifecycle-history-purge.timer';
import { startHarness, type Harness } from './harness';

const DAY = 86_400_000;

describe('lifecycle history purge on the local durable engine', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('purges finished lifecycles created before the retention and nothing else', async () => {
    // 'dSequence' and 'dFailing' stand in for the two lifecycle versions; 'dFanOut' for another
    // orchestration of the task hub (an export, a disposition) that must stay.
    const history = new DurableLifecycleClient(
      h.client,
      new Set(['dSequence', 'dFailing', 'dWaitForever']),
    );
    const old = [
      await h.client.startNew('dSequence'),
      await h.client.startNew('dFailing'),
      await h.client.startNew('dSequence'),
    ];
    const otherKind = await h.client.startNew('dFanOut', { input: 2 });
    const stillWaiting = await h.client.startNew('dWaitForever');
    await h.engine.runUntilIdle();
    h.clock.advance(31 * DAY);
    const recent = await h.client.startNew('dSequence');
    await h.engine.runUntilIdle();
    // Finished lifecycles only: not the other orchestration, not the one still running, not the recent one.
    expect(
      [...(await history.listFinished(new Date(h.clock.now().getTime() - 30 * DAY), 100))].sort(),
    ).toEqual([...old].sort());

    const lines: unknown[][] = [];
    const handler = createLifecycleHistoryPurgeHandler({
      history: () => history,
      retentionInMs: 30 * DAY,
      now: () => new Date(h.clock.now()),
    });
    await handler(
      { isPastDue: false } as Timer,
      new InvocationContext({
        functionName: 'purge',
        logHandler: (level, ...args) => lines.push([level, ...args]),
      }),
    );

    for (const id of old) await expect(h.client.getStatus(id)).rejects.toThrow('404');
    expect((await h.client.getStatus(otherKind)).runtimeStatus).toBe('Completed');
    expect((await h.client.getStatus(recent)).runtimeStatus).toBe('Completed');
    expect((await h.client.getStatus(stillWaiting)).runtimeStatus).toBe('Running');
    expect(String(lines.at(-1)?.[1])).toContain('"purged":3');
  });
});

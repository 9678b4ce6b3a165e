import { InvocationContext, type Timer } from '@azure/functions';
import type { LifecycleHistory } from '../domain/recorder-ports';
import { createLifecycleHistoryPurgeHandler } from './lifecycle-history-purge.timer';

function run(history: LifecycleHistory, maxPerRun: number): Promise<unknown[][]> {
  const lines: unknown[][] = [];
  const handler = createLifecycleHistoryPurgeHandler({
    history: () => history,
    retentionInMs: 30 * 86_400_000,
    now: () => new Date('2030-02-01T03:30:00Z'),
    maxPerRun,
  });
  return handler(
    { isPastDue: false } as Timer,
    new InvocationContext({
      functionName: 'purge',
      logHandler: (level, ...args) => lines.push([level, ...args]),
    }),
  ).then(() => lines);
}

describe('lifecycle history purge timer', () => {
  it("asks for lifecycles finished before the retention and purges at most a run's worth, saying more is left", async () => {
    const asked: { before: Date; limit: number }[] = [];
    const purged: string[] = [];
    const history: LifecycleHistory = {
      listFinished: (before, limit) => {
        asked.push({ before, limit });
        return Promise.resolve(['call-a', 'call-b', 'call-c'].slice(0, limit));
      },
      purge: (id) => {
        purged.push(id);
        return Promise.resolve(true);
      },
    };
    const lines = await run(history, 2);
    expect(asked).toEqual([{ before: new Date('2030-01-02T03:30:00Z'), limit: 3 }]);
    expect(purged).toEqual(['call-a', 'call-b']);
    expect(String(lines.at(-1)?.[1])).toContain('"purged":2');
    expect(String(lines.at(-1)?.[1])).toContain('"isMoreLeft":true');
  });

  it('goes on past an instance it cannot purge and counts it', async () => {
    const history: LifecycleHistory = {
      listFinished: () => Promise.resolve(['call-a', 'call-b']),
      purge: (id) =>
        id === 'call-a' ? Promise.reject(new Error('storage unavailable')) : Promise.resolve(true),
    };
    const lines = await run(history, 10);
    expect(lines.some((l) => l[0] === 'warning' || String(l[1]).includes('not purged'))).toBe(true);
    expect(String(lines.at(-1)?.[1])).toContain('"purged":1,"failed":1');
  });
});

import { InvocationContext, type Timer } from '@azure/functions';
import type { RaiseResult, RunningLifecycles } from '../domain/recorder-ports';
import { createLifecycleCallCheckHandler } from './lifecycle-call-check.timer';

interface Raised {
  instanceId: string;
  eventName: string;
  payload: unknown;
}

function run(lifecycles: RunningLifecycles): Promise<unknown[][]> {
  const lines: unknown[][] = [];
  const handler = createLifecycleCallCheckHandler({
    lifecycles: () => lifecycles,
    orchestratorName: 'callLifecycleV4',
    now: () => new Date('2030-02-01T04:10:00Z'),
  });
  return handler(
    { isPastDue: false } as Timer,
    new InvocationContext({
      functionName: 'recorderLifecycleCallCheck',
      invocationId: 'inv-1',
      logHandler: (level, ...args) => lines.push([level, ...args]),
    }),
  ).then(() => lines);
}

describe('lifecycle call check at host start', () => {
  it('tells every running lifecycle of the version that asks Graph, once per host start', async () => {
    const asked: string[] = [];
    const raised: Raised[] = [];
    const lines = await run({
      listRunning: (name) => {
        asked.push(name);
        return Promise.resolve(['call-a', 'call-b']);
      },
      raise: (instanceId, eventName, payload) => {
        raised.push({ instanceId, eventName, payload });
        return Promise.resolve('raised');
      },
    });
    expect(asked).toEqual(['callLifecycleV4']);
    expect(raised).toEqual(
      ['call-a', 'call-b'].map((instanceId) => ({
        instanceId,
        eventName: 'callEvent',
        payload: {
          kind: 'hostStarted',
          deliveryId: 'host-started-inv-1',
          at: '2030-02-01T04:10:00.000Z',
        },
      })),
    );
    expect(String(lines.at(-1)?.[1])).toContain('"running":2,"told":2,"failed":0');
  });

  it('counts a lifecycle that finished since the listing as not told, and goes on past failures', async () => {
    const answers: Record<string, () => Promise<RaiseResult>> = {
      'call-a': () => Promise.resolve('notFound'),
      'call-b': () => Promise.reject(new Error('storage unavailable')),
      'call-c': () => Promise.resolve('raised'),
    };
    const lines = await run({
      listRunning: () => Promise.resolve(Object.keys(answers)),
      raise: (instanceId) => answers[instanceId]!(),
    });
    expect(lines.some((l) => String(l[1]).includes('not told of the host start'))).toBe(true);
    expect(String(lines.at(-1)?.[1])).toContain('"running":3,"told":1,"failed":1');
  });
});

import { InvocationContext, type Timer } from '@azure/functions';
import { createDeliveryLogSweepHandler } from './delivery-log-sweep.timer';

it('purges delivery claims older than the retention', async () => {
  const cutoffs: Date[] = [];
  const lines: unknown[][] = [];
  const handler = createDeliveryLogSweepHandler({
    deliveries: {
      tryClaim: () => Promise.resolve(true),
      release: () => Promise.resolve(),
      purgeOlderThan: (cutoff) => {
        cutoffs.push(cutoff);
        return Promise.resolve(3);
      },
    },
    retentionInMs: 3_600_000,
    now: () => new Date('2030-01-01T12:00:00Z'),
  });
  await handler(
    { isPastDue: false } as Timer,
    new InvocationContext({
      functionName: 'sweep',
      logHandler: (level, ...args) => lines.push([level, ...args]),
    }),
  );
  expect(cutoffs).toEqual([new Date('2030-01-01T11:00:00Z')]);
  expect(String(lines[0]?.[1])).toContain('"deleted":3');
});

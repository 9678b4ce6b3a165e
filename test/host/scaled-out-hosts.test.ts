/**
 * Two local Functions hosts running one app on one storage account and task hub, as two instances
 * of a scaled-out app: the second joins the first's task hub instead of refusing to start, its
 * timer triggers wait while the first runs the hub (each occurrence fires once, as with Azure's
 * singleton timer listener), and when the first stops, the second takes the hub over and its
 * timers, firing the occurrence missed meanwhile as past due.
 */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../local/src/host/clock';
import { startFunctionsHost, type FunctionsHost } from '../../local/src/host/functions-host';
import { memorySink } from '../../local/src/host/log-sink';

const appPath = join(__dirname, '..', 'apps', 'http-app.ts');
const connection = process.env.ATTEST_TEST_STORAGE_CONNECTION!;
const hostId = `scaled-${randomUUID().slice(0, 8)}`;
const taskHubName = `Scaled${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const start = new Date('2026-03-01T10:00:00.000Z');

interface Observed {
  timerFires: { isPastDue: boolean; last?: string; next?: string }[];
}

describe('two hosts of one app on one task hub', () => {
  const hosts: FunctionsHost[] = [];
  afterAll(async () => {
    for (const host of hosts.reverse()) await host.close();
  });

  const startHost = async (clock: ManualClock, joinRunningTaskHub: boolean) => {
    const host = await startFunctionsHost({
      appPath,
      clock,
      logSink: memorySink(),
      pollQueues: false,
      hostId,
      hostSettings: { taskHubName },
      joinRunningTaskHub,
      appSettings: {
        AzureWebJobsStorage: connection,
        ATTEST_TEST_HOST_SCHEDULE: '0 */5 * * * *',
        ATTEST_TEST_HOST_QUEUE: `scaled-${randomUUID().slice(0, 8)}`,
      },
    });
    hosts.push(host);
    return host;
  };

  it('fires each timer occurrence on the instance that runs the hub, and on the other once it took the hub over', async () => {
    const clockA = new ManualClock(start);
    const clockB = new ManualClock(start);
    const a = await startHost(clockA, false);
    const b = await startHost(clockB, true);
    // The host has loaded the app; this returns the same module instance both hosts use.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const observed = (require(appPath) as { observed: Observed }).observed;
    const before = observed.timerFires.length;
    expect((a.durable as { isHubOwner?: boolean }).isHubOwner).toBe(true);
    expect((b.durable as { isHubOwner?: boolean }).isHubOwner).toBe(false);

    // The joined instance's timers wait; the owner's fire.
    await b.timers.advanceTo(new Date('2026-03-01T10:05:00.000Z'));
    expect(observed.timerFires.length).toBe(before);
    await a.timers.advanceTo(new Date('2026-03-01T10:05:00.000Z'));
    expect(observed.timerFires.slice(before)).toEqual([
      expect.objectContaining({ isPastDue: false, last: '2026-03-01T10:05:00.000Z' }),
    ]);

    // The owner stops; the 10:10 occurrence passes while no instance runs the timers.
    clockB.set(new Date('2026-03-01T10:12:00.000Z'));
    await a.close();
    const deadline = Date.now() + 60_000;
    while (observed.timerFires.length < before + 2) {
      if (Date.now() > deadline)
        throw new Error('the second instance did not take the timers over');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((b.durable as { isHubOwner?: boolean }).isHubOwner).toBe(true);
    // The takeover started the timers; this waits for that start to finish.
    await b.timers.start();
    expect(observed.timerFires.slice(before + 1)).toEqual([
      { isPastDue: true, last: '2026-03-01T10:10:00.000Z', next: '2026-03-01T10:15:00.000Z' },
    ]);
    // And from then on on schedule, once.
    await b.timers.advanceTo(new Date('2026-03-01T10:15:00.000Z'));
    expect(observed.timerFires.slice(before + 2)).toEqual([
      expect.objectContaining({ isPastDue: false, last: '2026-03-01T10:15:00.000Z' }),
    ]);
  });
});

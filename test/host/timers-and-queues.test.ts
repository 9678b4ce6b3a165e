import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { QueueServiceClient } from '@azure/storage-queue';
import { ManualClock } from '../../local/src/host/clock';
import { startFunctionsHost, type FunctionsHost } from '../../local/src/host/functions-host';
import { memorySink } from '../../local/src/host/log-sink';

const appPath = join(__dirname, '..', 'apps', 'http-app.ts');
const connection = process.env.ATTEST_TEST_STORAGE_CONNECTION!;
const queueName = `host-work-${randomUUID().slice(0, 8)}`;
const hostId = `host-test-${randomUUID().slice(0, 8)}`;
const start = new Date('2026-03-01T10:00:00.000Z');
const clock = new ManualClock(start);
const sink = memorySink();
let host: FunctionsHost;
let observed: {
  timerFires: { isPastDue: boolean; last?: string; next?: string }[];
  queueMessages: { body: unknown; dequeueCount: unknown; id: unknown }[];
  queueFailures: number;
};
const queues = QueueServiceClient.fromConnectionString(connection);

beforeAll(async () => {
  host = await startFunctionsHost({
    appPath,
    clock,
    logSink: sink,
    durable: false,
    pollQueues: false,
    hostId,
    appSettings: {
      AzureWebJobsStorage: connection,
      ATTEST_TEST_HOST_SCHEDULE: '0 */5 * * * *',
      ATTEST_TEST_HOST_QUEUE: queueName,
    },
  });
  // The host has loaded the app; this returns the same module instance.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  observed = (require(appPath) as { observed: typeof observed }).observed;
});

afterAll(async () => {
  await host.close();
});

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

describe('timer triggers on a manual clock', () => {
  it('resolves the schedule setting and computes the first occurrence', () => {
    expect(host.timers.list()).toEqual([
      expect.objectContaining({
        functionName: 'everyFiveMinutes',
        schedule: '0 */5 * * * *',
        next: new Date('2026-03-01T10:05:00.000Z'),
      }),
    ]);
  });

  it('does not fire before the occurrence, fires exactly at it, and not again until the next', async () => {
    await host.timers.advanceTo(new Date('2026-03-01T10:04:59.000Z'));
    expect(observed.timerFires).toHaveLength(0);
    await host.timers.advanceTo(new Date('2026-03-01T10:05:00.000Z'));
    expect(observed.timerFires).toEqual([
      { isPastDue: false, last: '2026-03-01T10:05:00.000Z', next: '2026-03-01T10:10:00.000Z' },
    ]);
    await host.timers.advanceBy(60_000);
    expect(observed.timerFires).toHaveLength(1);
  });

  it('coalesces missed occurrences into one past-due invocation', async () => {
    const before = observed.timerFires.length;
    await host.timers.advanceTo(new Date('2026-03-01T10:27:30.000Z'));
    expect(observed.timerFires.slice(before)).toEqual([
      { isPastDue: true, last: '2026-03-01T10:10:00.000Z', next: '2026-03-01T10:30:00.000Z' },
    ]);
  });
});

describe('timer status across restarts', () => {
  async function restartAt(at: string): Promise<void> {
    await host.close();
    host = await startFunctionsHost({
      appPath,
      clock: new ManualClock(new Date(at)),
      logSink: sink,
      durable: false,
      pollQueues: false,
      hostId,
      appSettings: {
        AzureWebJobsStorage: connection,
        ATTEST_TEST_HOST_SCHEDULE: '0 */5 * * * *',
        ATTEST_TEST_HOST_QUEUE: queueName,
      },
    });
  }

  it('fires an occurrence missed while the host was down at start, as past due', async () => {
    const before = observed.timerFires.length;
    await restartAt('2026-03-01T10:44:00.000Z');
    expect(observed.timerFires.slice(before)).toEqual([
      { isPastDue: true, last: '2026-03-01T10:30:00.000Z', next: '2026-03-01T10:45:00.000Z' },
    ]);
  });

  it('does not fire at start when no occurrence was missed', async () => {
    const before = observed.timerFires.length;
    await restartAt('2026-03-01T10:44:30.000Z');
    expect(observed.timerFires.length).toBe(before);
  });
});

describe('storage queue triggers', () => {
  it('delivers a base64 JSON message parsed, with its metadata, and deletes it', async () => {
    const queue = queues.getQueueClient(queueName);
    const sent = await queue.sendMessage(base64(JSON.stringify({ order: 7 })));
    expect(await host.queues.pollOnce()).toBe(1);
    expect(observed.queueMessages).toEqual([
      { body: { order: 7 }, dequeueCount: 1, id: sent.messageId },
    ]);
    const peek = await queue.peekMessages({ numberOfMessages: 5 });
    expect(peek.peekedMessageItems).toHaveLength(0);
  });

  it('retries a failing message and moves it to the poison queue after maxDequeueCount', async () => {
    const queue = queues.getQueueClient(queueName);
    const poison = queues.getQueueClient(`${queueName}-poison`);
    const text = base64(JSON.stringify({ fail: true }));
    await queue.sendMessage(text);
    const failuresBefore = observed.queueFailures;
    for (let attempt = 1; attempt <= 4; attempt++) {
      expect(await host.queues.pollOnce()).toBe(1);
    }
    expect(observed.queueFailures - failuresBefore).toBe(4);
    expect(await poison.exists()).toBe(false);
    expect(await host.queues.pollOnce()).toBe(1);
    expect(observed.queueFailures - failuresBefore).toBe(5);
    const poisoned = await poison.peekMessages({ numberOfMessages: 5 });
    expect(poisoned.peekedMessageItems.map((m) => m.messageText)).toEqual([text]);
    expect(await host.queues.pollOnce()).toBe(0);
    expect(
      sink.records.find((r) => r.message === 'queue message moved to poison queue'),
    ).toMatchObject({
      functionName: 'workQueue',
      dequeueCount: 5,
    });
  });

  it('counts a message that is not base64 as a failure instead of crashing', async () => {
    const queue = queues.getQueueClient(queueName);
    await queue.sendMessage('not base64 at all!');
    expect(await host.queues.pollOnce()).toBe(1);
    expect(
      sink.records.some(
        (r) =>
          r.message === 'queue function failed' && String(r.errorMessage).includes('not base64'),
      ),
    ).toBe(true);
  });
});

/**
 * The host with the local durable engine plugged in: an HTTP trigger with a durableClient
 * input starts an orchestration through the real `df.getClient()`.
 */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startFunctionsHost, type FunctionsHost } from '../../local/src/host/functions-host';
import { memorySink } from '../../local/src/host/log-sink';

const appPath = join(__dirname, '..', 'apps', 'host-durable-app.ts');
let host: FunctionsHost;

beforeAll(async () => {
  host = await startFunctionsHost({
    appPath,
    logSink: memorySink(),
    appSettings: { AzureWebJobsStorage: process.env.ATTEST_TEST_STORAGE_CONNECTION! },
    hostSettings: { taskHubName: `HostHub${randomUUID().replace(/-/g, '').slice(0, 12)}` },
  });
});

afterAll(async () => {
  await host.close();
});

describe('durable client input through the host', () => {
  it('plugs in the local durable engine when it is built', () => {
    expect(host.durableUnavailableReason).toBeUndefined();
    expect(host.durable).toBeDefined();
  });

  it('hands an HTTP trigger a working durable client bound to the task hub', async () => {
    const response = await fetch(`${host.http.functionsUrl}/host-start/Oslo`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ taskHub: host.settings.taskHubName, name: 'Oslo' });
  });

  it('runs an orchestration started from an HTTP trigger to completion through the invoker', async () => {
    const response = await fetch(`${host.http.functionsUrl}/host-run/Oslo`, { method: 'POST' });
    expect(response.status).toBe(202);
    const { instanceId } = (await response.json()) as { instanceId: string };
    const engine = host.durable as unknown as {
      runUntilIdle(options?: { timeoutInMs?: number }): Promise<void>;
      getStatus(id: string): Promise<{ runtimeStatus: string; output: unknown } | undefined>;
    };
    await engine.runUntilIdle({ timeoutInMs: 20_000 });
    expect(await engine.getStatus(instanceId)).toMatchObject({
      runtimeStatus: 'Completed',
      output: ['Hello Tokyo', 'Hello Oslo'],
    });
  });
});

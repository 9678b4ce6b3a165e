/**
 * Test harness for the local durable engine: one engine per test on its own task hub in the
 * shared in-memory Azurite, the sample app loaded through the local Functions host, a manual
 * clock, and the real `DurableClient` obtained through `df.getClient`.
 */
import { TableClient } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableClient } from 'durable-functions';
import { loadFunctionApp, type LoadedFunctionApp } from '../../local/src/host/function-app';
import { memorySink } from '../../local/src/host/log-sink';
import {
  createLocalDurableEngine,
  ManualClock,
  type LocalDurableEngine,
} from '../../local/src/durable';

export const DURABLE_APP = resolve(__dirname, '../apps/durable-app.ts');

export function testConnection(): string {
  const connection = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  if (connection === undefined)
    throw new Error('ATTEST_TEST_STORAGE_CONNECTION is not set (integration global setup)');
  return connection;
}

export function uniqueHubName(prefix = 'dt'): string {
  return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

export interface Harness {
  readonly engine: LocalDurableEngine;
  readonly clock: ManualClock;
  readonly client: DurableClient;
  readonly app: LoadedFunctionApp;
  readonly logs: ReturnType<typeof memorySink>;
  readonly taskHubName: string;
  /** The task hub's instances table, for tests that look at the stored rows. */
  readonly instances: TableClient;
  close(): Promise<void>;
}

export function clientFor(engine: LocalDurableEngine): DurableClient {
  const input = df.input.durableClient();
  const context = new InvocationContext({ options: { extraInputs: [input] } });
  context.extraInputs.set(input, engine.clientBindingData());
  return df.getClient(context);
}

export async function startHarness(
  options: {
    taskHubName?: string;
    clock?: ManualClock;
    raiseHoldInMs?: number;
    joinRunningHub?: boolean;
    leaseDurationInMs?: number;
  } = {},
): Promise<Harness> {
  const logs = memorySink();
  const app = await loadFunctionApp(DURABLE_APP, { logSink: logs });
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 0, 1, 8));
  const taskHubName = options.taskHubName ?? uniqueHubName();
  const engine = createLocalDurableEngine({
    connectionString: testConnection(),
    taskHubName,
    clock,
    logSink: logs,
    ...(options.raiseHoldInMs === undefined ? {} : { raiseHoldInMs: options.raiseHoldInMs }),
    ...(options.joinRunningHub === undefined ? {} : { joinRunningHub: options.joinRunningHub }),
    ...(options.leaseDurationInMs === undefined
      ? {}
      : { leaseDurationInMs: options.leaseDurationInMs }),
  });
  app.setDurableClientData(() => engine.clientBindingData());
  await engine.start(app);
  const instances = TableClient.fromConnectionString(testConnection(), `${taskHubName}Instances`, {
    allowInsecureConnection: true,
  });
  return {
    engine,
    clock,
    client: clientFor(engine),
    app,
    logs,
    taskHubName,
    instances,
    close: () => engine.close(),
  };
}

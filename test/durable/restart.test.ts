import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomUUID } from 'node:crypto';
import { testConnection, uniqueHubName } from './harness';
import {
  createAppFolder as makeAppFolder,
  removeAppFolder,
  startHostProcess,
  waitFor,
  type HostProcess,
} from './support/host-process';

const HOUR = 3600_000;

async function getStatus(
  host: HostProcess,
  id: string,
): Promise<{ runtimeStatus: string; output: unknown } | undefined> {
  const response = await fetch(`${host.rpcBaseUrl}instances/${encodeURIComponent(id)}`);
  if (response.status === 404) return undefined;
  return (await response.json()) as { runtimeStatus: string; output: unknown };
}

async function startNew(
  host: HostProcess,
  name: string,
  id: string,
  input: unknown,
): Promise<void> {
  const response = await fetch(`${host.rpcBaseUrl}orchestrators/${name}/${id}`, {
    method: 'POST',
    body: JSON.stringify(input),
  });
  expect(response.status).toBe(202);
}

async function completed(host: HostProcess, id: string): Promise<unknown> {
  const status = await waitFor(`${id} to complete`, async () => {
    const s = await getStatus(host, id);
    return s !== undefined && s.runtimeStatus !== 'Running' && s.runtimeStatus !== 'Pending'
      ? s
      : undefined;
  });
  expect(status.runtimeStatus).toBe('Completed');
  return status.output;
}

describe('local durable engine: restart safety with the real host process', () => {
  const hosts: HostProcess[] = [];
  const folders: string[] = [];
  const markers: string[] = [];
  const createAppFolder = (hub: string): string => {
    const entry = makeAppFolder(hub);
    folders.push(entry);
    return entry;
  };
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.kill().catch(() => undefined);
  });
  afterAll(() => {
    for (const f of folders) removeAppFolder(f);
    for (const m of markers) rmSync(m, { force: true });
  });

  async function host(entry: string, env: Record<string, string> = {}): Promise<HostProcess> {
    const h = await startHostProcess(entry, { AzureWebJobsStorage: testConnection(), ...env });
    hosts.push(h);
    return h;
  }

  it('re-runs an activity that was in flight when the host was killed', async () => {
    const entry = createAppFolder(uniqueHubName('rs'));
    const marker = join(tmpdir(), `attest-marker-${randomUUID()}`);
    markers.push(marker);
    const first = await host(entry, { ATTEST_DURABLE_TEST_HANG: '1' });
    await startNew(first, 'dRestartable', 'restart-activity', { marker });
    await waitFor('the activity to start', () =>
      Promise.resolve(existsSync(marker) ? true : undefined),
    );
    await first.kill();

    const second = await host(entry);
    expect(await completed(second, 'restart-activity')).toEqual({ fromActivity: 'done a' });
  });

  it('fires a durable timer created before the host was killed', async () => {
    const entry = createAppFolder(uniqueHubName('rt'));
    const first = await host(entry);
    await startNew(first, 'dRestartTimer', 'restart-timer', null);
    await waitFor('the timer to be scheduled', async () =>
      (await getStatus(first, 'restart-timer'))?.runtimeStatus === 'Running' ? true : undefined,
    );
    await first.kill();

    // The second host runs two hours "later" (ATTEST_DURABLE_CLOCK_OFFSET_MS), so the timer is due.
    const second = await host(entry, { ATTEST_DURABLE_CLOCK_OFFSET_MS: String(2 * HOUR) });
    expect(await completed(second, 'restart-timer')).toEqual({ waitedInMs: true });
  });

  it('keeps an instance waiting for an event and an event raised just before the kill', async () => {
    const entry = createAppFolder(uniqueHubName('re'));
    const first = await host(entry);
    await startNew(first, 'dRestartEvent', 'restart-waiting', null);
    await startNew(first, 'dRestartEvent', 'restart-raised', null);
    await waitFor('both to wait', async () =>
      (await getStatus(first, 'restart-waiting'))?.runtimeStatus === 'Running' &&
      (await getStatus(first, 'restart-raised'))?.runtimeStatus === 'Running'
        ? true
        : undefined,
    );
    const raised = await fetch(`${first.rpcBaseUrl}instances/restart-raised/raiseEvent/resume`, {
      method: 'POST',
      body: '"before kill"',
    });
    expect(raised.status).toBe(202);
    await first.kill();

    const second = await host(entry);
    const event = await fetch(`${second.rpcBaseUrl}instances/restart-waiting/raiseEvent/resume`, {
      method: 'POST',
      body: '"after restart"',
    });
    expect(event.status).toBe(202);
    expect(await completed(second, 'restart-waiting')).toEqual({ resumedWith: 'after restart' });
    expect(await completed(second, 'restart-raised')).toEqual({ resumedWith: 'before kill' });
  });
});

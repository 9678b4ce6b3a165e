import { resolve } from 'node:path';
import { OrchestrationRuntimeStatus } from 'durable-functions';
import type { DurableClient } from 'durable-functions';
import { startFunctionsHost, type FunctionsHost } from '../../local/src/host/functions-host';
import { memorySink } from '../../local/src/host/log-sink';
import { ManualClock } from '../../local/src/durable';
import { startHarness, testConnection, uniqueHubName, type Harness } from './harness';

describe('local durable engine: management API used by DurableClient', () => {
  let h: Harness;
  let client: DurableClient;
  beforeAll(async () => {
    h = await startHarness();
    client = h.client;
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses to start a second instance with the id of a running one', async () => {
    await client.startNew('dWaitForever', { instanceId: 'singleton-1' });
    await h.engine.runUntilIdle();
    await expect(client.startNew('dWaitForever', { instanceId: 'singleton-1' })).rejects.toThrow(
      '409',
    );
    expect((await client.getStatus('singleton-1')).runtimeStatus).toBe('Running');
  });

  it('starts a new execution when the id belongs to a finished instance', async () => {
    await client.startNew('dSequence', { instanceId: 'reused-1', input: 'first' });
    await h.engine.runUntilIdle();
    await client.startNew('dSequence', { instanceId: 'reused-1', input: 'again' });
    await h.engine.runUntilIdle();
    expect((await client.getStatus('reused-1')).output).toEqual([
      'Hello again1',
      'Hello again2',
      'Hello again3',
    ]);
  });

  it('purges one finished instance and reports nothing to purge for an unknown one', async () => {
    const id = await client.startNew('dSequence');
    await h.engine.runUntilIdle();
    await expect(client.purgeInstanceHistory(id)).resolves.toEqual({ instancesDeleted: 1 });
    await expect(client.getStatus(id)).rejects.toThrow('404');
    await expect(client.purgeInstanceHistory('never-existed')).resolves.toEqual({
      instancesDeleted: 0,
    });
  });

  it('lists instances by runtime status and creation time, and purges by the same filter', async () => {
    h.clock.advance(24 * 3600_000);
    const from = h.clock.now();
    const done = [await client.startNew('dSequence'), await client.startNew('dSequence')];
    const waiting = await client.startNew('dWaitForever');
    await h.engine.runUntilIdle();
    const running = await client.getStatusBy({
      createdTimeFrom: from,
      runtimeStatus: [OrchestrationRuntimeStatus.Running],
    });
    expect(running.map((s) => s.instanceId)).toEqual([waiting]);
    const completed = await client.getStatusBy({
      createdTimeFrom: from,
      runtimeStatus: [OrchestrationRuntimeStatus.Completed],
    });
    expect(completed.map((s) => s.instanceId).sort()).toEqual([...done].sort());
    const before = await client.getStatusBy({ createdTimeTo: new Date(from.getTime() - 1) });
    expect(before.some((s) => done.includes(s.instanceId))).toBe(false);
    const purged = await client.purgeInstanceHistoryBy({
      createdTimeFrom: from,
      runtimeStatus: [OrchestrationRuntimeStatus.Completed],
    });
    expect(purged.instancesDeleted).toBe(2);
    expect((await client.getStatusBy({ createdTimeFrom: from })).map((s) => s.instanceId)).toEqual([
      waiting,
    ]);
  });

  it('pages a listing with top and a continuation token', async () => {
    const first = await fetch(`${h.engine.rpcBaseUrl}instances/?top=2`);
    expect(first.status).toBe(200);
    expect((await first.json()) as unknown[]).toHaveLength(2);
    const token = first.headers.get('x-ms-continuation-token');
    expect(token).not.toBeNull();
    const second = await fetch(`${h.engine.rpcBaseUrl}instances/?top=2`, {
      headers: { 'x-ms-continuation-token': token! },
    });
    expect(second.status).toBe(200);
    const all = (await (await fetch(`${h.engine.rpcBaseUrl}instances/`)).json()) as unknown[];
    expect(all.length).toBeGreaterThan(2);
    // The real client follows continuation tokens itself and returns everything.
    expect((await client.getStatusAll()).length).toBe(all.length);
  });

  it('answers bad requests with problem bodies', async () => {
    const base = h.engine.rpcBaseUrl;
    const unknownOrchestrator = await fetch(`${base}orchestrators/noSuchOrchestrator`, {
      method: 'POST',
      body: '',
    });
    expect(unknownOrchestrator.status).toBe(400);
    expect(await unknownOrchestrator.json()).toMatchObject({
      code: 'ATT_INVALID_REQUEST',
      status: 400,
    });
    const badJson = await fetch(`${base}orchestrators/dSequence`, {
      method: 'POST',
      body: '{not json',
    });
    expect(badJson.status).toBe(400);
    const badId = await fetch(`${base}orchestrators/dSequence/%40starts-with-at`, {
      method: 'POST',
      body: '',
    });
    expect(badId.status).toBe(400);
    const unknownRoute = await fetch(`${base}nothing-here`);
    expect(unknownRoute.status).toBe(404);
    expect(await unknownRoute.json()).toMatchObject({ code: 'ATT_NOT_FOUND' });
    const wrongMethod = await fetch(`${base}orchestrators/dSequence`, { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    const tooLarge = await fetch(`${base}orchestrators/dSequence`, {
      method: 'POST',
      body: JSON.stringify('x'.repeat(5 * 1024 * 1024)),
    });
    expect(tooLarge.status).toBe(413);
    const suspend = await fetch(`${base}instances/singleton-1/suspend?reason=x`, {
      method: 'POST',
    });
    expect(suspend.status).toBe(501);
  });

  it('keeps inputs and outputs larger than a Table property in blobs', async () => {
    const big = 'y'.repeat(200_000);
    const id = await client.startNew('dSequence', { input: big });
    await h.engine.runUntilIdle();
    const status = await client.getStatus(id, { showInput: true });
    expect(status.runtimeStatus).toBe('Completed');
    // Compared as booleans: a failure must not print 200 kB.
    expect(status.input === big).toBe(true);
    expect((status.output as string[])[0] === `Hello ${big}1`).toBe(true);
  });
});

describe('local durable engine: the real df.getClient inside an HTTP trigger of the local host', () => {
  let host: FunctionsHost;
  const clock = new ManualClock(Date.UTC(2026, 1, 1));
  beforeAll(async () => {
    host = await startFunctionsHost({
      appPath: resolve(__dirname, '../apps/durable-app.ts'),
      clock,
      logSink: memorySink(),
      appSettings: { AzureWebJobsStorage: testConnection() },
      hostSettings: { taskHubName: uniqueHubName('http') },
      pollQueues: false,
    });
  });
  afterAll(async () => {
    await host.close();
  });

  it('starts an orchestration and queries its status with history', async () => {
    expect(host.durable).toBeDefined();
    const started = await fetch(
      `${host.http.functionsUrl}/durable/start/dSequence/http-started-1`,
      {
        method: 'POST',
        body: JSON.stringify('web'),
        headers: { 'content-type': 'application/json' },
      },
    );
    expect(started.status).toBe(202);
    const payload = (await started.json()) as { id: string; statusQueryGetUri: string };
    expect(payload.id).toBe('http-started-1');
    expect(payload.statusQueryGetUri).toContain(
      '/runtime/webhooks/durabletask/instances/http-started-1',
    );
    await (host.durable as unknown as { runUntilIdle(): Promise<void> }).runUntilIdle();

    const status = await fetch(`${host.http.functionsUrl}/durable/status/http-started-1`);
    const body = (await status.json()) as {
      runtimeStatus: string;
      output: unknown;
      history: { EventType: string }[];
    };
    expect(body.runtimeStatus).toBe('Completed');
    expect(body.output).toEqual(['Hello web1', 'Hello web2', 'Hello web3']);
    expect(body.history.map((e) => e.EventType)).toContain('TaskCompleted');

    // The check-status URL handed to callers is served by the host itself.
    const viaHost = await fetch(payload.statusQueryGetUri);
    expect(viaHost.status).toBe(200);
    expect(((await viaHost.json()) as { runtimeStatus: string }).runtimeStatus).toBe('Completed');
  });

  const engineOf = (): { systemKey: string; rpcBaseUrl: string } =>
    host.durable as unknown as { systemKey: string; rpcBaseUrl: string };

  it('refuses the management API on the host without the system key: 401, nothing listed or started', async () => {
    const base = `${host.http.baseUrl}/runtime/webhooks/durabletask`;
    const list = await fetch(`${base}/instances/`);
    expect(list.status).toBe(401);
    const body = await list.text();
    expect(JSON.parse(body)).toMatchObject({ code: 'ATT_UNAUTHORIZED', status: 401 });
    expect(body).not.toContain('http-started-1');
    expect((await fetch(`${base}/instances/?code=local`)).status).toBe(401);
    expect(
      (await fetch(`${host.http.baseUrl}/durabletask/instances/`, { headers: {} })).status,
    ).toBe(401);
    const start = await fetch(`${base}/orchestrators/dSequence/forged-start-1`, {
      method: 'POST',
      body: JSON.stringify('intruder'),
    });
    expect(start.status).toBe(401);
    const terminate = await fetch(`${base}/instances/http-started-1/terminate?reason=x`, {
      method: 'POST',
    });
    expect(terminate.status).toBe(401);
    expect(
      await (host.durable as unknown as { getStatus(id: string): Promise<unknown> }).getStatus(
        'forged-start-1',
      ),
    ).toBeUndefined();
  });

  it('serves the management API with the system key as code or x-functions-key', async () => {
    const { systemKey } = engineOf();
    expect(systemKey).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    const base = `${host.http.baseUrl}/runtime/webhooks/durabletask`;
    const byCode = await fetch(`${base}/instances/?code=${systemKey}`);
    expect(byCode.status).toBe(200);
    expect(((await byCode.json()) as { instanceId: string }[]).map((i) => i.instanceId)).toContain(
      'http-started-1',
    );
    const byHeader = await fetch(`${base}/instances/http-started-1`, {
      headers: { 'x-functions-key': systemKey },
    });
    expect(byHeader.status).toBe(200);
  });

  it('refuses the loopback RPC endpoint without the key in its path', async () => {
    const { rpcBaseUrl, systemKey } = engineOf();
    expect(rpcBaseUrl).toContain(`/${systemKey}/durabletask/`);
    const origin = new URL(rpcBaseUrl).origin;
    expect((await fetch(`${origin}/durabletask/instances/`)).status).toBe(401);
    expect(
      (await fetch(`${origin}/not-the-key-0123456789abcdef0123456789/durabletask/instances/`))
        .status,
    ).toBe(401);
    expect((await fetch(`${rpcBaseUrl}instances/`)).status).toBe(200);
  });
});

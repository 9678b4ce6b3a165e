import { join } from 'node:path';
import { loadFunctionApp } from '../../local/src/host/function-app';
import { memorySink } from '../../local/src/host/log-sink';

const appPath = join(__dirname, '..', 'apps', 'host-durable-app.ts');

function orchestratorStartedEvent(eventId: number, timestamp: string): Record<string, unknown> {
  return { EventId: eventId, EventType: 12, IsPlayed: false, Timestamp: timestamp };
}

describe('loadFunctionApp invoker', () => {
  it('captures durable and HTTP registrations with their trigger types', async () => {
    const functionApp = await loadFunctionApp(appPath, { logSink: memorySink() });
    const byName = Object.fromEntries(functionApp.list().map((f) => [f.name, f.triggerType]));
    expect(byName).toEqual({
      hostSayHello: 'activityTrigger',
      hostHelloSequence: 'orchestrationTrigger',
      hostStarter: 'httpTrigger',
      hostRun: 'httpTrigger',
    });
  });

  it('invokes an activity and returns its value, logging as structured records', async () => {
    const sink = memorySink();
    const functionApp = await loadFunctionApp(appPath, { logSink: sink });
    await expect(
      functionApp.invokeActivity('hostSayHello', 'Lisbon', { instanceId: 'i-1' }),
    ).resolves.toBe('Hello Lisbon');
    const line = sink.records.find((r) => r.message === 'saying hello');
    expect(line).toMatchObject({ level: 'info', functionName: 'hostSayHello', instanceId: 'i-1' });
    expect(typeof line?.invocationId).toBe('string');
  });

  it('rejects with the activity error', async () => {
    const functionApp = await loadFunctionApp(appPath, { logSink: memorySink() });
    await expect(functionApp.invokeActivity('hostSayHello', 'boom')).rejects.toThrow(
      'activity failed on purpose',
    );
  });

  it('drives the real orchestrator with a history and returns its actions', async () => {
    const functionApp = await loadFunctionApp(appPath, { logSink: memorySink() });
    const now = '2026-01-01T00:00:00.000Z';
    const state = (await functionApp.invokeOrchestrator('hostHelloSequence', {
      history: [
        orchestratorStartedEvent(-1, now),
        {
          EventId: -1,
          EventType: 0,
          IsPlayed: false,
          Timestamp: now,
          Name: 'hostHelloSequence',
          Input: '"Paris"',
        },
      ],
      input: 'Paris',
      instanceId: 'inst-1',
      isReplaying: false,
      upperSchemaVersion: 1,
    })) as { isDone: boolean; actions: unknown[][] };
    expect(state.isDone).toBe(false);
    expect(state.actions[0]?.[0]).toMatchObject({
      actionType: 0,
      functionName: 'hostSayHello',
      input: '"Tokyo"',
    });
  });

  it('gives a durableClient input the binding data it is given', async () => {
    const functionApp = await loadFunctionApp(appPath, {
      logSink: memorySink(),
      durableClientData: () => ({
        taskHubName: 'TestHub',
        creationUrls: {},
        managementUrls: {},
        baseUrl: 'http://127.0.0.1:1/runtime/webhooks/durabletask',
        requiredQueryStringParameters: '',
        rpcBaseUrl: 'http://127.0.0.1:1/durabletask/',
      }),
    });
    const outcome = await functionApp.invoke('hostStarter', {
      http: {
        method: 'POST',
        url: 'http://127.0.0.1/api/host-start/Rome',
        headers: {},
        params: { name: 'Rome' },
      },
    });
    const body = Buffer.from(outcome.returnValue?.http?.body?.bytes ?? []).toString();
    expect(JSON.parse(body)).toEqual({ taskHub: 'TestHub', name: 'Rome' });
  });

  it('does not register the functions twice when the same app is loaded again', async () => {
    const first = await loadFunctionApp(appPath, { logSink: memorySink() });
    const second = await loadFunctionApp(appPath, { logSink: memorySink() });
    expect(second.list().map((f) => f.name)).toEqual(first.list().map((f) => f.name));
    expect(second.list()).toHaveLength(4);
  });

  it('refuses an app that asks for HTTP streaming mode, with the library message', async () => {
    const streamApp = join(__dirname, '..', 'apps', 'host-stream-app.ts');
    await expect(loadFunctionApp(streamApp, { logSink: memorySink() })).rejects.toThrow(
      'HTTP streaming requires Azure Functions Host v4.28 or higher',
    );
  });

  it('names the missing entry when the app path does not exist', async () => {
    await expect(
      loadFunctionApp(join(__dirname, 'no-such-app.js'), { logSink: memorySink() }),
    ).rejects.toThrow(/no-such-app/);
  });

  it('reports an app that fails while loading and loads it once fixed, without duplicates', async () => {
    const brokenApp = join(__dirname, '..', 'apps', 'host-broken-app.ts');
    await expect(loadFunctionApp(brokenApp, { logSink: memorySink() })).rejects.toThrow(
      'ATT_CONFIG_INVALID',
    );
    (globalThis as { attestBrokenAppFixed?: boolean }).attestBrokenAppFixed = true;
    const fixed = await loadFunctionApp(brokenApp, { logSink: memorySink() });
    expect(fixed.list().map((f) => f.name)).toEqual(['brokenFirst']);
  });
});

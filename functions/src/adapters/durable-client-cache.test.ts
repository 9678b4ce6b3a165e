import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { createDurableClientCache } from './durable-client-cache';

const clientInput = df.input.durableClient();

const binding = (taskHubName: string) => ({
  taskHubName,
  creationUrls: {
    createNewInstancePostUri:
      'http://127.0.0.1:7071/runtime/webhooks/durabletask/orchestrators/{functionName}[/{instanceId}]',
    createAndWaitOnNewInstancePostUri:
      'http://127.0.0.1:7071/runtime/webhooks/durabletask/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}',
  },
  managementUrls: {
    id: 'INSTANCEID',
    statusQueryGetUri: 'http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/INSTANCEID',
    sendEventPostUri:
      'http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/INSTANCEID/raiseEvent/{eventName}',
    terminatePostUri:
      'http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/INSTANCEID/terminate?reason={text}',
    rewindPostUri:
      'http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/INSTANCEID/rewind?reason={text}',
    purgeHistoryDeleteUri:
      'http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/INSTANCEID',
    suspendPostUri:
      'http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/INSTANCEID/suspend?reason={text}',
    resumePostUri:
      'http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/INSTANCEID/resume?reason={text}',
  },
  baseUrl: 'http://127.0.0.1:7071/runtime/webhooks/durabletask',
  requiredQueryStringParameters: '',
  rpcBaseUrl: 'http://127.0.0.1:7071/durabletask/',
});

/** An invocation whose durable client binding carries `value`, as the host passes it. */
function invocationWith(value: unknown): InvocationContext {
  const context = new InvocationContext({
    functionName: 'recorderCalling',
    options: { extraInputs: [clientInput] },
    logHandler: () => undefined,
  });
  context.extraInputs.set(clientInput, value);
  return context;
}

describe('createDurableClientCache', () => {
  it('builds one client for invocations with the same binding', () => {
    let built = 0;
    const cache = createDurableClientCache({
      getClient: (context) => {
        built += 1;
        return df.getClient(context);
      },
    });
    const first = cache(invocationWith(binding('HubA')));
    const second = cache(invocationWith(binding('HubA')));
    expect(second).toBe(first);
    expect(built).toBe(1);
    expect(first.taskHubName).toBe('HubA');
  });

  it('builds another client when the binding changes', () => {
    const cache = createDurableClientCache();
    const a = cache(invocationWith(binding('HubA')));
    const b = cache(invocationWith(binding('HubB')));
    expect(b).not.toBe(a);
    expect(b.taskHubName).toBe('HubB');
  });

  it('forgets the oldest binding beyond maxEntries', () => {
    const built: string[] = [];
    const cache = createDurableClientCache({
      maxEntries: 1,
      getClient: (context) => {
        const client = df.getClient(context);
        built.push(client.taskHubName);
        return client;
      },
    });
    cache(invocationWith(binding('HubA')));
    cache(invocationWith(binding('HubB')));
    cache(invocationWith(binding('HubA')));
    expect(built).toEqual(['HubA', 'HubB', 'HubA']);
  });

  it('leaves a missing binding to the SDK, which names it', () => {
    const cache = createDurableClientCache();
    const context = new InvocationContext({
      functionName: 'recorderCalling',
      options: { extraInputs: [] },
      logHandler: () => undefined,
    });
    expect(() => cache(context)).toThrow(/durable client input binding/);
  });
});

/**
 * A tiny app for the host's invoker tests: one activity, one orchestration calling it, and an
 * HTTP starter that reads the durable client.
 */
import { app, type HttpRequest, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

df.app.activity('hostSayHello', {
  handler: (name: unknown, context: InvocationContext) => {
    context.log('saying hello');
    if (name === 'boom') throw new Error('activity failed on purpose');
    return `Hello ${String(name)}`;
  },
});

df.app.orchestration('hostHelloSequence', function* (context) {
  const first: unknown = yield context.df.callActivity('hostSayHello', 'Tokyo');
  const second: unknown = yield context.df.callActivity('hostSayHello', context.df.getInput());
  return [first, second];
});

app.http('hostStarter', {
  route: 'host-start/{name}',
  methods: ['POST'],
  extraInputs: [df.input.durableClient()],
  handler: (request: HttpRequest, context: InvocationContext) => {
    const client = df.getClient(context);
    return { jsonBody: { taskHub: client.taskHubName, name: request.params.name } };
  },
});

app.http('hostRun', {
  route: 'host-run/{name}',
  methods: ['POST'],
  extraInputs: [df.input.durableClient()],
  handler: async (request: HttpRequest, context: InvocationContext) => {
    const client = df.getClient(context);
    const instanceId = await client.startNew('hostHelloSequence', { input: request.params.name });
    return { status: 202, jsonBody: { instanceId } };
  },
});

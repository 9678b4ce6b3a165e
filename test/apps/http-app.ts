/**
 * Test app for the local Functions host: HTTP routes with parameters, JSON and binary echo, a
 * streamed body, a failing handler, a timer and a storage queue trigger. Queue and schedule
 * names come from app settings (`%NAME%`), as Azure resolves them.
 */
import { app, HttpRequest, HttpResponse, InvocationContext, type Timer } from '@azure/functions';
import { ReadableStream } from 'node:stream/web';

/** What the timer and queue handlers saw; read by the tests after the host loaded the app. */
export const observed = {
  timerFires: [] as { isPastDue: boolean; last?: string; next?: string }[],
  queueMessages: [] as { body: unknown; dequeueCount: unknown; id: unknown }[],
  queueFailures: 0,
};

function problem(
  status: number,
  code: string,
  message: string,
): { status: number; jsonBody: object } {
  return { status, jsonBody: { code, message, status } };
}

app.http('getItem', {
  route: 'items/{id:int}',
  methods: ['GET'],
  handler: (request: HttpRequest) => ({
    jsonBody: {
      id: request.params.id,
      sort: request.query.get('sort'),
      tags: request.query.getAll('tag'),
    },
  }),
});

app.http('deleteItem', {
  route: 'items/{id:int}',
  methods: ['DELETE'],
  handler: () => ({ status: 204 }),
});

app.http('getFile', {
  route: 'files/{*path}',
  methods: ['GET'],
  handler: (request: HttpRequest) => ({ jsonBody: { path: request.params.path ?? null } }),
});

app.http('greet', {
  route: 'greet/{name?}',
  methods: ['GET'],
  handler: (request: HttpRequest) => ({ body: `hello ${request.params.name ?? 'nobody'}` }),
});

app.http('echoJson', {
  route: 'echo/json',
  methods: ['POST', 'PUT'],
  handler: async (request: HttpRequest, context: InvocationContext) => {
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      context.warn('malformed json body');
      return problem(400, 'ATT_INVALID_REQUEST', 'The body is not valid JSON');
    }
    return { status: 200, jsonBody: { received: body }, headers: { 'x-echo': 'json' } };
  },
});

app.http('echoBinary', {
  route: 'echo/binary',
  methods: ['POST'],
  handler: async (request: HttpRequest) => {
    const bytes = Buffer.from(await request.arrayBuffer());
    return { body: bytes, headers: { 'content-type': 'application/octet-stream' } };
  },
});

app.http('streamNumbers', {
  route: 'stream/{count:int}',
  methods: ['GET'],
  handler: (request: HttpRequest) => {
    const count = Number(request.params.count);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= count) {
          controller.close();
          return;
        }
        controller.enqueue(Buffer.from(`line ${sent}\n`));
        sent += 1;
      },
    });
    return new HttpResponse({ body, headers: { 'content-type': 'text/plain' } });
  },
});

app.http('inspect', {
  route: 'inspect',
  methods: ['POST'],
  handler: (request: HttpRequest, context: InvocationContext) => {
    context.log('inspecting request');
    return {
      jsonBody: {
        isHttpRequest: request instanceof HttpRequest,
        isInvocationContext: context instanceof InvocationContext,
        functionName: context.functionName,
        hasInvocationId: context.invocationId.length > 0,
        header: request.headers.get('x-probe'),
      },
    };
  },
});

app.http('alwaysFails', {
  route: 'fail',
  methods: ['GET'],
  handler: () => {
    throw new Error('handler failed on purpose with secret detail');
  },
});

app.timer('everyFiveMinutes', {
  schedule: '%ATTEST_TEST_HOST_SCHEDULE%',
  handler: (timer: Timer) => {
    observed.timerFires.push({
      isPastDue: timer.isPastDue,
      last: timer.scheduleStatus?.last,
      next: timer.scheduleStatus?.next,
    });
  },
});

app.storageQueue('workQueue', {
  queueName: '%ATTEST_TEST_HOST_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: (message: unknown, context: InvocationContext) => {
    if (
      typeof message === 'object' &&
      message !== null &&
      (message as { fail?: unknown }).fail === true
    ) {
      observed.queueFailures += 1;
      throw new Error('queue message failed on purpose');
    }
    observed.queueMessages.push({
      body: message,
      dequeueCount: context.triggerMetadata?.dequeueCount,
      id: context.triggerMetadata?.id,
    });
  },
});

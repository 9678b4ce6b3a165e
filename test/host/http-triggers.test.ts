import { join } from 'node:path';
import { loadFunctionApp } from '../../local/src/host/function-app';
import { startHttpTriggerServer, type HttpTriggerServer } from '../../local/src/host/http-server';
import { createHostLogger, memorySink } from '../../local/src/host/log-sink';

const appPath = join(__dirname, '..', 'apps', 'http-app.ts');
const sink = memorySink();
let server: HttpTriggerServer;

beforeAll(async () => {
  const functionApp = await loadFunctionApp(appPath, { logSink: sink });
  server = await startHttpTriggerServer({
    app: functionApp,
    logger: createHostLogger(sink),
    routePrefix: 'api',
    maxRequestBodyInBytes: 1024,
  });
});

afterAll(async () => {
  await server.close();
});

function url(path: string): string {
  return `${server.functionsUrl}${path}`;
}

describe('HTTP triggers through the local host', () => {
  it('passes a constrained route parameter and repeated query values to the handler', async () => {
    const response = await fetch(url('/items/42?sort=asc&tag=a&tag=b'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: '42', sort: 'asc', tags: ['a', 'b'] });
  });

  it('answers 404 when a route constraint does not match', async () => {
    const response = await fetch(url('/items/forty-two'));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      code: 'ATT_NOT_FOUND',
      message: expect.any(String),
      status: 404,
    });
  });

  it('passes a catch-all parameter with its slashes', async () => {
    const response = await fetch(url('/files/a/b/c.txt'));
    expect(await response.json()).toEqual({ path: 'a/b/c.txt' });
  });

  it('serves an optional parameter present and absent', async () => {
    expect(await (await fetch(url('/greet/ada'))).text()).toBe('hello ada');
    expect(await (await fetch(url('/greet'))).text()).toBe('hello nobody');
  });

  it('routes the same template to different functions by method', async () => {
    const response = await fetch(url('/items/7'), { method: 'DELETE' });
    expect(response.status).toBe(204);
  });

  it('answers 405 with Allow when the path exists but the method does not', async () => {
    const response = await fetch(url('/items/7'), { method: 'PATCH' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('DELETE, GET');
    expect(((await response.json()) as { code: string }).code).toBe('ATT_METHOD_NOT_ALLOWED');
  });

  it('answers 404 with a problem body for an unknown route and outside the prefix', async () => {
    const unknown = await fetch(url('/nothing/here'));
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    const outside = await fetch(`${server.baseUrl}/items/42`);
    expect(outside.status).toBe(404);
  });

  it('echoes a JSON body with the handler status and headers', async () => {
    const response = await fetch(url('/echo/json'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1, list: [true, null] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-echo')).toBe('json');
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({ received: { a: 1, list: [true, null] } });
  });

  it('lets the handler answer malformed JSON with a 400 problem body', async () => {
    const response = await fetch(url('/echo/json'), { method: 'POST', body: '{"a": 1,' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code: 'ATT_INVALID_REQUEST',
      message: 'The body is not valid JSON',
      status: 400,
    });
  });

  it('round-trips every byte value of a binary body', async () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const response = await fetch(url('/echo/binary'), {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('answers 413 when the declared body exceeds the limit, without calling the function', async () => {
    const invoked = (): number =>
      sink.records.filter(
        (r) => r.functionName === 'echoBinary' && r.message === 'function invoked',
      ).length;
    await fetch(url('/echo/binary'), { method: 'POST', body: Buffer.alloc(16, 1) });
    const before = invoked();
    expect(before).toBeGreaterThan(0);
    const response = await fetch(url('/echo/binary'), {
      method: 'POST',
      body: Buffer.alloc(2048, 1),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { code: string }).code).toBe('ATT_PAYLOAD_TOO_LARGE');
    expect(invoked()).toBe(before);
  });

  it('answers 413 for a chunked body that grows past the limit', async () => {
    const chunks = [Buffer.alloc(600, 1), Buffer.alloc(600, 2)];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        chunks.forEach((c) => controller.enqueue(c));
        controller.close();
      },
    });
    const response = await fetch(url('/echo/binary'), { method: 'POST', body, duplex: 'half' });
    expect(response.status).toBe(413);
  });

  it('sends a body the handler returned as a stream', async () => {
    const response = await fetch(url('/stream/3'));
    expect(await response.text()).toBe('line 0\nline 1\nline 2\n');
  });

  it('hands the handler real HttpRequest and InvocationContext objects and logs its lines', async () => {
    const response = await fetch(url('/inspect'), {
      method: 'POST',
      headers: { 'x-probe': 'yes' },
    });
    expect(await response.json()).toEqual({
      isHttpRequest: true,
      isInvocationContext: true,
      functionName: 'inspect',
      hasInvocationId: true,
      header: 'yes',
    });
    expect(sink.records.find((r) => r.message === 'inspecting request')).toMatchObject({
      level: 'info',
      functionName: 'inspect',
      category: 'user',
    });
  });

  it('answers 500 with only a code when the handler throws, keeping the detail in the log', async () => {
    const response = await fetch(url('/fail'));
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'ATT_INTERNAL', status: 500 });
    expect(text).not.toContain('secret detail');
    expect(sink.records.find((r) => r.message === 'http function failed')).toMatchObject({
      level: 'error',
      functionName: 'alwaysFails',
    });
  });
});

describe('HTTP host robustness', () => {
  it('answers 400 for a malformed Host header instead of failing', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/api/items/1',
          headers: { host: 'bad host[' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
  });
});

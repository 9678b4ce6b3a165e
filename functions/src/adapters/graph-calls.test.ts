import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenCredential } from '@azure/identity';
import { GraphCallsAdapter, GraphTokenCache } from './graph-calls';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: unknown;
}

describe('GraphCallsAdapter', () => {
  let server: Server;
  let baseUrl: string;
  const seen: Seen[] = [];
  let reply: (req: IncomingMessage) => {
    status: number;
    headers?: Record<string, string>;
    body?: unknown;
  } = () => ({ status: 202 });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          authorization: req.headers.authorization,
          body: text === '' ? undefined : JSON.parse(text),
        });
        const { status, headers, body } = reply(req);
        res
          .writeHead(status, { 'content-type': 'application/json', ...headers })
          .end(
            body !== undefined
              ? JSON.stringify(body)
              : status >= 400
                ? JSON.stringify({ error: { code: 'x', message: 'y' } })
                : '',
          );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen.length = 0;
    reply = () => ({ status: 202 });
  });

  let tokenCalls = 0;
  const credential: TokenCredential = {
    getToken: () => {
      tokenCalls += 1;
      return Promise.resolve({
        token: `tok-${tokenCalls}`,
        expiresOnTimestamp: Date.now() + 3_600_000,
      });
    },
  };
  const adapter = (): GraphCallsAdapter =>
    new GraphCallsAdapter({
      baseUrl,
      timeoutInMs: 2_000,
      tokens: new GraphTokenCache({
        createCredential: () => credential,
        refreshAheadInMs: 600_000,
      }),
    });

  it('answers with callbackUri, modalities, app-hosted media config and participant capacity', async () => {
    const result = await adapter().answer('tenant-a', 'call-1', {
      callbackUri: 'https://x/api/calling/call-1',
      mediaConfigBlob: '{"v":1}',
      participantCapacity: 200,
    });
    expect(result).toEqual({ kind: 'ok', status: 200 });
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/v1.0/communications/calls/call-1/answer',
      authorization: expect.stringMatching(/^Bearer tok-/),
      body: {
        callbackUri: 'https://x/api/calling/call-1',
        acceptedModalities: ['audio', 'video', 'videoBasedScreenSharing'],
        mediaConfig: { '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob: '{"v":1}' },
        participantCapacity: 200,
      },
    });
  });

  it('reports 429 with its Retry-After instead of retrying', async () => {
    reply = () => ({ status: 429, headers: { 'retry-after': '7' } });
    const result = await adapter().updateRecordingStatus('tenant-a', 'call-1', 'recording', 'ctx');
    expect(result).toEqual({ kind: 'throttled', retryAfterInMs: 7_000 });
    expect(seen).toHaveLength(1);
  });

  it('reports 404 as notFound and 5xx as retryable failure', async () => {
    reply = () => ({ status: 404 });
    expect(await adapter().keepAlive('tenant-a', 'gone')).toEqual({ kind: 'notFound' });
    reply = () => ({ status: 503 });
    expect(await adapter().keepAlive('tenant-a', 'c')).toEqual({
      kind: 'failed',
      status: 503,
      isRetryable: true,
    });
  });

  it("reads a call's state and result, whatever the case of its enum values", async () => {
    reply = () => ({
      status: 200,
      body: { id: 'call-1', state: 'Terminated', resultInfo: { code: '200', subcode: 5001 } },
    });
    expect(await adapter().getCall('tenant-a', 'call-1')).toEqual({
      kind: 'found',
      state: 'terminated',
      resultInfo: { code: 200, subcode: 5001 },
    });
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/v1.0/communications/calls/call-1' });
  });

  it('reports a call Graph no longer knows as notFound', async () => {
    reply = () => ({ status: 404 });
    expect(await adapter().getCall('tenant-a', 'gone')).toEqual({ kind: 'notFound' });
    reply = () => ({ status: 429, headers: { 'retry-after': '2' } });
    expect(await adapter().getCall('tenant-a', 'c')).toEqual({
      kind: 'throttled',
      retryAfterInMs: 2_000,
    });
  });

  it('reuses the cached token across requests', async () => {
    const before = tokenCalls;
    const a = adapter();
    await a.reject('tenant-a', 'c1', 'busy');
    await a.reject('tenant-a', 'c2', 'busy');
    expect(tokenCalls - before).toBe(1);
    expect(seen[0]?.body).toEqual({ reason: 'busy' });
  });
});

describe('GraphTokenCache', () => {
  it('serves the cached token inside the refresh window and refreshes in the background', async () => {
    let now = 0;
    let issued = 0;
    const cache = new GraphTokenCache({
      now: () => now,
      refreshAheadInMs: 600_000,
      createCredential: () => ({
        getToken: () =>
          Promise.resolve({ token: `t${++issued}`, expiresOnTimestamp: now + 3_600_000 }),
      }),
    });
    expect(await cache.getToken('t')).toBe('t1');
    now = 3_100_000;
    expect(await cache.getToken('t')).toBe('t1');
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await cache.getToken('t')).toBe('t2');
  });
});

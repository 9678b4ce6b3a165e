import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { Http1Pool } from './http1-pool';
import { TransportError } from './keep-alive-http-client';

type AnyServer = HttpServer | NetServer;

async function listen<T extends AnyServer>(server: T): Promise<{ server: T; origin: URL }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('Http1Pool', () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  const track = <T extends AnyServer>(
    listening: { server: T; origin: URL },
    pool: Http1Pool,
  ): void => {
    closers.push(() => new Promise<void>((resolve) => listening.server.close(() => resolve())));
    closers.push(() => {
      pool.close();
      if ('closeAllConnections' in listening.server) listening.server.closeAllConnections();
    });
  };

  it('sends the head and body and reads a chunked answer with its headers', async () => {
    const received: string[] = [];
    const listening = await listen(
      createHttpServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push(
            `${req.method ?? ''} ${req.url ?? ''} ${String(req.headers['x-ms-version'] ?? '')} ${Buffer.concat(chunks).toString()}`,
          );
          res.writeHead(400, { 'x-ms-error-code': 'InvalidBlockList' });
          res.write('<Error><Code>');
          res.end('InvalidBlockList</Code></Error>');
        });
      }),
    );
    const pool = new Http1Pool(listening.origin);
    track(listening, pool);
    const response = await pool.request(
      'PUT',
      '/a/b?comp=blocklist',
      'x-ms-version: 2025-01-05\r\n',
      Buffer.from('<BlockList/>'),
      5000,
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('x-ms-error-code')).toBe('InvalidBlockList');
    expect(response.body.toString()).toBe('<Error><Code>InvalidBlockList</Code></Error>');
    expect(received).toEqual(['PUT /a/b?comp=blocklist 2025-01-05 <BlockList/>']);
  });

  it('reads an answer that arrives a byte at a time', async () => {
    const answer = Buffer.from(
      'HTTP/1.1 201 Created\r\nContent-Length: 3\r\nx-ms-request-id: r1\r\n\r\nabc',
    );
    const listening = await listen(
      createNetServer((socket: Socket) => {
        socket.once('data', () => {
          let at = 0;
          const next = (): void => {
            if (at >= answer.length) return;
            socket.write(answer.subarray(at, at + 1), next);
            at += 1;
          };
          next();
        });
        socket.on('error', () => undefined);
      }),
    );
    const pool = new Http1Pool(listening.origin);
    track(listening, pool);
    const response = await pool.request('PUT', '/x', '', Buffer.from('x'), 5000);
    expect(response).toMatchObject({ status: 201, body: Buffer.from('abc') });
    expect(response.headers.get('x-ms-request-id')).toBe('r1');
  });

  /** A server that notes every connection a request came on and answers once the body is read. */
  const countingServer = async (
    answer: (req: IncomingMessage, res: ServerResponse) => void,
  ): Promise<{ listening: { server: HttpServer; origin: URL }; sockets: Set<Socket> }> => {
    const sockets = new Set<Socket>();
    const listening = await listen(
      createHttpServer((req, res) => {
        sockets.add(req.socket);
        req.resume();
        req.on('end', () => answer(req, res));
      }),
    );
    return { listening, sockets };
  };

  it('keeps at most maxSockets connections and reuses them for queued requests', async () => {
    const { listening, sockets } = await countingServer((_req, res) =>
      setTimeout(() => res.end(), 5),
    );
    const pool = new Http1Pool(listening.origin, { maxSockets: 2 });
    track(listening, pool);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => pool.request('PUT', '/q', '', Buffer.alloc(1000), 5000)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(sockets.size).toBe(2);
  });

  it('opens a new connection when the server closed an idle one', async () => {
    const { listening, sockets } = await countingServer((req, res) => {
      res.end();
      // The server drops the connection after answering, as a server does at its keep-alive limit.
      res.once('finish', () => setImmediate(() => req.socket.destroy()));
    });
    const pool = new Http1Pool(listening.origin);
    track(listening, pool);
    await pool.request('PUT', '/1', '', Buffer.alloc(0), 5000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await pool.request('PUT', '/2', '', Buffer.alloc(0), 5000)).status).toBe(200);
    expect(sockets.size).toBe(2);
  });

  it('does not reuse a connection the answer says is closing', async () => {
    const { listening, sockets } = await countingServer((_req, res) => {
      res.writeHead(201, { connection: 'close' });
      res.end();
    });
    const pool = new Http1Pool(listening.origin);
    track(listening, pool);
    await pool.request('PUT', '/1', '', Buffer.alloc(0), 5000);
    await pool.request('PUT', '/2', '', Buffer.alloc(0), 5000);
    expect(sockets.size).toBe(2);
  });

  it('rejects with a transient transport error when the connection closes mid-answer', async () => {
    const listening = await listen(
      createNetServer((socket: Socket) => {
        socket.once('data', () =>
          socket.end('HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\nabc'),
        );
        socket.on('error', () => undefined);
      }),
    );
    const pool = new Http1Pool(listening.origin);
    track(listening, pool);
    const error = await rejection(pool.request('PUT', '/x', '', Buffer.from('x'), 5000));
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('ECONNRESET');
  });

  it('rejects a request after close', async () => {
    const pool = new Http1Pool(new URL('http://127.0.0.1:9'));
    pool.close();
    expect(await rejection(pool.request('PUT', '/x', '', Buffer.alloc(0), 1000))).toMatchObject({
      code: 'ECONNABORTED',
    });
  });
});

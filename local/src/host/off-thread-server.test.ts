import { request as httpRequest } from 'node:http';
import { listenOffThread, type OffThreadServer } from './off-thread-server';

const servers: OffThreadServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** Sends a chunked (undeclared length) body of `size` bytes. */
function postChunked(port: number, size: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/upload',
        headers: { 'transfer-encoding': 'chunked' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    for (let sent = 0; sent < size; sent += 1024)
      req.write(Buffer.alloc(Math.min(1024, size - sent), 0x61));
    req.end();
  });
}

describe('off-thread HTTP server', () => {
  it('hands method, url, headers and body to the handler and sends its answer with headers and cookies', async () => {
    const seen: {
      method?: string;
      url?: string;
      header?: unknown;
      body?: string;
      remotePort?: number;
    }[] = [];
    const server = await listenOffThread(
      (req, res) => {
        void (async () => {
          const chunks: Buffer[] = [];
          for await (const c of req) chunks.push(c as Buffer);
          seen.push({
            method: req.method,
            url: req.url,
            header: req.headers['x-probe'],
            body: Buffer.concat(chunks).toString(),
            remotePort: req.socket.remotePort,
          });
          res.setHeader('set-cookie', ['a=1', 'b=2']);
          res
            .writeHead(201, { 'content-type': 'application/json' })
            .end(JSON.stringify({ ok: true }));
        })();
      },
      { host: '127.0.0.1', port: 0, maxBodyInBytes: 1024 },
    );
    servers.push(server);
    const response = await fetch(`http://127.0.0.1:${server.port}/api/x?y=1`, {
      method: 'PUT',
      headers: { 'x-probe': 'p' },
      body: 'hello',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.json()).toEqual({ ok: true });
    expect(seen).toEqual([
      {
        method: 'PUT',
        url: '/api/x?y=1',
        header: 'p',
        body: 'hello',
        remotePort: expect.any(Number),
      },
    ]);
  });

  it('lets the handler answer 413 from a declared length and answers a streamed oversize body itself', async () => {
    let calls = 0;
    const server = await listenOffThread(
      (req, res) => {
        calls += 1;
        const declared = Number(req.headers['content-length'] ?? 0);
        res.writeHead(declared > 100 ? 413 : 200).end(String(declared));
      },
      { host: '127.0.0.1', port: 0, maxBodyInBytes: 100 },
    );
    servers.push(server);
    const declared = await fetch(`http://127.0.0.1:${server.port}/`, {
      method: 'POST',
      body: 'x'.repeat(5_000),
    });
    expect(declared.status).toBe(413);
    expect(calls).toBe(1);
    const streamed = await postChunked(server.port, 5_000);
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toMatchObject({ code: 'ATT_PAYLOAD_TOO_LARGE', status: 413 });
    // The oversize streamed body never reached the handler.
    expect(calls).toBe(1);
  });

  it('cuts the connection when the handler destroys the response, and keeps serving others', async () => {
    const server = await listenOffThread(
      (req, res) => {
        if (req.url === '/cut') res.destroy();
        else res.writeHead(200).end('fine');
      },
      { host: '127.0.0.1', port: 0, maxBodyInBytes: 100 },
    );
    servers.push(server);
    await expect(fetch(`http://127.0.0.1:${server.port}/cut`)).rejects.toThrow();
    const fine = await fetch(`http://127.0.0.1:${server.port}/ok`);
    expect(await fine.text()).toBe('fine');
  });

  it('serves forty connections opened at once, each with its own answer', async () => {
    const server = await listenOffThread((req, res) => res.writeHead(200).end(req.url ?? ''), {
      host: '127.0.0.1',
      port: 0,
      maxBodyInBytes: 100,
    });
    servers.push(server);
    const pending = Array.from({ length: 40 }, (_, i) =>
      fetch(`http://127.0.0.1:${server.port}/n${i}`).then((r) => r.text()),
    );
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 40 }, (_, i) => `/n${i}`));
  });

  it('reports a port already in use as a listen error', async () => {
    const first = await listenOffThread((_req, res) => res.end(), {
      host: '127.0.0.1',
      port: 0,
      maxBodyInBytes: 10,
    });
    servers.push(first);
    await expect(
      listenOffThread((_req, res) => res.end(), {
        host: '127.0.0.1',
        port: first.port,
        maxBodyInBytes: 10,
      }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('stops listening on close', async () => {
    const server = await listenOffThread((_req, res) => res.end('x'), {
      host: '127.0.0.1',
      port: 0,
      maxBodyInBytes: 10,
    });
    await server.close();
    await expect(fetch(`http://127.0.0.1:${server.port}/`)).rejects.toThrow();
  });
});

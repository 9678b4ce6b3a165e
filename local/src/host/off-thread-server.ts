/**
 * An HTTP server whose sockets live on their own thread. The thread accepts connections, parses
 * requests and reads their bodies, then hands each request to the handler on the main thread and
 * writes the answer back.
 *
 * Why: libuv accepts one new connection per event-loop turn. The local Functions host runs the
 * whole function app on its main loop, so under load a new connection could wait in the kernel's
 * accept queue for seconds while its callers' requests piled up. In Azure, connections are
 * accepted by the front end and the Functions host process, never by the language worker's busy
 * loop; this keeps the local host honest about that.
 *
 * The handler gets objects shaped like `IncomingMessage` and `ServerResponse` with the parts the
 * host uses: `method`, `url`, `headers`, the body as a readable stream, `resume()`; `setHeader`,
 * `writeHead`, `end` (with the whole body), `headersSent`, `destroy`. Answers are sent whole (the
 * host's answers always are).
 */
import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';

export type OffThreadHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface OffThreadServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /**
   * Largest body any handler accepts. A request declaring a larger `content-length` reaches the
   * handler without its body (the handler answers 413 from the header, as before); a streamed
   * body that grows larger is answered 413 (problem body, connection closed) by the socket thread.
   * Handlers keep their own, smaller limits.
   */
  readonly maxBodyInBytes: number;
  /** On close, also cut connections with requests in flight (default: only idle ones). */
  readonly closeAllConnections?: boolean;
  /** The socket thread failed after it started listening. */
  readonly onError?: (error: Error) => void;
}

export interface OffThreadServer {
  readonly port: number;
  /** Stops accepting, closes idle connections and the thread; idempotent. */
  close(): Promise<void>;
}

interface RequestMessage {
  readonly type: 'request';
  readonly id: number;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion: string;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly body: Uint8Array;
}

type ThreadMessage =
  | RequestMessage
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'listenError'; readonly message: string; readonly code?: string }
  | { readonly type: 'closed' };

// Plain JavaScript run with `eval: true`, so it needs no build step (the same code runs under the
// tests' TypeScript transform and from dist).
const threadSource = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { host, port, maxBody } = workerData;
const pending = new Map();
let nextId = 1;
const server = http.createServer((req, res) => {
  const id = nextId++;
  const chunks = [];
  let size = 0;
  const declared = Number(req.headers['content-length'] || 0);
  const tooLarge = () => {
    const text = JSON.stringify({ code: 'ATT_PAYLOAD_TOO_LARGE', message: 'Request body exceeds ' + maxBody + ' bytes', status: 413 });
    res.writeHead(413, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(text), connection: 'close' });
    res.end(text);
    req.resume();
  };
  const forward = () => {
    if (size > maxBody) { tooLarge(); return; }
    pending.set(id, res);
    res.once('close', () => pending.delete(id));
    // A small body sits in Node's shared pool, which cannot be transferred (it would be cloned
    // whole): give it its own buffer.
    const joined = Buffer.concat(chunks, size);
    const body = joined.byteOffset === 0 && joined.byteLength === joined.buffer.byteLength ? joined : new Uint8Array(joined);
    parentPort.postMessage({
      type: 'request', id, method: req.method || 'GET', url: req.url || '/', headers: req.headers,
      httpVersion: req.httpVersion, remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort, body,
    }, [body.buffer]);
  };
  if (Number.isFinite(declared) && declared > maxBody) {
    // Declared too large: the handler answers from the header alone, as it would have.
    req.resume();
    forward();
    return;
  }
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size <= maxBody) chunks.push(chunk);
  });
  req.once('end', forward);
});
server.keepAliveTimeout = 5000;
parentPort.on('message', (message) => {
  if (message.type === 'close') {
    server.close(() => parentPort.postMessage({ type: 'closed' }));
    if (message.closeAll) server.closeAllConnections();
    else server.closeIdleConnections();
    return;
  }
  const res = pending.get(message.id);
  if (res === undefined) return;
  pending.delete(message.id);
  if (message.type === 'destroy') { res.destroy(); return; }
  try {
    res.writeHead(message.status, message.headers);
    res.end(Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength));
  } catch {
    res.destroy();
  }
});
server.once('error', (error) => parentPort.postMessage({ type: 'listenError', message: error.message, code: error.code }));
server.listen(port, host, () => parentPort.postMessage({ type: 'listening', port: server.address().port }));
`;

/** A `ServerResponse` look-alike that buffers the answer and posts it to the socket thread once. */
class BufferedResponse {
  headersSent = false;
  #status = 200;
  #isEnded = false;
  readonly #headers = new Map<
    string,
    { name: string; value: number | string | readonly string[] }
  >();
  readonly #send: (status: number, headers: OutgoingHttpHeaders, body: Buffer) => void;
  readonly #destroy: () => void;

  constructor(
    send: (status: number, headers: OutgoingHttpHeaders, body: Buffer) => void,
    destroy: () => void,
  ) {
    this.#send = send;
    this.#destroy = destroy;
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    this.#headers.set(name.toLowerCase(), { name, value });
    return this;
  }

  writeHead(status: number, headers?: OutgoingHttpHeaders | readonly string[]): this {
    this.#status = status;
    if (headers !== undefined && !Array.isArray(headers)) {
      for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
        if (value !== undefined) this.setHeader(name, value);
      }
    }
    this.headersSent = true;
    return this;
  }

  end(body?: string | Uint8Array): this {
    if (this.#isEnded) return this;
    this.headersSent = true;
    this.#isEnded = true;
    const headers: OutgoingHttpHeaders = {};
    for (const { name, value } of this.#headers.values())
      headers[name] = value as OutgoingHttpHeaders[string];
    this.#send(this.#status, headers, body === undefined ? Buffer.alloc(0) : Buffer.from(body));
    return this;
  }

  destroy(): this {
    if (!this.#isEnded) {
      this.#isEnded = true;
      this.#destroy();
    }
    return this;
  }
}

function requestOf(message: RequestMessage): IncomingMessage {
  const body = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
  const request = Readable.from(body.length > 0 ? [body] : [], { objectMode: false });
  return Object.assign(request, {
    method: message.method,
    url: message.url,
    headers: message.headers,
    httpVersion: message.httpVersion,
    socket: { remoteAddress: message.remoteAddress, remotePort: message.remotePort },
  }) as unknown as IncomingMessage;
}

/** Starts the server; resolves once its thread listens. */
export async function listenOffThread(
  handler: OffThreadHandler,
  options: OffThreadServerOptions,
): Promise<OffThreadServer> {
  const worker = new Worker(threadSource, {
    eval: true,
    workerData: { host: options.host, port: options.port, maxBody: options.maxBodyInBytes },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const onMessage = (message: ThreadMessage): void => {
      if (message.type === 'listening') {
        worker.off('message', onMessage);
        resolve(message.port);
      } else if (message.type === 'listenError') {
        worker.off('message', onMessage);
        void worker.terminate();
        reject(Object.assign(new Error(message.message), { code: message.code }));
      }
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
  let closed: (() => void) | undefined;
  worker.on('message', (message: ThreadMessage) => {
    if (message.type === 'closed') {
      closed?.();
      return;
    }
    if (message.type !== 'request') return;
    const { id } = message;
    const response = new BufferedResponse(
      (status, headers, body) => {
        const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
        // A body sharing a pooled buffer is copied rather than transferred.
        const owned =
          body.byteOffset === 0 && body.byteLength === body.buffer.byteLength
            ? bytes
            : new Uint8Array(bytes);
        worker.postMessage({ type: 'response', id, status, headers, body: owned }, [
          owned.buffer as ArrayBuffer,
        ]);
      },
      () => worker.postMessage({ type: 'destroy', id }),
    );
    handler(requestOf(message), response as unknown as ServerResponse);
  });
  worker.on('error', (error) => options.onError?.(error));
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 2_000);
        closed = () => {
          clearTimeout(timer);
          void worker.terminate().then(() => resolve());
        };
        worker.postMessage({ type: 'close', closeAll: options.closeAllConnections === true });
      });
      return closing;
    },
  };
}

/**
 * A minimal HTTP/1.1 client for one origin: a bounded pool of keep-alive sockets (TCP, or TLS for
 * `https:`), one request at a time per socket, request head written as one string with the body
 * behind it, the answer parsed for its status, headers and (small) body. Only what the block
 * requests need: no redirects, no compression, no `Expect: 100-continue`. Measured on the media
 * host, a request through `node:http` cost about three times the CPU of the same one sent here
 * (`docs/media-storage.md`); the host sends hundreds of them a second.
 *
 * A request that gets no complete answer (refused, reset, closed, timed out) rejects with a
 * {@link TransportError} without status, which the host's retry treats as transient.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { TransportError } from './keep-alive-http-client';

export interface Http1Response {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

export interface Http1PoolOptions {
  /** Sockets kept at most; requests beyond them wait for one. Default 64. */
  readonly maxSockets?: number;
  /**
   * An idle socket is closed after this long, before the server closes it (Azurite after 5 s,
   * Blob Storage after about 2 minutes): a request written to a socket the server is closing
   * would fail. Default 4 000.
   */
  readonly idleTimeoutInMs?: number;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');

/** Incremental parser of one response; `push` returns the response once complete. */
class ResponseParser {
  private buffered: Buffer = Buffer.alloc(0);
  private status = 0;
  private headers: Map<string, string> | undefined;
  private bodyStart = 0;
  private contentLength = -1;
  private isChunked = false;
  /** The connection must not be reused after this answer. */
  isClose = false;

  push(chunk: Buffer): Http1Response | undefined {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    if (this.headers === undefined) {
      const end = this.buffered.indexOf(CRLF_CRLF);
      if (end < 0) return undefined;
      const lines = this.buffered.toString('latin1', 0, end).split('\r\n');
      const statusLine = lines[0] ?? '';
      // "HTTP/1.1 201 Created"
      this.status = Number(statusLine.slice(9, 12));
      if (!statusLine.startsWith('HTTP/1.') || !(this.status >= 100 && this.status < 600))
        throw new TransportError('malformed HTTP answer', 'EPROTO');
      const headers = new Map<string, string>();
      for (let i = 1; i < lines.length; i += 1) {
        const line = lines[i]!;
        const colon = line.indexOf(':');
        if (colon > 0)
          headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      this.headers = headers;
      this.bodyStart = end + 4;
      this.isChunked = (headers.get('transfer-encoding') ?? '').toLowerCase().includes('chunked');
      const length = headers.get('content-length');
      this.contentLength = length === undefined ? -1 : Number(length);
      this.isClose =
        (headers.get('connection') ?? '').toLowerCase() === 'close' ||
        statusLine.startsWith('HTTP/1.0');
      if (this.status === 100) {
        // An interim answer: the final one follows.
        this.buffered = this.buffered.subarray(this.bodyStart);
        this.headers = undefined;
        return this.buffered.length > 0 ? this.push(Buffer.alloc(0)) : undefined;
      }
    }
    const headers = this.headers;
    if (this.isChunked) {
      const body = this.dechunk();
      return body === undefined ? undefined : { status: this.status, headers, body };
    }
    if (this.contentLength >= 0) {
      if (this.buffered.length - this.bodyStart < this.contentLength) return undefined;
      return {
        status: this.status,
        headers,
        body: this.buffered.subarray(this.bodyStart, this.bodyStart + this.contentLength),
      };
    }
    if (this.status === 204 || this.status === 304)
      return { status: this.status, headers, body: Buffer.alloc(0) };
    // No length: the body runs to the end of the connection.
    this.isClose = true;
    return undefined;
  }

  /** The answer of a connection that ended: complete only when its body runs to the end. */
  end(): Http1Response | undefined {
    if (this.headers === undefined || this.isChunked || this.contentLength >= 0) return undefined;
    return {
      status: this.status,
      headers: this.headers,
      body: this.buffered.subarray(this.bodyStart),
    };
  }

  private dechunk(): Buffer | undefined {
    const parts: Buffer[] = [];
    let at = this.bodyStart;
    for (;;) {
      const lineEnd = this.buffered.indexOf('\r\n', at, 'latin1');
      if (lineEnd < 0) return undefined;
      const size = parseInt(this.buffered.toString('latin1', at, lineEnd).split(';')[0]!, 16);
      if (!Number.isFinite(size))
        throw new TransportError('malformed chunked HTTP answer', 'EPROTO');
      if (size === 0) {
        // The last chunk, then trailers (none expected) and an empty line.
        return this.buffered.indexOf(CRLF_CRLF, lineEnd, 'latin1') >= 0
          ? Buffer.concat(parts)
          : undefined;
      }
      if (this.buffered.length < lineEnd + 2 + size + 2) return undefined;
      parts.push(this.buffered.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
}

interface PooledSocket {
  readonly socket: Socket;
  idleTimer: NodeJS.Timeout | undefined;
  /** The request being answered on this socket. */
  onData: ((chunk: Buffer) => void) | undefined;
  onEnd: ((error: TransportError) => void) | undefined;
  isDead: boolean;
}

export class Http1Pool {
  private readonly host: string;
  private readonly port: number;
  private readonly isTls: boolean;
  private readonly hostHeader: string;
  private readonly maxSockets: number;
  private readonly idleTimeoutInMs: number;
  private readonly idle: PooledSocket[] = [];
  private openCount = 0;
  private readonly waiting: ((socket: PooledSocket) => void)[] = [];
  private isClosed = false;

  constructor(origin: URL, options: Http1PoolOptions = {}) {
    this.isTls = origin.protocol === 'https:';
    this.host = origin.hostname.replace(/^\[|\]$/g, '');
    this.port = origin.port === '' ? (this.isTls ? 443 : 80) : Number(origin.port);
    this.hostHeader = origin.host;
    this.maxSockets = options.maxSockets ?? 64;
    this.idleTimeoutInMs = options.idleTimeoutInMs ?? 4000;
  }

  /**
   * Sends one request. `headerLines` are complete `name: value\r\n` lines (Host and
   * Content-Length are added). Resolves with any answer that has a status; rejects with a
   * {@link TransportError} when there is none.
   */
  async request(
    method: string,
    pathAndQuery: string,
    headerLines: string,
    body: Buffer,
    timeoutInMs: number,
  ): Promise<Http1Response> {
    if (this.isClosed)
      throw new TransportError('storage connection pool is closed', 'ECONNABORTED');
    const pooled = await this.acquire();
    return new Promise<Http1Response>((resolve, reject) => {
      const parser = new ResponseParser();
      let isDone = false;
      const finish = (error: TransportError | undefined, response?: Http1Response): void => {
        if (isDone) return;
        isDone = true;
        clearTimeout(timer);
        pooled.onData = undefined;
        pooled.onEnd = undefined;
        if (error !== undefined || parser.isClose) this.discard(pooled);
        else this.release(pooled);
        if (error !== undefined) reject(error);
        else resolve(response!);
      };
      const timer = setTimeout(
        () =>
          finish(
            new TransportError(`storage request timed out after ${timeoutInMs} ms`, 'ETIMEDOUT'),
          ),
        timeoutInMs,
      );
      pooled.onData = (chunk) => {
        let response: Http1Response | undefined;
        try {
          response = parser.push(chunk);
        } catch (error) {
          finish(
            error instanceof TransportError
              ? error
              : new TransportError('malformed HTTP answer', 'EPROTO'),
          );
          return;
        }
        if (response !== undefined) finish(undefined, response);
      };
      pooled.onEnd = (error) => {
        const response = parser.end();
        if (response !== undefined) finish(undefined, response);
        else finish(error);
      };
      const head = `${method} ${pathAndQuery} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nContent-Length: ${body.length}\r\n${headerLines}\r\n`;
      const socket = pooled.socket;
      socket.cork();
      socket.write(head, 'latin1');
      if (body.length > 0) socket.write(body);
      socket.uncork();
    });
  }

  /** Closes every socket; later requests reject. Idempotent. */
  close(): void {
    this.isClosed = true;
    for (const pooled of this.idle.splice(0)) this.discard(pooled);
  }

  private acquire(): Promise<PooledSocket> {
    for (;;) {
      const pooled = this.idle.pop();
      if (pooled === undefined) break;
      clearTimeout(pooled.idleTimer);
      pooled.idleTimer = undefined;
      if (!pooled.isDead) return Promise.resolve(pooled);
    }
    if (this.openCount < this.maxSockets) return Promise.resolve(this.open());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private open(): PooledSocket {
    this.openCount += 1;
    const socket = this.isTls
      ? tlsConnect({
          host: this.host,
          port: this.port,
          servername: this.host,
          ALPNProtocols: ['http/1.1'],
        })
      : netConnect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    const pooled: PooledSocket = {
      socket,
      idleTimer: undefined,
      onData: undefined,
      onEnd: undefined,
      isDead: false,
    };
    socket.on('data', (chunk: Buffer) => {
      if (pooled.onData !== undefined) pooled.onData(chunk);
      // Bytes with no request waiting: the server broke the exchange; do not reuse the socket.
      else this.discard(pooled);
    });
    const ended = (error?: Error & { code?: string }): void => {
      const wasDead = pooled.isDead;
      pooled.isDead = true;
      pooled.onEnd?.(
        new TransportError(
          error?.message ?? 'storage closed the connection',
          error?.code ?? 'ECONNRESET',
          error === undefined ? undefined : { cause: error },
        ),
      );
      if (!wasDead) this.forget(pooled);
    };
    // Kept for the socket's life: an error after the first must not go unhandled.
    socket.on('error', ended);
    socket.once('end', () => ended());
    socket.once('close', () => ended());
    return pooled;
  }

  private release(pooled: PooledSocket): void {
    if (pooled.isDead) return;
    const next = this.waiting.shift();
    if (next !== undefined) {
      next(pooled);
      return;
    }
    pooled.idleTimer = setTimeout(() => this.discard(pooled), this.idleTimeoutInMs);
    pooled.idleTimer.unref();
    this.idle.push(pooled);
  }

  private discard(pooled: PooledSocket): void {
    if (pooled.isDead) return;
    pooled.isDead = true;
    clearTimeout(pooled.idleTimer);
    pooled.socket.destroy();
    this.forget(pooled);
  }

  /** A socket is gone: a waiting request gets a new one. */
  private forget(pooled: PooledSocket): void {
    this.openCount -= 1;
    const at = this.idle.indexOf(pooled);
    if (at >= 0) this.idle.splice(at, 1);
    const next = this.waiting.shift();
    if (next !== undefined && !this.isClosed) next(this.open());
  }
}

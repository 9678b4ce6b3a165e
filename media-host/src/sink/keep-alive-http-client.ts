/**
 * A small HTTP client for the Azure SDK's request pipeline (the documented `httpClient` option of
 * `@azure/storage-blob`'s `StoragePipelineOptions`, a `RequestPolicy` of `@azure/core-http-compat`
 * that the SDK adapts to `@azure/core-rest-pipeline`'s `HttpClient`): one `node:http`/`node:https`
 * request per pipeline request over a bounded pool of keep-alive sockets. The SDK's default client opens a socket per
 * concurrent request and wraps every request in abort-signal, progress and decompression streams
 * the host has no use for; under the host's load of many small block writes, connection setup and
 * those layers were a visible share of each request's CPU.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import {
  toHttpHeadersLike,
  type CompatResponse,
  type RequestPolicy,
  type WebResourceLike,
} from '@azure/core-http-compat';
import { createHttpHeaders } from '@azure/core-rest-pipeline';

export interface KeepAliveHttpClientOptions {
  /** Sockets kept per origin at most; requests beyond them wait for one. Default 64. */
  readonly maxSockets?: number;
  /** Used when the pipeline request has no timeout of its own. Default 30 000. */
  readonly requestTimeoutInMs?: number;
}

/** Thrown for a request that got no answer (refused, reset, timed out): transient, no status. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Sockets per origin kept open by default. */
export const DEFAULT_MAX_SOCKETS = 64;

export interface KeepAliveAgents {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  /** Closes the idle sockets; idempotent. */
  destroy(): void;
}

export function createKeepAliveAgents(maxSockets = DEFAULT_MAX_SOCKETS): KeepAliveAgents {
  // Blob Storage closes idle connections after about 2 minutes; Azurite after 5 s. Free sockets
  // are dropped after 4 s so a request is not sent on one the server is closing.
  const options = {
    keepAlive: true,
    maxSockets,
    maxFreeSockets: maxSockets,
    scheduling: 'lifo' as const,
    timeout: 4000,
  };
  const http = new HttpAgent(options);
  const https = new HttpsAgent(options);
  return {
    http,
    https,
    destroy() {
      http.destroy();
      https.destroy();
    },
  };
}

function bodyOf(body: unknown): Buffer | string | Readable | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (typeof body === 'function') return (body as () => Readable)();
  if (typeof (body as Readable).pipe === 'function') return body as Readable;
  throw new TypeError('request body type not supported by the host HTTP client');
}

function readText(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () =>
      resolve(chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8')),
    );
    response.once('error', reject);
  });
}

const asTransportError = (error: Error & { code?: string }): TransportError =>
  error instanceof TransportError
    ? error
    : new TransportError(error.message, error.code ?? 'ECONNRESET', { cause: error });

/**
 * The SDK's HTTP client over keep-alive agents. Failures without an answer reject with a
 * {@link TransportError} (no status: the host's retry treats them as transient); answers of any
 * status resolve, as the pipeline expects (its policies turn 4xx/5xx into `RestError`s).
 */
export function createKeepAliveHttpClient(
  agents: KeepAliveAgents,
  options: KeepAliveHttpClientOptions = {},
): RequestPolicy {
  const defaultTimeout = options.requestTimeoutInMs ?? 30_000;
  return {
    sendRequest(request: WebResourceLike): Promise<CompatResponse> {
      return new Promise<CompatResponse>((resolve, reject) => {
        const url = new URL(request.url);
        const isHttps = url.protocol === 'https:';
        const body = bodyOf(request.body);
        const send = isHttps ? httpsRequest : httpRequest;
        const req = send(url, {
          method: request.method,
          headers: request.headers.rawHeaders(),
          agent: isHttps ? agents.https : agents.http,
        });
        const timeout = request.timeout > 0 ? request.timeout : defaultTimeout;
        req.setTimeout(timeout, () =>
          req.destroy(new TransportError(`request timed out after ${timeout} ms`, 'ETIMEDOUT')),
        );
        const signal = request.abortSignal as AbortSignal | undefined;
        const onAbort = (): void =>
          void req.destroy(new TransportError('request aborted', 'ABORT_ERR'));
        signal?.addEventListener('abort', onAbort, { once: true });
        req.once('error', (error: Error & { code?: string }) => {
          signal?.removeEventListener('abort', onAbort);
          reject(asTransportError(error));
        });
        req.once('response', (response: IncomingMessage) => {
          signal?.removeEventListener('abort', onAbort);
          const headers = createHttpHeaders();
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined)
              headers.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          const status = response.statusCode ?? 0;
          const base = { request, status, headers: toHttpHeadersLike(headers) };
          const streamed = request.streamResponseStatusCodes;
          if (
            streamed?.has(status) === true ||
            streamed?.has(Number.POSITIVE_INFINITY) === true ||
            request.streamResponseBody === true
          ) {
            resolve({ ...base, readableStreamBody: response });
            return;
          }
          readText(response).then(
            (text) => resolve({ ...base, bodyAsText: text }),
            (error: Error & { code?: string }) => reject(asTransportError(error)),
          );
        });
        if (body === undefined) req.end();
        else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
        else body.pipe(req);
      });
    },
  };
}

/**
 * Serves the app's HTTP triggers under the host.json route prefix, on loopback. Requests become
 * RPC `http` typed data that `@azure/functions` turns into a real `HttpRequest`; the returned
 * `HttpResponseInit`/`HttpResponse` comes back as typed data and is written out unchanged.
 *
 * Host-level faults answer with a JSON problem body: 404 unknown route, 405 wrong method (with
 * `Allow`), 413 body over the limit, 500 when the handler threw (details only in the log).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CapturedFunction, HostHttpExtension } from './contracts';
import type { LoadedFunctionApp } from './function-app';
import type { CoreHttpCookie, CoreHttpData, CoreTypedData } from './functions-core';
import type { HostLogger } from './log-sink';
import { MANAGEMENT_MAX_BODY_IN_BYTES } from '../durable/management-server';
import { listenOffThread } from './off-thread-server';
import { compileRoute, type CompiledRoute } from './route-template';

export interface HttpTriggerServerOptions {
  readonly app: LoadedFunctionApp;
  readonly logger: HostLogger;
  /** Route prefix from host.json (`api` by default; empty for none). */
  readonly routePrefix: string;
  /** Largest accepted request body. */
  readonly maxRequestBodyInBytes: number;
  /** Port to listen on; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** Tried before the function routes, in order (e.g. the durable management API). */
  readonly extensions?: readonly HostHttpExtension[];
}

export interface HttpTriggerServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly port: number;
  /** Base URL of the HTTP functions, e.g. `http://127.0.0.1:7071/api`. */
  readonly functionsUrl: string;
  readonly routes: readonly HttpRoute[];
  /** Stops accepting connections and closes idle ones; idempotent. */
  close(): Promise<void>;
}

export interface HttpRoute {
  readonly functionName: string;
  readonly template: string;
  /** Upper-case methods, or undefined for any method. */
  readonly methods: readonly string[] | undefined;
}

const ProblemCodes = {
  badRequest: 'ATT_INVALID_REQUEST',
  notFound: 'ATT_NOT_FOUND',
  methodNotAllowed: 'ATT_METHOD_NOT_ALLOWED',
  payloadTooLarge: 'ATT_PAYLOAD_TOO_LARGE',
  internal: 'ATT_INTERNAL',
} as const;

export function sendProblem(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = JSON.stringify({ code, message, status });
  response.writeHead(status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}

interface CompiledHttpRoute extends HttpRoute {
  readonly compiled: CompiledRoute;
}

function routesOf(functions: readonly CapturedFunction[]): CompiledHttpRoute[] {
  const routes = functions.map((fn) => {
    const template =
      typeof fn.trigger.route === 'string' && fn.trigger.route !== '' ? fn.trigger.route : fn.name;
    const methods = Array.isArray(fn.trigger.methods)
      ? fn.trigger.methods.map((m) => String(m).toUpperCase())
      : undefined;
    return { functionName: fn.name, template, methods, compiled: compileRoute(template) };
  });
  return routes.sort((a, b) => b.compiled.precedence - a.compiled.precedence);
}

class BodyTooLargeError extends Error {}

async function readBody(request: IncomingMessage, limitInBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limitInBytes) throw new BodyTooLargeError();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function serializeCookie(cookie: CoreHttpCookie): string {
  const parts = [`${cookie.name ?? ''}=${cookie.value ?? ''}`];
  if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
  if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
  const seconds = cookie.expires?.value?.seconds;
  if (typeof seconds === 'number') parts.push(`Expires=${new Date(seconds * 1000).toUTCString()}`);
  if (typeof cookie.maxAge?.value === 'number') parts.push(`Max-Age=${cookie.maxAge.value}`);
  if (cookie.secure?.value === true) parts.push('Secure');
  if (cookie.httpOnly?.value === true) parts.push('HttpOnly');
  if (cookie.sameSite === 'lax') parts.push('SameSite=Lax');
  if (cookie.sameSite === 'strict') parts.push('SameSite=Strict');
  if (cookie.sameSite === 'explicitNone') parts.push('SameSite=None');
  return parts.join('; ');
}

function bodyBytes(body: CoreTypedData | null | undefined): Buffer {
  if (body === null || body === undefined) return Buffer.alloc(0);
  if (body.bytes) return Buffer.from(body.bytes);
  if (body.stream) return Buffer.from(body.stream);
  if (typeof body.string === 'string') return Buffer.from(body.string);
  if (typeof body.json === 'string') return Buffer.from(body.json);
  if (body.int !== undefined && body.int !== null) return Buffer.from(String(body.int));
  if (body.double !== undefined && body.double !== null) return Buffer.from(String(body.double));
  return Buffer.alloc(0);
}

function writeResponse(response: ServerResponse, http: CoreHttpData | undefined): void {
  if (http === undefined) {
    // The handler returned nothing: no content, as the Functions host answers.
    response.writeHead(204);
    response.end();
    return;
  }
  const status = Number(http.statusCode ?? '200');
  const body = bodyBytes(http.body);
  for (const [name, value] of Object.entries(http.headers ?? {})) {
    // Framing is the server's job; a handler's own length/encoding would conflict with it.
    if (['content-length', 'transfer-encoding', 'connection'].includes(name.toLowerCase()))
      continue;
    response.setHeader(name, value);
  }
  const cookies = (http.cookies ?? []).map(serializeCookie);
  if (cookies.length > 0) response.setHeader('set-cookie', cookies);
  response.setHeader('content-length', body.length);
  response.writeHead(Number.isInteger(status) && status >= 100 && status <= 999 ? status : 500);
  response.end(body);
}

/** Starts the HTTP trigger server on 127.0.0.1. */
export async function startHttpTriggerServer(
  options: HttpTriggerServerOptions,
): Promise<HttpTriggerServer> {
  const { app, logger, maxRequestBodyInBytes } = options;
  const routes = routesOf(app.listByTrigger('httpTrigger'));
  const prefix = options.routePrefix.replace(/^\/+|\/+$/g, '');
  let port = 0;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const extension of options.extensions ?? []) {
      if (await extension.handle(request, response)) return;
    }
    let url: URL;
    try {
      url = new URL(request.url ?? '/', `http://${request.headers.host ?? `127.0.0.1:${port}`}`);
    } catch {
      sendProblem(
        response,
        400,
        ProblemCodes.badRequest,
        'The request URL or Host header is malformed',
      );
      return;
    }
    let path = url.pathname;
    if (prefix !== '') {
      const lower = path.toLowerCase();
      const wanted = `/${prefix.toLowerCase()}`;
      if (lower !== wanted && !lower.startsWith(`${wanted}/`)) {
        sendProblem(response, 404, ProblemCodes.notFound, 'No function serves this path');
        return;
      }
      path = path.slice(wanted.length);
    }
    const method = (request.method ?? 'GET').toUpperCase();
    const allowed = new Set<string>();
    let chosen: { route: CompiledHttpRoute; params: Record<string, string> } | undefined;
    for (const route of routes) {
      const params = route.compiled.match(path);
      if (params === undefined) continue;
      if (route.methods === undefined || route.methods.includes(method)) {
        chosen = { route, params };
        break;
      }
      route.methods.forEach((m) => allowed.add(m));
    }
    if (chosen === undefined) {
      if (allowed.size > 0) {
        sendProblem(
          response,
          405,
          ProblemCodes.methodNotAllowed,
          `Method ${method} is not allowed here`,
          {
            allow: [...allowed].sort().join(', '),
          },
        );
      } else {
        sendProblem(response, 404, ProblemCodes.notFound, 'No function serves this path');
      }
      return;
    }

    const declaredLength = Number(request.headers['content-length'] ?? '0');
    if (Number.isFinite(declaredLength) && declaredLength > maxRequestBodyInBytes) {
      sendProblem(
        response,
        413,
        ProblemCodes.payloadTooLarge,
        `Request body exceeds ${maxRequestBodyInBytes} bytes`,
        {
          connection: 'close',
        },
      );
      request.resume();
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(request, maxRequestBodyInBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendProblem(
          response,
          413,
          ProblemCodes.payloadTooLarge,
          `Request body exceeds ${maxRequestBodyInBytes} bytes`,
          {
            connection: 'close',
          },
        );
        request.resume();
        return;
      }
      throw error;
    }

    const functionName = chosen.route.functionName;
    const http: CoreHttpData = {
      method,
      url: url.href,
      headers: headersOf(request),
      params: chosen.params,
      body: { bytes: body },
    };
    let outcome;
    try {
      outcome = await app.invoke(functionName, { http });
    } catch (error) {
      logger.log('error', 'http function failed', {
        functionName,
        errorName: error instanceof Error ? error.name : typeof error,
        errorMessage: error instanceof Error ? error.message : String(error),
      });
      sendProblem(response, 500, ProblemCodes.internal, 'The function failed; see the host log');
      return;
    }
    const returned =
      outcome.returnValue?.http ??
      outcome.outputData.find((o) => o.data?.http !== undefined && o.data.http !== null)?.data
        ?.http ??
      undefined;
    writeResponse(response, returned ?? undefined);
  }

  // Sockets are accepted and read on their own thread (see off-thread-server.ts).
  const server = await listenOffThread(
    (request, response) => {
      handle(request, response).catch((error: unknown) => {
        logger.log('error', 'http host failed', {
          errorMessage: error instanceof Error ? error.message : String(error),
        });
        sendProblem(response, 500, ProblemCodes.internal, 'The host failed to handle the request');
      });
    },
    {
      host: '127.0.0.1',
      port: options.port ?? 0,
      // The durable management API's own limit may be larger than the functions' one.
      maxBodyInBytes: Math.max(maxRequestBodyInBytes, MANAGEMENT_MAX_BODY_IN_BYTES),
      onError: (error) =>
        logger.log('error', 'http socket thread failed', { errorMessage: error.message }),
    },
  );
  port = server.port;
  const baseUrl = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    baseUrl,
    port,
    functionsUrl: prefix === '' ? baseUrl : `${baseUrl}/${prefix}`,
    routes: routes.map(({ functionName, template, methods }) => ({
      functionName,
      template,
      methods,
    })),
    close() {
      closing ??= server.close();
      return closing;
    },
  };
}

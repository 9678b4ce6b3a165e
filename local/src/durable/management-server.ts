/**
 * The HTTP management endpoint of the local durable engine on loopback: the subset of the
 * Durable extension's API that `DurableClient` 3.x calls through `rpcBaseUrl`
 * (`/durabletask/…`), also reachable under the public webhook prefix
 * (`/runtime/webhooks/durabletask/…`). Errors are problem bodies `{ code, message, status }`.
 *
 * Every request needs the engine's system key, as Azure's extension needs its
 * `durabletask_extension` system key: `?code=<key>` or `x-functions-key: <key>` (what the
 * management URLs handed out by `createCheckStatusResponse` carry), or, on the loopback RPC
 * endpoint only, the key as the first path segment (`rpcBaseUrl` is `…/<key>/durabletask/`, because
 * `DurableClient` sends no key of its own there). Without it: 401 and nothing is read or changed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, type ProblemBody } from '@attest/core';
import type { HostLogger } from '../host/log-sink';
import { listenOffThread } from '../host/off-thread-server';

/** What the server needs from the engine. */
export interface ManagementApi {
  readonly taskHubName: string;
  clientBindingData(): Readonly<Record<string, unknown>>;
  startNew(
    name: string,
    options?: { instanceId?: string; input?: unknown },
  ): Promise<{
    status: 'created' | 'conflict' | 'unknownOrchestrator';
    instanceId: string;
    runtimeStatus?: string;
  }>;
  getStatus(
    instanceId: string,
    options?: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean },
  ): Promise<{ runtimeStatus: string } | undefined>;
  raiseEvent(
    instanceId: string,
    eventName: string,
    inputJson: string | undefined,
  ): Promise<'accepted' | 'notFound' | 'gone'>;
  terminate(instanceId: string, reason: string): Promise<'accepted' | 'notFound' | 'gone'>;
  purge(instanceId: string): Promise<'purged' | 'notFound' | 'running'>;
  purgeBy(filter: {
    createdTimeFrom?: Date;
    createdTimeTo?: Date;
    runtimeStatus?: readonly string[];
  }): Promise<number>;
  listInstances(filter: {
    createdTimeFrom?: Date;
    createdTimeTo?: Date;
    runtimeStatus?: readonly string[];
  }): Promise<readonly { instanceId: string }[]>;
}

export interface ManagementServer {
  readonly origin: string;
  close(): Promise<void>;
}

export interface ManagementServerOptions {
  readonly host: string;
  readonly port: number;
  readonly log: HostLogger;
  /** The key every request must present (never logged). */
  readonly systemKey: string;
  /** Largest accepted request body. Default 4 MiB. */
  readonly maxBodyInBytes?: number;
}

const PREFIXES = ['/durabletask/', '/runtime/webhooks/durabletask/'];
const RUNNING = new Set(['Pending', 'Running', 'ContinuedAsNew']);

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Answers one management request (any of the prefixes); never rejects. */
export type ManagementHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Whether a request path belongs to the management API. */
export function isManagementPath(url: string | undefined): boolean {
  const path = (url ?? '/').split('?')[0] ?? '/';
  return PREFIXES.some((p) => path.startsWith(p));
}

/**
 * The request's path with the key segment of the RPC form removed, when the request presents the
 * system key (path segment, `code` query parameter or `x-functions-key` header); else undefined.
 */
function authorizedPath(req: IncomingMessage, url: URL, systemKey: string): string | undefined {
  const expected = createHash('sha256').update(systemKey, 'utf8').digest();
  const matches = (presented: string | undefined | null): boolean =>
    typeof presented === 'string' &&
    presented !== '' &&
    timingSafeEqual(createHash('sha256').update(presented, 'utf8').digest(), expected);
  const firstSegment = /^\/([^/]+)(\/durabletask\/.*)$/.exec(url.pathname);
  if (firstSegment !== null && matches(firstSegment[1])) return firstSegment[2];
  const header = req.headers['x-functions-key'];
  if (matches(url.searchParams.get('code')) || matches(Array.isArray(header) ? header[0] : header))
    return url.pathname;
  return undefined;
}

/** Default largest request body of the management API. */
export const MANAGEMENT_MAX_BODY_IN_BYTES = 4 * 1024 * 1024;

export function createManagementHandler(
  api: ManagementApi,
  options: Omit<ManagementServerOptions, 'host' | 'port'>,
): ManagementHandler {
  const maxBody = options.maxBodyInBytes ?? MANAGEMENT_MAX_BODY_IN_BYTES;
  return (req, res) =>
    handle(api, req, res, maxBody, options.systemKey).catch((error: unknown) => {
      const problem =
        error instanceof HttpProblem
          ? error
          : new HttpProblem(
              500,
              ErrorCode.Internal,
              'the durable engine failed to handle the request; see its log',
            );
      if (!(error instanceof HttpProblem)) {
        options.log.log('error', 'management request failed', {
          error: error instanceof Error ? error.message.slice(0, 500) : 'unknown',
        });
      }
      sendProblem(res, problem);
    });
}

export async function startManagementServer(
  api: ManagementApi,
  options: ManagementServerOptions,
): Promise<ManagementServer> {
  const handler = createManagementHandler(api, options);
  // Sockets are accepted and read on their own thread, as the host's server (see off-thread-server.ts).
  const server = await listenOffThread((req, res) => void handler(req, res), {
    host: options.host,
    port: options.port,
    maxBodyInBytes: options.maxBodyInBytes ?? MANAGEMENT_MAX_BODY_IN_BYTES,
    closeAllConnections: true,
    onError: (error) =>
      options.log.log('error', 'management socket thread failed', { error: error.message }),
  });
  let closing: Promise<void> | undefined;
  return {
    origin: `http://${options.host}:${server.port}`,
    close(): Promise<void> {
      closing ??= server.close();
      return closing;
    },
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendProblem(res: ServerResponse, problem: HttpProblem): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: ProblemBody = {
    code: problem.code,
    message: problem.message,
    status: problem.status,
  };
  sendJson(res, problem.status, body);
}

async function readBody(req: IncomingMessage, maxBody: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBody)
    throw new HttpProblem(413, ErrorCode.PayloadTooLarge, `request body exceeds ${maxBody} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBody)
      throw new HttpProblem(
        413,
        ErrorCode.PayloadTooLarge,
        `request body exceeds ${maxBody} bytes`,
      );
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJsonBody(text: string, what: string): { present: boolean; value: unknown } {
  if (text.trim() === '') return { present: false, value: undefined };
  try {
    return { present: true, value: JSON.parse(text) as unknown };
  } catch {
    throw new HttpProblem(400, ErrorCode.InvalidRequest, `${what} is not valid JSON`);
  }
}

function parseDate(value: string | null, name: string): Date | undefined {
  if (value === null || value === '') return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new HttpProblem(400, ErrorCode.InvalidRequest, `${name} is not a date`);
  return date;
}

function filterOf(url: URL): {
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  runtimeStatus?: string[];
} {
  const statuses = (url.searchParams.get('runtimeStatus') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return {
    createdTimeFrom: parseDate(url.searchParams.get('createdTimeFrom'), 'createdTimeFrom'),
    createdTimeTo: parseDate(url.searchParams.get('createdTimeTo'), 'createdTimeTo'),
    runtimeStatus: statuses.length > 0 ? statuses : undefined,
  };
}

function flag(url: URL, name: string): boolean | undefined {
  const value = url.searchParams.get(name);
  if (value === null) return undefined;
  return value.toLowerCase() === 'true';
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpProblem(400, ErrorCode.InvalidRequest, 'the path is not valid percent-encoding');
  }
}

function managementPayload(api: ManagementApi, instanceId: string): Record<string, string> {
  const urls = api.clientBindingData().managementUrls as Record<string, string>;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(urls))
    out[key] = value.replace(urls.id ?? 'INSTANCEID', encodeURIComponent(instanceId));
  out.id = instanceId;
  return out;
}

async function handle(
  api: ManagementApi,
  req: IncomingMessage,
  res: ServerResponse,
  maxBody: number,
  systemKey: string,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = authorizedPath(req, url, systemKey);
  if (path === undefined)
    throw new HttpProblem(
      401,
      ErrorCode.Unauthorized,
      'the durable management API needs the system key (code=<key> or x-functions-key)',
    );
  const prefix = PREFIXES.find((p) => path.startsWith(p));
  if (prefix === undefined)
    throw new HttpProblem(404, ErrorCode.NotFound, 'no such durable management route');
  const segments = path.slice(prefix.length).split('/').map(decodeSegment);
  const method = req.method ?? 'GET';
  const [root, id, verb, eventName] = segments;

  if (root === 'orchestrators' && id !== undefined && id !== '' && segments.length <= 3) {
    if (method !== 'POST')
      throw new HttpProblem(405, ErrorCode.InvalidRequest, 'use POST to start an orchestration');
    const body = parseJsonBody(await readBody(req, maxBody), 'the orchestration input');
    const instanceId = verb === undefined || verb === '' ? undefined : verb;
    let result;
    try {
      result = await api.startNew(id, { instanceId, input: body.present ? body.value : undefined });
    } catch (error) {
      if (error instanceof Error && error.message.includes(ErrorCode.InvalidRequest))
        throw new HttpProblem(400, ErrorCode.InvalidRequest, error.message);
      throw error;
    }
    if (result.status === 'unknownOrchestrator') {
      throw new HttpProblem(
        400,
        ErrorCode.InvalidRequest,
        `orchestrator function '${id}' is not registered in this app`,
      );
    }
    if (result.status === 'conflict') {
      throw new HttpProblem(
        409,
        ErrorCode.Conflict,
        `an instance with id '${result.instanceId}' already exists and is ${result.runtimeStatus ?? 'running'}`,
      );
    }
    const payload = managementPayload(api, result.instanceId);
    sendJson(res, 202, payload, { Location: payload.statusQueryGetUri ?? '' });
    return;
  }

  if (root !== 'instances')
    throw new HttpProblem(404, ErrorCode.NotFound, 'no such durable management route');

  if (id === undefined || id === '') {
    if (method === 'GET') {
      const all = await api.listInstances(filterOf(url));
      const topText = url.searchParams.get('top');
      const top = topText === null ? undefined : Number(topText);
      if (top !== undefined && (!Number.isInteger(top) || top <= 0))
        throw new HttpProblem(400, ErrorCode.InvalidRequest, 'top must be a positive integer');
      const tokenText = req.headers['x-ms-continuation-token'];
      const offset =
        typeof tokenText === 'string' && tokenText !== ''
          ? Number(Buffer.from(tokenText, 'base64').toString('utf8'))
          : 0;
      if (!Number.isInteger(offset) || offset < 0)
        throw new HttpProblem(400, ErrorCode.InvalidRequest, 'the continuation token is not valid');
      const page = top === undefined ? all.slice(offset) : all.slice(offset, offset + top);
      const next = offset + page.length;
      const headers: Record<string, string> =
        next < all.length && top !== undefined
          ? { 'x-ms-continuation-token': Buffer.from(String(next)).toString('base64') }
          : {};
      sendJson(res, 200, page, headers);
      return;
    }
    if (method === 'DELETE') {
      const count = await api.purgeBy(filterOf(url));
      sendJson(res, count === 0 ? 404 : 200, { instancesDeleted: count });
      return;
    }
    throw new HttpProblem(
      405,
      ErrorCode.InvalidRequest,
      'use GET to list or DELETE to purge instances',
    );
  }

  if (verb === undefined || verb === '') {
    if (method === 'GET') {
      const status = await api.getStatus(id, {
        showHistory: flag(url, 'showHistory'),
        showHistoryOutput: flag(url, 'showHistoryOutput'),
        showInput: flag(url, 'showInput'),
      });
      if (status === undefined)
        throw new HttpProblem(404, ErrorCode.NotFound, `no instance with id '${id}'`);
      const running = RUNNING.has(status.runtimeStatus);
      const headers: Record<string, string> = running
        ? { Location: managementPayload(api, id).statusQueryGetUri ?? '', 'Retry-After': '1' }
        : {};
      sendJson(res, running ? 202 : 200, status, headers);
      return;
    }
    if (method === 'DELETE') {
      const result = await api.purge(id);
      if (result === 'notFound')
        throw new HttpProblem(404, ErrorCode.NotFound, `no instance with id '${id}'`);
      if (result === 'running')
        throw new HttpProblem(
          409,
          ErrorCode.Conflict,
          `instance '${id}' is still running; terminate it before purging`,
        );
      sendJson(res, 200, { instancesDeleted: 1 });
      return;
    }
    throw new HttpProblem(405, ErrorCode.InvalidRequest, 'use GET for status or DELETE to purge');
  }

  if (method !== 'POST')
    throw new HttpProblem(405, ErrorCode.InvalidRequest, `use POST for ${verb}`);
  if (verb === 'raiseEvent' && eventName !== undefined && eventName !== '') {
    const text = await readBody(req, maxBody);
    const body = parseJsonBody(text, 'the event data');
    const outcome = await api.raiseEvent(id, eventName, body.present ? text : undefined);
    if (outcome === 'notFound')
      throw new HttpProblem(404, ErrorCode.NotFound, `no instance with id '${id}'`);
    if (outcome === 'gone')
      throw new HttpProblem(410, ErrorCode.Conflict, `instance '${id}' is not running`);
    res.writeHead(202).end();
    return;
  }
  if (verb === 'terminate') {
    await readBody(req, maxBody);
    const outcome = await api.terminate(id, url.searchParams.get('reason') ?? '');
    if (outcome === 'notFound')
      throw new HttpProblem(404, ErrorCode.NotFound, `no instance with id '${id}'`);
    if (outcome === 'gone')
      throw new HttpProblem(410, ErrorCode.Conflict, `instance '${id}' is not running`);
    res.writeHead(202).end();
    return;
  }
  if (verb === 'suspend' || verb === 'resume' || verb === 'rewind' || verb === 'restart') {
    throw new HttpProblem(
      501,
      ErrorCode.InvalidRequest,
      `${verb} is not supported by the local durable engine`,
    );
  }
  throw new HttpProblem(404, ErrorCode.NotFound, 'no such durable management route');
}

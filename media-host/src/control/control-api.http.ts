/**
 * The control API the function app calls (routes and bodies: `core/src/control-api.ts`), over
 * HTTPS with the host's certificate (the function app reaches it across the virtual network).
 * Every route but `GET /health` needs `Authorization: Bearer <ATTEST_MEDIA_CONTROL_KEY>`,
 * compared in constant time. Client faults answer 4xx with a {@link ProblemBody}; anything else
 * 500 with only the code (details in the log).
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import {
  ErrorCode,
  isRecorderError,
  ParticipantIdentityKind,
  RecorderError,
  StreamKind,
  type AdoptSessionRequest,
  type CreateMediaSessionRequest,
  type CreateMediaSessionResponse,
  type MediaHostHealth,
  type ParticipantMapping,
  type ProblemBody,
  type SealSummary,
} from '@attest/core';
import type { Logger } from '../logging/logger';
import type { MediaSession } from '../session/media-session';
import { createBearerCheck } from '../net/bearer';
import { listenOn } from '../net/listen';

/** What the control API drives; implemented by the host. */
export interface SessionController {
  createSession(request: CreateMediaSessionRequest): Promise<CreateMediaSessionResponse>;
  getSession(sessionId: string): MediaSession | undefined;
  /** Seals a lost host's session from storage (`AdoptSessionRequest`). */
  adoptSession(sessionId: string, request: AdoptSessionRequest): Promise<SealSummary>;
  health(): MediaHostHealth;
  setDraining(isDraining: boolean): MediaHostHealth;
}

export interface ControlApiOptions {
  readonly host: string;
  readonly port: number;
  readonly controlKey: string;
  /**
   * Certificate and key (PEM) to serve HTTPS with; the URL is then `https://`. Without them the
   * API speaks plain HTTP (tests of the API alone; the host always passes its certificate).
   */
  readonly tls?: { readonly cert: Buffer | string; readonly key: Buffer | string };
  readonly controller: SessionController;
  readonly logger: Logger;
  /** Largest accepted body. Default 256 KiB. */
  readonly maxBodyBytes?: number;
  /**
   * Extra routes served on the same port before the control key check, keyed `METHOD /path`
   * (for example `GET /metrics`); each handler does its own authentication.
   */
  readonly extraRoutes?: Readonly<Record<string, ExtraRouteHandler>>;
  /** Called after a session was sealed or aborted through this API (ends its live listeners). */
  readonly onSessionFinished?: (sessionId: string) => void;
  /** A session's MSI-to-participant map was replaced (the bridge's video subscriptions follow it). */
  readonly onParticipantsUpdated?: (
    sessionId: string,
    participants: readonly ParticipantMapping[],
  ) => void;
}

export type ExtraRouteHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface ControlApiServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const invalid = (message: string): RecorderError =>
  new RecorderError(ErrorCode.InvalidRequest, message);

function statusOf(code: string): number {
  switch (code) {
    case ErrorCode.InvalidRequest:
      return 400;
    case ErrorCode.Unauthorized:
      return 401;
    case ErrorCode.Forbidden:
      return 403;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.Conflict:
      return 409;
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.MediaHostUnavailable:
      return 503;
    default:
      return 500;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let isTooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) isTooLarge = true;
      else parts.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (isTooLarge)
        return reject(
          new RecorderError(ErrorCode.PayloadTooLarge, `request body exceeds ${maxBytes} bytes`),
        );
      const text = Buffer.concat(parts).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(invalid('request body is not valid JSON'));
      }
    });
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(
  body: Record<string, unknown>,
  key: string,
  options: { optional?: boolean; max?: number } = {},
): string | undefined {
  const value = body[key];
  if (value === undefined && options.optional === true) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > (options.max ?? 256)) {
    throw invalid(`${key} must be a non-empty string of at most ${options.max ?? 256} characters`);
  }
  return value;
}

/** Ids that become blob path segments: no slashes or control characters. */
function pathSafe(value: string, key: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[/\\?#\u0000-\u001f]/.test(value) || value === '.' || value === '..')
    throw invalid(`${key} contains characters not allowed in a blob path`);
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A session id from the path: percent-decoded, and a UUID (the host makes no other), else 400. */
export function sessionIdOf(segment: string): string {
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    throw invalid('session id is not valid percent-encoding');
  }
  if (!UUID.test(id)) throw invalid('session id must be a UUID');
  return id.toLowerCase();
}

export function parseCreateSession(body: unknown): CreateMediaSessionRequest {
  if (!isObject(body)) throw invalid('body must be a JSON object');
  const recordedUserIds = body.recordedUserIds;
  if (!Array.isArray(recordedUserIds) || !recordedUserIds.every((id) => typeof id === 'string')) {
    throw invalid('recordedUserIds must be an array of strings');
  }
  const callChainId = str(body, 'callChainId', { optional: true });
  return {
    callId: str(body, 'callId')!,
    tenantId: pathSafe(str(body, 'tenantId')!, 'tenantId'),
    interactionId: pathSafe(str(body, 'interactionId')!, 'interactionId'),
    ...(callChainId !== undefined ? { callChainId } : {}),
    recordedUserIds,
  };
}

export function parseAdoptSession(body: unknown): AdoptSessionRequest {
  if (!isObject(body)) throw invalid('body must be a JSON object');
  const lostUntil = str(body, 'lostUntil', { optional: true, max: 64 });
  if (lostUntil !== undefined && Number.isNaN(Date.parse(lostUntil)))
    throw invalid('lostUntil must be an ISO 8601 time');
  return {
    tenantId: pathSafe(str(body, 'tenantId')!, 'tenantId'),
    interactionId: pathSafe(str(body, 'interactionId')!, 'interactionId'),
    callId: str(body, 'callId')!,
    ...(lostUntil !== undefined ? { lostUntil: new Date(lostUntil).toISOString() } : {}),
  };
}

const identityKinds: ReadonlySet<string> = new Set(Object.values(ParticipantIdentityKind));
const streamKinds: ReadonlySet<string> = new Set(Object.values(StreamKind));

export function parseParticipants(body: unknown): ParticipantMapping[] {
  if (!isObject(body) || !Array.isArray(body.participants))
    throw invalid('participants must be an array');
  return body.participants.map((p: unknown, i: number): ParticipantMapping => {
    if (!isObject(p)) throw invalid(`participants[${i}] must be an object`);
    const msi = str(p, 'msi')!;
    if (!/^\d{1,10}$/.test(msi)) throw invalid(`participants[${i}].msi must be a decimal MSI`);
    const kind = str(p, 'kind')!;
    const identityKind = str(p, 'identityKind')!;
    if (!streamKinds.has(kind))
      throw invalid(`participants[${i}].kind must be audio, video or vbss`);
    if (!identityKinds.has(identityKind))
      throw invalid(`participants[${i}].identityKind is unknown`);
    const identityId = str(p, 'identityId', { optional: true });
    const displayName =
      isObject(p.pii) && typeof p.pii.displayName === 'string' ? p.pii.displayName : undefined;
    return {
      msi,
      participantId: str(p, 'participantId')!,
      kind: kind as StreamKind,
      identityKind: identityKind as ParticipantIdentityKind,
      ...(identityId !== undefined ? { identityId } : {}),
      ...(displayName !== undefined ? { pii: { displayName } } : {}),
    };
  });
}

export async function startControlApi(options: ControlApiOptions): Promise<ControlApiServer> {
  const isAuthorized = createBearerCheck(options.controlKey);
  const maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
  const { controller, logger } = options;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://control');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/health') return send(res, 200, controller.health());
    const extra = options.extraRoutes?.[`${method} ${path}`];
    if (extra !== undefined) return extra(req, res);
    if (!isAuthorized(req))
      throw new RecorderError(ErrorCode.Unauthorized, 'missing or wrong control key');
    if (method === 'POST' && path === '/v1/sessions') {
      const request = parseCreateSession(await readBody(req, maxBodyBytes));
      return send(res, 201, await controller.createSession(request));
    }
    if (method === 'POST' && path === '/v1/drain') {
      const body = await readBody(req, maxBodyBytes);
      if (!isObject(body) || typeof body.isDraining !== 'boolean')
        throw invalid('isDraining must be a boolean');
      return send(res, 200, controller.setDraining(body.isDraining));
    }
    const match =
      /^\/v1\/sessions\/([^/]+)(?:\/(persist|participants|pause|resume|seal|abort|adopt))?$/.exec(
        path,
      );
    if (match === null) throw new RecorderError(ErrorCode.NotFound, 'no such route');
    if (method === 'POST' && match[2] === 'adopt') {
      const sessionId = sessionIdOf(match[1]!);
      const request = parseAdoptSession(await readBody(req, maxBodyBytes));
      return send(res, 200, await controller.adoptSession(sessionId, request));
    }
    const session = controller.getSession(sessionIdOf(match[1]!));
    if (session === undefined) throw new RecorderError(ErrorCode.NotFound, 'no such media session');
    const action = match[2];
    const route = `${method} ${action ?? ''}`;
    switch (route) {
      case 'GET ':
        return send(res, 200, session.status());
      case 'POST persist': {
        const body = await readBody(req, maxBodyBytes);
        if (
          !isObject(body) ||
          typeof body.recordingConfirmedAt !== 'string' ||
          Number.isNaN(Date.parse(body.recordingConfirmedAt))
        ) {
          throw invalid('recordingConfirmedAt must be an ISO 8601 time');
        }
        await session.startPersisting();
        return send(res, 200, session.status());
      }
      case 'PUT participants': {
        const participants = parseParticipants(await readBody(req, maxBodyBytes));
        await session.updateParticipants(participants);
        options.onParticipantsUpdated?.(session.sessionId, participants);
        return send(res, 200, session.status());
      }
      case 'POST pause': {
        const body = await readBody(req, maxBodyBytes);
        if (!isObject(body)) throw invalid('body must be a JSON object');
        await session.pausePersistence(str(body, 'reason', { max: 64 })!, str(body, 'actor')!);
        return send(res, 200, session.status());
      }
      case 'POST resume': {
        const body = await readBody(req, maxBodyBytes);
        if (!isObject(body)) throw invalid('body must be a JSON object');
        await session.resumePersistence(str(body, 'actor')!);
        return send(res, 200, session.status());
      }
      case 'POST seal': {
        const summary = await session.seal();
        options.onSessionFinished?.(session.sessionId);
        return send(res, 200, summary);
      }
      case 'POST abort': {
        const body = await readBody(req, maxBodyBytes);
        if (!isObject(body)) throw invalid('body must be a JSON object');
        await session.abort(str(body, 'reason', { max: 256 })!);
        options.onSessionFinished?.(session.sessionId);
        return send(res, 200, session.status());
      }
      default:
        throw new RecorderError(ErrorCode.NotFound, 'no such route');
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      const code = isRecorderError(error) ? error.code : ErrorCode.Internal;
      const status = statusOf(code);
      if (status >= 500)
        logger.error('control request failed', {
          method: req.method ?? '',
          code,
          error: error instanceof Error ? error.message : String(error),
        });
      else logger.info('control request refused', { method: req.method ?? '', code, status });
      const message =
        status >= 500
          ? 'the media host failed; see its log'
          : error instanceof Error
            ? error.message
            : 'bad request';
      const body: ProblemBody = { code, message, status };
      if (!res.headersSent) send(res, status, body);
      else res.end();
    });
  };
  const server: Server =
    options.tls !== undefined
      ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest)
      : createHttpServer(onRequest);
  // Live listen-in has its own listener (`live/listen-server.ts`); no upgrade is served here.
  server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => socket.destroy());
  const port = await listenOn(server, options.port, options.host);
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `${options.tls !== undefined ? 'https' : 'http'}://${options.host}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

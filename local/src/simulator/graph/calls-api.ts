/**
 * The Graph v1.0 calls API subset a policy recorder uses, under `/v1.0/communications/calls`.
 * Every request is authenticated with a simulator-issued app token, validated against Graph's
 * JSON Schemas, logged with its verdict, and may be throttled on demand (429 + Retry-After).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import type { ActionResult, CallEngine } from '../calls/call-engine';
import type { SimulatedEntra } from '../entra/entra';
import type { SimClock } from '../util/clock';
import { bearerToken, graphError, sendJson, type SimLogger } from '../util/http';
import { GraphSchemaId, type SchemaValidator, type SchemaVerdict } from './schema-validator';

export interface GraphRequestRecord {
  readonly id: string;
  readonly at: string;
  readonly method: string;
  readonly path: string;
  readonly operation: string;
  readonly callId?: string;
  appId?: string;
  readonly body: unknown;
  verdict: SchemaVerdict | null;
  status: number;
  errorCode?: string;
}

export interface ThrottleRule {
  /** How many upcoming Graph requests get 429. */
  remaining: number;
  readonly retryAfterInS: number;
  /** Only this operation (`answer`, `updateRecordingStatus`, …); all when absent. */
  readonly operation?: string;
}

/** Members the simulator requires although the schema does not (see docs/simulator.md). */
export const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  answer: ['callbackUri', 'acceptedModalities', 'mediaConfig'],
  updateRecordingStatus: ['status'],
  redirect: ['targets'],
  reject: ['reason'],
};

/** Finds the schema folder next to this file in `src/` (also when running from `dist/`). */
export function graphSchemaDir(): string {
  const local = join(__dirname, 'schemas');
  if (existsSync(local)) return local;
  return resolve(__dirname, '..', '..', '..', 'src', 'simulator', 'graph', 'schemas');
}

const actionSchemas: Readonly<Record<string, string>> = {
  answer: GraphSchemaId.answer,
  reject: GraphSchemaId.reject,
  redirect: GraphSchemaId.redirect,
  updateRecordingStatus: GraphSchemaId.updateRecordingStatus,
};

export interface GraphApiDeps {
  readonly engine: CallEngine;
  readonly entra: SimulatedEntra;
  readonly clock: SimClock;
  readonly log: SimLogger;
  readonly validator: SchemaValidator;
}

export class GraphCallsApi {
  readonly requests: GraphRequestRecord[] = [];
  throttle: ThrottleRule | undefined;
  readonly #deps: GraphApiDeps;

  constructor(deps: GraphApiDeps) {
    this.#deps = deps;
  }

  /** Validates a body as the simulator does for `operation`: schema plus required members. */
  validate(operation: string, body: unknown): SchemaVerdict {
    const schemaId = actionSchemas[operation];
    if (schemaId === undefined) return { valid: true };
    const verdict = this.#deps.validator.validate(schemaId, body);
    const errors = verdict.valid ? [] : [...verdict.errors];
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      for (const key of REQUIRED_MEMBERS[operation] ?? []) {
        if (!(key in body)) errors.push({ path: `/${key}`, message: 'is required' });
      }
    }
    return errors.length === 0 ? { valid: true } : { valid: false, errors };
  }

  /** Returns false when the path is not under `/v1.0/communications/calls`. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    readBody: () => Promise<string>,
  ): Promise<boolean> {
    const match =
      /^\/v1\.0\/communications\/calls\/([^/]+)(?:\/(?:microsoft\.graph\.)?(answer|reject|redirect|updateRecordingStatus|keepAlive)|\/participants\/([^/]+)|\/operations\/([^/]+))?\/?$/i.exec(
        url.pathname,
      );
    if (!match) {
      if (url.pathname.startsWith('/v1.0/')) {
        sendJson(
          res,
          400,
          graphError(
            'BadRequest',
            `Resource not found for the segment '${url.pathname.split('/').pop() ?? ''}'.`,
          ),
        );
        return true;
      }
      return false;
    }
    const callId = decodeURIComponent(match[1] ?? '');
    const action = match[2] ? match[2].charAt(0).toLowerCase() + match[2].slice(1) : undefined;
    const participantId = match[3] ? decodeURIComponent(match[3]) : undefined;
    const operationId = match[4] ? decodeURIComponent(match[4]) : undefined;
    const method = req.method ?? 'GET';
    const operation =
      action ??
      (participantId !== undefined
        ? 'deleteParticipant'
        : operationId !== undefined
          ? 'getOperation'
          : method === 'DELETE'
            ? 'deleteCall'
            : 'getCall');
    const normalizedAction =
      operation === 'keepalive'
        ? 'keepAlive'
        : operation === 'updaterecordingstatus'
          ? 'updateRecordingStatus'
          : operation;
    const clientRequestId =
      typeof req.headers['client-request-id'] === 'string'
        ? req.headers['client-request-id']
        : undefined;
    const text = method === 'POST' ? await readBody() : '';
    let body: unknown = undefined;
    let isJson = true;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        isJson = false;
        body = text.slice(0, 4096);
      }
    }
    const record: GraphRequestRecord = {
      id: randomUUID(),
      at: new Date(this.#deps.clock.nowInMs()).toISOString(),
      method,
      path: url.pathname,
      operation: normalizedAction,
      callId,
      body,
      verdict: null,
      status: 0,
    };
    this.requests.push(record);
    const reply = (
      status: number,
      payload: unknown,
      headers: Record<string, string> = {},
    ): true => {
      record.status = status;
      if (
        payload !== undefined &&
        typeof payload === 'object' &&
        payload !== null &&
        'error' in payload
      ) {
        record.errorCode = (payload as { error: { code: string } }).error.code;
      }
      sendJson(res, status, payload, headers);
      this.#deps.log(status >= 400 ? 'warn' : 'debug', 'graph request handled', {
        callId,
        operation: normalizedAction,
        status,
      });
      return true;
    };

    const token = bearerToken(req);
    const check = token === undefined ? undefined : await this.#deps.entra.verifyGraphToken(token);
    if (check === undefined || !check.ok) {
      return reply(
        401,
        graphError(
          'InvalidAuthenticationToken',
          token === undefined
            ? 'Access token is empty.'
            : 'Access token validation failure. Invalid audience, signature or expiry.',
          clientRequestId,
        ),
      );
    }
    const appId = typeof check.claims.appid === 'string' ? check.claims.appid : '';
    record.appId = appId;

    const expectedMethod =
      action !== undefined
        ? 'POST'
        : participantId !== undefined
          ? 'DELETE'
          : operationId !== undefined
            ? 'GET'
            : undefined;
    if (
      (expectedMethod !== undefined && method !== expectedMethod) ||
      (expectedMethod === undefined && method !== 'GET' && method !== 'DELETE')
    ) {
      return reply(
        405,
        graphError(
          'Request_BadRequest',
          `The HTTP method '${method}' is not allowed for this resource.`,
          clientRequestId,
        ),
      );
    }

    if (
      this.throttle &&
      this.throttle.remaining > 0 &&
      (this.throttle.operation === undefined || this.throttle.operation === normalizedAction)
    ) {
      this.throttle.remaining -= 1;
      const retryAfter = this.throttle.retryAfterInS;
      if (this.throttle.remaining === 0) this.throttle = undefined;
      return reply(
        429,
        graphError(
          'TooManyRequests',
          'Too many requests. Retry after the interval in the Retry-After header.',
          clientRequestId,
        ),
        { 'retry-after': String(retryAfter) },
      );
    }

    if (action !== undefined && action.toLowerCase() !== 'keepalive') {
      if (!isJson || typeof body !== 'object' || body === null || Array.isArray(body)) {
        record.verdict = {
          valid: false,
          errors: [{ path: '', message: 'body must be a JSON object' }],
        };
        return reply(
          400,
          graphError('BadRequest', 'The request body must be a JSON object.', clientRequestId),
        );
      }
      record.verdict = this.validate(normalizedAction, body);
      if (!record.verdict.valid) {
        const first = record.verdict.errors
          .slice(0, 3)
          .map((e) => `${e.path || '(body)'} ${e.message}`)
          .join('; ');
        return reply(
          400,
          graphError('BadRequest', `Invalid request body: ${first}.`, clientRequestId),
        );
      }
    } else if (!isJson) {
      record.verdict = { valid: false, errors: [{ path: '', message: 'body is not JSON' }] };
      return reply(
        400,
        graphError('BadRequest', 'The request body is not valid JSON.', clientRequestId),
      );
    } else {
      record.verdict = { valid: true };
    }

    const engine = this.#deps.engine;
    let result: ActionResult;
    const b = (body ?? {}) as Record<string, unknown>;
    switch (normalizedAction) {
      case 'answer':
        result = engine.answer(callId, appId, b);
        break;
      case 'reject':
        result = engine.reject(callId, appId, typeof b.reason === 'string' ? b.reason : 'none');
        break;
      case 'redirect':
        result = engine.redirect(callId, appId);
        break;
      case 'updateRecordingStatus':
        result = engine.updateRecordingStatus(callId, appId, b);
        break;
      case 'keepAlive':
        result = engine.keepAlive(callId, appId);
        break;
      case 'deleteCall':
        result = engine.hangUp(callId, appId);
        break;
      case 'deleteParticipant':
        result = engine.removeParticipant(callId, appId, participantId ?? '');
        break;
      case 'getOperation':
        result = engine.getOperation(callId, appId, operationId ?? '');
        break;
      default:
        result = this.#getCall(callId, appId);
    }
    if (result.kind === 'error') {
      return reply(
        result.status,
        graphError(result.code, result.message, clientRequestId),
        result.retryAfterInS !== undefined ? { 'retry-after': String(result.retryAfterInS) } : {},
      );
    }
    return reply(result.status, result.body, { ...(result.headers ?? {}) });
  }

  #getCall(callId: string, appId: string): ActionResult {
    const leg = this.#deps.engine.getLeg(callId);
    if (leg === undefined || leg.bot.appId !== appId)
      return {
        kind: 'error',
        status: 404,
        code: 'itemNotFound',
        message: `Call ${callId} not found.`,
      };
    return {
      kind: 'ok',
      status: 200,
      body: {
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#communications/calls/$entity',
        '@odata.type': '#microsoft.graph.call',
        id: leg.callId,
        state: leg.state,
        direction: 'incoming',
        callbackUri: leg.callbackUri ?? leg.webhookUrl,
        myParticipantId: leg.myParticipantId,
        resultInfo: leg.terminatedResult
          ? {
              code: leg.terminatedResult.code,
              subcode: leg.terminatedResult.subcode,
              message: leg.terminatedResult.message,
            }
          : null,
      },
    };
  }
}

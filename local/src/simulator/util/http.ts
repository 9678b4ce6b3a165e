/** Small HTTP helpers shared by the simulator's endpoints. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor() {
    super('request body larger than 1 MiB');
  }
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Graph's error envelope (`{ error: { code, message, innerError } }`). */
export function graphError(code: string, message: string, clientRequestId?: string): unknown {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': randomUUID(),
        'client-request-id': clientRequestId ?? randomUUID(),
      },
    },
  };
}

/** The simulator's own control-API problem body (`{ code, message, status }`). */
export function problem(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { code, message, status });
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** One JSON log line; callers keep personal data out or under `pii`. */
export type SimLogger = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  fields?: Readonly<Record<string, unknown>>,
) => void;

export function jsonLineLogger(
  minLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent' = 'info',
): SimLogger {
  const order = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 } as const;
  return (level, message, fields = {}) => {
    if (order[level] < order[minLevel]) return;
    // Personal data stays out of the simulator's logs: drop any `pii` member.
    const safe = Object.fromEntries(Object.entries(fields).filter(([key]) => key !== 'pii'));
    process.stdout.write(
      `${JSON.stringify({ time: new Date().toISOString(), level, component: 'teams-simulator', message, ...safe })}\n`,
    );
  };
}

/**
 * The one problem-response helper of the function app: every 4xx/5xx an HTTP route sends has a
 * {@link ProblemBody}, and the status of an Attest error code comes from one map.
 */
import type { HttpResponseInit } from '@azure/functions';
import { ErrorCode, errorCodeOf, type ProblemBody, type SafeDetails } from '@attest/core';

/** A 4xx/5xx response with a {@link ProblemBody} (the host sets `application/json`). */
export function problem(
  status: number,
  code: string,
  message: string,
  details?: SafeDetails,
): HttpResponseInit {
  const body: ProblemBody = {
    code,
    message,
    status,
    ...(details === undefined ? {} : { details }),
  };
  return { status, jsonBody: body };
}

/** The HTTP status of each client-fault error code; codes not listed are server faults (500). */
export const statusByCode: Readonly<Partial<Record<ErrorCode, number>>> = {
  [ErrorCode.InvalidRequest]: 400,
  [ErrorCode.InvalidNotification]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.RetentionLocked]: 409,
  [ErrorCode.LegalHold]: 409,
  // Stored evidence that fails its checks cannot be served; the server itself works.
  [ErrorCode.IntegrityViolation]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
};

/** A client fault a handler throws: answered with its status and message, never 500. */
export class HttpFault extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpFault';
  }
}

/** Shorthands for the faults handlers throw most. */
export const badRequest = (message: string): HttpFault =>
  new HttpFault(400, ErrorCode.InvalidRequest, message);
export const notFound = (message: string): HttpFault =>
  new HttpFault(404, ErrorCode.NotFound, message);
export const conflict = (message: string): HttpFault =>
  new HttpFault(409, ErrorCode.Conflict, message);

/**
 * The client fault a thrown value stands for ({@link HttpFault}, or an Attest error whose code
 * maps to a 4xx), or undefined for a server fault.
 */
export function clientFaultOf(
  error: unknown,
): { readonly status: number; readonly code: ErrorCode; readonly message: string } | undefined {
  if (error instanceof HttpFault)
    return { status: error.status, code: error.code, message: error.message };
  const code = errorCodeOf(error);
  const status = code === undefined ? undefined : statusByCode[code];
  if (code === undefined || status === undefined) return undefined;
  return { status, code, message: error instanceof Error ? error.message : 'request rejected' };
}

export const unauthorized = (): HttpResponseInit =>
  problem(
    401,
    ErrorCode.Unauthorized,
    '[ATT_UNAUTHORIZED] bearer token missing or not valid for this app',
  );

export const forbidden = (): HttpResponseInit =>
  problem(
    403,
    ErrorCode.Forbidden,
    '[ATT_FORBIDDEN] the token lacks the role this operation needs',
  );

/** Reads a JSON body; undefined when the text is not JSON. */
export async function readJson(request: {
  text(): Promise<string>;
}): Promise<{ ok: true; value: unknown } | { ok: false }> {
  try {
    const text = await request.text();
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

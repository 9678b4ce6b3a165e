import type { HttpResponseInit } from '@azure/functions';
import { ErrorCode, type ProblemBody, type SafeDetails } from '@attest/core';

/** A 4xx/5xx response with a {@link ProblemBody}. */
export function problem(
  status: number,
  code: ErrorCode,
  message: string,
  details?: SafeDetails,
): HttpResponseInit {
  const body: ProblemBody = {
    code,
    message,
    status,
    ...(details === undefined ? {} : { details }),
  };
  return { status, jsonBody: body, headers: { 'content-type': 'application/json' } };
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

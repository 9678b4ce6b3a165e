/**
 * Request bodies of the admin API: size-limited, parsed as JSON and validated against a zod
 * schema before any of it reaches a store. Faults answer 400 or 413 with what to fix.
 */
import type { HttpRequest } from '@azure/functions';
import { ErrorCode } from '@attest/core';
import { z } from 'zod';
import { MAX_ID_LENGTH } from './admin-access';
import { badRequest, HttpFault } from './problem';

/** Default limit of an admin request body. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Reads, parses and validates a body; the value is what the schema returns. */
export async function parseBody<T>(
  request: HttpRequest,
  schema: z.ZodType<T>,
  maxBytes = MAX_BODY_BYTES,
): Promise<T> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  const tooLarge = () =>
    new HttpFault(413, ErrorCode.PayloadTooLarge, `the body is larger than ${maxBytes} bytes`);
  if (declared > maxBytes) throw tooLarge();
  const text = await request.text();
  if (Buffer.byteLength(text, 'utf8') > maxBytes) throw tooLarge();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('the body is not JSON');
  }
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(describeIssues(result.error));
  return result.data;
}

/** One line naming each invalid member (at most five). */
export function describeIssues(error: z.ZodError): string {
  const lines = error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length === 0 ? 'body' : issue.path.join('.')}: ${issue.message}`);
  return lines.join('; ').slice(0, 500);
}

// eslint-disable-next-line no-control-regex
const SAFE_ID = /^(?!.*\.\.)[^/\\#?%\u0000-\u001f\u007f-\u009f]+$/;

/** An opaque id: what a route parameter may hold. */
export const idSchema = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(SAFE_ID, "must not contain '/', '\\', '%', '#', '?', '..' or control characters");

/** Free text a person typed (no control characters other than line breaks and tabs). */
export const textSchema = (maxLength: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(maxLength)
    .regex(
      // eslint-disable-next-line no-control-regex
      /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/,
      'must not contain control characters',
    );

export const instantSchema = z.iso.datetime({ offset: true });

/**
 * HTTP Range (RFC 9110 §14) for media routes: one `bytes=` range (first-last, first-, -suffix)
 * over a body already in memory. Several ranges in one request are answered with the whole body
 * (allowed by the RFC), so players never have to parse multipart answers.
 */
import type { HttpResponseInit } from '@azure/functions';

export type ByteRange = { readonly start: number; readonly end: number };

/**
 * The range a `Range` header asks for in a body of `size` bytes: undefined when there is no
 * usable single range (answer 200 with the whole body), `unsatisfiable` when it starts past
 * the end (answer 416).
 */
export function parseByteRange(
  header: string | null | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (header === null || header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (match === null) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return undefined;
  return { start, end };
}

/** 206 with the asked range, 416 past the end, or 200 with everything; always `Accept-Ranges`. */
export function rangeResponse(
  rangeHeader: string | null | undefined,
  body: Buffer,
  headers: Readonly<Record<string, string>>,
): HttpResponseInit {
  const range = parseByteRange(rangeHeader, body.length);
  const common = { ...headers, 'accept-ranges': 'bytes' };
  if (range === undefined)
    return {
      status: 200,
      headers: { ...common, 'content-length': String(body.length) },
      body,
    };
  if (range === 'unsatisfiable')
    return { status: 416, headers: { ...common, 'content-range': `bytes */${body.length}` } };
  const part = body.subarray(range.start, range.end + 1);
  return {
    status: 206,
    headers: {
      ...common,
      'content-range': `bytes ${range.start}-${range.end}/${body.length}`,
      'content-length': String(part.length),
    },
    body: part,
  };
}

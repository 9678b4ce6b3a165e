/**
 * Listen tokens: short-lived bearer tokens the function app issues to a supervisor to listen in
 * live to one media session, and the media host verifies. HMAC-SHA256 with a key both share
 * (`ATTEST_LIVE_LISTEN_KEY`, at least 32 bytes). Pure functions over node:crypto; no I/O.
 *
 * Format: `alt1.<base64url(JSON claims)>.<base64url(HMAC-SHA256 over "alt1.<claims part>")>`.
 * Claims: `{ "sid": session id, "uid": listener's user object id (opaque), "exp": expiry in ms
 * since the epoch, "jti": token id }`. Tokens are never logged; the claims are not secret.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

const PREFIX = 'alt1';
/** Longest lifetime the verifier accepts, whatever `exp` says. */
export const MAX_LISTEN_TOKEN_LIFETIME_IN_MS = 10 * 60 * 1000;
export const DEFAULT_LISTEN_TOKEN_LIFETIME_IN_MS = 60 * 1000;
export const MIN_LISTEN_KEY_BYTES = 32;

export interface ListenTokenClaims {
  readonly sessionId: string;
  /** The supervisor's user object id (opaque). */
  readonly userId: string;
  /** Expiry, ms since the epoch. */
  readonly expiresAtMs: number;
  readonly tokenId: string;
}

export interface CreateListenTokenInput {
  readonly sessionId: string;
  readonly userId: string;
  readonly nowMs: number;
  /** Default 60 s; at most {@link MAX_LISTEN_TOKEN_LIFETIME_IN_MS}. */
  readonly lifetimeInMs?: number;
  /** Default: a random UUID. */
  readonly tokenId?: string;
}

export const ListenTokenFailure = {
  malformed: 'malformed',
  badSignature: 'badSignature',
  expired: 'expired',
  lifetimeTooLong: 'lifetimeTooLong',
} as const;
export type ListenTokenFailure = (typeof ListenTokenFailure)[keyof typeof ListenTokenFailure];

export type ListenTokenVerification =
  | { readonly ok: true; readonly claims: ListenTokenClaims }
  | { readonly ok: false; readonly reason: ListenTokenFailure };

function checkKey(key: Buffer): void {
  if (key.length < MIN_LISTEN_KEY_BYTES)
    throw new RangeError(`listen token key must be at least ${MIN_LISTEN_KEY_BYTES} bytes`);
}

function sign(key: Buffer, signedPart: string): Buffer {
  return createHmac('sha256', key).update(signedPart, 'utf8').digest();
}

/** Issues a token (function app side). Throws a RangeError on a short key or a lifetime out of range. */
export function createListenToken(input: CreateListenTokenInput, key: Buffer): string {
  checkKey(key);
  const lifetime = input.lifetimeInMs ?? DEFAULT_LISTEN_TOKEN_LIFETIME_IN_MS;
  if (!(lifetime > 0 && lifetime <= MAX_LISTEN_TOKEN_LIFETIME_IN_MS))
    throw new RangeError('listen token lifetime out of range');
  const claims = {
    sid: input.sessionId,
    uid: input.userId,
    exp: input.nowMs + lifetime,
    jti: input.tokenId ?? randomUUID(),
  };
  const signedPart = `${PREFIX}.${Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')}`;
  return `${signedPart}.${sign(key, signedPart).toString('base64url')}`;
}

/** Verifies a token (media host side). Never throws on bad input; returns why it failed. */
export function verifyListenToken(
  token: string,
  key: Buffer,
  nowMs: number,
): ListenTokenVerification {
  checkKey(key);
  const fail = (reason: ListenTokenFailure): ListenTokenVerification => ({ ok: false, reason });
  if (token.length > 2048) return fail(ListenTokenFailure.malformed);
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return fail(ListenTokenFailure.malformed);
  const [, claimsPart = '', signaturePart = ''] = parts;
  const expected = sign(key, `${PREFIX}.${claimsPart}`);
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return fail(ListenTokenFailure.badSignature);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(claimsPart, 'base64url').toString('utf8'));
  } catch {
    return fail(ListenTokenFailure.malformed);
  }
  const c = raw as Partial<Record<'sid' | 'uid' | 'exp' | 'jti', unknown>>;
  if (
    typeof c.sid !== 'string' ||
    typeof c.uid !== 'string' ||
    typeof c.exp !== 'number' ||
    typeof c.jti !== 'string'
  ) {
    return fail(ListenTokenFailure.malformed);
  }
  if (c.exp <= nowMs) return fail(ListenTokenFailure.expired);
  if (c.exp - nowMs > MAX_LISTEN_TOKEN_LIFETIME_IN_MS)
    return fail(ListenTokenFailure.lifetimeTooLong);
  return {
    ok: true,
    claims: { sessionId: c.sid, userId: c.uid, expiresAtMs: c.exp, tokenId: c.jti },
  };
}

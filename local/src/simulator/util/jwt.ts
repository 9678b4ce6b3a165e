/** RS256 JSON Web Tokens and JWKS with Node's crypto: the simulator's Entra and Teams signers. */
import { createHash, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface Jwk {
  readonly kty: string;
  readonly use: string;
  readonly alg: string;
  readonly kid: string;
  readonly n: string;
  readonly e: string;
  readonly x5t?: string;
}

/** A fresh RSA-2048 signing key whose `kid` is the SHA-256 thumbprint of its public key. */
export function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = createHash('sha256').update(der).digest('base64url').slice(0, 27);
  return { kid, privateKey, publicKey };
}

export function toJwk(key: SigningKey): Jwk {
  const jwk = key.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  return { kty: 'RSA', use: 'sig', alg: 'RS256', kid: key.kid, n: jwk.n, e: jwk.e, x5t: key.kid };
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function signJwt(key: SigningKey, claims: Readonly<Record<string, unknown>>): string {
  const head = b64({ typ: 'JWT', alg: 'RS256', kid: key.kid, x5t: key.kid });
  const body = b64(claims);
  const signature = sign('RSA-SHA256', Buffer.from(`${head}.${body}`), key.privateKey);
  return `${head}.${body}.${signature.toString('base64url')}`;
}

export type JwtCheck =
  | { readonly ok: true; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: string };

/** Verifies signature, `exp`/`nbf` (with skew), and optionally audience and issuer. */
export function verifyJwt(
  token: string,
  keys: readonly SigningKey[],
  options: {
    nowInMs: number;
    audience?: readonly string[];
    issuer?: readonly string[];
    skewInS?: number;
  },
): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [head, body, signature] = parts as [string, string, string];
  let header: { alg?: unknown; kid?: unknown };
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as typeof header;
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (header.alg !== 'RS256') return { ok: false, reason: 'algorithm' };
  const key = keys.find((k) => k.kid === header.kid);
  if (key === undefined) return { ok: false, reason: 'unknownKey' };
  const isValid = verify(
    'RSA-SHA256',
    Buffer.from(`${head}.${body}`),
    key.publicKey,
    Buffer.from(signature, 'base64url'),
  );
  if (!isValid) return { ok: false, reason: 'signature' };
  const nowInS = Math.floor(options.nowInMs / 1000);
  const skew = options.skewInS ?? 300;
  if (typeof claims.exp !== 'number' || claims.exp + skew < nowInS)
    return { ok: false, reason: 'expired' };
  if (typeof claims.nbf === 'number' && claims.nbf - skew > nowInS)
    return { ok: false, reason: 'notYetValid' };
  if (options.audience && !options.audience.includes(String(claims.aud)))
    return { ok: false, reason: 'audience' };
  if (options.issuer && !options.issuer.includes(String(claims.iss)))
    return { ok: false, reason: 'issuer' };
  return { ok: true, claims };
}

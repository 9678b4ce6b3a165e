/**
 * RS256 JSON Web Tokens and JWKS for the simulator's Entra and Teams signers, on `jose`: keys are
 * Node key pairs (so they exist as soon as the simulator object does); signing and verifying go
 * through jose.
 */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CompactSign, compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';

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

const ALGORITHM = 'RS256';

/** A fresh RSA-2048 signing key whose `kid` is the SHA-256 thumbprint of its public key. */
export function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = createHash('sha256').update(der).digest('base64url').slice(0, 27);
  return { kid, privateKey, publicKey };
}

export function toJwk(key: SigningKey): Jwk {
  const jwk = key.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  return { kty: 'RSA', use: 'sig', alg: ALGORITHM, kid: key.kid, n: jwk.n, e: jwk.e, x5t: key.kid };
}

/** Signs `claims` as they are (no claim is added), with the header Entra and Teams use. */
export async function signJwt(
  key: SigningKey,
  claims: Readonly<Record<string, unknown>>,
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ typ: 'JWT', alg: ALGORITHM, kid: key.kid, x5t: key.kid })
    .sign(key.privateKey);
}

export type JwtCheck =
  | { readonly ok: true; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: string };

/** Verifies signature, `exp`/`nbf` (with skew), and optionally audience and issuer. */
export async function verifyJwt(
  token: string,
  keys: readonly SigningKey[],
  options: {
    nowInMs: number;
    audience?: readonly string[];
    issuer?: readonly string[];
    skewInS?: number;
  },
): Promise<JwtCheck> {
  if (token.split('.').length !== 3) return { ok: false, reason: 'malformed' };
  let header: { alg?: unknown; kid?: unknown };
  let claims: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (header.alg !== ALGORITHM) return { ok: false, reason: 'algorithm' };
  const key = keys.find((k) => k.kid === header.kid);
  if (key === undefined) return { ok: false, reason: 'unknownKey' };
  try {
    await compactVerify(token, key.publicKey, { algorithms: [ALGORITHM] });
  } catch {
    return { ok: false, reason: 'signature' };
  }
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

/**
 * Detached signatures of manifests, ledger checkpoints and completeness reports, with the JWS
 * algorithm names the signature records carry:
 *
 * - `Ed25519`: EdDSA over the bytes (local key files).
 * - `ES256`: ECDSA P-256 over SHA-256 of the bytes, the signature as raw `r || s` (64 bytes, the
 *   form Key Vault returns and JWS uses), verified with `dsaEncoding: 'ieee-p1363'`.
 *
 * A {@link Signer} hides where the private key lives (a local file or Key Vault); verification
 * needs only the public key. Pure functions over node:crypto; no I/O.
 */
import { createHash, createPublicKey, KeyObject, sign, verify } from 'node:crypto';

export const SignatureAlgorithm = {
  Ed25519: 'Ed25519',
  ES256: 'ES256',
} as const;
export type SignatureAlgorithm = (typeof SignatureAlgorithm)[keyof typeof SignatureAlgorithm];

/** Length of an ES256 signature in raw `r || s` form. */
export const ES256_SIGNATURE_BYTES = 64;

/** Signs bytes with one key. Implementations: a local private key, a Key Vault key. */
export interface Signer {
  readonly alg: SignatureAlgorithm;
  /** The id recorded next to each signature (its form depends on what is signed). */
  readonly keyId: string;
  /** The public key that verifies this signer's signatures. */
  readonly publicKey: KeyObject;
  /** The signature of `data` in the form {@link verifySignature} takes (raw `r || s` for ES256). */
  sign(data: Buffer): Promise<Buffer>;
}

export function isSignatureAlgorithm(value: unknown): value is SignatureAlgorithm {
  return value === SignatureAlgorithm.Ed25519 || value === SignatureAlgorithm.ES256;
}

/** The algorithm a key signs with: Ed25519 keys → `Ed25519`, EC P-256 keys → `ES256`. */
export function signatureAlgorithmOf(key: KeyObject): SignatureAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return SignatureAlgorithm.Ed25519;
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return SignatureAlgorithm.ES256;
  return undefined;
}

/** SHA-256 of `data`: what an ES256 signer signs (Key Vault's `sign` takes the digest). */
export function sha256Digest(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * Signs with a local private key (Ed25519 or EC P-256). Throws on a key of another type, a
 * configuration error that key loading reports at start.
 */
export function signWithPrivateKey(
  data: Buffer,
  privateKey: KeyObject,
): { alg: SignatureAlgorithm; signature: Buffer } {
  const alg = signatureAlgorithmOf(privateKey);
  if (alg === SignatureAlgorithm.Ed25519) return { alg, signature: sign(null, data, privateKey) };
  if (alg === SignatureAlgorithm.ES256)
    return { alg, signature: sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }) };
  throw new Error('a signing key must be Ed25519 or EC P-256');
}

/**
 * True when `signature` is a valid `alg` signature of `data` for `publicKey`. An unknown
 * algorithm, a key of another type than the algorithm needs, or malformed input is `false`;
 * never throws.
 */
export function verifySignature(
  alg: unknown,
  data: Buffer,
  signature: Buffer,
  publicKey: KeyObject,
): boolean {
  try {
    if (!isSignatureAlgorithm(alg) || signatureAlgorithmOf(publicKey) !== alg) return false;
    if (alg === SignatureAlgorithm.Ed25519) return verify(null, data, publicKey, signature);
    if (signature.length !== ES256_SIGNATURE_BYTES) return false;
    return verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/** A {@link Signer} over a local private key (Ed25519 or EC P-256). */
export function createLocalSigner(
  privateKey: KeyObject,
  publicKey: KeyObject,
  keyId: string,
): Signer {
  const alg = signatureAlgorithmOf(privateKey);
  if (alg === undefined) throw new Error('a signing key must be Ed25519 or EC P-256');
  return {
    alg,
    keyId,
    publicKey,
    sign: (data) => Promise.resolve(signWithPrivateKey(data, privateKey).signature),
  };
}

/**
 * A signer over a key that signs digests remotely (Key Vault's `sign` with `ES256` takes the
 * SHA-256 digest and returns raw `r || s`). Rejects when the result is not 64 bytes.
 */
export function createDigestSigner(options: {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  readonly signDigest: (digest: Buffer) => Promise<Uint8Array>;
}): Signer {
  if (signatureAlgorithmOf(options.publicKey) !== SignatureAlgorithm.ES256)
    throw new Error('a digest signer needs an EC P-256 public key');
  return {
    alg: SignatureAlgorithm.ES256,
    keyId: options.keyId,
    publicKey: options.publicKey,
    async sign(data) {
      const signature = Buffer.from(await options.signDigest(sha256Digest(data)));
      if (signature.length !== ES256_SIGNATURE_BYTES)
        throw new Error(
          `an ES256 signature must be ${ES256_SIGNATURE_BYTES} bytes (raw r||s), got ${signature.length}`,
        );
      return signature;
    },
  };
}

/** Loads a signer on first use (a Key Vault key's public part is fetched then). */
export type SignerSource = () => Promise<Signer>;

/** What signing dependencies accept: a local private key, a ready signer, or a source of one. */
export type SigningKeyLike = KeyObject | Signer | SignerSource;

/**
 * The signer for `key`. A local private key becomes a local signer whose key id is
 * `keyIdOf(publicKey)`; a source is called (so the caller decides whether it caches).
 */
export async function resolveSigner(
  key: SigningKeyLike,
  keyIdOf: (publicKey: KeyObject) => string,
): Promise<Signer> {
  if (typeof key === 'function') return key();
  if (key instanceof KeyObject) {
    const publicKey = createPublicKey(key);
    return createLocalSigner(key, publicKey, keyIdOf(publicKey));
  }
  return key;
}

/** A source that loads once and keeps the signer; a failed load is tried again on the next call. */
export function memoizeSignerSource(load: SignerSource): SignerSource {
  let pending: Promise<Signer> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/** A JSON Web Key's public members, as strings (base64url) or bytes (the Key Vault SDK's form). */
export interface PublicJsonWebKey {
  readonly kty?: string;
  readonly crv?: string;
  readonly n?: Uint8Array | string;
  readonly e?: Uint8Array | string;
  readonly x?: Uint8Array | string;
  readonly y?: Uint8Array | string;
}

/** The public key of an RSA or EC JWK (private members, if any, are ignored). Throws on anything else. */
export function publicKeyFromJwk(jwk: PublicJsonWebKey): KeyObject {
  const b64 = (value: Uint8Array | string | undefined): string =>
    value === undefined
      ? ''
      : typeof value === 'string'
        ? value
        : Buffer.from(value).toString('base64url');
  const kty = (jwk.kty ?? '').replace(/-HSM$/, '');
  if (kty === 'RSA')
    return createPublicKey({ key: { kty, n: b64(jwk.n), e: b64(jwk.e) }, format: 'jwk' });
  if (kty === 'EC')
    return createPublicKey({
      key: { kty, crv: jwk.crv ?? '', x: b64(jwk.x), y: b64(jwk.y) },
      format: 'jwk',
    });
  throw new Error(`unsupported key type ${kty || 'none'}`);
}

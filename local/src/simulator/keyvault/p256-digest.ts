/**
 * ECDSA on P-256 over a digest the caller computed, as Key Vault's `sign`/`verify` take it. Node's
 * crypto always hashes its input for EC keys (`sign(null, …)` hashes with SHA-256 again), so the
 * curve arithmetic is done here with BigInt. For the simulator only: not constant-time.
 */
import { randomBytes, type KeyObject } from 'node:crypto';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G: Point = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};

interface Point {
  readonly x: bigint;
  readonly y: bigint;
}

function mod(value: bigint, m: bigint): bigint {
  const r = value % m;
  return r < 0n ? r + m : r;
}

function inverse(value: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(value, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS, m);
}

function add(p1: Point | undefined, p2: Point | undefined): Point | undefined {
  if (p1 === undefined) return p2;
  if (p2 === undefined) return p1;
  if (p1.x === p2.x && mod(p1.y + p2.y, P) === 0n) return undefined;
  const slope =
    p1.x === p2.x && p1.y === p2.y
      ? mod((3n * p1.x * p1.x + A) * inverse(2n * p1.y, P), P)
      : mod((p2.y - p1.y) * inverse(p2.x - p1.x, P), P);
  const x = mod(slope * slope - p1.x - p2.x, P);
  return { x, y: mod(slope * (p1.x - x) - p1.y, P) };
}

function multiply(k: bigint, point: Point): Point | undefined {
  let result: Point | undefined;
  let addend: Point | undefined = point;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

const toInt = (bytes: Buffer): bigint => BigInt(`0x${bytes.toString('hex') || '0'}`);
const to32 = (value: bigint): Buffer => Buffer.from(value.toString(16).padStart(64, '0'), 'hex');

function jwkPart(key: KeyObject, part: 'd' | 'x' | 'y'): bigint {
  const jwk = key.export({ format: 'jwk' }) as Record<string, string | undefined>;
  return toInt(Buffer.from(jwk[part] ?? '', 'base64url'));
}

/** Raw `r || s` (64 bytes) over a 32-byte digest with a P-256 private key. */
export function signDigestP256(digest: Buffer, privateKey: KeyObject): Buffer {
  const d = jwkPart(privateKey, 'd');
  const z = toInt(digest);
  for (;;) {
    const k = mod(toInt(randomBytes(40)), N - 1n) + 1n;
    const r = mod(multiply(k, G)?.x ?? 0n, N);
    if (r === 0n) continue;
    const s = mod(inverse(k, N) * (z + r * d), N);
    if (s === 0n) continue;
    return Buffer.concat([to32(r), to32(s)]);
  }
}

/** Whether `signature` (raw `r || s`) is valid for the 32-byte digest and the P-256 public key. */
export function verifyDigestP256(digest: Buffer, signature: Buffer, publicKey: KeyObject): boolean {
  if (signature.length !== 64) return false;
  const r = toInt(signature.subarray(0, 32));
  const s = toInt(signature.subarray(32));
  if (r <= 0n || r >= N || s <= 0n || s >= N) return false;
  const q: Point = { x: jwkPart(publicKey, 'x'), y: jwkPart(publicKey, 'y') };
  const w = inverse(s, N);
  const point = add(multiply(mod(toInt(digest) * w, N), G), multiply(mod(r * w, N), q));
  return point !== undefined && mod(point.x, N) === r;
}

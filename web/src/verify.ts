/**
 * Verifies a recording in the browser with WebCrypto (docs/manifest.md): the manifest's detached
 * signature (Ed25519 or ES256) with the published key, each stream's hash chain, the Merkle root,
 * and the SHA-256 of every block fetched (stored bytes against `storedSha256`, played bytes
 * against `sha256`). Never trusts the server's word: a failure names the stream and the block.
 */
import type { Manifest, ManifestStream } from './types';

const enc = new TextEncoder();

/** Bytes over a plain ArrayBuffer, as WebCrypto takes them. */
export type Bytes = Uint8Array<ArrayBuffer>;

export function hex(bytes: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(text: string): Bytes {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function fromBase64(text: string): Bytes {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

async function sha256(...parts: Uint8Array[]): Promise<Bytes> {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', joined));
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return hex(await sha256(bytes));
}

function pemToDer(pem: string): Bytes {
  return fromBase64(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''));
}

export interface SignatureRecord {
  readonly alg: string;
  readonly keyId: string;
  readonly signature: string;
}

/** Problems with the signature and key; empty when the manifest bytes are signed by that key. */
export async function verifySignature(
  manifestBytes: Bytes,
  manifest: Manifest,
  signature: SignatureRecord | null,
  publicKeyPem: string | null,
): Promise<string[]> {
  if (signature === null) return ['the manifest has no signature'];
  if (publicKeyPem === null) return ['the deployment publishes no manifest public key'];
  const der = pemToDer(publicKeyPem);
  const prefix =
    signature.alg === 'Ed25519' ? 'ed25519' : signature.alg === 'ES256' ? 'es256' : undefined;
  if (prefix === undefined) return [`signature: unknown algorithm ${signature.alg}`];
  // A recording's manifest names its key `ed25519:<16 hex>` (the media host's form); an
  // interaction's manifest, signed by the function app's ledger key, by the SHA-256 of the key's
  // SPKI bytes in full (the ledger's form). Both name the published key.
  const fingerprint = hex(await sha256(der));
  const keyId = `${prefix}:${fingerprint.slice(0, 16)}`;
  const isPublishedKey = (id: string) => id === keyId || id === fingerprint;
  const problems: string[] = [];
  if (!isPublishedKey(signature.keyId) || !isPublishedKey(manifest.signingKeyId))
    problems.push(`signature: signed with key ${signature.keyId}, the published key is ${keyId}`);
  try {
    const algorithm =
      prefix === 'ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' };
    const key = await crypto.subtle.importKey('spki', der, algorithm, false, ['verify']);
    const isValid = await crypto.subtle.verify(
      prefix === 'ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' },
      key,
      fromBase64(signature.signature),
      manifestBytes,
    );
    if (!isValid) problems.push('signature: does not verify over the manifest bytes');
  } catch (error) {
    problems.push(`signature: this browser cannot check ${signature.alg} (${String(error)})`);
  }
  return problems;
}

/** The chain of one stream recomputed from the manifest's block hashes; problems name the block. */
export async function verifyChain(
  interactionId: string,
  stream: ManifestStream,
): Promise<string[]> {
  let chain = await sha256(enc.encode(`attest-chain-v1:${interactionId}/${stream.streamId}`));
  for (const block of stream.blocks) {
    chain = await sha256(chain, fromHex(block.sha256), fromHex(block.storedSha256));
    if (hex(chain) !== block.chainSha256)
      return [`${stream.streamId} block ${block.index}: chain link broken`];
  }
  return hex(chain) === stream.chainHeadSha256 ? [] : [`${stream.streamId}: chain head differs`];
}

export async function verifyMerkleRoot(manifest: Manifest): Promise<string[]> {
  const heads = [...manifest.streams]
    .sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0))
    .map((s) => fromHex(s.chainHeadSha256));
  let level: Bytes[] = await Promise.all(heads.map((h) => sha256(new Uint8Array([0]), h)));
  if (level.length === 0) level = [await sha256(new Uint8Array(0))];
  while (level.length > 1) {
    const next: Bytes[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      const right = level[i + 1];
      next.push(right === undefined ? left : await sha256(new Uint8Array([1]), left, right));
    }
    level = next;
  }
  return hex(level[0]!) === manifest.merkleRootSha256
    ? []
    : ['the Merkle root over the streams differs'];
}

/**
 * Checks the blocks of `stream` whose bytes are in `bytes` (the stream's bytes from `start`):
 * `stored` compares stored bytes with `storedSha256`, `plain` played bytes with `sha256`.
 */
export async function verifyBlocks(
  stream: ManifestStream,
  bytes: Uint8Array,
  start: number,
  form: 'stored' | 'plain',
): Promise<{ checked: number; problems: string[] }> {
  const problems: string[] = [];
  let checked = 0;
  for (const block of stream.blocks) {
    const offset = (form === 'stored' ? block.storedOffset : block.offset) - start;
    const length = form === 'stored' ? block.storedLength : block.length;
    if (offset < 0 || offset + length > bytes.length) continue;
    checked++;
    const actual = await sha256Hex(bytes.subarray(offset, offset + length));
    const expected = form === 'stored' ? block.storedSha256 : block.sha256;
    if (actual !== expected)
      problems.push(
        `${stream.streamId} block ${block.index}: ${form === 'stored' ? 'stored' : 'played'} bytes do not match the signed SHA-256`,
      );
  }
  return { checked, problems };
}

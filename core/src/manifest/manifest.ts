/**
 * The recording manifest, version 1: what a sealed recording holds and the hashes that prove it.
 * Written by the media host at seal as `{tenantId}/{interactionId}/manifest.json` with a detached
 * signature `manifest.sig`; verified by the archive and the offline verifier with
 * {@link verifyManifest}. Format: `docs/manifest.md`. Pure functions over node:crypto; no I/O.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { sha256Hex } from '../crypto/hash';
import type { CallParticipant, RecordingGap, StreamKind } from '../control-api';
import {
  isSignatureAlgorithm,
  signatureAlgorithmOf,
  signWithPrivateKey,
  verifySignature,
  type SignatureAlgorithm,
  type Signer,
} from '../crypto/signing';

export const MANIFEST_FORMAT_VERSION = 1 as const;

export interface ManifestBlock {
  /** 0-based position in the stream. */
  readonly index: number;
  /** The block id as staged (base64). */
  readonly blockId: string;
  /** Byte offset of the plaintext block in the stream's plaintext. */
  readonly offset: number;
  readonly length: number;
  /** SHA-256 (hex) of the plaintext block. */
  readonly sha256: string;
  /** Byte offset of the stored (possibly encrypted) block in the blob. */
  readonly storedOffset: number;
  readonly storedLength: number;
  /** SHA-256 (hex) of the bytes as stored. */
  readonly storedSha256: string;
  /** The stream's hash chain after this block (hex). */
  readonly chainSha256: string;
}

export interface ManifestStream {
  readonly streamId: string;
  readonly kind: StreamKind;
  readonly msi: string;
  readonly participantId?: string;
  readonly blobName: string;
  readonly contentType: string;
  /** First and last frame timestamps, platform time in 100 ns units (decimal strings). */
  readonly firstTimestamp100ns: string;
  readonly lastTimestamp100ns: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationInMs: number;
  readonly frameCount: number;
  readonly plaintextBytes: number;
  readonly storedBytes: number;
  readonly blocks: readonly ManifestBlock[];
  readonly chainHeadSha256: string;
  /**
   * Where the stream's media time meets platform time: the first frame and every discontinuity
   * (a jump in timestamps; for per-speaker audio that is silence, for mixed audio missing frames).
   */
  readonly timeline?: readonly { readonly mediaInMs: number; readonly timestamp100ns: string }[];
}

/** The manifest's participant is exactly the {@link CallParticipant} (format: docs/manifest.md). */
export type ManifestParticipant = CallParticipant;

export interface ManifestEncryption {
  readonly alg: 'A256GCM';
  readonly kekId: string;
  /** Container `recordingkeys`, blob holding the {@link WrappedKeyRecord}. */
  readonly wrappedKeyBlobName: string;
}

export interface RecordingManifest {
  readonly formatVersion: typeof MANIFEST_FORMAT_VERSION;
  readonly tenantId: string;
  readonly interactionId: string;
  readonly callId: string;
  readonly callChainId?: string;
  readonly sessionId: string;
  readonly mediaHostId: string;
  /**
   * The media host that sealed this manifest when `mediaHostId` was lost before it could (it
   * adopted the committed media from storage and signs with its own key).
   */
  readonly adoptedByHostId?: string;
  readonly softwareVersion: string;
  /** Id of the key that signs this manifest. */
  readonly signingKeyId: string;
  /** Absent when the recording is stored unencrypted (development only). */
  readonly encryption?: ManifestEncryption;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly sealedAt: string;
  readonly participants: readonly ManifestParticipant[];
  readonly streams: readonly ManifestStream[];
  readonly gaps: readonly RecordingGap[];
  /** Merkle root over the streams' chain heads, ordered by streamId (hex). */
  readonly merkleRootSha256: string;
}

/** Content of `manifest.sig`. */
export interface ManifestSignature {
  readonly v: 1;
  /** `Ed25519` (local key file) or `ES256` (Key Vault, P-256 over SHA-256, raw `r || s`). */
  readonly alg: SignatureAlgorithm;
  readonly keyId: string;
  /** Base64 signature over the exact bytes of `manifest.json`. */
  readonly signature: string;
}

/** The chain value before a stream's first block. */
export function chainGenesis(interactionId: string, streamId: string): string {
  return sha256Hex(`attest-chain-v1:${interactionId}/${streamId}`);
}

/** The chain value after a block: SHA-256(previous || plaintext sha || stored sha), all raw bytes. */
export function chainNext(
  previousHex: string,
  plaintextSha256Hex: string,
  storedSha256Hex: string,
): string {
  return createHash('sha256')
    .update(Buffer.from(previousHex, 'hex'))
    .update(Buffer.from(plaintextSha256Hex, 'hex'))
    .update(Buffer.from(storedSha256Hex, 'hex'))
    .digest('hex');
}

/**
 * Merkle root (hex) over leaves given as hex hashes, in order. Leaf = SHA-256(0x00 || leaf),
 * node = SHA-256(0x01 || left || right), an odd node is carried up unchanged; no leaves = SHA-256("").
 */
export function merkleRoot(leavesHex: readonly string[]): string {
  if (leavesHex.length === 0) return sha256Hex('');
  let level: Buffer[] = leavesHex.map((leaf) =>
    createHash('sha256')
      .update(Buffer.from([0]))
      .update(Buffer.from(leaf, 'hex'))
      .digest(),
  );
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      const right = level[i + 1];
      next.push(
        right === undefined
          ? left
          : createHash('sha256')
              .update(Buffer.from([1]))
              .update(left)
              .update(right)
              .digest(),
      );
    }
    level = next;
  }
  return level[0]!.toString('hex');
}

/** The Merkle root of a manifest's streams, ordered by streamId. */
export function streamsMerkleRoot(
  streams: readonly Pick<ManifestStream, 'streamId' | 'chainHeadSha256'>[],
): string {
  const ordered = [...streams].sort((a, b) =>
    a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0,
  );
  return merkleRoot(ordered.map((s) => s.chainHeadSha256));
}

/** Fixed-length block id for block `index` (Azure requires equal-length ids within a blob). */
export function blockIdFor(index: number): string {
  return Buffer.from(`blk-${index.toString().padStart(8, '0')}`, 'utf8').toString('base64');
}

/** The bytes stored as `manifest.json`. */
export function serializeManifest(manifest: RecordingManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
}

/** Signs with a local private key (Ed25519 or EC P-256). */
export function signManifest(
  manifestBytes: Buffer,
  privateKey: KeyObject,
  keyId: string,
): ManifestSignature {
  const { alg, signature } = signWithPrivateKey(manifestBytes, privateKey);
  return { v: 1, alg, keyId, signature: signature.toString('base64') };
}

/** Signs through a {@link Signer} (a local key or Key Vault); the record names its alg and key id. */
export async function signManifestWith(
  manifestBytes: Buffer,
  signer: Signer,
): Promise<ManifestSignature> {
  const signature = await signer.sign(manifestBytes);
  return { v: 1, alg: signer.alg, keyId: signer.keyId, signature: signature.toString('base64') };
}

/**
 * Fingerprint used as the signing key id: the algorithm's prefix (`ed25519:`, `es256:`) and the
 * first 16 hex chars of SHA-256 over the public key's SPKI DER.
 */
export function signingKeyId(publicKey: KeyObject): string {
  const prefix = signatureAlgorithmOf(publicKey) === 'ES256' ? 'es256' : 'ed25519';
  return `${prefix}:${sha256Hex(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16)}`;
}

export interface VerifyManifestOptions {
  /** Returns the stored bytes of one block (a range of the blob), or undefined when absent. */
  readonly readStoredBlock?: (
    stream: ManifestStream,
    block: ManifestBlock,
  ) => Promise<Buffer | undefined>;
  /** Turns stored bytes into plaintext (decryption); identity when the recording is unencrypted. */
  readonly toPlaintext?: (stream: ManifestStream, block: ManifestBlock, stored: Buffer) => Buffer;
}

export type ManifestVerification =
  | { readonly isValid: true; readonly manifest: RecordingManifest; readonly blocksChecked: number }
  | {
      readonly isValid: false;
      readonly problems: readonly string[];
      readonly manifest?: RecordingManifest;
    };

function isStreamList(value: unknown): value is readonly ManifestStream[] {
  return Array.isArray(value);
}

function isBlockList(value: unknown): value is readonly ManifestBlock[] {
  return Array.isArray(value);
}

/** The signature record with its alg still unchecked (an unknown alg is reported, not thrown). */
interface ParsedSignature {
  readonly alg: unknown;
  readonly signature: string;
}

function parseSignature(
  signature: ManifestSignature | Buffer | string,
): ParsedSignature | undefined {
  try {
    const value: unknown =
      typeof signature === 'object' && !Buffer.isBuffer(signature)
        ? signature
        : JSON.parse(signature.toString());
    const s = value as { v?: unknown; alg?: unknown; signature?: unknown; keyId?: unknown } | null;
    if (s !== null && s.v === 1 && typeof s.signature === 'string' && typeof s.keyId === 'string') {
      return { alg: s.alg, signature: s.signature };
    }
  } catch {
    // falls through to undefined: reported as an unreadable signature
  }
  return undefined;
}

/**
 * Verifies a manifest: its signature over the exact stored bytes, its internal consistency
 * (offsets, byte counts, hash chains, Merkle root) and, when `readStoredBlock` is given, every
 * stored block against its hashes. Never throws on bad input; returns every problem found.
 */
export async function verifyManifest(
  manifestBytes: Buffer,
  signature: ManifestSignature | Buffer | string,
  publicKey: KeyObject,
  options: VerifyManifestOptions = {},
): Promise<ManifestVerification> {
  const problems: string[] = [];
  const sig = parseSignature(signature);
  if (sig === undefined) problems.push('signature: unreadable');
  else if (!isSignatureAlgorithm(sig.alg))
    problems.push(`signature: unknown algorithm ${JSON.stringify(sig.alg)}`);
  else if (
    !verifySignature(sig.alg, manifestBytes, Buffer.from(sig.signature, 'base64'), publicKey)
  ) {
    problems.push(`signature: ${sig.alg} signature does not match the manifest bytes and key`);
  }
  let manifest: RecordingManifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as RecordingManifest;
  } catch {
    return { isValid: false, problems: [...problems, 'manifest: not JSON'] };
  }
  const streams = (manifest as Partial<RecordingManifest> | null)?.streams;
  if (manifest?.formatVersion !== MANIFEST_FORMAT_VERSION || !isStreamList(streams)) {
    return { isValid: false, problems: [...problems, 'manifest: unknown format version'] };
  }
  let blocksChecked = 0;
  for (const stream of streams) {
    const where = `stream ${stream.streamId}`;
    let chain = chainGenesis(manifest.interactionId, stream.streamId);
    let offset = 0;
    let storedOffset = 0;
    const blocks: readonly ManifestBlock[] = isBlockList(stream.blocks) ? stream.blocks : [];
    for (const [position, block] of blocks.entries()) {
      const at = `${where} block ${position}`;
      if (block.index !== position) problems.push(`${at}: index ${block.index} out of place`);
      if (block.offset !== offset)
        problems.push(`${at}: plaintext offset ${block.offset} where ${offset} expected`);
      if (block.storedOffset !== storedOffset)
        problems.push(`${at}: stored offset ${block.storedOffset} where ${storedOffset} expected`);
      if (block.blockId !== blockIdFor(position))
        problems.push(`${at}: block id does not match its position`);
      chain = chainNext(chain, block.sha256, block.storedSha256);
      if (block.chainSha256 !== chain) problems.push(`${at}: hash chain broken`);
      offset += block.length;
      storedOffset += block.storedLength;
      if (options.readStoredBlock !== undefined) {
        const stored = await options.readStoredBlock(stream, block);
        blocksChecked += 1;
        if (stored === undefined) {
          problems.push(`${at}: missing in storage`);
          continue;
        }
        if (stored.length !== block.storedLength || sha256Hex(stored) !== block.storedSha256) {
          problems.push(`${at}: stored bytes do not match their hash`);
          continue;
        }
        let plaintext: Buffer | undefined;
        try {
          plaintext =
            options.toPlaintext !== undefined
              ? options.toPlaintext(stream, block, stored)
              : manifest.encryption === undefined
                ? stored
                : undefined;
        } catch {
          problems.push(`${at}: cannot be decrypted`);
        }
        if (
          plaintext !== undefined &&
          (plaintext.length !== block.length || sha256Hex(plaintext) !== block.sha256)
        ) {
          problems.push(`${at}: plaintext does not match its hash`);
        }
      }
    }
    if (stream.plaintextBytes !== offset)
      problems.push(`${where}: byte count ${stream.plaintextBytes} where blocks hold ${offset}`);
    if (stream.storedBytes !== storedOffset)
      problems.push(`${where}: stored byte count does not match its blocks`);
    if (stream.chainHeadSha256 !== chain)
      problems.push(`${where}: chain head does not match its blocks`);
  }
  if (streamsMerkleRoot(streams) !== manifest.merkleRootSha256)
    problems.push('manifest: Merkle root does not match the streams');
  return problems.length === 0
    ? { isValid: true, manifest, blocksChecked }
    : { isValid: false, problems, manifest };
}

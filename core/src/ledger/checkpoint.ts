/**
 * Signed checkpoints of the ledger head: `Ed25519` (local key file) or `ES256` (Key Vault, raw
 * `r || s`) over the canonical JSON of the body.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  signWithPrivateKey,
  verifySignature,
  type SignatureAlgorithm,
  type Signer,
} from '../crypto/signing';
import { canonicalJson } from './canonical-json';
import { sha256Hex } from '../crypto/hash';

export interface LedgerCheckpointBody {
  readonly v: 1;
  /** Sequence number of the head entry the checkpoint covers. */
  readonly seq: number;
  readonly headSha256: string;
  /** When the checkpoint was made, ISO 8601 UTC. */
  readonly at: string;
  /** SHA-256 (hex) of the signing public key's SPKI DER: which key to verify with. */
  readonly keyId: string;
}

export interface LedgerCheckpoint extends LedgerCheckpointBody {
  readonly alg: SignatureAlgorithm;
  /** Base64 signature of `canonicalJson(body)`. */
  readonly signature: string;
}

/** The key id of a public key: SHA-256 of its SPKI DER, hex. */
export function publicKeyId(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' }));
}

function checkpointBody(
  head: { readonly seq: number; readonly sha256: string },
  at: Date,
  publicKey: KeyObject,
): LedgerCheckpointBody {
  return {
    v: 1,
    seq: head.seq,
    headSha256: head.sha256,
    at: at.toISOString(),
    keyId: publicKeyId(publicKey),
  };
}

/** Signs with a local private key (Ed25519 or EC P-256). */
export function signCheckpoint(
  head: { readonly seq: number; readonly sha256: string },
  at: Date,
  privateKey: KeyObject,
): LedgerCheckpoint {
  const body = checkpointBody(head, at, createPublicKey(privateKey));
  const { alg, signature } = signWithPrivateKey(
    Buffer.from(canonicalJson(body), 'utf8'),
    privateKey,
  );
  return { ...body, alg, signature: signature.toString('base64') };
}

/** Signs through a {@link Signer} (a local key or Key Vault); the key id is its public key's. */
export async function signCheckpointWith(
  head: { readonly seq: number; readonly sha256: string },
  at: Date,
  signer: Signer,
): Promise<LedgerCheckpoint> {
  const body = checkpointBody(head, at, signer.publicKey);
  const signature = await signer.sign(Buffer.from(canonicalJson(body), 'utf8'));
  return { ...body, alg: signer.alg, signature: signature.toString('base64') };
}

/** True when the checkpoint's signature is valid for `publicKey`. Never throws. */
export function isCheckpointSignatureValid(
  checkpoint: LedgerCheckpoint,
  publicKey: KeyObject,
): boolean {
  try {
    const body: LedgerCheckpointBody = {
      v: checkpoint.v,
      seq: checkpoint.seq,
      headSha256: checkpoint.headSha256,
      at: checkpoint.at,
      keyId: checkpoint.keyId,
    };
    return verifySignature(
      checkpoint.alg,
      Buffer.from(canonicalJson(body), 'utf8'),
      Buffer.from(checkpoint.signature, 'base64'),
      publicKey,
    );
  } catch {
    return false;
  }
}

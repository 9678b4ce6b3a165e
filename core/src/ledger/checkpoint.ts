/** Signed checkpoints of the ledger head (Ed25519 over the canonical JSON of the body). */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { ledgerHashHex } from './ledger-entry';

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
  readonly alg: 'Ed25519';
  /** Base64 Ed25519 signature of `canonicalJson(body)`. */
  readonly signature: string;
}

/** The key id of a public key: SHA-256 of its SPKI DER, hex. */
export function publicKeyId(publicKey: KeyObject): string {
  return ledgerHashHex(publicKey.export({ type: 'spki', format: 'der' }));
}

export function signCheckpoint(
  head: { readonly seq: number; readonly sha256: string },
  at: Date,
  privateKey: KeyObject,
): LedgerCheckpoint {
  const body: LedgerCheckpointBody = {
    v: 1,
    seq: head.seq,
    headSha256: head.sha256,
    at: at.toISOString(),
    keyId: publicKeyId(createPublicKey(privateKey)),
  };
  const signature = sign(null, Buffer.from(canonicalJson(body), 'utf8'), privateKey).toString('base64');
  return { ...body, alg: 'Ed25519', signature };
}

/** True when the checkpoint's signature is valid for `publicKey`. Never throws. */
export function isCheckpointSignatureValid(checkpoint: LedgerCheckpoint, publicKey: KeyObject): boolean {
  try {
    if (checkpoint.alg !== 'Ed25519') return false;
    const body: LedgerCheckpointBody = {
      v: checkpoint.v,
      seq: checkpoint.seq,
      headSha256: checkpoint.headSha256,
      at: checkpoint.at,
      keyId: checkpoint.keyId,
    };
    return verify(null, Buffer.from(canonicalJson(body), 'utf8'), publicKey, Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    return false;
  }
}

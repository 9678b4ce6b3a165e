/**
 * The completeness report: for a period, every invite the recorder received and what became of
 * it, with totals, signed (`Ed25519` or `ES256` over the canonical JSON of the body). Pure.
 */
import type { KeyObject } from 'node:crypto';
import {
  signWithPrivateKey,
  verifySignature,
  type SignatureAlgorithm,
  type Signer,
} from '../crypto/signing';
import type { RecordingGap } from '../control-api';
import type { InteractionOutcome } from '../interaction';
import { canonicalJson } from '../ledger/canonical-json';

export interface CompletenessItem {
  readonly tenantId: string;
  readonly interactionId: string;
  readonly invitedAt: string;
  readonly outcome: InteractionOutcome;
  /** Why not recorded in full (log-safe words), or why no longer present. */
  readonly reason?: string;
  readonly gaps?: readonly RecordingGap[];
  /** Set when the interaction was deleted at the end of its retention. */
  readonly deletedAt?: string;
  readonly manifestSha256?: string;
}

export interface CompletenessTotals {
  readonly invites: number;
  readonly recorded: number;
  readonly recordedWithGaps: number;
  /** Recording status set, nothing stored. */
  readonly noMedia: number;
  readonly rejectedBusy: number;
  readonly failed: number;
  readonly notRecordable: number;
  readonly inProgress: number;
  readonly deleted: number;
}

export interface CompletenessReportBody {
  readonly v: 1;
  readonly from: string;
  readonly to: string;
  readonly generatedAt: string;
  readonly tenantId?: string;
  readonly totals: CompletenessTotals;
  readonly items: readonly CompletenessItem[];
}

export interface CompletenessSignature {
  readonly v: 1;
  readonly alg: SignatureAlgorithm;
  readonly keyId: string;
  readonly signature: string;
}

export function buildCompletenessReport(
  period: { from: string; to: string; tenantId?: string },
  items: readonly CompletenessItem[],
  generatedAt: Date,
): CompletenessReportBody {
  const count = (outcome: InteractionOutcome): number =>
    items.filter((i) => i.outcome === outcome).length;
  const sorted = [...items].sort((a, b) =>
    a.invitedAt === b.invitedAt
      ? a.interactionId < b.interactionId
        ? -1
        : 1
      : a.invitedAt < b.invitedAt
        ? -1
        : 1,
  );
  return {
    v: 1,
    from: period.from,
    to: period.to,
    generatedAt: generatedAt.toISOString(),
    ...(period.tenantId === undefined ? {} : { tenantId: period.tenantId }),
    totals: {
      invites: items.length,
      recorded: count('recorded'),
      recordedWithGaps: count('recordedWithGaps'),
      noMedia: count('noMedia'),
      rejectedBusy: count('rejectedBusy'),
      failed: count('failed'),
      notRecordable: count('notRecordable'),
      inProgress: count('inProgress'),
      deleted: items.filter((i) => i.deletedAt !== undefined).length,
    },
    items: sorted,
  };
}

/** Signs with a local private key (Ed25519 or EC P-256). */
export function signCompletenessReport(
  body: CompletenessReportBody,
  privateKey: KeyObject,
  keyId: string,
): CompletenessSignature {
  const { alg, signature } = signWithPrivateKey(
    Buffer.from(canonicalJson(body), 'utf8'),
    privateKey,
  );
  return { v: 1, alg, keyId, signature: signature.toString('base64') };
}

/** Signs through a {@link Signer} (a local key or Key Vault) with the signer's key id. */
export async function signCompletenessReportWith(
  body: CompletenessReportBody,
  signer: Signer,
): Promise<CompletenessSignature> {
  const signature = await signer.sign(Buffer.from(canonicalJson(body), 'utf8'));
  return { v: 1, alg: signer.alg, keyId: signer.keyId, signature: signature.toString('base64') };
}

/** True when the signature is valid for `publicKey`; an unknown alg or bad input is false. Never throws. */
export function isCompletenessSignatureValid(
  body: CompletenessReportBody,
  signature: CompletenessSignature,
  publicKey: KeyObject,
): boolean {
  try {
    return verifySignature(
      signature.alg,
      Buffer.from(canonicalJson(body), 'utf8'),
      Buffer.from(signature.signature, 'base64'),
      publicKey,
    );
  } catch {
    return false;
  }
}

/** Items that are neither present in full nor explained: what a regulator would ask about. */
export function unexplainedItems(body: CompletenessReportBody): CompletenessItem[] {
  return body.items.filter(
    (item) =>
      item.outcome !== 'recorded' &&
      item.outcome !== 'inProgress' &&
      (item.reason === undefined || item.reason === ''),
  );
}

/** Builds the signed completeness report of a period from the archived interaction records. */
import {
  buildCompletenessReport,
  publicKeyId,
  resolveSigner,
  signCompletenessReportWith,
  type SigningKeyLike,
  type CompletenessItem,
  type CompletenessReportBody,
  type CompletenessSignature,
} from '@attest/core';
import type { ArchiveRecordStore, Clock } from '../domain/archive-ports';
import { completenessItemOf } from '../domain/completeness-item';

export interface CompletenessDeps {
  readonly records: ArchiveRecordStore;
  /** The ledger key: a local private key, or a Key Vault signer (source). */
  readonly ledgerSigningKey: SigningKeyLike;
  readonly clock: Clock;
}

export function createCompletenessActivities(deps: CompletenessDeps) {
  return {
    /** Every invite received in [from, to) and what became of it, with totals, signed. */
    async buildReport(period: { from: string; to: string; tenantId?: string }): Promise<{ report: CompletenessReportBody; signature: CompletenessSignature }> {
      const items: CompletenessItem[] = [];
      for await (const record of deps.records.search({ ...period, isDeletedIncluded: true, limit: Number.MAX_SAFE_INTEGER })) {
        items.push(completenessItemOf(record));
      }
      const report = buildCompletenessReport(period, items, deps.clock.now());
      const signer = await resolveSigner(deps.ledgerSigningKey, publicKeyId);
      return { report, signature: await signCompletenessReportWith(report, signer) };
    },
  };
}
export type CompletenessActivities = ReturnType<typeof createCompletenessActivities>;

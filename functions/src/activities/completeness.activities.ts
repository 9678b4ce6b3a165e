/** Builds the signed completeness report of a period from the archived interaction records. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  buildCompletenessReport,
  publicKeyId,
  signCompletenessReport,
  type CompletenessItem,
  type CompletenessReportBody,
  type CompletenessSignature,
} from '@attest/core';
import type { ArchiveRecordStore, Clock } from '../domain/archive-ports';

export interface CompletenessDeps {
  readonly records: ArchiveRecordStore;
  readonly ledgerSigningKey: KeyObject;
  readonly clock: Clock;
}

export function createCompletenessActivities(deps: CompletenessDeps) {
  const keyId = publicKeyId(createPublicKey(deps.ledgerSigningKey));
  return {
    /** Every invite received in [from, to) and what became of it, with totals, signed. */
    async buildReport(period: { from: string; to: string; tenantId?: string }): Promise<{ report: CompletenessReportBody; signature: CompletenessSignature }> {
      const items: CompletenessItem[] = [];
      for await (const record of deps.records.search({ ...period, isDeletedIncluded: true, limit: Number.MAX_SAFE_INTEGER })) {
        const { interaction } = record;
        const reason = record.state === 'deleted' ? `deleted at the end of retention class ${interaction.retentionClass ?? 'unknown'}` : interaction.outcomeReason;
        items.push({
          tenantId: interaction.tenantId,
          interactionId: interaction.interactionId,
          invitedAt: interaction.invitedAt,
          outcome: interaction.outcome,
          ...(reason === undefined ? {} : { reason }),
          ...(interaction.gaps.length > 0 ? { gaps: interaction.gaps } : {}),
          ...(record.tombstone === undefined ? {} : { deletedAt: record.tombstone.deletedAt }),
          ...(interaction.manifestSha256 === undefined ? {} : { manifestSha256: interaction.manifestSha256 }),
        });
      }
      const report = buildCompletenessReport(period, items, deps.clock.now());
      return { report, signature: signCompletenessReport(report, deps.ledgerSigningKey, keyId) };
    },
  };
}
export type CompletenessActivities = ReturnType<typeof createCompletenessActivities>;

import type { CompletenessItem } from '@attest/core';
import type { ArchiveRecord } from './archive-ports';

/** Why an interaction is not (or no longer) recorded in full, in log-safe words. */
export function completenessReason(record: ArchiveRecord): string | undefined {
  return record.state === 'deleted'
    ? `deleted at the end of retention class ${record.interaction.retentionClass ?? 'unknown'}`
    : record.interaction.outcomeReason;
}

/** The completeness report's line for one archived interaction. */
export function completenessItemOf(
  record: ArchiveRecord,
  reason: string | undefined = completenessReason(record),
): CompletenessItem {
  const { interaction } = record;
  return {
    tenantId: interaction.tenantId,
    interactionId: interaction.interactionId,
    invitedAt: interaction.invitedAt,
    outcome: interaction.outcome,
    ...(reason === undefined ? {} : { reason }),
    ...(interaction.gaps.length > 0 ? { gaps: interaction.gaps } : {}),
    ...(record.tombstone === undefined ? {} : { deletedAt: record.tombstone.deletedAt }),
    ...(interaction.manifestSha256 === undefined
      ? {}
      : { manifestSha256: interaction.manifestSha256 }),
  };
}

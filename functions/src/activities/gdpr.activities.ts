/**
 * Data subject requests. Erasure deletes what retention and holds allow and refuses the rest with
 * the legal basis (the retention class's regulation, or the hold's matter); refused data is
 * deleted by the retention job when its period ends.
 */
import { activeHoldsFor, type RetentionPolicy } from '@attest/core';
import type { ArchiveRecordStore, Clock, HoldStore } from '../domain/archive-ports';
import type { ArchiveService } from '../archive/archive.service';

export interface GdprDeps {
  readonly records: ArchiveRecordStore;
  readonly holds: HoldStore;
  readonly archive: ArchiveService;
  readonly policy: RetentionPolicy;
  readonly clock: Clock;
}

export interface ErasureRefusal {
  readonly tenantId: string;
  readonly interactionId: string;
  readonly reason: 'legalHold' | 'notExpired' | 'noRetention' | 'approvalRequired';
  readonly legalBasis: string;
  readonly expiresAt?: string;
}

export interface ErasureOutcome {
  readonly deleted: readonly string[];
  readonly refused: readonly ErasureRefusal[];
}

export function createGdprActivities(deps: GdprDeps) {
  return {
    /** Within one tenant: another tenant's interactions are neither searched nor named. */
    async requestErasure(
      tenantId: string,
      subjectUserId: string,
      actor: string,
    ): Promise<ErasureOutcome> {
      const now = deps.clock.now();
      const holds = await deps.holds.list(tenantId);
      const deleted: string[] = [];
      const refused: ErasureRefusal[] = [];
      for await (const record of deps.records.search({
        tenantId,
        recordedUserId: subjectUserId,
        limit: Number.MAX_SAFE_INTEGER,
      })) {
        const { interaction } = record;
        const held = activeHoldsFor(holds, interaction, now);
        const cls = deps.policy.classes.find((c) => c.name === interaction.retentionClass);
        const retentionBasis =
          cls?.legalBasis ?? `retention class ${interaction.retentionClass ?? 'not yet assigned'}`;
        const subject = {
          tenantId: interaction.tenantId,
          interactionId: interaction.interactionId,
        };
        if (held.length > 0) {
          refused.push({
            ...subject,
            reason: 'legalHold',
            legalBasis: `legal hold, matter ${held.map((h) => h.matterId).join(', ')}`,
          });
        } else if (interaction.expiresAt === undefined) {
          refused.push({ ...subject, reason: 'noRetention', legalBasis: retentionBasis });
        } else if (Date.parse(interaction.expiresAt) > now.getTime()) {
          refused.push({
            ...subject,
            reason: 'notExpired',
            legalBasis: retentionBasis,
            expiresAt: interaction.expiresAt,
          });
        } else if (record.dispositionMode === 'approval') {
          refused.push({ ...subject, reason: 'approvalRequired', legalBasis: retentionBasis });
        } else {
          const outcome = await deps.archive.disposeInteraction({
            ...subject,
            approvedBy: actor,
          });
          if (outcome.status === 'deleted') deleted.push(interaction.interactionId);
        }
      }
      return { deleted, refused };
    },
  };
}
export type GdprActivities = ReturnType<typeof createGdprActivities>;

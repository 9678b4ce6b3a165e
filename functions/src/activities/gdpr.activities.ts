/**
 * Data subject requests. A data subject is any party of an interaction, named by phone number or
 * identity id ({@link PartyKey}): the party index finds their interactions, and a recorded user's
 * are also found by the archive's own record (interactions archived before the index was filled).
 * Erasure deletes what retention and holds allow and refuses the rest with the legal basis (the
 * retention class's regulation, or the hold's matter); refused data is deleted by the retention
 * job when its period ends.
 */
import { activeHoldsFor, type RetentionPolicy } from '@attest/core';
import type { ArchiveRecordStore, Clock, HoldStore, PartyIndex } from '../domain/archive-ports';
import { isPhoneKey, type PartyKey } from '../domain/party-keys';
import type { ArchiveService } from '../archive/archive.service';

export interface GdprDeps {
  readonly records: ArchiveRecordStore;
  readonly holds: HoldStore;
  readonly parties: PartyIndex;
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

/** A data subject as a request names them. */
export interface DataSubject {
  readonly key: PartyKey;
  /** The id as given (a recorded user is also looked up by it); absent for a phone number. */
  readonly identityId?: string;
}

export function createGdprActivities(deps: GdprDeps) {
  /**
   * Ids of the tenant's interactions the subject took part in, sorted. Within one tenant:
   * another tenant's interactions are neither searched nor named.
   */
  async function interactionIdsOf(tenantId: string, subject: DataSubject): Promise<string[]> {
    const ids = new Set(await deps.parties.listInteractionIds(tenantId, subject.key));
    if (!isPhoneKey(subject.key) && subject.identityId !== undefined) {
      for await (const record of deps.records.search({
        tenantId,
        recordedUserId: subject.identityId,
        isDeletedIncluded: true,
        limit: Number.MAX_SAFE_INTEGER,
      }))
        ids.add(record.interaction.interactionId);
    }
    return [...ids].sort();
  }

  return {
    interactionIdsOf,

    async requestErasure(
      tenantId: string,
      subject: DataSubject,
      actor: string,
    ): Promise<ErasureOutcome> {
      const now = deps.clock.now();
      const holds = await deps.holds.list(tenantId);
      const deleted: string[] = [];
      const refused: ErasureRefusal[] = [];
      for (const interactionId of await interactionIdsOf(tenantId, subject)) {
        const record = await deps.records.get(tenantId, interactionId);
        if (record === undefined || record.state === 'deleted') continue;
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

/**
 * Builds the signed completeness report of a period from the archived interaction records,
 * cross-checked against the recorder's own log of invites: an invite the recorder received that
 * never reached the archive (its intake failed) is listed too, with that reason, so the report
 * cannot be complete by omission.
 */
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
import type { InteractionRecord } from '@attest/core';
import type { ArchiveRecordStore, Clock } from '../domain/archive-ports';
import { completenessItemOf } from '../domain/completeness-item';

/** The recorder's record of every invite it received (its interactions table). */
export interface InviteLog {
  invitedBetween(period: {
    readonly from: string;
    readonly to: string;
    readonly tenantId: string;
  }): AsyncIterable<InteractionRecord>;
}

/** Reason given for an invite the recorder has and the archive does not. */
export const NOT_IN_ARCHIVE_REASON =
  'received by the recorder but not in the archive (archive intake did not complete)';

export interface CompletenessDeps {
  readonly records: ArchiveRecordStore;
  /** When given, every invite it lists in the period is in the report. */
  readonly invites?: InviteLog;
  /** The ledger key: a local private key, or a Key Vault signer (source). */
  readonly ledgerSigningKey: SigningKeyLike;
  readonly clock: Clock;
}

export function createCompletenessActivities(deps: CompletenessDeps) {
  return {
    /** Every invite received in [from, to) and what became of it, with totals, signed. */
    /** Within one tenant: another tenant's invites are never in the report. */
    async buildReport(period: {
      from: string;
      to: string;
      tenantId: string;
    }): Promise<{ report: CompletenessReportBody; signature: CompletenessSignature }> {
      const items: CompletenessItem[] = [];
      const archived = new Set<string>();
      for await (const record of deps.records.search({
        ...period,
        isDeletedIncluded: true,
        limit: Number.MAX_SAFE_INTEGER,
      })) {
        items.push(completenessItemOf(record));
        archived.add(`${record.interaction.tenantId}/${record.interaction.interactionId}`);
      }
      if (deps.invites !== undefined) {
        for await (const invite of deps.invites.invitedBetween(period)) {
          if (invite.tenantId !== period.tenantId) continue;
          if (archived.has(`${invite.tenantId}/${invite.interactionId}`)) continue;
          items.push({
            tenantId: invite.tenantId,
            interactionId: invite.interactionId,
            invitedAt: invite.invitedAt,
            outcome: invite.outcome,
            reason: NOT_IN_ARCHIVE_REASON,
            ...(Array.isArray(invite.gaps) && invite.gaps.length > 0 ? { gaps: invite.gaps } : {}),
          });
        }
        items.sort((a, b) => (a.invitedAt < b.invitedAt ? -1 : a.invitedAt > b.invitedAt ? 1 : 0));
      }
      const report = buildCompletenessReport(period, items, deps.clock.now());
      const signer = await resolveSigner(deps.ledgerSigningKey, publicKeyId);
      return { report, signature: await signCompletenessReportWith(report, signer) };
    },
  };
}
export type CompletenessActivities = ReturnType<typeof createCompletenessActivities>;

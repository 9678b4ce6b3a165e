/**
 * Business data of an archived interaction (`customData`), attached by integrations: each
 * version is kept in the history (never overwritten), written to the ledger with its hash, and
 * becomes the record's `customData` (what search filters on). A writer names the version it
 * replaces; another version in between is a conflict, never a silent overwrite.
 */
import { canonicalJson, LedgerEntryKind, LedgerSubjectType, sha256Hex } from '@attest/core';
import type {
  ArchiveRecordStore,
  BusinessDataHistory,
  BusinessDataVersion,
  Clock,
  LedgerStore,
} from '../domain/archive-ports';
import { updateRecord } from './record-update';

export interface BusinessDataDeps {
  readonly records: ArchiveRecordStore;
  readonly history: BusinessDataHistory;
  readonly ledger: Pick<LedgerStore, 'append'>;
  readonly clock: Clock;
}

export type AttachOutcome =
  | { readonly status: 'attached'; readonly version: BusinessDataVersion }
  | { readonly status: 'conflict'; readonly currentVersion: number }
  | { readonly status: 'notFound' };

export function createBusinessDataService(deps: BusinessDataDeps) {
  return {
    /**
     * Attaches `data` as the version after `expectedVersion` (0: the first). The history row is
     * created first (atomic: a concurrent writer of the same version gets a conflict), then the
     * ledger entry, then the record.
     */
    async attach(input: {
      readonly tenantId: string;
      readonly interactionId: string;
      readonly data: Readonly<Record<string, unknown>>;
      readonly expectedVersion: number;
      readonly actor: string;
    }): Promise<AttachOutcome> {
      const { tenantId, interactionId } = input;
      const record = await deps.records.get(tenantId, interactionId);
      if (record === undefined) return { status: 'notFound' };
      const currentVersion = record.businessData?.version ?? 0;
      if (currentVersion !== input.expectedVersion) return { status: 'conflict', currentVersion };
      const version: BusinessDataVersion = {
        tenantId,
        interactionId,
        version: currentVersion + 1,
        data: input.data,
        sha256: sha256Hex(canonicalJson(input.data)),
        changedAt: deps.clock.now().toISOString(),
        changedBy: input.actor,
      };
      if (!(await deps.history.createVersion(version)))
        return { status: 'conflict', currentVersion: currentVersion + 1 };
      await deps.ledger.append({
        kind: LedgerEntryKind.businessDataChanged,
        actor: input.actor,
        tenantId,
        subjectType: LedgerSubjectType.interaction,
        subjectId: interactionId,
        subjectSha256: version.sha256,
        details: {
          action: 'attachBusinessData',
          version: version.version,
          keyCount: Object.keys(input.data).length,
        },
      });
      // Read again and write only if unchanged: the intake may seal the record meanwhile (it
      // keeps the business data); a lost write reads the sealed record and merges onto it.
      const info = {
        version: version.version,
        sha256: version.sha256,
        changedAt: version.changedAt,
        changedBy: version.changedBy,
      };
      await updateRecord(deps.records, tenantId, interactionId, (latest) =>
        (latest.businessData?.version ?? 0) >= version.version
          ? undefined
          : {
              ...latest,
              interaction: { ...latest.interaction, customData: version.data },
              businessData: info,
            },
      );
      return { status: 'attached', version };
    },

    /** The interaction's versions, oldest first. */
    history: (tenantId: string, interactionId: string) =>
      deps.history.list(tenantId, interactionId),
  };
}
export type BusinessDataService = ReturnType<typeof createBusinessDataService>;

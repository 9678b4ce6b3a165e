/**
 * Changing the retention class of a sealed interaction (a compliance officer reclassifies it,
 * e.g. a call that turned out to be a trade). The new expiry is the new class's period from the
 * retention start; it may only lengthen the retention: storage immutability can be extended but
 * never shortened, and a shorter retention would be a deletion without the two-person rule.
 * One `retentionClassChanged` ledger entry with both classes and expiries, and the reason.
 */
import {
  ErrorCode,
  LedgerEntryKind,
  LedgerSubjectType,
  RecorderError,
  retentionStart,
  type LedgerEntry,
  type RetentionPolicy,
} from '@attest/core';
import type {
  ArchiveRecord,
  ArchiveRecordStore,
  LedgerStore,
  RecordingBlobStore,
} from '../domain/archive-ports';
import { updateRecord } from './record-update';

const DAY_IN_MS = 86_400_000;

export interface RetentionClassDeps {
  readonly records: ArchiveRecordStore;
  readonly ledger: LedgerStore;
  readonly blobs: RecordingBlobStore;
  readonly policy: RetentionPolicy;
}

export interface RetentionClassChange {
  readonly record: ArchiveRecord;
  readonly entry: LedgerEntry;
}

export function createRetentionClassService(deps: RetentionClassDeps) {
  return {
    /**
     * Moves an archived, sealed interaction to `className`. Errors: `ATT_NOT_FOUND` (no such
     * interaction in the tenant), `ATT_INVALID_REQUEST` (unknown class), `ATT_CONFLICT` (not
     * sealed yet, deleted, already in the class, or the class would shorten the retention).
     */
    async changeRetentionClass(input: {
      readonly tenantId: string;
      readonly interactionId: string;
      readonly className: string;
      readonly reason: string;
      readonly actor: string;
    }): Promise<RetentionClassChange> {
      // Read, check and write only if unchanged (ETag): a hold, business data or a seal written
      // meanwhile is kept, and the checks hold for the version replaced.
      let previous: ArchiveRecord | undefined;
      const update = await updateRecord(
        deps.records,
        input.tenantId,
        input.interactionId,
        (current) => {
          const target = deps.policy.classes.find((c) => c.name === input.className);
          if (target === undefined)
            throw new RecorderError(
              ErrorCode.InvalidRequest,
              `retention class ${input.className.slice(0, 64)} is not configured`,
            );
          const { interaction } = current;
          if (current.state === 'deleted' || interaction.expiresAt === undefined)
            throw new RecorderError(
              ErrorCode.Conflict,
              'only a sealed interaction that is not deleted has a retention class to change',
            );
          if (interaction.retentionClass === target.name)
            throw new RecorderError(
              ErrorCode.Conflict,
              `the interaction is already in class ${target.name}`,
            );
          const expiresAt = new Date(
            retentionStart(interaction).getTime() + target.periodInDays * DAY_IN_MS,
          ).toISOString();
          if (Date.parse(expiresAt) < Date.parse(interaction.expiresAt))
            throw new RecorderError(
              ErrorCode.Conflict,
              `class ${target.name} would shorten the retention (to ${expiresAt}); retention can only be extended`,
            );
          previous = current;
          return {
            ...current,
            interaction: { ...interaction, retentionClass: target.name, expiresAt },
            dispositionMode: target.dispositionMode,
          };
        },
      );
      if (update.status !== 'updated' || previous === undefined)
        throw new RecorderError(
          ErrorCode.NotFound,
          `interaction ${input.interactionId} is not archived`,
        );
      const { record } = update;
      const { interaction } = previous;
      const expiresAt = record.interaction.expiresAt!;
      for (const name of await deps.blobs.listRecordingBlobs(input.tenantId, input.interactionId))
        await deps.blobs.applyImmutability(name, new Date(expiresAt));
      const entry = await deps.ledger.append({
        kind: LedgerEntryKind.retentionClassChanged,
        actor: input.actor,
        tenantId: input.tenantId,
        subjectType: LedgerSubjectType.interaction,
        subjectId: input.interactionId,
        details: {
          previousClass: interaction.retentionClass ?? null,
          retentionClass: record.interaction.retentionClass,
          previousExpiresAt: interaction.expiresAt,
          expiresAt,
          dispositionMode: record.dispositionMode,
          reason: input.reason,
        },
      });
      return { record, entry };
    },
  };
}

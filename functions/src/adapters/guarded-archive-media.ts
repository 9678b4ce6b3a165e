/**
 * The only way archived media is deleted: every path (retention job, admin API, data subject
 * erasure) goes through {@link GuardedMediaStore.shred}, which applies the same rule as Azure's
 * immutability policies and legal holds. Azurite answers 501 to those APIs, so locally this is
 * the enforcement; in Azure it is a second line behind the storage service.
 */
import { canDelete, ErrorCode, RecorderError, type DeletionDecision } from '@attest/core';
import type { ArchiveRecord, Clock, HoldStore, RecordingBlobStore } from '../domain/archive-ports';

export interface ShredResult {
  readonly deletedBlobCount: number;
  readonly isKeyDeleted: boolean;
}

export class GuardedMediaStore {
  constructor(
    private readonly blobs: RecordingBlobStore,
    private readonly holds: HoldStore,
    private readonly clock: Clock,
  ) {}

  /** The deletion rule for one record now: expired, not held. */
  async decide(record: ArchiveRecord): Promise<DeletionDecision> {
    return canDelete(
      record.interaction,
      await this.holds.list(record.interaction.tenantId),
      this.clock.now(),
    );
  }

  /**
   * Crypto-shreds an interaction: deletes the wrapped data key first (so the media cannot be
   * decrypted even if a blob delete fails), then every media blob and the manifest.
   * Throws ATT_LEGAL_HOLD or ATT_RETENTION_LOCKED when the rule refuses. Idempotent.
   */
  async shred(record: ArchiveRecord): Promise<ShredResult> {
    const decision = await this.decide(record);
    const { tenantId, interactionId } = record.interaction;
    if (!decision.isAllowed) {
      const code =
        decision.reason === 'legalHold' ? ErrorCode.LegalHold : ErrorCode.RetentionLocked;
      throw new RecorderError(
        code,
        `interaction ${interactionId} may not be deleted (${decision.reason})`,
        {
          details: { interactionId, reason: decision.reason },
        },
      );
    }
    const hadKey = (await this.blobs.readWrappedKey(tenantId, interactionId)) !== undefined;
    await this.blobs.deleteWrappedKey(tenantId, interactionId);
    const names = await this.blobs.listRecordingBlobs(tenantId, interactionId);
    for (const name of names) await this.blobs.deleteRecordingBlob(name);
    return { deletedBlobCount: names.length, isKeyDeleted: hadKey };
  }

  /** Refuses any write over a sealed recording's blobs: sealed media is never overwritten. */
  assertNotSealed(record: ArchiveRecord | undefined): void {
    if (record?.interaction.sealedAt !== undefined) {
      throw new RecorderError(
        ErrorCode.RetentionLocked,
        `interaction ${record.interaction.interactionId} is sealed and may not be overwritten`,
        {
          details: { interactionId: record.interaction.interactionId },
        },
      );
    }
  }
}

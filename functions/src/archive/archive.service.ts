/**
 * The archive service: intake of invites and sealed recordings, holds, retention class changes
 * and the steps of the disposition orchestration (only those are registered as durable
 * activities). Built over ports by {@link createArchiveService}; every method is idempotent
 * because the intake and the disposition steps run from activities, at least once.
 */
import {
  ErrorCode,
  LedgerEntryKind,
  LedgerSubjectType,
  RecorderError,
  activeHoldsFor,
  canonicalJson,
  holdMatches,
  sha256Hex,
  resolveRetention,
  validateHoldScope,
  type CallParticipant,
  type InteractionRecord,
  type LedgerEntry,
  type LegalHold,
  type LegalHoldScope,
  type RetentionPolicy,
} from '@attest/core';
import type {
  ArchiveRecord,
  ArchiveRecordStore,
  Clock,
  GroupDirectory,
  HoldStore,
  LedgerStore,
  PartyIndex,
  RecordingBlobStore,
} from '../domain/archive-ports';
import { partyKeysOf } from '../domain/party-keys';
import { ArchiveState } from '../domain/archive-ports';
import type { DispositionCheck, DisposeOutcome } from '../domain/archive-names';
import type { GuardedMediaStore } from '../adapters/guarded-archive-media';
import type { ManifestIntegrity } from './manifest-integrity';
import { MAX_RECORD_WRITE_ATTEMPTS, updateRecord } from './record-update';
import { createRetentionClassService } from './retention-class.service';

export interface ArchiveLogger {
  info(message: string, fields: Readonly<Record<string, string | number | boolean>>): void;
  warn(message: string, fields: Readonly<Record<string, string | number | boolean>>): void;
}

export const silentLogger: ArchiveLogger = { info: () => undefined, warn: () => undefined };

export interface ArchiveServiceDeps {
  readonly records: ArchiveRecordStore;
  readonly holds: HoldStore;
  readonly ledger: LedgerStore;
  readonly blobs: RecordingBlobStore;
  readonly media: GuardedMediaStore;
  readonly groups: GroupDirectory;
  readonly policy: RetentionPolicy;
  readonly clock: Clock;
  readonly log?: ArchiveLogger;
  /** Where every party of an archived interaction is indexed (data subject requests). */
  readonly parties?: PartyIndex;
  /**
   * Verifies each sealed manifest at intake (the result goes into the `sealed` entry; a manifest
   * that does not verify flags the interaction and raises an alert). Absent: not checked.
   */
  readonly integrity?: ManifestIntegrity;
}

/** A party of an interaction as the party index reads it. */
export type IndexedParty = Pick<CallParticipant, 'identityKind' | 'identityId'>;

export const SYSTEM_ACTOR = 'system';

export type { DispositionCheck, DisposeOutcome };

/** Fields with personal data dropped when a record becomes a tombstone. */
function tombstoneOf(interaction: InteractionRecord): InteractionRecord {
  return {
    tenantId: interaction.tenantId,
    interactionId: interaction.interactionId,
    callId: interaction.callId,
    type: interaction.type,
    direction: interaction.direction,
    outcome: interaction.outcome,
    invitedAt: interaction.invitedAt,
    endedAt: interaction.endedAt,
    sealedAt: interaction.sealedAt,
    recordedUserIds: [],
    recordingStatusHistory: [],
    gaps: [],
    manifestSha256: interaction.manifestSha256,
    retentionClass: interaction.retentionClass,
    expiresAt: interaction.expiresAt,
  };
}

export function createArchiveService(deps: ArchiveServiceDeps) {
  const log = deps.log ?? silentLogger;
  const now = (): Date => deps.clock.now();

  async function requireRecord(tenantId: string, interactionId: string): Promise<ArchiveRecord> {
    const record = await deps.records.get(tenantId, interactionId);
    if (record === undefined)
      throw new RecorderError(ErrorCode.NotFound, `interaction ${interactionId} is not archived`, {
        details: { interactionId },
      });
    return record;
  }

  /** Sets (or clears) the blob legal hold on every blob of the hold's archived interactions. */
  async function setBlobLegalHolds(
    hold: LegalHold,
    isAffected: (record: ArchiveRecord) => boolean,
    isHeld = true,
  ): Promise<number> {
    let count = 0;
    for await (const record of deps.records.search({
      tenantId: hold.tenantId,
      isDeletedIncluded: false,
      limit: Number.MAX_SAFE_INTEGER,
    })) {
      if (!holdMatches(hold, record.interaction) || !isAffected(record)) continue;
      const { tenantId, interactionId } = record.interaction;
      for (const name of await deps.blobs.listRecordingBlobs(tenantId, interactionId)) {
        await deps.blobs.setLegalHold(name, isHeld);
        count += 1;
      }
    }
    return count;
  }

  async function applyStorageProtection(record: ArchiveRecord): Promise<void> {
    const { tenantId, interactionId, expiresAt } = record.interaction;
    if (expiresAt === undefined) return;
    const isHeld =
      activeHoldsFor(await deps.holds.list(tenantId), record.interaction, now()).length > 0;
    for (const name of await deps.blobs.listRecordingBlobs(tenantId, interactionId)) {
      await deps.blobs.applyImmutability(name, new Date(expiresAt));
      if (isHeld) await deps.blobs.setLegalHold(name, true);
    }
  }

  /**
   * Indexes every party before the record is written: a retry after a failure in between finds
   * the record and returns early, so the index must already hold it. A capture of a paired call
   * is indexed under its interaction too (the one a search and an export name).
   */
  async function indexParties(
    interaction: InteractionRecord,
    participants: readonly IndexedParty[],
  ): Promise<void> {
    if (deps.parties === undefined) return;
    const keys = partyKeysOf(interaction, participants);
    const { tenantId, interactionId, pairedInteractionId } = interaction;
    await deps.parties.add(tenantId, interactionId, keys);
    if (pairedInteractionId !== undefined)
      await deps.parties.add(tenantId, pairedInteractionId, keys);
  }

  return {
    ...createRetentionClassService(deps),

    /**
     * First outcome of an invite: archived without retention until sealed; one `recorded` ledger
     * entry. Its parties (recorded users, numbers, `participants` when known) are indexed.
     */
    async recordInvite(
      interaction: InteractionRecord,
      participants: readonly IndexedParty[] = [],
    ): Promise<void> {
      await indexParties(interaction, participants);
      const groupIds = await deps.groups.groupsOf(interaction.recordedUserIds);
      // One conditional write: a record that exists (a repeat, or sealed already) is left alone.
      if (
        !(await deps.records.createIfAbsent({ interaction, groupIds, state: ArchiveState.active }))
      )
        return;
      await deps.ledger.append({
        kind: LedgerEntryKind.recorded,
        actor: SYSTEM_ACTOR,
        tenantId: interaction.tenantId,
        subjectType: LedgerSubjectType.interaction,
        subjectId: interaction.interactionId,
        details: { outcome: interaction.outcome, type: interaction.type },
      });
      log.info('archive invite recorded', {
        interactionId: interaction.interactionId,
        outcome: interaction.outcome,
      });
    },

    /**
     * Sealed recording: assigns the retention class and expiry, protects the blobs where the
     * service can, writes one `sealed` ledger entry whose subject hash is the manifest hash.
     * Every party (`participants`: the call's roster history) is indexed first.
     * A second call with another manifest hash is refused: sealed data is never replaced.
     */
    async recordSealed(
      interaction: InteractionRecord,
      participants: readonly IndexedParty[] = [],
    ): Promise<ArchiveRecord> {
      await indexParties(interaction, participants);
      const groupIds = await deps.groups.groupsOf(interaction.recordedUserIds);
      const sealedAt = interaction.sealedAt ?? now().toISOString();
      const decision = resolveRetention(deps.policy, { ...interaction, sealedAt }, groupIds);
      let record: ArchiveRecord | undefined;
      // Read, merge, write only if unchanged: business data attached between the read and the
      // write (or any other writer) makes the write fail, and the seal merges again.
      for (let attempt = 1; record === undefined; attempt += 1) {
        const current = await deps.records.getVersioned(
          interaction.tenantId,
          interaction.interactionId,
        );
        const existing = current?.record;
        // A record carries an expiry only once the archive has sealed it.
        if (existing?.interaction.expiresAt !== undefined) {
          if (existing.interaction.manifestSha256 !== interaction.manifestSha256) {
            throw new RecorderError(
              ErrorCode.IntegrityViolation,
              `interaction ${interaction.interactionId} is already sealed with another manifest`,
              {
                details: { interactionId: interaction.interactionId },
              },
            );
          }
          return existing;
        }
        if (existing?.state === ArchiveState.deleted) return existing;
        if (attempt > MAX_RECORD_WRITE_ATTEMPTS)
          throw new RecorderError(
            ErrorCode.Conflict,
            `interaction ${interaction.interactionId} kept changing while it was sealed; retry`,
            { retryable: true, details: { interactionId: interaction.interactionId } },
          );
        // Business data attached before the seal stays: the recorder's record does not carry it.
        const attached = existing?.businessData;
        const candidate: ArchiveRecord = {
          interaction: {
            ...interaction,
            ...(attached === undefined ? {} : { customData: existing?.interaction.customData }),
            sealedAt,
            retentionClass: decision.retentionClass.name,
            expiresAt: decision.expiresAt,
          },
          groupIds,
          dispositionMode: decision.retentionClass.dispositionMode,
          state: ArchiveState.active,
          ...(attached === undefined ? {} : { businessData: attached }),
        };
        const isWritten =
          current === undefined
            ? await deps.records.createIfAbsent(candidate)
            : await deps.records.replaceIfUnchanged(candidate, current);
        if (isWritten) record = candidate;
      }
      const { integrity } = deps;
      const checked = await integrity?.check(
        interaction.tenantId,
        interaction.interactionId,
        interaction.manifestSha256,
      );
      const stored =
        integrity !== undefined && checked?.status === 'invalid'
          ? await integrity.flag(record, checked.problems, 'intake')
          : record;
      await applyStorageProtection(stored);
      await deps.ledger.append({
        kind: LedgerEntryKind.sealed,
        actor: SYSTEM_ACTOR,
        tenantId: interaction.tenantId,
        subjectType: LedgerSubjectType.interaction,
        subjectId: interaction.interactionId,
        subjectSha256: interaction.manifestSha256,
        details: {
          retentionClass: decision.retentionClass.name,
          expiresAt: decision.expiresAt,
          outcome: interaction.outcome,
          ...(checked === undefined
            ? {}
            : {
                manifestCheck: checked.status,
                ...(checked.status === 'invalid'
                  ? { manifestProblems: [...checked.problems] }
                  : {}),
                ...(checked.status === 'unverifiable'
                  ? { manifestUnverifiable: checked.reason }
                  : {}),
              }),
        },
      });
      log.info('archive interaction sealed', {
        interactionId: interaction.interactionId,
        retentionClass: decision.retentionClass.name,
        ...(checked === undefined ? {} : { manifestCheck: checked.status }),
      });
      return stored;
    },

    /**
     * Places a hold in a tenant; applies to existing and future matching interactions of that
     * tenant only. The blob-level legal hold is set on every blob of every matching interaction
     * already archived (a no-op where the service has none, such as Azurite).
     */
    async placeHold(input: {
      tenantId: string;
      holdId: string;
      matterId: string;
      description: string;
      custodian: string;
      scope: LegalHoldScope;
      actor: string;
    }): Promise<{ hold: LegalHold; entry: LedgerEntry }> {
      const problems = validateHoldScope(input.scope);
      if (problems.length > 0)
        throw new RecorderError(ErrorCode.InvalidRequest, problems.join('; '));
      const hold: LegalHold = {
        tenantId: input.tenantId,
        holdId: input.holdId,
        matterId: input.matterId,
        description: input.description,
        custodian: input.custodian,
        scope: input.scope,
        createdAt: now().toISOString(),
        createdBy: input.actor,
      };
      await deps.holds.create(hold);
      const blobCount = await setBlobLegalHolds(hold, () => true);
      const entry = await deps.ledger.append({
        kind: LedgerEntryKind.held,
        actor: input.actor,
        tenantId: hold.tenantId,
        subjectType: LedgerSubjectType.hold,
        subjectId: hold.holdId,
        subjectSha256: sha256Hex(canonicalJson(hold)),
        details: { matterId: hold.matterId, action: 'placeHold', blobCount },
      });
      return { hold, entry };
    },

    /**
     * Releases a hold of the tenant; the blob-level legal hold is cleared on the blobs of its
     * interactions that no other active hold of the tenant still covers.
     */
    async releaseHold(input: {
      tenantId: string;
      holdId: string;
      actor: string;
    }): Promise<{ isReleased: boolean; entry: LedgerEntry }> {
      const isReleased = await deps.holds.release(input.tenantId, input.holdId, input.actor, now());
      let blobCount = 0;
      const hold = isReleased ? await deps.holds.get(input.tenantId, input.holdId) : undefined;
      if (hold !== undefined) {
        const others = await deps.holds.list(input.tenantId);
        blobCount = await setBlobLegalHolds(
          hold,
          (record) => activeHoldsFor(others, record.interaction, now()).length === 0,
          false,
        );
      }
      const entry = await deps.ledger.append({
        kind: LedgerEntryKind.released,
        actor: input.actor,
        tenantId: input.tenantId,
        subjectType: LedgerSubjectType.hold,
        subjectId: input.holdId,
        details: {
          action: 'releaseHold',
          outcome: isReleased ? 'released' : 'notActive',
          blobCount,
        },
      });
      return { isReleased, entry };
    },

    /** First step of a disposition: is the interaction still due (expired, not held, not gone)? */
    async checkDisposition(input: {
      tenantId: string;
      interactionId: string;
    }): Promise<DispositionCheck> {
      const record = await deps.records.get(input.tenantId, input.interactionId);
      if (record === undefined) return { action: 'skip', reason: 'notArchived' };
      if (record.state === ArchiveState.deleted)
        return { action: 'skip', reason: 'alreadyDeleted' };
      const decision = await deps.media.decide(record);
      if (!decision.isAllowed)
        return { action: 'skip', reason: decision.reason, holdIds: decision.holdIds };
      return { action: 'dispose' };
    },

    /** Records that an approval is awaited (also the reminders, with `reminder` > 0). */
    async requestDispositionApproval(input: {
      tenantId: string;
      interactionId: string;
      reminder: number;
      instanceId: string;
    }): Promise<void> {
      await deps.ledger.append({
        kind: LedgerEntryKind.dispositionRequested,
        actor: SYSTEM_ACTOR,
        tenantId: input.tenantId,
        subjectType: LedgerSubjectType.interaction,
        subjectId: input.interactionId,
        details: { reminder: input.reminder, instanceId: input.instanceId },
      });
      log.info('disposition approval requested', {
        interactionId: input.interactionId,
        reminder: input.reminder,
      });
    },

    /** Records a rejection or a timeout; a rejected record is skipped by later runs. */
    async recordDispositionOutcome(input: {
      tenantId: string;
      interactionId: string;
      outcome: 'rejected' | 'timedOut';
      decidedBy?: string;
    }): Promise<void> {
      if (input.outcome === 'rejected') {
        // Conditional: a hold, business data or the seal written meanwhile is kept.
        const update = await updateRecord(
          deps.records,
          input.tenantId,
          input.interactionId,
          (current) =>
            current.state === ArchiveState.active
              ? { ...current, state: ArchiveState.dispositionRejected }
              : undefined,
        );
        if (update.status === 'notFound') await requireRecord(input.tenantId, input.interactionId);
      } else await requireRecord(input.tenantId, input.interactionId);
      await deps.ledger.append({
        kind: LedgerEntryKind.dispositionRejected,
        actor: input.decidedBy ?? SYSTEM_ACTOR,
        tenantId: input.tenantId,
        subjectType: LedgerSubjectType.interaction,
        subjectId: input.interactionId,
        details: { outcome: input.outcome },
      });
    },

    /** Deletes (crypto-shreds) when the rule allows, keeps a tombstone, writes one `deleted` entry. */
    async disposeInteraction(input: {
      tenantId: string;
      interactionId: string;
      approvedBy: string;
    }): Promise<DisposeOutcome> {
      const record = await deps.records.get(input.tenantId, input.interactionId);
      if (record === undefined) return { status: 'refused', reason: 'notArchived' };
      if (record.state === ArchiveState.deleted) return { status: 'alreadyDeleted' };
      const decision = await deps.media.decide(record);
      if (!decision.isAllowed) return { status: 'refused', reason: decision.reason };
      const shred = await deps.media.shred(record);
      const entry = await deps.ledger.append({
        kind: LedgerEntryKind.deleted,
        actor: input.approvedBy,
        tenantId: input.tenantId,
        subjectType: LedgerSubjectType.interaction,
        subjectId: input.interactionId,
        subjectSha256: record.interaction.manifestSha256,
        details: {
          retentionClass: record.interaction.retentionClass,
          deletedBlobCount: shred.deletedBlobCount,
          isKeyDeleted: shred.isKeyDeleted,
        },
      });
      // Conditional: the tombstone replaces the version it read, never a newer one unseen.
      await updateRecord(deps.records, input.tenantId, input.interactionId, (current) =>
        current.state === ArchiveState.deleted
          ? undefined
          : {
              interaction: tombstoneOf(current.interaction),
              groupIds: current.groupIds,
              dispositionMode: current.dispositionMode,
              state: ArchiveState.deleted,
              tombstone: {
                deletedAt: now().toISOString(),
                approvedBy: input.approvedBy,
                manifestSha256: current.interaction.manifestSha256,
                ledgerSeq: entry.seq,
              },
            },
      );
      log.info('archive interaction deleted', {
        interactionId: input.interactionId,
        ledgerSeq: entry.seq,
      });
      return { status: 'deleted', ledgerSeq: entry.seq, deletedBlobCount: shred.deletedBlobCount };
    },
  };
}
export type ArchiveService = ReturnType<typeof createArchiveService>;

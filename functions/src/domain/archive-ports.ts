/**
 * Ports of the compliance archive. The composition root builds the adapters (Azure Tables and
 * Blobs, or in-memory ones in tests); everything else receives these interfaces.
 */
import type { CustodyConfigurationState } from './custody-configuration';
import type { PartyKey } from './party-keys';
import type {
  DispositionMode,
  InteractionParticipant,
  InteractionRecord,
  InteractionStream,
  LedgerCheckpoint,
  LedgerEntry,
  LedgerEntryDraft,
  LegalHold,
} from '@attest/core';

export { systemClock, type Clock } from '@attest/core';

/** Append-only ledger storage. Entries are never rewritten or removed. */
export interface LedgerStore {
  /** Appends one entry after the current head; safe against concurrent writers. */
  append(draft: LedgerEntryDraft): Promise<LedgerEntry>;
  /** The head, or undefined for an empty ledger. */
  getHead(): Promise<LedgerEntry | undefined>;
  /** Entries with `fromSeq <= seq <= toSeq`, in order. */
  listEntries(fromSeq: number, toSeq?: number): AsyncIterable<LedgerEntry>;
  /** Stores a checkpoint; idempotent per checkpoint seq. */
  putCheckpoint(checkpoint: LedgerCheckpoint): Promise<void>;
  listCheckpoints(): Promise<readonly LedgerCheckpoint[]>;
}

export const ArchiveState = {
  active: 'active',
  /** The class needs approval and a disposition is waiting or was rejected. */
  dispositionRejected: 'dispositionRejected',
  deleted: 'deleted',
} as const;
export type ArchiveState = (typeof ArchiveState)[keyof typeof ArchiveState];

export interface Tombstone {
  readonly deletedAt: string;
  /** Who approved (user object id) or `system`. */
  readonly approvedBy: string;
  readonly manifestSha256?: string;
  readonly ledgerSeq: number;
}

/** An archived interaction: the record as sealed, its retention and its state. */
export interface ArchiveRecord {
  readonly interaction: InteractionRecord;
  /** Groups of the recorded users when archived (for retention rules and RBAC scope). */
  readonly groupIds: readonly string[];
  readonly dispositionMode?: DispositionMode;
  readonly state: ArchiveState;
  readonly tombstone?: Tombstone;
  /** The version of `interaction.customData` (business data), when an integration attached one. */
  readonly businessData?: BusinessDataVersionInfo;
}

/** Who attached which version of an interaction's business data, and its hash. */
export interface BusinessDataVersionInfo {
  /** 1, 2, 3… per interaction. */
  readonly version: number;
  /** SHA-256 (hex) of the data's canonical JSON. */
  readonly sha256: string;
  readonly changedAt: string;
  readonly changedBy: string;
}

/** One kept version of an interaction's business data. */
export interface BusinessDataVersion extends BusinessDataVersionInfo {
  readonly tenantId: string;
  readonly interactionId: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Every version of every interaction's business data, never overwritten: creating a version that
 * exists fails, which is what serialises concurrent writers (`{prefix}businessdata` in Tables).
 */
export interface BusinessDataHistory {
  /** Creates the version unless it exists; false when it did (another writer got there first). */
  createVersion(version: BusinessDataVersion): Promise<boolean>;
  /** The interaction's versions, oldest first. */
  list(tenantId: string, interactionId: string): Promise<readonly BusinessDataVersion[]>;
}

/** A search within one tenant: no query reaches across tenants. */
export interface ArchiveSearchQuery {
  readonly tenantId: string;
  readonly recordedUserId?: string;
  /** ISO instants; an interaction matches when invited in [from, to). */
  readonly from?: string;
  readonly to?: string;
  readonly type?: string;
  readonly callChainId?: string;
  readonly direction?: string;
  readonly outcome?: string;
  /** Digits the PSTN number contains (punctuation ignored). */
  readonly dialedNumber?: string;
  readonly originNumber?: string;
  /** Custom business data: a member (`key`) or any member whose text contains `value`. */
  readonly customData?: { readonly key?: string; readonly value: string };
  readonly interactionIds?: readonly string[];
  readonly isDeletedIncluded?: boolean;
  /** Default 100, at most 1000. */
  readonly limit?: number;
}

/** A stored record and the ETag of that version. */
export interface VersionedArchiveRecord {
  readonly record: ArchiveRecord;
  readonly etag: string;
}

export interface ArchiveRecordStore {
  /**
   * Creates or replaces the record and its expiry index row. Idempotent. `known.previous` is the
   * stored record the caller has just read (undefined: none), so it is not read again.
   */
  upsert(
    record: ArchiveRecord,
    known?: { readonly previous: ArchiveRecord | undefined },
  ): Promise<void>;
  /** Creates the record only if none exists (one conditional write); false when one existed. */
  createIfAbsent(record: ArchiveRecord): Promise<boolean>;
  get(tenantId: string, interactionId: string): Promise<ArchiveRecord | undefined>;
  /** The record with the ETag of the version read, for {@link replaceIfUnchanged}. */
  getVersioned(
    tenantId: string,
    interactionId: string,
  ): Promise<VersionedArchiveRecord | undefined>;
  /**
   * Replaces the record (and its expiry index row) only if it is still the version `known` read
   * (one conditional write); false when another writer changed it since: read again and merge.
   */
  replaceIfUnchanged(record: ArchiveRecord, known: VersionedArchiveRecord): Promise<boolean>;
  /** Active records whose expiry is at or before `now`, whatever day they expired (catch-up). */
  listExpired(now: Date): AsyncIterable<ArchiveRecord>;
  search(query: ArchiveSearchQuery): AsyncIterable<ArchiveRecord>;
}

/**
 * The party index: which interactions of a tenant each party took part in, by
 * {@link PartyKey} (phone number or identity id), so a data subject request finds a PSTN caller
 * or a guest as surely as a recorded user. Every read and write names the tenant.
 */
export interface PartyIndex {
  /** Records that these parties took part in the interaction. Idempotent. */
  add(tenantId: string, interactionId: string, keys: readonly PartyKey[]): Promise<void>;
  /** Interaction ids of the tenant the party took part in (none: empty). */
  listInteractionIds(tenantId: string, key: PartyKey): Promise<readonly string[]>;
  /** Whether the tenant's archive was indexed once in full (`version` names the index's shape). */
  isBackfilled(tenantId: string, version: string): Promise<boolean>;
  markBackfilled(tenantId: string, version: string, at: Date): Promise<void>;
}

/**
 * The recorder's own log of every invite it received (its interactions tables), failed and busy
 * ones included, with each call's participants and stored streams: what analytics counts and what
 * a participant search reads.
 */
export interface CallLog {
  /** Every invite of the tenant received in [from, to). */
  invitedBetween(period: {
    readonly from: string;
    readonly to: string;
    readonly tenantId: string;
  }): AsyncIterable<InteractionRecord>;
  listParticipants(interactionId: string): Promise<readonly InteractionParticipant[]>;
  listStreams(interactionId: string): Promise<readonly InteractionStream[]>;
}

/**
 * Legal holds, kept per tenant: every read and write names the tenant, so no caller can reach
 * another tenant's holds. A stored hold that cannot be read is skipped and reported through the
 * adapter's alert, never fails the read of the others.
 */
export interface HoldStore {
  /** Stores under `hold.tenantId`. */
  create(hold: LegalHold): Promise<void>;
  get(tenantId: string, holdId: string): Promise<LegalHold | undefined>;
  /** Every hold of the tenant, released ones included. */
  list(tenantId: string): Promise<readonly LegalHold[]>;
  /** Sets `releasedAt`/`releasedBy` once; false when already released or unknown in the tenant. */
  release(tenantId: string, holdId: string, releasedBy: string, releasedAt: Date): Promise<boolean>;
}

/** Raw access to recorded media and wrapped keys; wrapped by {@link GuardedMediaStore} for deletes. */
export interface RecordingBlobStore {
  /** Blob names under `{tenantId}/{interactionId}/` in the recordings container. */
  listRecordingBlobs(tenantId: string, interactionId: string): Promise<readonly string[]>;
  readRecordingBlob(blobName: string): Promise<Buffer | undefined>;
  /** Idempotent. */
  deleteRecordingBlob(blobName: string): Promise<void>;
  readWrappedKey(tenantId: string, interactionId: string): Promise<Buffer | undefined>;
  /** Idempotent. */
  deleteWrappedKey(tenantId: string, interactionId: string): Promise<void>;
  /** Sets time-based retention on a blob where the service supports it (real Azure); no-op otherwise. */
  applyImmutability(blobName: string, until: Date): Promise<void>;
  /** Sets or clears the blob legal hold where supported; no-op otherwise. */
  setLegalHold(blobName: string, isHeld: boolean): Promise<void>;
}

/** One export package: what an {@link ExportPackageStore} keeps apart from every other. */
export interface ExportPackageRef {
  readonly tenantId: string;
  readonly exportId: string;
}

/**
 * Where export packages are written and read back: in Azure a blob container (`exports`), one
 * folder per tenant and export, never the function host's disk. Paths are the package's own
 * relative paths (`export.json`, `interactions/...`), always with `/`.
 */
export interface ExportPackageStore {
  /** Creates or replaces one file of the package. */
  write(ref: ExportPackageRef, path: string, bytes: Buffer | string): Promise<void>;
  /** The file's bytes, or undefined when absent. */
  read(ref: ExportPackageRef, path: string): Promise<Buffer | undefined>;
  /** Idempotent. */
  delete(ref: ExportPackageRef, path: string): Promise<void>;
  /** Every file of the package, sorted; empty when there is none. */
  list(ref: ExportPackageRef): Promise<readonly string[]>;
  /** Streams one file (bounded memory whatever its size); undefined when absent. */
  openRead(ref: ExportPackageRef, path: string): Promise<NodeJS.ReadableStream | undefined>;
}

/**
 * What an authorised person asked to export, written by the HTTP starter before it starts the
 * export orchestration. The export's activities act only on a request that matches it, so an
 * orchestration started another way (the durable management API) with a forged actor does nothing.
 */
export interface ExportRequestRecord {
  readonly tenantId: string;
  readonly exportId: string;
  readonly createdBy: string;
  /** SHA-256 (hex) of the canonical JSON of the selection (`{ holdId }` or `{ query }`). */
  readonly scopeSha256: string;
  readonly requestedAt: string;
}

/** Export requests, per tenant (`{prefix}exportrequests` in Azure Tables). */
export interface ExportRequestStore {
  /** Creates or replaces the request of `exportId` in its tenant (a resume replaces it). */
  put(record: ExportRequestRecord): Promise<void>;
  get(tenantId: string, exportId: string): Promise<ExportRequestRecord | undefined>;
}

/** Writes the blobs the archive itself seals (an interaction manifest of several captures). */
export interface SealedBlobWriter {
  /** Writes `bytes` under `blobName` in the recordings container unless it exists; false when it did. */
  createRecordingBlobOnce(blobName: string, bytes: Buffer): Promise<boolean>;
}

/** The recorded users' groups (Graph in Azure; configuration locally). */
export interface GroupDirectory {
  groupsOf(userIds: readonly string[]): Promise<readonly string[]>;
}

/** The custody configuration recorded at the last start (see custody-configuration.ts). */
export interface CustodyConfigurationStore {
  get(): Promise<CustodyConfigurationState | undefined>;
  put(state: CustodyConfigurationState): Promise<void>;
}

/** Transitive security-group membership of a user, from the directory (Microsoft Graph). */
export interface MemberGroupsLookup {
  /** Group object ids; rejects when the directory cannot answer. */
  memberGroupsOf(tenantId: string, userId: string): Promise<readonly string[]>;
}

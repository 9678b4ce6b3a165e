/**
 * In-memory archive stores: used by unit tests and by tools that work on a snapshot. They obey
 * the same contracts as the Azure adapters (append-only ledger, idempotent deletes).
 */
import {
  createLedgerEntry,
  type LedgerCheckpoint,
  type LedgerEntry,
  type LedgerEntryDraft,
  type LegalHold,
} from '@attest/core';
import { Readable } from 'node:stream';
import type {
  ArchiveRecord,
  ArchiveRecordStore,
  ArchiveSearchQuery,
  BusinessDataHistory,
  BusinessDataVersion,
  VersionedArchiveRecord,
  Clock,
  ExportPackageRef,
  ExportPackageStore,
  ExportRequestRecord,
  ExportRequestStore,
  HoldStore,
  LedgerStore,
  PartyIndex,
  RecordingBlobStore,
} from '../domain/archive-ports';
import type { PartyKey } from '../domain/party-keys';
import { DEFAULT_SEARCH_LIMIT, matchesQuery } from '../domain/archive-search';

export class MemoryLedgerStore implements LedgerStore {
  readonly entries: LedgerEntry[] = [];
  readonly checkpoints: LedgerCheckpoint[] = [];

  constructor(private readonly clock: Clock) {}

  append(draft: LedgerEntryDraft): Promise<LedgerEntry> {
    const entry = createLedgerEntry(draft, this.entries[this.entries.length - 1], this.clock.now());
    this.entries.push(entry);
    return Promise.resolve(entry);
  }

  getHead(): Promise<LedgerEntry | undefined> {
    return Promise.resolve(this.entries[this.entries.length - 1]);
  }

  async *listEntries(fromSeq: number, toSeq = Number.MAX_SAFE_INTEGER): AsyncIterable<LedgerEntry> {
    await Promise.resolve();
    for (const entry of this.entries) if (entry.seq >= fromSeq && entry.seq <= toSeq) yield entry;
  }

  putCheckpoint(checkpoint: LedgerCheckpoint): Promise<void> {
    if (!this.checkpoints.some((c) => c.seq === checkpoint.seq)) this.checkpoints.push(checkpoint);
    return Promise.resolve();
  }

  listCheckpoints(): Promise<readonly LedgerCheckpoint[]> {
    return Promise.resolve([...this.checkpoints]);
  }
}

const recordKey = (tenantId: string, interactionId: string): string =>
  `${tenantId}\u0000${interactionId}`;

export class MemoryArchiveRecordStore implements ArchiveRecordStore {
  readonly records = new Map<string, ArchiveRecord>();
  /** The ETag of each stored record: a new one at every write. */
  readonly #etags = new Map<string, string>();
  #writes = 0;

  #set(key: string, record: ArchiveRecord): void {
    this.records.set(key, record);
    this.#etags.set(key, `"w${(this.#writes += 1)}"`);
  }

  upsert(record: ArchiveRecord): Promise<void> {
    this.#set(recordKey(record.interaction.tenantId, record.interaction.interactionId), record);
    return Promise.resolve();
  }

  createIfAbsent(record: ArchiveRecord): Promise<boolean> {
    const key = recordKey(record.interaction.tenantId, record.interaction.interactionId);
    if (this.records.has(key)) return Promise.resolve(false);
    this.#set(key, record);
    return Promise.resolve(true);
  }

  replaceIfUnchanged(record: ArchiveRecord, known: VersionedArchiveRecord): Promise<boolean> {
    const key = recordKey(record.interaction.tenantId, record.interaction.interactionId);
    if (!this.records.has(key) || this.#etagOf(key) !== known.etag) return Promise.resolve(false);
    this.#set(key, record);
    return Promise.resolve(true);
  }

  get(tenantId: string, interactionId: string): Promise<ArchiveRecord | undefined> {
    return Promise.resolve(this.records.get(recordKey(tenantId, interactionId)));
  }

  getVersioned(
    tenantId: string,
    interactionId: string,
  ): Promise<VersionedArchiveRecord | undefined> {
    const key = recordKey(tenantId, interactionId);
    const record = this.records.get(key);
    return Promise.resolve(record === undefined ? undefined : { record, etag: this.#etagOf(key) });
  }

  /** A record set in `records` directly (tests) has the first ETag until it is written. */
  #etagOf(key: string): string {
    return this.#etags.get(key) ?? '"w0"';
  }

  async *listExpired(now: Date): AsyncIterable<ArchiveRecord> {
    await Promise.resolve();
    for (const record of [...this.records.values()]) {
      const expiresAt = record.interaction.expiresAt;
      if (
        record.state === 'active' &&
        expiresAt !== undefined &&
        Date.parse(expiresAt) <= now.getTime()
      )
        yield record;
    }
  }

  async *search(query: ArchiveSearchQuery): AsyncIterable<ArchiveRecord> {
    await Promise.resolve();
    let count = 0;
    const limit = query.limit ?? DEFAULT_SEARCH_LIMIT;
    for (const record of this.records.values()) {
      if (count >= limit) return;
      if (matchesQuery(record, query)) {
        count += 1;
        yield record;
      }
    }
  }
}

export class MemoryHoldStore implements HoldStore {
  /** By `{tenantId}\u0000{holdId}`. */
  readonly holds = new Map<string, LegalHold>();

  create(hold: LegalHold): Promise<void> {
    const key = recordKey(hold.tenantId, hold.holdId);
    if (this.holds.has(key)) return Promise.reject(new Error(`hold ${hold.holdId} exists`));
    this.holds.set(key, hold);
    return Promise.resolve();
  }

  get(tenantId: string, holdId: string): Promise<LegalHold | undefined> {
    return Promise.resolve(this.holds.get(recordKey(tenantId, holdId)));
  }

  list(tenantId: string): Promise<readonly LegalHold[]> {
    return Promise.resolve([...this.holds.values()].filter((h) => h.tenantId === tenantId));
  }

  release(
    tenantId: string,
    holdId: string,
    releasedBy: string,
    releasedAt: Date,
  ): Promise<boolean> {
    const key = recordKey(tenantId, holdId);
    const hold = this.holds.get(key);
    if (hold === undefined || hold.releasedAt !== undefined) return Promise.resolve(false);
    this.holds.set(key, { ...hold, releasedBy, releasedAt: releasedAt.toISOString() });
    return Promise.resolve(true);
  }
}

export class MemoryRecordingBlobStore implements RecordingBlobStore {
  readonly recordings = new Map<string, Buffer>();
  readonly keys = new Map<string, Buffer>();
  readonly immutability = new Map<string, Date>();
  readonly legalHolds = new Set<string>();

  listRecordingBlobs(tenantId: string, interactionId: string): Promise<readonly string[]> {
    const prefix = `${tenantId}/${interactionId}/`;
    return Promise.resolve(
      [...this.recordings.keys()].filter((name) => name.startsWith(prefix)).sort(),
    );
  }

  readRecordingBlob(blobName: string): Promise<Buffer | undefined> {
    return Promise.resolve(this.recordings.get(blobName));
  }

  deleteRecordingBlob(blobName: string): Promise<void> {
    this.recordings.delete(blobName);
    return Promise.resolve();
  }

  readWrappedKey(tenantId: string, interactionId: string): Promise<Buffer | undefined> {
    return Promise.resolve(this.keys.get(`${tenantId}/${interactionId}.json`));
  }

  deleteWrappedKey(tenantId: string, interactionId: string): Promise<void> {
    this.keys.delete(`${tenantId}/${interactionId}.json`);
    return Promise.resolve();
  }

  applyImmutability(blobName: string, until: Date): Promise<void> {
    this.immutability.set(blobName, until);
    return Promise.resolve();
  }

  setLegalHold(blobName: string, isHeld: boolean): Promise<void> {
    if (isHeld) this.legalHolds.add(blobName);
    else this.legalHolds.delete(blobName);
    return Promise.resolve();
  }
}

/** Export packages in memory, by `{tenantId}/{exportId}/{path}`. */
export class MemoryExportPackageStore implements ExportPackageStore {
  readonly files = new Map<string, Buffer>();

  private key(ref: ExportPackageRef, path: string): string {
    return `${ref.tenantId}/${ref.exportId}/${path}`;
  }

  write(ref: ExportPackageRef, path: string, bytes: Buffer | string): Promise<void> {
    this.files.set(this.key(ref, path), Buffer.from(bytes));
    return Promise.resolve();
  }

  read(ref: ExportPackageRef, path: string): Promise<Buffer | undefined> {
    return Promise.resolve(this.files.get(this.key(ref, path)));
  }

  delete(ref: ExportPackageRef, path: string): Promise<void> {
    this.files.delete(this.key(ref, path));
    return Promise.resolve();
  }

  list(ref: ExportPackageRef): Promise<readonly string[]> {
    const prefix = this.key(ref, '');
    return Promise.resolve(
      [...this.files.keys()]
        .filter((k) => k.startsWith(prefix))
        .map((k) => k.slice(prefix.length))
        .sort(),
    );
  }

  openRead(ref: ExportPackageRef, path: string): Promise<NodeJS.ReadableStream | undefined> {
    const bytes = this.files.get(this.key(ref, path));
    return Promise.resolve(bytes === undefined ? undefined : Readable.from([bytes]));
  }
}

/** The party index in memory: tenant → party key → interaction ids. */
export class MemoryPartyIndex implements PartyIndex {
  readonly rows = new Map<string, Set<string>>();
  readonly backfilled = new Set<string>();

  add(tenantId: string, interactionId: string, keys: readonly PartyKey[]): Promise<void> {
    for (const key of keys) {
      const row = `${tenantId}\u0000${key}`;
      const ids = this.rows.get(row) ?? new Set<string>();
      ids.add(interactionId);
      this.rows.set(row, ids);
    }
    return Promise.resolve();
  }

  listInteractionIds(tenantId: string, key: PartyKey): Promise<readonly string[]> {
    return Promise.resolve([...(this.rows.get(`${tenantId}\u0000${key}`) ?? [])]);
  }

  isBackfilled(tenantId: string, version: string): Promise<boolean> {
    return Promise.resolve(this.backfilled.has(`${tenantId}\u0000${version}`));
  }

  markBackfilled(tenantId: string, version: string): Promise<void> {
    this.backfilled.add(`${tenantId}\u0000${version}`);
    return Promise.resolve();
  }
}

export class MemoryExportRequestStore implements ExportRequestStore {
  readonly rows = new Map<string, ExportRequestRecord>();

  put(record: ExportRequestRecord): Promise<void> {
    this.rows.set(`${record.tenantId}/${record.exportId}`, record);
    return Promise.resolve();
  }

  get(tenantId: string, exportId: string): Promise<ExportRequestRecord | undefined> {
    return Promise.resolve(this.rows.get(`${tenantId}/${exportId}`));
  }
}

export class MemoryBusinessDataHistory implements BusinessDataHistory {
  readonly versions = new Map<string, BusinessDataVersion>();

  createVersion(version: BusinessDataVersion): Promise<boolean> {
    const key = `${version.tenantId}/${version.interactionId}/${version.version}`;
    if (this.versions.has(key)) return Promise.resolve(false);
    this.versions.set(key, version);
    return Promise.resolve(true);
  }

  list(tenantId: string, interactionId: string): Promise<readonly BusinessDataVersion[]> {
    return Promise.resolve(
      [...this.versions.values()]
        .filter((v) => v.tenantId === tenantId && v.interactionId === interactionId)
        .sort((a, b) => a.version - b.version),
    );
  }
}

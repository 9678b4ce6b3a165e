/**
 * Archive records and legal holds in Azure Tables.
 * - `{prefix}archiverecords`: PartitionKey tenantId, RowKey interactionId, the record as JSON plus
 *   query columns (state, invitedAt, type, callChainId, expiresAt).
 * - `{prefix}archiveexpiry`: the expiry index, PartitionKey = expiry day (YYYY-MM-DD), RowKey =
 *   `{tenantId}|{interactionId}`; one row per active record with an expiry. The retention job
 *   reads every partition up to today, so days it missed are caught up.
 * - `{prefix}legalholds`: PartitionKey tenantId, RowKey holdId, the hold as JSON (read through
 *   its schema: a row that is not a hold is skipped and reported, never fails the others).
 */
import { odata, RestError, TableClient, type TableEntity } from '@azure/data-tables';
import { ErrorCode, expiryDay, RecorderError, type LegalHold } from '@attest/core';
import type {
  ArchiveRecord,
  ArchiveRecordStore,
  ArchiveSearchQuery,
  HoldStore,
  VersionedArchiveRecord,
} from '../domain/archive-ports';
import { DEFAULT_SEARCH_LIMIT, matchesQuery } from '../domain/archive-search';
import { parseStoredHold } from '../domain/legal-hold-schema';

export interface ArchiveTableNames {
  readonly records: string;
  readonly expiry: string;
  readonly holds: string;
  readonly ledger: string;
  /** Deployment-wide archive state (the last recorded custody configuration). */
  readonly settings: string;
  /** The party index (data subject requests by phone number or identity id). */
  readonly parties: string;
  /** Export requests as the HTTP starter recorded them (what export activities check). */
  readonly exportRequests: string;
  /** Every version of interactions' business data. */
  readonly businessData: string;
}

/** Table names, with an optional prefix (letters and digits) for isolation. */
export function archiveTableNames(prefix = ''): ArchiveTableNames {
  return {
    records: `${prefix}archiverecords`,
    expiry: `${prefix}archiveexpiry`,
    holds: `${prefix}legalholds`,
    ledger: `${prefix}ledger`,
    settings: `${prefix}archivesettings`,
    parties: `${prefix}archiveparties`,
    exportRequests: `${prefix}exportrequests`,
    businessData: `${prefix}businessdata`,
  };
}

const isStatus = (error: unknown, status: number): boolean =>
  error instanceof RestError && error.statusCode === status;

async function ignoreNotFound(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
  }
}

const indexRowKey = (tenantId: string, interactionId: string): string =>
  `${tenantId}|${interactionId}`;

/** A Table string property holds at most 32 K UTF-16 characters: long JSON is split over columns. */
const JSON_CHUNK_CHARS = 30_000;
// An entity holds at most 1 MiB: 15 columns of 30 K characters (UTF-16) stay below it.
const MAX_JSON_CHUNKS = 15;

function jsonColumns(value: unknown): Record<string, string | number> {
  const text = JSON.stringify(value);
  const parts = Math.max(1, Math.ceil(text.length / JSON_CHUNK_CHARS));
  if (parts > MAX_JSON_CHUNKS)
    throw new RecorderError(
      ErrorCode.PayloadTooLarge,
      `the archive record is larger than ${MAX_JSON_CHUNKS * JSON_CHUNK_CHARS} characters`,
    );
  const columns: Record<string, string | number> = { jsonParts: parts };
  for (let i = 0; i < parts; i += 1)
    columns[`json${i}`] = text.slice(i * JSON_CHUNK_CHARS, (i + 1) * JSON_CHUNK_CHARS);
  return columns;
}

function fromJsonColumns<T>(row: Record<string, unknown>): T {
  const parts = typeof row.jsonParts === 'number' ? row.jsonParts : 0;
  let text = '';
  for (let i = 0; i < parts; i += 1) {
    const part = row[`json${i}`];
    text += typeof part === 'string' ? part : '';
  }
  return JSON.parse(text) as T;
}

function recordEntity(record: ArchiveRecord): TableEntity<Record<string, unknown>> {
  return {
    partitionKey: record.interaction.tenantId,
    rowKey: record.interaction.interactionId,
    ...jsonColumns(record),
    state: record.state,
    invitedAt: record.interaction.invitedAt,
    type: record.interaction.type,
    callChainId: record.interaction.callChainId ?? '',
    expiresAt: record.interaction.expiresAt ?? '',
  };
}

export class TableArchiveRecordStore implements ArchiveRecordStore {
  private isReady = false;

  constructor(
    private readonly records: TableClient,
    private readonly expiry: TableClient,
  ) {}

  static fromConnectionString(
    connectionString: string,
    names: ArchiveTableNames,
  ): TableArchiveRecordStore {
    const options = { allowInsecureConnection: true };
    return new TableArchiveRecordStore(
      TableClient.fromConnectionString(connectionString, names.records, options),
      TableClient.fromConnectionString(connectionString, names.expiry, options),
    );
  }

  private async ready(): Promise<void> {
    if (this.isReady) return;
    await this.records.createTable();
    await this.expiry.createTable();
    this.isReady = true;
  }

  async upsert(
    record: ArchiveRecord,
    known?: { readonly previous: ArchiveRecord | undefined },
  ): Promise<void> {
    await this.ready();
    const { tenantId, interactionId } = record.interaction;
    const previous = known === undefined ? await this.get(tenantId, interactionId) : known.previous;
    await this.#writeIndexed(record, previous, () =>
      this.records.upsertEntity(recordEntity(record), 'Replace').then(() => true),
    );
  }

  async replaceIfUnchanged(record: ArchiveRecord, known: VersionedArchiveRecord): Promise<boolean> {
    await this.ready();
    return this.#writeIndexed(record, known.record, async () => {
      try {
        await this.records.updateEntity(recordEntity(record), 'Replace', { etag: known.etag });
        return true;
      } catch (error) {
        if (isStatus(error, 412) || isStatus(error, 404)) return false;
        throw error;
      }
    });
  }

  /** Writes the record with `write`, keeping its expiry index row in step when the write lands. */
  async #writeIndexed(
    record: ArchiveRecord,
    previous: ArchiveRecord | undefined,
    write: () => Promise<boolean>,
  ): Promise<boolean> {
    const { tenantId, interactionId, expiresAt } = record.interaction;
    const previousExpiry = previous?.interaction.expiresAt;
    // Index first: a crash between the two writes leaves an extra index row, which the job re-checks.
    const isIndexed = record.state === 'active' && expiresAt !== undefined;
    if (isIndexed) {
      await this.expiry.upsertEntity(
        {
          partitionKey: expiryDay(expiresAt),
          rowKey: indexRowKey(tenantId, interactionId),
          tenantId,
          interactionId,
          expiresAt,
        },
        'Replace',
      );
    }
    if (!(await write())) return false;
    if (
      previousExpiry !== undefined &&
      (!isIndexed || expiryDay(previousExpiry) !== expiryDay(expiresAt))
    ) {
      await ignoreNotFound(
        this.expiry.deleteEntity(expiryDay(previousExpiry), indexRowKey(tenantId, interactionId)),
      );
    }
    return true;
  }

  async createIfAbsent(record: ArchiveRecord): Promise<boolean> {
    await this.ready();
    return this.#writeIndexed(record, undefined, async () => {
      try {
        await this.records.createEntity(recordEntity(record));
        return true;
      } catch (error) {
        if (isStatus(error, 409)) return false;
        throw error;
      }
    });
  }

  async get(tenantId: string, interactionId: string): Promise<ArchiveRecord | undefined> {
    return (await this.getVersioned(tenantId, interactionId))?.record;
  }

  async getVersioned(
    tenantId: string,
    interactionId: string,
  ): Promise<VersionedArchiveRecord | undefined> {
    await this.ready();
    try {
      const row = await this.records.getEntity<Record<string, unknown>>(tenantId, interactionId);
      return { record: fromJsonColumns<ArchiveRecord>(row), etag: row.etag };
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async *listExpired(now: Date): AsyncIterable<ArchiveRecord> {
    await this.ready();
    const filter = odata`PartitionKey le ${expiryDay(now.toISOString())}`;
    for await (const row of this.expiry.listEntities<{
      tenantId: string;
      interactionId: string;
      expiresAt: string;
    }>({ queryOptions: { filter } })) {
      if (Date.parse(row.expiresAt) > now.getTime()) continue;
      const record = await this.get(row.tenantId, row.interactionId);
      if (record?.state === 'active') yield record;
    }
  }

  async *search(query: ArchiveSearchQuery): AsyncIterable<ArchiveRecord> {
    await this.ready();
    // One partition per tenant: a search never reads another tenant's rows.
    const clauses: string[] = [odata`PartitionKey eq ${query.tenantId}`];
    if (query.from !== undefined)
      clauses.push(odata`invitedAt ge ${new Date(query.from).toISOString()}`);
    if (query.to !== undefined)
      clauses.push(odata`invitedAt lt ${new Date(query.to).toISOString()}`);
    if (query.type !== undefined) clauses.push(odata`type eq ${query.type}`);
    if (query.callChainId !== undefined) clauses.push(odata`callChainId eq ${query.callChainId}`);
    if (query.isDeletedIncluded !== true) clauses.push(odata`state ne ${'deleted'}`);
    const limit = query.limit ?? DEFAULT_SEARCH_LIMIT;
    let count = 0;
    const filter = clauses.join(' and ');
    for await (const row of this.records.listEntities<Record<string, unknown>>({
      queryOptions: { filter },
    })) {
      const record = fromJsonColumns<ArchiveRecord>(row);
      if (!matchesQuery(record, query)) continue;
      yield record;
      count += 1;
      if (count >= limit) return;
    }
  }
}

/** Told about a stored hold that cannot be read (it is skipped; an operator must look at it). */
export type UnreadableHoldAlert = (tenantId: string, holdId: string) => void;

export class TableHoldStore implements HoldStore {
  private isReady = false;

  constructor(
    private readonly table: TableClient,
    private readonly onUnreadable: UnreadableHoldAlert = () => undefined,
  ) {}

  static fromConnectionString(
    connectionString: string,
    names: ArchiveTableNames,
    onUnreadable?: UnreadableHoldAlert,
  ): TableHoldStore {
    return new TableHoldStore(
      TableClient.fromConnectionString(connectionString, names.holds, {
        allowInsecureConnection: true,
      }),
      onUnreadable,
    );
  }

  private async ready(): Promise<void> {
    if (this.isReady) return;
    await this.table.createTable();
    this.isReady = true;
  }

  private parse(tenantId: string, holdId: string, json: string): LegalHold | undefined {
    const hold = parseStoredHold(json);
    if (hold === undefined || hold.tenantId !== tenantId) {
      this.onUnreadable(tenantId, holdId);
      return undefined;
    }
    return hold;
  }

  async create(hold: LegalHold): Promise<void> {
    await this.ready();
    await this.table.createEntity({
      partitionKey: hold.tenantId,
      rowKey: hold.holdId,
      json: JSON.stringify(hold),
    });
  }

  async get(tenantId: string, holdId: string): Promise<LegalHold | undefined> {
    await this.ready();
    try {
      const row = await this.table.getEntity<{ json: string }>(tenantId, holdId);
      return this.parse(tenantId, holdId, row.json);
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async list(tenantId: string): Promise<readonly LegalHold[]> {
    await this.ready();
    const out: LegalHold[] = [];
    for await (const row of this.table.listEntities<{ json: string; rowKey: string }>({
      queryOptions: { filter: odata`PartitionKey eq ${tenantId}` },
    })) {
      const hold = this.parse(tenantId, row.rowKey, row.json);
      if (hold !== undefined) out.push(hold);
    }
    return out;
  }

  async release(
    tenantId: string,
    holdId: string,
    releasedBy: string,
    releasedAt: Date,
  ): Promise<boolean> {
    await this.ready();
    let row;
    try {
      row = await this.table.getEntity<{ json: string }>(tenantId, holdId);
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
    const hold = this.parse(tenantId, holdId, row.json);
    if (hold === undefined || hold.releasedAt !== undefined) return false;
    try {
      await this.table.updateEntity(
        {
          partitionKey: tenantId,
          rowKey: holdId,
          json: JSON.stringify({ ...hold, releasedAt: releasedAt.toISOString(), releasedBy }),
        },
        'Replace',
        { etag: row.etag },
      );
      return true;
    } catch (error) {
      if (isStatus(error, 412)) return false;
      throw error;
    }
  }
}

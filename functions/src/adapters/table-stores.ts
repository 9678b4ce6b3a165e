/**
 * Azure Tables adapters of the recorder's ports: interactions (+ participants, streams), the media
 * host registry and the webhook delivery log. Arrays and objects are JSON text in `...Json` columns.
 */
import { TableClient, odata, type TransactionAction } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import {
  ErrorCode,
  RecorderError,
  TableNames,
  sanitizeKey,
  type InteractionParticipant,
  type InteractionRecord,
  type InteractionStream,
  type MediaHostHeartbeat,
} from '@attest/core';
import type {
  DeliveryLog,
  InteractionFilter,
  InteractionPatch,
  InteractionRow,
  InteractionStore,
  KnownInteractionRow,
  MediaHostRecord,
  MediaHostRegistry,
  RecordingStartClaim,
} from '../domain/recorder-ports';

/** Builds a table client for a table name; creates the table on first use. */
export type TableFactory = (tableName: string) => Promise<TableClient>;

export function createTableFactory(options: {
  connectionString?: string;
  tableUrl?: string;
  credential?: TokenCredential;
}): TableFactory {
  const clients = new Map<string, Promise<TableClient>>();
  return (tableName) => {
    let client = clients.get(tableName);
    if (client === undefined) {
      client = (async () => {
        const created =
          options.connectionString !== undefined
            ? TableClient.fromConnectionString(options.connectionString, tableName, {
                allowInsecureConnection: true,
              })
            : new TableClient(
                `${options.tableUrl ?? ''}`,
                tableName,
                options.credential as TokenCredential,
              );
        await created.createTable();
        return created;
      })();
      client.catch(() => clients.delete(tableName));
      clients.set(tableName, client);
    }
    return client;
  };
}

export function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error
    ? Number(error.statusCode)
    : undefined;
}

export function storageError(operation: string, error: unknown): RecorderError {
  return new RecorderError(ErrorCode.StorageWriteFailed, `table ${operation} failed; retry later`, {
    retryable: true,
    cause: error,
    details: { operation, status: statusOf(error) ?? 0 },
  });
}

const JSON_FIELDS = ['recordedUserIds', 'recordingStatusHistory', 'gaps', 'customData'] as const;

export function toEntity(values: object): Record<string, unknown> {
  const entity: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (
      (JSON_FIELDS as readonly string[]).includes(key) ||
      (typeof value === 'object' && value !== null)
    ) {
      entity[`${key}Json`] = JSON.stringify(value);
    } else {
      entity[key] = value;
    }
  }
  return entity;
}

export function fromEntity<T>(entity: Readonly<Record<string, unknown>>): T {
  const record: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entity)) {
    if (
      key === 'partitionKey' ||
      key === 'rowKey' ||
      key === 'etag' ||
      key === 'timestamp' ||
      key.startsWith('odata')
    )
      continue;
    if (key.endsWith('Json') && typeof value === 'string') {
      try {
        record[key.slice(0, -4)] = JSON.parse(value);
      } catch {
        record[key.slice(0, -4)] = undefined;
      }
    } else record[key] = value;
  }
  return record as T;
}

type StoredInteraction = InteractionRow;
/** Conditional-write attempts of a claim before it counts as taken (other writers kept winning). */
const CLAIM_ATTEMPTS = 3;
/** Conditional-write attempts of a read-modify-write (roster changes come in bursts). */
const MODIFY_ATTEMPTS = 8;
/** Participants or streams per entity-group transaction (the service's limit is 100). */
const BATCH_SIZE = 100;

export class TablesInteractionStore implements InteractionStore {
  constructor(private readonly tables: TableFactory) {}

  async createIfAbsent(
    record: InteractionRecord,
    extra: Readonly<Record<string, string>> = {},
  ): Promise<boolean> {
    const table = await this.tables(TableNames.interactions);
    try {
      await table.createEntity({
        partitionKey: sanitizeKey(record.tenantId),
        rowKey: sanitizeKey(record.interactionId),
        ...toEntity({ ...record, ...extra }),
      });
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw storageError('insert interaction', error);
    }
  }

  async update(
    tenantId: string,
    interactionId: string,
    patch: InteractionPatch,
  ): Promise<string | undefined> {
    const table = await this.tables(TableNames.interactions);
    try {
      const written = await table.updateEntity(
        {
          partitionKey: sanitizeKey(tenantId),
          rowKey: sanitizeKey(interactionId),
          ...toEntity(patch),
        },
        'Merge',
      );
      return written.etag;
    } catch (error) {
      throw storageError('update interaction', error);
    }
  }

  async claimRecordingStart(
    tenantId: string,
    interactionId: string,
    claimedAt: string,
    isEligible: (row: InteractionRow) => boolean,
    known?: KnownInteractionRow,
  ): Promise<RecordingStartClaim> {
    const table = await this.tables(TableNames.interactions);
    const partitionKey = sanitizeKey(tenantId);
    const rowKey = sanitizeKey(interactionId);
    if (
      known !== undefined &&
      known.row.recordingStartClaimedAt === undefined &&
      isEligible(known.row)
    ) {
      try {
        await table.updateEntity(
          { partitionKey, rowKey, recordingStartClaimedAt: claimedAt },
          'Merge',
          { etag: known.etag },
        );
        return { kind: 'claimed', row: { ...known.row, recordingStartClaimedAt: claimedAt } };
      } catch (error) {
        // 412: written since (a claim, or any other write): read it as without `known`.
        if (statusOf(error) !== 412) throw storageError('claim recording start', error);
      }
    }
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt += 1) {
      let entity: Record<string, unknown> & { etag: string };
      try {
        entity = await table.getEntity(partitionKey, rowKey);
      } catch (error) {
        if (statusOf(error) === 404) return { kind: 'absent' };
        throw storageError('read interaction', error);
      }
      const row = fromEntity<InteractionRow>(entity);
      if (row.recordingStartClaimedAt !== undefined) return { kind: 'taken' };
      if (!isEligible(row)) return { kind: 'ineligible', row };
      try {
        await table.updateEntity(
          { partitionKey, rowKey, recordingStartClaimedAt: claimedAt },
          'Merge',
          { etag: entity.etag },
        );
        return { kind: 'claimed', row: { ...row, recordingStartClaimedAt: claimedAt } };
      } catch (error) {
        // 412: the row changed since it was read (a claim, or any other write): read again.
        if (statusOf(error) !== 412) throw storageError('claim recording start', error);
      }
    }
    return { kind: 'taken' };
  }

  async modify(
    tenantId: string,
    interactionId: string,
    change: (row: InteractionRow) => InteractionPatch | undefined,
  ): Promise<'updated' | 'unchanged' | 'absent' | 'conflict'> {
    const table = await this.tables(TableNames.interactions);
    const partitionKey = sanitizeKey(tenantId);
    const rowKey = sanitizeKey(interactionId);
    for (let attempt = 1; attempt <= MODIFY_ATTEMPTS; attempt += 1) {
      let entity: Record<string, unknown> & { etag: string };
      try {
        entity = await table.getEntity(partitionKey, rowKey);
      } catch (error) {
        if (statusOf(error) === 404) return 'absent';
        throw storageError('read interaction', error);
      }
      const patch = change(fromEntity<InteractionRow>(entity));
      if (patch === undefined) return 'unchanged';
      try {
        await table.updateEntity({ partitionKey, rowKey, ...toEntity(patch) }, 'Merge', {
          etag: entity.etag,
        });
        return 'updated';
      } catch (error) {
        if (statusOf(error) !== 412) throw storageError('modify interaction', error);
      }
    }
    return 'conflict';
  }

  async get(tenantId: string, interactionId: string): Promise<StoredInteraction | undefined> {
    const table = await this.tables(TableNames.interactions);
    try {
      const entity = await table.getEntity(sanitizeKey(tenantId), sanitizeKey(interactionId));
      return fromEntity<StoredInteraction>(entity);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageError('read interaction', error);
    }
  }

  async findByInteractionId(interactionId: string): Promise<StoredInteraction | undefined> {
    const found = await this.#query(odata`RowKey eq ${sanitizeKey(interactionId)}`, 1);
    return found[0];
  }

  async list(filter: InteractionFilter): Promise<readonly StoredInteraction[]> {
    const clauses: string[] = [];
    if (filter.tenantId !== undefined) clauses.push(odata`tenantId eq ${filter.tenantId}`);
    if (filter.outcome !== undefined) clauses.push(odata`outcome eq ${filter.outcome}`);
    if (filter.callState !== undefined) clauses.push(odata`callState eq ${filter.callState}`);
    if (filter.invitedAfter !== undefined) clauses.push(odata`invitedAt ge ${filter.invitedAfter}`);
    if (filter.callChainId !== undefined) clauses.push(odata`callChainId eq ${filter.callChainId}`);
    const rows = await this.#query(clauses.join(' and '), filter.top ?? 100);
    return [...rows].sort((a, b) => (a.invitedAt < b.invitedAt ? 1 : -1));
  }

  /** Every invite received in [from, to) (one tenant or all), for the completeness report. */
  async *invitedBetween(period: {
    readonly from: string;
    readonly to: string;
    readonly tenantId?: string;
  }): AsyncIterable<StoredInteraction> {
    const table = await this.tables(TableNames.interactions);
    const clauses = [odata`invitedAt ge ${period.from}`, odata`invitedAt lt ${period.to}`];
    if (period.tenantId !== undefined) clauses.push(odata`tenantId eq ${period.tenantId}`);
    try {
      for await (const entity of table.listEntities({
        queryOptions: { filter: clauses.join(' and ') },
      }))
        yield fromEntity<StoredInteraction>(entity);
    } catch (error) {
      throw storageError('query interactions', error);
    }
  }

  async #query(filter: string, top: number): Promise<StoredInteraction[]> {
    const table = await this.tables(TableNames.interactions);
    const rows: StoredInteraction[] = [];
    try {
      for await (const entity of table.listEntities({
        queryOptions: filter === '' ? {} : { filter },
      })) {
        rows.push(fromEntity<StoredInteraction>(entity));
        if (rows.length >= top) break;
      }
    } catch (error) {
      throw storageError('query interactions', error);
    }
    return rows;
  }

  /** One entity-group transaction per 100 rows (all rows of one interaction share a partition). */
  async upsertParticipants(participants: readonly InteractionParticipant[]): Promise<void> {
    await this.#upsertChildren(
      TableNames.interactionParticipants,
      'upsert participants',
      participants.map((p) => ({ partition: p.interactionId, row: p.participantId, value: p })),
    );
  }

  async upsertStreams(streams: readonly InteractionStream[]): Promise<void> {
    await this.#upsertChildren(
      TableNames.interactionStreams,
      'upsert streams',
      streams.map((s) => ({ partition: s.interactionId, row: s.streamId, value: s })),
    );
  }

  async #upsertChildren(
    tableName: string,
    operation: string,
    rows: readonly { partition: string; row: string; value: object }[],
  ): Promise<void> {
    if (rows.length === 0) return;
    const table = await this.tables(tableName);
    const byPartition = new Map<string, typeof rows>();
    for (const row of rows)
      byPartition.set(row.partition, [...(byPartition.get(row.partition) ?? []), row]);
    for (const group of byPartition.values()) {
      for (let i = 0; i < group.length; i += BATCH_SIZE) {
        const actions: TransactionAction[] = group.slice(i, i + BATCH_SIZE).map((row) => [
          'upsert',
          {
            partitionKey: sanitizeKey(row.partition),
            rowKey: sanitizeKey(row.row),
            ...toEntity(row.value),
          },
          'Replace',
        ]);
        try {
          await table.submitTransaction(actions);
        } catch (error) {
          throw storageError(operation, error);
        }
      }
    }
  }

  async listParticipants(interactionId: string): Promise<readonly InteractionParticipant[]> {
    return this.#listChildren<InteractionParticipant>(
      TableNames.interactionParticipants,
      interactionId,
    );
  }

  async listStreams(interactionId: string): Promise<readonly InteractionStream[]> {
    return this.#listChildren<InteractionStream>(TableNames.interactionStreams, interactionId);
  }

  async #listChildren<T>(tableName: string, interactionId: string): Promise<T[]> {
    const table = await this.tables(tableName);
    const rows: T[] = [];
    for await (const entity of table.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${sanitizeKey(interactionId)}` },
    })) {
      rows.push(fromEntity<T>(entity));
    }
    return rows;
  }
}

const HOSTS_PARTITION = 'mediahost';

/** A stored host row as a record: an empty zone and a `null` drain mean none. */
function hostRecordOf(entity: Readonly<Record<string, unknown>>): MediaHostRecord {
  const { zone, drain, ...rest } = fromEntity<MediaHostRecord & { drain?: unknown }>(entity);
  return {
    ...rest,
    ...(typeof zone === 'string' && zone !== '' ? { zone } : {}),
    ...(typeof drain === 'object' && drain !== null ? { drain: drain } : {}),
  };
}

export class TablesMediaHostRegistry implements MediaHostRegistry {
  constructor(private readonly tables: TableFactory) {}

  async upsertHeartbeat(heartbeat: MediaHostHeartbeat, receivedAt: Date): Promise<void> {
    const table = await this.tables(TableNames.mediaHosts);
    await table.upsertEntity(
      {
        partitionKey: HOSTS_PARTITION,
        rowKey: sanitizeKey(heartbeat.hostId),
        ...toEntity({ ...heartbeat, receivedAt: receivedAt.toISOString() }),
        // Always written, so a merge does not keep a zone or a drain the host no longer reports.
        zone: heartbeat.zone ?? '',
        drainJson: JSON.stringify(heartbeat.drain ?? null),
      },
      // Merge keeps the admin's drain flag across heartbeats.
      'Merge',
    );
  }

  async list(): Promise<readonly MediaHostRecord[]> {
    const table = await this.tables(TableNames.mediaHosts);
    const hosts: MediaHostRecord[] = [];
    for await (const entity of table.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${HOSTS_PARTITION}` },
    })) {
      hosts.push(hostRecordOf(entity));
    }
    return hosts;
  }

  async get(hostId: string): Promise<MediaHostRecord | undefined> {
    const table = await this.tables(TableNames.mediaHosts);
    try {
      return hostRecordOf(await table.getEntity(HOSTS_PARTITION, sanitizeKey(hostId)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageError('read media host', error);
    }
  }

  async setDraining(hostId: string, isDraining: boolean): Promise<boolean> {
    const table = await this.tables(TableNames.mediaHosts);
    try {
      await table.updateEntity(
        {
          partitionKey: HOSTS_PARTITION,
          rowKey: sanitizeKey(hostId),
          isDrainingByAdmin: isDraining,
        },
        'Merge',
      );
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw storageError('update media host', error);
    }
  }
}

export class TablesDeliveryLog implements DeliveryLog {
  constructor(
    private readonly tables: TableFactory,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async tryClaim(partition: string, key: string): Promise<boolean> {
    const table = await this.tables(TableNames.webhookDeliveries);
    try {
      await table.createEntity({
        partitionKey: sanitizeKey(partition),
        rowKey: sanitizeKey(key),
        receivedAt: this.now().toISOString(),
      });
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw storageError('claim delivery', error);
    }
  }

  async release(partition: string, key: string): Promise<void> {
    const table = await this.tables(TableNames.webhookDeliveries);
    await table.deleteEntity(sanitizeKey(partition), sanitizeKey(key)).catch(() => undefined);
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    const table = await this.tables(TableNames.webhookDeliveries);
    let deleted = 0;
    for await (const entity of table.listEntities({
      queryOptions: {
        filter: odata`receivedAt lt ${cutoff.toISOString()}`,
        select: ['PartitionKey', 'RowKey'],
      },
    })) {
      await table
        .deleteEntity(entity.partitionKey ?? '', entity.rowKey ?? '')
        .catch(() => undefined);
      deleted += 1;
    }
    return deleted;
  }
}

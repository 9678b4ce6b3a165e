/**
 * Storage of one task hub: a single Azure Table `<hub>Instances` where every instance owns one
 * partition (PartitionKey = instance id) holding its state row, its history, its inbox and its
 * pending activity work, so that every transition of one instance is one entity-group
 * transaction; plus a blob container for payloads over the Table property limit.
 */
import {
  TableClient,
  type TableEntity,
  type TableEntityResult,
  type TableTransactionResponse,
  type TransactionAction,
} from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';

/** Row keys inside an instance partition. */
export const RowKeys = {
  state: 'state',
  historyPrefix: 'h.',
  inboxPrefix: 'm.',
  workPrefix: 'w.',
  outboxPrefix: 'o.',
} as const;

/** Partition of the hub's own rows (instance ids may not start with `@`). */
export const HUB_PARTITION = '@hub';

/** Largest string kept inline in a row; longer ones go to a blob (Table limit: 64 KiB per property). */
export const MAX_INLINE_CHARS = 30_000;
/** Entity-group transactions hold at most 100 operations. */
const MAX_BATCH = 100;

/** A stored entity with its keys and ETag. */
export type Row = Record<string, unknown> & {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly etag: string;
};

function asRow(entity: TableEntityResult<Record<string, unknown>>): Row {
  return entity as unknown as Row;
}

export interface HubStoreOptions {
  readonly connectionString: string;
  readonly taskHubName: string;
}

const HUB_NAME = /^[A-Za-z][A-Za-z0-9]{2,44}$/;

export function validateTaskHubName(name: string): void {
  if (!HUB_NAME.test(name)) {
    throw new Error(
      `task hub name '${name}' must be 3-45 letters or digits, starting with a letter`,
    );
  }
}

export function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

export interface SubmitResult {
  /** ETag of each commit operation's entity, in order (undefined for deletes). */
  readonly commitEtags: readonly (string | undefined)[];
}

export class HubStore {
  readonly table: TableClient;
  readonly #container: ContainerClient;

  constructor(options: HubStoreOptions) {
    validateTaskHubName(options.taskHubName);
    this.table = TableClient.fromConnectionString(
      options.connectionString,
      `${options.taskHubName}Instances`,
      {
        allowInsecureConnection: true,
      },
    );
    this.#container = BlobServiceClient.fromConnectionString(
      options.connectionString,
    ).getContainerClient(`${options.taskHubName.toLowerCase()}-largemessages`);
  }

  async ensureCreated(): Promise<void> {
    await this.table.createTable();
    await this.#container.createIfNotExists();
  }

  async loadPartition(partitionKey: string): Promise<Row[]> {
    const rows: Row[] = [];
    const filter = `PartitionKey eq '${escapeOData(partitionKey)}'`;
    for await (const row of this.table.listEntities<Record<string, unknown>>({
      queryOptions: { filter },
    })) {
      rows.push(asRow(row));
    }
    return rows;
  }

  async getRow(partitionKey: string, rowKey: string): Promise<Row | undefined> {
    try {
      return asRow(await this.table.getEntity<Record<string, unknown>>(partitionKey, rowKey));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Rows whose RowKey starts with `prefix`, across all partitions. */
  async *scanRowKeyPrefix(prefix: string): AsyncIterable<Row> {
    const upper =
      prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    const filter = `RowKey ge '${escapeOData(prefix)}' and RowKey lt '${escapeOData(upper)}'`;
    for await (const row of this.table.listEntities<Record<string, unknown>>({
      queryOptions: { filter },
    }))
      yield asRow(row);
  }

  async *scanStates(): AsyncIterable<Row> {
    const filter = `RowKey eq '${RowKeys.state}'`;
    for await (const row of this.table.listEntities<Record<string, unknown>>({
      queryOptions: { filter },
    }))
      yield asRow(row);
  }

  /**
   * Runs `actions` in one partition. When they exceed one transaction, the leading `prepare`
   * actions (idempotent upserts that nothing reads before the commit) go first in their own
   * transactions and the last transaction, holding every `commit` action, is the commit point.
   */
  async submit(
    prepare: readonly TransactionAction[],
    commit: readonly TransactionAction[],
  ): Promise<SubmitResult> {
    if (commit.length > MAX_BATCH) throw new Error('commit transaction exceeds 100 operations');
    const room = MAX_BATCH - commit.length;
    const early = prepare.slice(0, Math.max(0, prepare.length - room));
    const late = prepare.slice(early.length);
    for (let i = 0; i < early.length; i += MAX_BATCH) {
      await this.table.submitTransaction(early.slice(i, i + MAX_BATCH));
    }
    const last = [...late, ...commit];
    if (last.length === 0) return { commitEtags: [] };
    const response: TableTransactionResponse = await this.table.submitTransaction(last);
    // Sub-responses come in request order (update responses carry no row key).
    return { commitEtags: commit.map((_, i) => response.subResponses[late.length + i]?.etag) };
  }

  /** Deletes rows one transaction at a time (100 per partition), ignoring rows already gone. */
  async deleteRows(rows: readonly { partitionKey: string; rowKey: string }[]): Promise<void> {
    const byPartition = new Map<string, { partitionKey: string; rowKey: string }[]>();
    for (const r of rows) {
      const list = byPartition.get(r.partitionKey) ?? [];
      list.push({ partitionKey: r.partitionKey, rowKey: r.rowKey });
      byPartition.set(r.partitionKey, list);
    }
    for (const list of byPartition.values()) {
      for (let i = 0; i < list.length; i += MAX_BATCH) {
        const chunk = list.slice(i, i + MAX_BATCH);
        try {
          await this.table.submitTransaction(chunk.map((e): TransactionAction => ['delete', e]));
        } catch {
          for (const e of chunk) await this.deleteRowIfExists(e.partitionKey, e.rowKey);
        }
      }
    }
  }

  async deleteRowIfExists(partitionKey: string, rowKey: string): Promise<void> {
    try {
      await this.table.deleteEntity(partitionKey, rowKey);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  /**
   * Puts `text` into `entity[field]`, or into a blob named after the row when it is too long
   * for a Table property (the row then carries `<field>Blob`). Idempotent per row.
   */
  async packText(
    entity: TableEntity<Record<string, unknown>>,
    field: string,
    text: string | undefined,
  ): Promise<void> {
    if (text === undefined) return;
    if (text.length <= MAX_INLINE_CHARS) {
      entity[field] = text;
      return;
    }
    const blobName = `${entity.partitionKey}/${entity.rowKey}/${field}`;
    await this.#container.getBlockBlobClient(blobName).upload(text, Buffer.byteLength(text));
    entity[`${field}Blob`] = blobName;
  }

  async unpackText(row: Record<string, unknown>, field: string): Promise<string | undefined> {
    const blobName = row[`${field}Blob`];
    if (typeof blobName === 'string') {
      const buffer = await this.#container.getBlockBlobClient(blobName).downloadToBuffer();
      return buffer.toString('utf8');
    }
    const value = row[field];
    return typeof value === 'string' ? value : undefined;
  }

  async deleteBlobsOf(partitionKey: string): Promise<void> {
    for await (const blob of this.#container.listBlobsFlat({ prefix: `${partitionKey}/` })) {
      await this.#container.deleteBlob(blob.name).catch(() => undefined);
    }
  }
}

export function escapeOData(value: string): string {
  return value.replace(/'/g, "''");
}

export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

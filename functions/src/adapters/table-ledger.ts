/**
 * The ledger in an Azure Table. One partition; entries at RowKey `e-{seq:012}`, written only by
 * `create` (a row that exists is never replaced), the head at RowKey `head`, checkpoints at
 * `c-{seq:012}`. Appends are queued in-process and written in entity-group transactions of up to
 * 99 entries plus the head: the batch is atomic, and `create` of an existing entry fails it, so
 * two writers can never both take a sequence number. On a conflict the writer re-reads the head
 * and tries again. Entries are never updated or deleted by this adapter.
 */
import { RestError, TableClient, type TransactionAction } from '@azure/data-tables';
import {
  createLedgerEntry,
  ErrorCode,
  RecorderError,
  type LedgerCheckpoint,
  type LedgerEntry,
  type LedgerEntryDraft,
} from '@attest/core';
import type { Clock, LedgerStore } from '../domain/archive-ports';
import type { LedgerMirror } from './append-blob-ledger';

const PARTITION = 'ledger';
const HEAD_ROW = 'head';
const MAX_BATCH = 99;
const MAX_CONFLICT_RETRIES = 20;

const entryRow = (seq: number): string => `e-${seq.toString().padStart(12, '0')}`;
const checkpointRow = (seq: number): string => `c-${seq.toString().padStart(12, '0')}`;

interface Pending {
  readonly draft: LedgerEntryDraft;
  resolve(entry: LedgerEntry): void;
  reject(error: unknown): void;
}

interface Head {
  readonly entry: LedgerEntry | undefined;
  readonly etag: string | undefined;
}

function isConflict(error: unknown): boolean {
  return error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412);
}

function isNotFound(error: unknown): boolean {
  return error instanceof RestError && error.statusCode === 404;
}

export class TableLedgerStore implements LedgerStore {
  private readonly queue: Pending[] = [];
  private head: Head | undefined;
  private isFlushing = false;
  private isTableReady = false;

  /** Entries committed to the table but not yet copied to the mirror (after a mirror failure). */
  private mirrorBacklog: LedgerEntry[] = [];
  /** One drain loop copies to the mirror beside (not inside) the table appends, coalescing batches. */
  private mirroring: Promise<void> = Promise.resolve();
  private isMirroring = false;

  constructor(
    private readonly table: TableClient,
    private readonly clock: Clock,
    private readonly mirror?: LedgerMirror,
    private readonly onMirrorFailure: (error: unknown) => void = () => undefined,
  ) {}

  static fromConnectionString(
    connectionString: string,
    tableName: string,
    clock: Clock,
    mirror?: LedgerMirror,
    onMirrorFailure?: (error: unknown) => void,
  ): TableLedgerStore {
    return new TableLedgerStore(
      TableClient.fromConnectionString(connectionString, tableName, {
        allowInsecureConnection: true,
      }),
      clock,
      mirror,
      onMirrorFailure,
    );
  }

  private queueForMirror(entries: readonly LedgerEntry[]): void {
    if (this.mirror === undefined) return;
    this.mirrorBacklog.push(...entries);
    if (this.isMirroring) return;
    this.isMirroring = true;
    this.mirroring = this.drainMirror(this.mirror);
  }

  /**
   * Copies committed entries to the write-once mirror, everything pending in one append. The
   * table is the system of record: a mirror failure does not fail any append; the entries stay
   * pending and are copied with the next batch.
   */
  private async drainMirror(mirror: LedgerMirror): Promise<void> {
    try {
      while (this.mirrorBacklog.length > 0) {
        const pending = this.mirrorBacklog;
        this.mirrorBacklog = [];
        try {
          await mirror.appendEntries(pending);
        } catch (error) {
          this.mirrorBacklog = [...pending, ...this.mirrorBacklog];
          this.onMirrorFailure(error);
          return;
        }
      }
    } finally {
      this.isMirroring = false;
    }
  }

  append(draft: LedgerEntryDraft): Promise<LedgerEntry> {
    return new Promise<LedgerEntry>((resolve, reject) => {
      this.queue.push({ draft, resolve, reject });
      if (!this.isFlushing) {
        this.isFlushing = true;
        void this.flush();
      }
    });
  }

  /** Resolves when every entry appended so far has been offered to the mirror. */
  whenMirrored(): Promise<void> {
    return this.mirroring;
  }

  async getHead(): Promise<LedgerEntry | undefined> {
    return (await this.readHead()).entry;
  }

  async *listEntries(fromSeq: number, toSeq = 999_999_999_999): AsyncIterable<LedgerEntry> {
    await this.ensureTable();
    const filter = `PartitionKey eq '${PARTITION}' and RowKey ge '${entryRow(fromSeq)}' and RowKey le '${entryRow(toSeq)}'`;
    for await (const row of this.table.listEntities<{ json: string }>({
      queryOptions: { filter },
    })) {
      yield JSON.parse(row.json) as LedgerEntry;
    }
  }

  async putCheckpoint(checkpoint: LedgerCheckpoint): Promise<void> {
    await this.ensureTable();
    try {
      await this.table.createEntity({
        partitionKey: PARTITION,
        rowKey: checkpointRow(checkpoint.seq),
        json: JSON.stringify(checkpoint),
      });
    } catch (error) {
      if (!isConflict(error)) throw error;
      return;
    }
    await this.mirror
      ?.appendCheckpoint(checkpoint)
      .catch((error: unknown) => this.onMirrorFailure(error));
  }

  async listCheckpoints(): Promise<readonly LedgerCheckpoint[]> {
    await this.ensureTable();
    const filter = `PartitionKey eq '${PARTITION}' and RowKey ge 'c-' and RowKey lt 'c.'`;
    const out: LedgerCheckpoint[] = [];
    for await (const row of this.table.listEntities<{ json: string }>({ queryOptions: { filter } }))
      out.push(JSON.parse(row.json) as LedgerCheckpoint);
    return out;
  }

  private async ensureTable(): Promise<void> {
    if (this.isTableReady) return;
    await this.table.createTable();
    this.isTableReady = true;
  }

  private async readHead(): Promise<Head> {
    await this.ensureTable();
    try {
      const row = await this.table.getEntity<{ json: string }>(PARTITION, HEAD_ROW);
      return { entry: JSON.parse(row.json) as LedgerEntry, etag: row.etag };
    } catch (error) {
      if (isNotFound(error)) return { entry: undefined, etag: undefined };
      throw error;
    }
  }

  /**
   * Drains the queue. The flag is cleared in the same synchronous step that finds the queue
   * empty, so an append made by a caller woken by the last batch always starts a new drain.
   */
  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          const entries = await this.writeBatch(batch.map((p) => p.draft));
          // Callers wait for the table (the system of record) only; the copy follows in order.
          this.queueForMirror(entries);
          batch.forEach((p, i) => p.resolve(entries[i]!));
        } catch (error) {
          batch.forEach((p) => p.reject(error));
        }
      }
    } finally {
      this.isFlushing = false;
    }
  }

  private async writeBatch(drafts: readonly LedgerEntryDraft[]): Promise<LedgerEntry[]> {
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt += 1) {
      this.head ??= await this.readHead();
      const head = this.head;
      const at = this.clock.now();
      const entries: LedgerEntry[] = [];
      let previous = head.entry;
      for (const draft of drafts) {
        const entry = createLedgerEntry(draft, previous, at);
        entries.push(entry);
        previous = entry;
      }
      const last = entries[entries.length - 1]!;
      const actions: TransactionAction[] = entries.map((entry) => [
        'create',
        { partitionKey: PARTITION, rowKey: entryRow(entry.seq), json: JSON.stringify(entry) },
      ]);
      const headRow = {
        partitionKey: PARTITION,
        rowKey: HEAD_ROW,
        json: JSON.stringify(last),
        seq: last.seq,
      };
      actions.push(
        head.etag === undefined
          ? ['create', headRow]
          : ['update', headRow, 'Replace', { etag: head.etag }],
      );
      try {
        const response = await this.table.submitTransaction(actions);
        const etag = response.subResponses[response.subResponses.length - 1]?.etag;
        this.head = etag === undefined ? undefined : { entry: last, etag };
        return entries;
      } catch (error) {
        // Another writer took these sequence numbers: read its head and chain after it.
        this.head = undefined;
        if (
          !isConflict(error) &&
          !(error instanceof RestError && error.statusCode === 400 && /exist/i.test(error.message))
        )
          throw error;
      }
    }
    throw new RecorderError(ErrorCode.Conflict, 'the ledger head kept moving; append abandoned', {
      retryable: true,
    });
  }
}

/**
 * Export requests in `{prefix}exportrequests`: PartitionKey tenantId, RowKey exportId, the
 * request's actor, selection hash and time. Written by the HTTP starter, read by the export steps.
 */
import { RestError, type TableClient } from '@azure/data-tables';
import type { ExportRequestRecord, ExportRequestStore } from '../domain/archive-ports';

export class TableExportRequestStore implements ExportRequestStore {
  #isReady = false;

  constructor(private readonly table: TableClient) {}

  async put(record: ExportRequestRecord): Promise<void> {
    await this.#ready();
    await this.table.upsertEntity(
      {
        partitionKey: record.tenantId,
        rowKey: record.exportId,
        createdBy: record.createdBy,
        scopeSha256: record.scopeSha256,
        requestedAt: record.requestedAt,
      },
      'Replace',
    );
  }

  async get(tenantId: string, exportId: string): Promise<ExportRequestRecord | undefined> {
    await this.#ready();
    try {
      const row = await this.table.getEntity<Record<string, unknown>>(tenantId, exportId);
      const { createdBy, scopeSha256, requestedAt } = row;
      if (
        typeof createdBy !== 'string' ||
        typeof scopeSha256 !== 'string' ||
        typeof requestedAt !== 'string'
      )
        return undefined;
      return { tenantId, exportId, createdBy, scopeSha256, requestedAt };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  async #ready(): Promise<void> {
    if (this.#isReady) return;
    await this.table.createTable();
    this.#isReady = true;
  }
}

/**
 * Every version of interactions' business data in `{prefix}businessdata`: PartitionKey
 * `{tenantId}|{interactionId}`, RowKey the version (12 digits), the data as JSON, its hash, who and
 * when. Rows are only created (`createEntity`): a version is never replaced, and two writers of the
 * same version cannot both succeed.
 */
import { odata, RestError, type TableClient } from '@azure/data-tables';
import type { BusinessDataHistory, BusinessDataVersion } from '../domain/archive-ports';

const partitionOf = (tenantId: string, interactionId: string): string =>
  `${tenantId}|${interactionId}`;

export class TableBusinessDataHistory implements BusinessDataHistory {
  #isReady = false;

  constructor(private readonly table: TableClient) {}

  async createVersion(version: BusinessDataVersion): Promise<boolean> {
    await this.#ready();
    try {
      await this.table.createEntity({
        partitionKey: partitionOf(version.tenantId, version.interactionId),
        rowKey: String(version.version).padStart(12, '0'),
        dataJson: JSON.stringify(version.data),
        sha256: version.sha256,
        changedAt: version.changedAt,
        changedBy: version.changedBy,
      });
      return true;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 409) return false;
      throw error;
    }
  }

  async list(tenantId: string, interactionId: string): Promise<readonly BusinessDataVersion[]> {
    await this.#ready();
    const out: BusinessDataVersion[] = [];
    for await (const row of this.table.listEntities<Record<string, unknown>>({
      queryOptions: {
        filter: odata`PartitionKey eq ${partitionOf(tenantId, interactionId)}`,
      },
    })) {
      const { dataJson, sha256, changedAt, changedBy, rowKey } = row;
      if (
        typeof dataJson !== 'string' ||
        typeof sha256 !== 'string' ||
        typeof changedAt !== 'string' ||
        typeof changedBy !== 'string'
      )
        continue;
      out.push({
        tenantId,
        interactionId,
        version: Number(rowKey),
        data: JSON.parse(dataJson) as Record<string, unknown>,
        sha256,
        changedAt,
        changedBy,
      });
    }
    return out.sort((a, b) => a.version - b.version);
  }

  async #ready(): Promise<void> {
    if (this.#isReady) return;
    await this.table.createTable();
    this.#isReady = true;
  }
}

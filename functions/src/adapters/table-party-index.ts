/**
 * The party index in Azure Tables (`{prefix}archiveparties`): PartitionKey
 * `{tenantId}|{sha256(party key)}`, RowKey the interaction id. The tenant is part of every
 * partition, so no read reaches another tenant's rows; the party key is stored only as its hash,
 * so the index names no phone number or identity in clear (and a subject's rows are found by
 * hashing the key asked for). One row per tenant `{tenantId}|backfill`/`{version}` says the
 * tenant's archive was indexed in full once.
 */
import { odata, type TableClient } from '@azure/data-tables';
import { sha256Hex } from '@attest/core';
import type { PartyIndex } from '../domain/archive-ports';
import type { PartyKey } from '../domain/party-keys';

const partitionOf = (tenantId: string, key: PartyKey): string => `${tenantId}|${sha256Hex(key)}`;
const backfillPartition = (tenantId: string): string => `${tenantId}|backfill`;

export class TablePartyIndex implements PartyIndex {
  private ready: Promise<unknown> | undefined;

  constructor(private readonly table: TableClient) {}

  private async ensureTable(): Promise<void> {
    this.ready ??= this.table.createTable().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    await this.ready;
  }

  async add(tenantId: string, interactionId: string, keys: readonly PartyKey[]): Promise<void> {
    await this.ensureTable();
    for (const key of keys) {
      await this.table.upsertEntity(
        {
          partitionKey: partitionOf(tenantId, key),
          rowKey: interactionId,
          tenantId,
          kind: key.startsWith('tel:') ? 'phone' : 'identity',
        },
        'Replace',
      );
    }
  }

  async listInteractionIds(tenantId: string, key: PartyKey): Promise<readonly string[]> {
    await this.ensureTable();
    const ids: string[] = [];
    for await (const row of this.table.listEntities<{ rowKey: string }>({
      queryOptions: { filter: odata`PartitionKey eq ${partitionOf(tenantId, key)}` },
    }))
      ids.push(row.rowKey);
    return ids;
  }

  async isBackfilled(tenantId: string, version: string): Promise<boolean> {
    await this.ensureTable();
    for await (const row of this.table.listEntities({
      queryOptions: {
        filter: odata`PartitionKey eq ${backfillPartition(tenantId)} and RowKey eq ${version}`,
      },
    })) {
      void row;
      return true;
    }
    return false;
  }

  async markBackfilled(tenantId: string, version: string, at: Date): Promise<void> {
    await this.ensureTable();
    await this.table.upsertEntity(
      {
        partitionKey: backfillPartition(tenantId),
        rowKey: version,
        tenantId,
        backfilledAt: at.toISOString(),
      },
      'Replace',
    );
  }
}

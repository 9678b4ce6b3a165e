/**
 * The interactions made of captures, in Azure Tables (`pairedinteractions`: PartitionKey =
 * tenant, RowKey = interaction id). Every write is conditional (insert-if-absent, or If-Match on
 * the ETag read), so two instances adding their legs at once both land.
 */
import {
  TableNames,
  sanitizeKey,
  type InteractionCapture,
  type InteractionRecord,
} from '@attest/core';
import type { PairedInteractionStore } from '../domain/paired-captures';
import { fromEntity, statusOf, storageError, toEntity, type TableFactory } from './table-stores';

/** Conditional-write attempts before giving up (other legs kept winning): an error, retried. */
const WRITE_ATTEMPTS = 8;

export class TablesPairedInteractionStore implements PairedInteractionStore {
  constructor(private readonly tables: TableFactory) {}

  async get(tenantId: string, interactionId: string): Promise<InteractionRecord | undefined> {
    const read = await this.#read(tenantId, interactionId);
    return read?.record;
  }

  async upsertCapture(
    base: InteractionRecord,
    capture: InteractionCapture,
  ): Promise<InteractionRecord> {
    const table = await this.tables(TableNames.pairedInteractions);
    const partitionKey = sanitizeKey(base.tenantId);
    const rowKey = sanitizeKey(base.interactionId);
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt += 1) {
      const read = await this.#read(base.tenantId, base.interactionId);
      if (read === undefined) {
        const record: InteractionRecord = { ...base, captures: [capture] };
        try {
          await table.createEntity({ partitionKey, rowKey, ...toEntity(record) });
          return record;
        } catch (error) {
          // 409: another leg created it meanwhile: read it again and add to it.
          if (statusOf(error) !== 409) throw storageError('insert paired interaction', error);
          continue;
        }
      }
      const captures = [
        ...(read.record.captures ?? []).filter((c) => c.captureId !== capture.captureId),
        capture,
      ].sort((a, b) => a.legIndex - b.legIndex);
      try {
        await table.updateEntity({ partitionKey, rowKey, ...toEntity({ captures }) }, 'Merge', {
          etag: read.etag,
        });
        return { ...read.record, captures };
      } catch (error) {
        // 412: another leg wrote since the read: read again.
        if (statusOf(error) !== 412) throw storageError('update paired interaction', error);
      }
    }
    throw storageError('update paired interaction', new Error('too many concurrent writers'));
  }

  async markSealed(sealed: InteractionRecord): Promise<boolean> {
    const table = await this.tables(TableNames.pairedInteractions);
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt += 1) {
      const read = await this.#read(sealed.tenantId, sealed.interactionId);
      if (read?.record.manifestSha256 !== undefined) return false;
      try {
        // The captures list is the legs' to write (conditionally); the seal leaves it as it is.
        const fields: Record<string, unknown> = { ...sealed };
        delete fields.captures;
        await table.updateEntity(
          {
            partitionKey: sanitizeKey(sealed.tenantId),
            rowKey: sanitizeKey(sealed.interactionId),
            ...toEntity(fields),
          },
          'Merge',
          read === undefined ? {} : { etag: read.etag },
        );
        return true;
      } catch (error) {
        if (statusOf(error) !== 412) throw storageError('seal paired interaction', error);
      }
    }
    return false;
  }

  async #read(
    tenantId: string,
    interactionId: string,
  ): Promise<{ record: InteractionRecord; etag: string } | undefined> {
    const table = await this.tables(TableNames.pairedInteractions);
    try {
      const entity = await table.getEntity(sanitizeKey(tenantId), sanitizeKey(interactionId));
      return { record: fromEntity<InteractionRecord>(entity), etag: entity.etag };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageError('read paired interaction', error);
    }
  }
}

/**
 * A change to a stored archive record that never undoes another writer's: read, change, write
 * only if unchanged (ETag), and on a lost write read again and change that.
 */
import { ErrorCode, RecorderError } from '@attest/core';
import type { ArchiveRecord, ArchiveRecordStore } from '../domain/archive-ports';

/** Conditional writes tried before giving up (each lost one means another writer won). */
export const MAX_RECORD_WRITE_ATTEMPTS = 8;

export type RecordUpdate =
  | { readonly status: 'updated'; readonly record: ArchiveRecord }
  | { readonly status: 'unchanged'; readonly record: ArchiveRecord }
  | { readonly status: 'notFound' };

/**
 * Applies `change` to the stored record; `change` returns undefined when the record needs none.
 * Throws a retryable conflict when other writers kept winning.
 */
export async function updateRecord(
  records: ArchiveRecordStore,
  tenantId: string,
  interactionId: string,
  change: (current: ArchiveRecord) => ArchiveRecord | undefined,
): Promise<RecordUpdate> {
  for (let attempt = 1; attempt <= MAX_RECORD_WRITE_ATTEMPTS; attempt += 1) {
    const current = await records.getVersioned(tenantId, interactionId);
    if (current === undefined) return { status: 'notFound' };
    const changed = change(current.record);
    if (changed === undefined) return { status: 'unchanged', record: current.record };
    if (await records.replaceIfUnchanged(changed, current))
      return { status: 'updated', record: changed };
  }
  throw new RecorderError(
    ErrorCode.Conflict,
    `interaction ${interactionId} kept changing while it was updated; retry`,
    { retryable: true, details: { interactionId } },
  );
}

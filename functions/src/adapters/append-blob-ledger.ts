/**
 * A write-once copy of the ledger in append blobs: `entries/{YYYY-MM-DD}.jsonl` and
 * `checkpoints/{YYYY-MM-DD}.jsonl` in the `ledger` container, one JSON line per entry. In Azure
 * the container carries a version-level immutability policy with protected append writes
 * allowed, so lines can be added but never changed or removed; the app itself only appends.
 * When several instances append, lines of one day may be out of order: order by `seq`.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { ContainerNames, type LedgerCheckpoint, type LedgerEntry } from '@attest/core';

export interface LedgerMirror {
  appendEntries(entries: readonly LedgerEntry[]): Promise<void>;
  appendCheckpoint(checkpoint: LedgerCheckpoint): Promise<void>;
}

/** Append blobs take at most 4 MiB per block. */
const MAX_BLOCK_BYTES = 4 * 1024 * 1024;

export class AppendBlobLedgerMirror implements LedgerMirror {
  private readonly created = new Set<string>();
  private isContainerReady = false;

  constructor(private readonly container: ContainerClient) {}

  static fromConnectionString(
    connectionString: string,
    containerName: string = ContainerNames.ledger,
  ): AppendBlobLedgerMirror {
    return new AppendBlobLedgerMirror(
      BlobServiceClient.fromConnectionString(connectionString).getContainerClient(containerName),
    );
  }

  async appendEntries(entries: readonly LedgerEntry[]): Promise<void> {
    const byDay = new Map<string, string[]>();
    for (const entry of entries) {
      const day = entry.at.slice(0, 10);
      byDay.set(day, [...(byDay.get(day) ?? []), `${JSON.stringify(entry)}\n`]);
    }
    for (const [day, lines] of byDay) await this.append(`entries/${day}.jsonl`, lines);
  }

  async appendCheckpoint(checkpoint: LedgerCheckpoint): Promise<void> {
    await this.append(`checkpoints/${checkpoint.at.slice(0, 10)}.jsonl`, [
      `${JSON.stringify(checkpoint)}\n`,
    ]);
  }

  private async append(blobName: string, lines: readonly string[]): Promise<void> {
    if (!this.isContainerReady) {
      await this.container.createIfNotExists();
      this.isContainerReady = true;
    }
    const blob = this.container.getAppendBlobClient(blobName);
    if (!this.created.has(blobName)) {
      await blob.createIfNotExists();
      this.created.add(blobName);
    }
    let chunk = '';
    for (const line of lines) {
      if (chunk !== '' && Buffer.byteLength(chunk) + Buffer.byteLength(line) > MAX_BLOCK_BYTES) {
        await blob.appendBlock(chunk, Buffer.byteLength(chunk));
        chunk = '';
      }
      chunk += line;
    }
    if (chunk !== '') await blob.appendBlock(chunk, Buffer.byteLength(chunk));
  }
}

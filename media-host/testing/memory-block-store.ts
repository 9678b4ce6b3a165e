/**
 * An in-memory {@link BlockStore} with Azure's block semantics (staged blocks replaced by id,
 * commit of unknown ids fails with 400), and a switch to fail calls: for unit tests and benches.
 */
import type { BlockStore } from '../src/sink/block-store';

interface MemoryBlob {
  staged: Map<string, Buffer>;
  committed: { id: string; bytes: Buffer }[];
  contentType: string;
}

export class MemoryBlockStore implements BlockStore {
  readonly blobs = new Map<string, MemoryBlob>();
  readonly containers = new Set<string>();
  /** Every call number (1-based) in this set fails with a 503. */
  readonly failingCalls = new Set<number>();
  /** While true, every call fails with a 503 (an outage). */
  isUnavailable = false;
  calls = 0;

  private enter(): Promise<void> {
    this.calls += 1;
    if (this.isUnavailable || this.failingCalls.has(this.calls)) {
      return Promise.reject(
        Object.assign(new Error('service unavailable (test)'), { statusCode: 503 }),
      );
    }
    return Promise.resolve();
  }

  private blob(container: string, name: string): MemoryBlob {
    const key = `${container}/${name}`;
    let blob = this.blobs.get(key);
    if (blob === undefined) {
      blob = { staged: new Map(), committed: [], contentType: 'application/octet-stream' };
      this.blobs.set(key, blob);
    }
    return blob;
  }

  /** The committed content of a blob, or undefined. */
  read(container: string, name: string): Buffer | undefined {
    const blob = this.blobs.get(`${container}/${name}`);
    return blob === undefined || blob.committed.length === 0
      ? undefined
      : Buffer.concat(blob.committed.map((b) => b.bytes));
  }

  async ensureContainer(container: string): Promise<void> {
    await this.enter();
    this.containers.add(container);
  }

  async stageBlock(
    container: string,
    blobName: string,
    blockId: string,
    bytes: Buffer,
  ): Promise<void> {
    await this.enter();
    this.blob(container, blobName).staged.set(blockId, Buffer.from(bytes));
  }

  async commitBlockList(
    container: string,
    blobName: string,
    blockIds: readonly string[],
    contentType: string,
  ): Promise<void> {
    await this.enter();
    const blob = this.blob(container, blobName);
    const previous = new Map(blob.committed.map((b) => [b.id, b.bytes]));
    const next = blockIds.map((id) => {
      const bytes = blob.staged.get(id) ?? previous.get(id);
      if (bytes === undefined)
        throw Object.assign(new Error('InvalidBlockList'), { statusCode: 400 });
      return { id, bytes };
    });
    blob.committed = next;
    blob.staged.clear();
    blob.contentType = contentType;
  }

  async getCommittedBlockIds(container: string, blobName: string): Promise<string[]> {
    await this.enter();
    return this.blobs.get(`${container}/${blobName}`)?.committed.map((b) => b.id) ?? [];
  }

  async appendBlock(container: string, blobName: string, bytes: Buffer): Promise<void> {
    await this.enter();
    const blob = this.blob(container, blobName);
    blob.committed.push({ id: `append-${blob.committed.length}`, bytes: Buffer.from(bytes) });
  }

  async upload(
    container: string,
    blobName: string,
    bytes: Buffer,
    contentType: string,
  ): Promise<void> {
    await this.enter();
    const blob = this.blob(container, blobName);
    blob.committed = [{ id: 'single', bytes: Buffer.from(bytes) }];
    blob.contentType = contentType;
  }

  async download(container: string, blobName: string): Promise<Buffer | undefined> {
    await this.enter();
    return this.read(container, blobName);
  }
}

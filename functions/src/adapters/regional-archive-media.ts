/**
 * Recorded media across the deployment's regions: each region's media hosts write to that
 * region's storage account, and the archive reads, protects and deletes through this one store.
 * An interaction's recording lives in exactly one account; the first access finds which (the
 * account of the interaction's region is not needed: every account is asked in order, the home
 * account first) and remembers it, so later reads go straight there. Deletes go to every account
 * (idempotent), so nothing is left behind wherever it was written.
 */
import type { RecordingBlobStore } from '../domain/archive-ports';

export interface RegionalStore {
  /** `home` for the function app's own account, else the Azure region name. */
  readonly region: string;
  readonly store: RecordingBlobStore;
}

/** How many interactions' locations are remembered (oldest forgotten first). */
const MAX_REMEMBERED = 10_000;

export class RegionalRecordingBlobStore implements RecordingBlobStore {
  readonly #stores: readonly RegionalStore[];
  readonly #located = new Map<string, RegionalStore>();

  /** `stores` in the order to ask them: the home account first. */
  constructor(stores: readonly RegionalStore[]) {
    if (stores.length === 0) throw new Error('RegionalRecordingBlobStore needs a store');
    this.#stores = stores;
  }

  /** The region whose account holds the interaction's recording, if any holds it. */
  async regionOf(tenantId: string, interactionId: string): Promise<string | undefined> {
    return (await this.#locate(tenantId, interactionId))?.region;
  }

  async listRecordingBlobs(tenantId: string, interactionId: string): Promise<readonly string[]> {
    const located = await this.#locate(tenantId, interactionId);
    return located === undefined ? [] : located.store.listRecordingBlobs(tenantId, interactionId);
  }

  async readRecordingBlob(blobName: string): Promise<Buffer | undefined> {
    const located = await this.#locateBlob(blobName);
    return located?.store.readRecordingBlob(blobName);
  }

  async deleteRecordingBlob(blobName: string): Promise<void> {
    await Promise.all(this.#stores.map(({ store }) => store.deleteRecordingBlob(blobName)));
  }

  async readWrappedKey(tenantId: string, interactionId: string): Promise<Buffer | undefined> {
    const located = await this.#locate(tenantId, interactionId);
    if (located !== undefined) return located.store.readWrappedKey(tenantId, interactionId);
    // A recording whose media never arrived may still have its key written: look everywhere.
    for (const { store } of this.#stores) {
      const key = await store.readWrappedKey(tenantId, interactionId);
      if (key !== undefined) return key;
    }
    return undefined;
  }

  async deleteWrappedKey(tenantId: string, interactionId: string): Promise<void> {
    await Promise.all(
      this.#stores.map(({ store }) => store.deleteWrappedKey(tenantId, interactionId)),
    );
  }

  async applyImmutability(blobName: string, until: Date): Promise<void> {
    await (await this.#locateBlob(blobName))?.store.applyImmutability(blobName, until);
  }

  async setLegalHold(blobName: string, isHeld: boolean): Promise<void> {
    await (await this.#locateBlob(blobName))?.store.setLegalHold(blobName, isHeld);
  }

  /** Blob names start `{tenantId}/{interactionId}/` (`recordingBlobNames`). */
  async #locateBlob(blobName: string): Promise<RegionalStore | undefined> {
    const [tenantId, interactionId] = blobName.split('/');
    if (tenantId === undefined || interactionId === undefined) return this.#stores[0];
    return this.#locate(tenantId, interactionId);
  }

  async #locate(tenantId: string, interactionId: string): Promise<RegionalStore | undefined> {
    const key = `${tenantId}/${interactionId}`;
    const known = this.#located.get(key);
    if (known !== undefined) return known;
    for (const candidate of this.#stores) {
      if ((await candidate.store.listRecordingBlobs(tenantId, interactionId)).length === 0)
        continue;
      if (this.#located.size >= MAX_REMEMBERED) {
        const oldest = this.#located.keys().next().value;
        if (oldest !== undefined) this.#located.delete(oldest);
      }
      this.#located.set(key, candidate);
      return candidate;
    }
    return undefined;
  }
}

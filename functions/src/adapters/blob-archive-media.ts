/**
 * Recorded media and wrapped keys in Blob Storage (`recordings`, `recordingkeys`). Immutability
 * and legal-hold calls go to the service only when it is real Azure: Azurite answers them with
 * 501, and the archive enforces the same rules itself ({@link GuardedMediaStore}). Policies are
 * always set Unlocked: locking is an operator's decision in production, never done by code.
 */
import { BlobServiceClient, RestError, type ContainerClient } from '@azure/storage-blob';
import { wrappedKeyBlobName, RECORDING_KEYS_CONTAINER, ContainerNames } from '@attest/core';
import type { RecordingBlobStore, SealedBlobWriter } from '../domain/archive-ports';

export interface BlobArchiveMediaOptions {
  readonly recordingsContainer?: string;
  readonly keysContainer?: string;
  /** Whether the endpoint supports version-level immutability (real Azure). */
  readonly isImmutabilitySupported: boolean;
}

/** Real Azure blob endpoints end with `.blob.core.windows.net` (or a sovereign cloud suffix). */
export function isAzureBlobEndpoint(url: string): boolean {
  try {
    return /\.blob\.core\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$/i.test(
      new URL(url).hostname,
    );
  } catch {
    return false;
  }
}

export class BlobArchiveMediaStore implements RecordingBlobStore, SealedBlobWriter {
  private readonly recordings: ContainerClient;
  private readonly keys: ContainerClient;

  constructor(
    service: BlobServiceClient,
    private readonly options: BlobArchiveMediaOptions,
  ) {
    this.recordings = service.getContainerClient(
      options.recordingsContainer ?? ContainerNames.recordings,
    );
    this.keys = service.getContainerClient(options.keysContainer ?? RECORDING_KEYS_CONTAINER);
  }

  static fromConnectionString(
    connectionString: string,
    options: Omit<BlobArchiveMediaOptions, 'isImmutabilitySupported'> = {},
  ): BlobArchiveMediaStore {
    const service = BlobServiceClient.fromConnectionString(connectionString);
    return new BlobArchiveMediaStore(service, {
      ...options,
      isImmutabilitySupported: isAzureBlobEndpoint(service.url),
    });
  }

  async listRecordingBlobs(tenantId: string, interactionId: string): Promise<readonly string[]> {
    const names: string[] = [];
    if (!(await this.recordings.exists())) return names;
    for await (const blob of this.recordings.listBlobsFlat({
      prefix: `${tenantId}/${interactionId}/`,
    }))
      names.push(blob.name);
    return names.sort();
  }

  readRecordingBlob(blobName: string): Promise<Buffer | undefined> {
    return this.read(this.recordings, blobName);
  }

  async createRecordingBlobOnce(blobName: string, bytes: Buffer): Promise<boolean> {
    await this.recordings.createIfNotExists();
    try {
      await this.recordings
        .getBlockBlobClient(blobName)
        .uploadData(bytes, { conditions: { ifNoneMatch: '*' } });
      return true;
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412))
        return false;
      throw error;
    }
  }

  async deleteRecordingBlob(blobName: string): Promise<void> {
    await this.recordings.getBlobClient(blobName).deleteIfExists({ deleteSnapshots: 'include' });
  }

  readWrappedKey(tenantId: string, interactionId: string): Promise<Buffer | undefined> {
    return this.read(this.keys, wrappedKeyBlobName(tenantId, interactionId));
  }

  async deleteWrappedKey(tenantId: string, interactionId: string): Promise<void> {
    await this.keys
      .getBlobClient(wrappedKeyBlobName(tenantId, interactionId))
      .deleteIfExists({ deleteSnapshots: 'include' });
  }

  async applyImmutability(blobName: string, until: Date): Promise<void> {
    if (!this.options.isImmutabilitySupported) return;
    await this.recordings
      .getBlobClient(blobName)
      .setImmutabilityPolicy({ expiriesOn: until, policyMode: 'Unlocked' });
  }

  async setLegalHold(blobName: string, isHeld: boolean): Promise<void> {
    if (!this.options.isImmutabilitySupported) return;
    await this.recordings.getBlobClient(blobName).setLegalHold(isHeld);
  }

  private async read(container: ContainerClient, blobName: string): Promise<Buffer | undefined> {
    try {
      return await container.getBlobClient(blobName).downloadToBuffer();
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }
}

/**
 * {@link BlockStore} over Azure Blob Storage: block blobs grown by staged blocks. The per-block
 * calls (Put Block, Put Block List) go through the lean REST client in `blob-block-rest.ts`; the
 * rest through `@azure/storage-blob`.
 */
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { createBlockWriteClient, parseSharedKeyConnectionString } from './blob-block-rest';
import type { BlockStore } from './block-store';

export interface AzureBlockStoreOptions {
  readonly connectionString?: string;
  readonly accountUrl?: string;
  /** Per-request timeout; a hung request counts as a transient failure. Default 30 000. */
  readonly requestTimeoutInMs?: number;
}

export function createAzureBlockStore(options: AzureBlockStoreOptions): BlockStore {
  const requestTimeoutInMs = options.requestTimeoutInMs ?? 30_000;
  const pipelineOptions = { retryOptions: { maxTries: 1, tryTimeoutInMs: requestTimeoutInMs } };
  const credential = options.connectionString === undefined ? new DefaultAzureCredential() : undefined;
  const service =
    options.connectionString !== undefined
      ? BlobServiceClient.fromConnectionString(options.connectionString, pipelineOptions)
      : new BlobServiceClient(options.accountUrl ?? '', credential, pipelineOptions);
  // A connection string without an account key (a SAS) keeps the SDK for every call.
  const blocks =
    options.connectionString === undefined
      ? createBlockWriteClient({ accountUrl: options.accountUrl ?? '', credential, requestTimeoutInMs })
      : parseSharedKeyConnectionString(options.connectionString) !== undefined
        ? createBlockWriteClient({ connectionString: options.connectionString, requestTimeoutInMs })
        : undefined;
  const containers = new Map<string, ContainerClient>();
  const container = (name: string): ContainerClient => {
    let client = containers.get(name);
    if (client === undefined) {
      client = service.getContainerClient(name);
      containers.set(name, client);
    }
    return client;
  };
  return {
    async ensureContainer(name) {
      await container(name).createIfNotExists();
    },
    async stageBlock(c, blobName, blockId, bytes) {
      if (blocks !== undefined) return blocks.stageBlock(c, blobName, blockId, bytes);
      await container(c).getBlockBlobClient(blobName).stageBlock(blockId, bytes, bytes.length);
    },
    async commitBlockList(c, blobName, blockIds, contentType) {
      if (blocks !== undefined) return blocks.commitBlockList(c, blobName, blockIds, contentType);
      await container(c)
        .getBlockBlobClient(blobName)
        .commitBlockList([...blockIds], { blobHTTPHeaders: { blobContentType: contentType } });
    },
    async getCommittedBlockIds(c, blobName) {
      try {
        const list = await container(c).getBlockBlobClient(blobName).getBlockList('committed');
        return (list.committedBlocks ?? []).map((block) => block.name);
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return [];
        throw error;
      }
    },
    async upload(c, blobName, bytes, contentType) {
      await container(c).getBlockBlobClient(blobName).upload(bytes, bytes.length, { blobHTTPHeaders: { blobContentType: contentType } });
    },
    async download(c, blobName) {
      try {
        return await container(c).getBlockBlobClient(blobName).downloadToBuffer();
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return undefined;
        throw error;
      }
    },
  };
}

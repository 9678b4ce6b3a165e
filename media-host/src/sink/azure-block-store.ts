/** {@link BlockStore} over `@azure/storage-blob`: block blobs grown by staged blocks. */
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { BlockStore } from './block-store';

export interface AzureBlockStoreOptions {
  readonly connectionString?: string;
  readonly accountUrl?: string;
  /** Per-request timeout; a hung request counts as a transient failure. Default 30 000. */
  readonly requestTimeoutInMs?: number;
}

export function createAzureBlockStore(options: AzureBlockStoreOptions): BlockStore {
  const pipelineOptions = { retryOptions: { maxTries: 1, tryTimeoutInMs: options.requestTimeoutInMs ?? 30_000 } };
  const service =
    options.connectionString !== undefined
      ? BlobServiceClient.fromConnectionString(options.connectionString, pipelineOptions)
      : new BlobServiceClient(options.accountUrl ?? '', new DefaultAzureCredential(), pipelineOptions);
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
      await container(c).getBlockBlobClient(blobName).stageBlock(blockId, bytes, bytes.length);
    },
    async commitBlockList(c, blobName, blockIds, contentType) {
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

/**
 * {@link BlockStore} over `@azure/storage-blob`: block blobs grown by staged blocks. The clients of
 * the blobs being written are kept (one per stream blob), so a Put Block does not build a client.
 * The SDK's request pipeline is trimmed of the policies this host has no use for (see
 * {@link LEAN_PIPELINE_DROPS}): Put Block is the host's most frequent request, and each policy is
 * a layer of work on every one.
 */
import { DefaultAzureCredential } from '@azure/identity';
import {
  BlobServiceClient,
  StorageSharedKeyCredential,
  type BlockBlobClient,
  type ContainerClient,
} from '@azure/storage-blob';
import type { BlockStore } from './block-store';
import { createBlockRest, type BlockRestAuth } from './block-rest';
import {
  createKeepAliveAgents,
  createKeepAliveHttpClient,
  DEFAULT_MAX_SOCKETS,
} from './keep-alive-http-client';

export interface AzureBlockStoreOptions {
  readonly connectionString?: string;
  readonly accountUrl?: string;
  /** Per-request timeout; a hung request counts as a transient failure. Default 30 000. */
  readonly requestTimeoutInMs?: number;
  /**
   * How Put Block, Put Block List and Append Block are sent: `rest` (default) as plain signed
   * requests beside the SDK client ({@link createBlockRest}); `sdk` through the SDK client like
   * every other request. Both share the keep-alive sockets.
   */
  readonly hotPath?: 'rest' | 'sdk';
  /** Sockets kept open to storage at most. Default 64. */
  readonly maxSockets?: number;
}

/**
 * Policies of the SDK's default pipeline removed from the host's client: tracing (no tracer is
 * configured here; spans would be no-ops), request logging (the SDK's logger is off), redirects
 * (Blob Storage does not redirect these requests), form data and multipart bodies (never sent),
 * the browser cache-buster (Node), abort-signal wrapping (no signals are passed). Kept: the
 * request id and user agent headers (support cases), the proxy settings, content length, the
 * SDK's retry policy (one try: it applies the per-request timeout; {@link withRetries} retries),
 * error details, signing, serialization.
 */
export const LEAN_PIPELINE_DROPS = [
  'tracingPolicy',
  'logPolicy',
  'redirectPolicy',
  'formDataPolicy',
  'multipartPolicy',
  'storageBrowserPolicy',
  'wrapAbortSignalLikePolicy',
] as const;

interface PolicyRemover {
  removePolicy(options: { name: string }): unknown;
}

/**
 * Removes {@link LEAN_PIPELINE_DROPS} from the request pipeline a client built (shared by every
 * client derived from it). `@azure/storage-blob` 12.x keeps that pipeline on the client's
 * `pipeline._corePipeline`, which is not public API: when it is not there (a later SDK), nothing
 * is removed and the client works as built. Returns the number of policies removed.
 */
export function trimPipeline(client: BlobServiceClient): number {
  const core = (client as unknown as { pipeline?: { _corePipeline?: Partial<PolicyRemover> } })
    .pipeline?._corePipeline;
  if (typeof core?.removePolicy !== 'function') return 0;
  let removed = 0;
  for (const name of LEAN_PIPELINE_DROPS) {
    const result = core.removePolicy({ name });
    removed += Array.isArray(result) ? result.length : 0;
  }
  return removed;
}

/** Clients of blobs being written that are kept at most. */
const MAX_CACHED_BLOB_CLIENTS = 20_000;

/**
 * The URL `ContainerClient.getBlockBlobClient(blobName).url` gives, without building the client
 * (a client costs milliseconds of CPU: its own pipeline; the REST path needs only the URL). The
 * steps are the SDK's (12.x): each path segment `encodeURIComponent`d, appended to the container's
 * path, then the whole path escaped again as `escapeURLPath` does; `blob-url.test.ts` checks the
 * two agree.
 */
export function blobUrlOf(containerUrl: string, blobName: string): string {
  const appended = new URL(containerUrl);
  const escapedName = blobName.split('/').map(encodeURIComponent).join('/');
  const path = appended.pathname;
  appended.pathname = path
    ? path.endsWith('/')
      ? `${path}${escapedName}`
      : `${path}/${escapedName}`
    : escapedName;
  const url = new URL(appended.toString());
  url.pathname = encodeURIComponent(url.pathname || '/')
    .replace(/%2F/g, '/')
    .replace(/'/g, '%27')
    .replace(/\+/g, '%20')
    .replace(/%25/g, '%');
  return url.toString();
}

export function createAzureBlockStore(options: AzureBlockStoreOptions): BlockStore {
  const requestTimeoutInMs = options.requestTimeoutInMs ?? 30_000;
  const agents = createKeepAliveAgents(options.maxSockets ?? DEFAULT_MAX_SOCKETS);
  const pipelineOptions = {
    retryOptions: { maxTries: 1, tryTimeoutInMs: requestTimeoutInMs },
    httpClient: createKeepAliveHttpClient(agents, { requestTimeoutInMs }),
  };
  const credential =
    options.connectionString === undefined ? new DefaultAzureCredential() : undefined;
  const service =
    options.connectionString !== undefined
      ? BlobServiceClient.fromConnectionString(options.connectionString, pipelineOptions)
      : new BlobServiceClient(options.accountUrl ?? '', credential, pipelineOptions);
  trimPipeline(service);
  const auth: BlockRestAuth | undefined =
    service.credential instanceof StorageSharedKeyCredential
      ? { kind: 'sharedKey', credential: service.credential }
      : credential !== undefined
        ? { kind: 'token', credential }
        : undefined;
  // No credential the REST path can sign with (an anonymous or SAS connection string): the SDK sends everything.
  const rest =
    options.hotPath !== 'sdk' && auth !== undefined
      ? createBlockRest({
          auth,
          requestTimeoutInMs,
          maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS,
        })
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
  // Bounded: the oldest goes first (only a client object, rebuilt on next use).
  const blobs = new Map<string, BlockBlobClient>();
  const blob = (c: string, blobName: string): BlockBlobClient => {
    const key = `${c}/${blobName}`;
    let client = blobs.get(key);
    if (client === undefined) {
      client = container(c).getBlockBlobClient(blobName);
      if (blobs.size >= MAX_CACHED_BLOB_CLIENTS) blobs.delete(blobs.keys().next().value as string);
      blobs.set(key, client);
    }
    return client;
  };
  // The REST path's blob URLs, bounded like the clients (the oldest goes first).
  const blobUrls = new Map<string, string>();
  const blobUrl = (c: string, blobName: string): string => {
    const key = `${c}/${blobName}`;
    let url = blobUrls.get(key);
    if (url === undefined) {
      url = blobUrlOf(container(c).url, blobName);
      if (blobUrls.size >= MAX_CACHED_BLOB_CLIENTS)
        blobUrls.delete(blobUrls.keys().next().value as string);
      blobUrls.set(key, url);
    }
    return url;
  };
  return {
    async ensureContainer(name) {
      await container(name).createIfNotExists();
    },
    async stageBlock(c, blobName, blockId, bytes) {
      if (rest !== undefined) return rest.putBlock(blobUrl(c, blobName), blockId, bytes);
      await blob(c, blobName).stageBlock(blockId, bytes, bytes.length);
    },
    async commitBlockList(c, blobName, blockIds, contentType) {
      if (rest !== undefined) return rest.putBlockList(blobUrl(c, blobName), blockIds, contentType);
      await blob(c, blobName).commitBlockList([...blockIds], {
        blobHTTPHeaders: { blobContentType: contentType },
      });
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
    async appendBlock(c, blobName, bytes) {
      // Once per session and commit (the custody journal): the REST path when it can sign, as
      // Put Block List. The SDK creates the blob the first time (404), then the append is sent again.
      const append = (): Promise<void> =>
        rest !== undefined
          ? rest.appendBlock(blobUrl(c, blobName), bytes)
          : container(c)
              .getAppendBlobClient(blobName)
              .appendBlock(bytes, bytes.length)
              .then(() => undefined);
      try {
        await append();
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
        await container(c)
          .getAppendBlobClient(blobName)
          .createIfNotExists({ blobHTTPHeaders: { blobContentType: 'application/x-ndjson' } });
        await append();
      }
    },
    async upload(c, blobName, bytes, contentType) {
      await container(c)
        .getBlockBlobClient(blobName)
        .upload(bytes, bytes.length, { blobHTTPHeaders: { blobContentType: contentType } });
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

/**
 * The blob storage port of the writer pipeline. The Azure adapter is built only in the
 * composition root; the pipeline sees {@link BlockStore}. {@link withRetries} wraps any store with
 * backoff for throttling and outages (408, 429, 5xx, timeouts, connection resets).
 */
import { ErrorCode, RecorderError } from '@attest/core';

export interface BlockStore {
  /** Creates the container if missing; idempotent. */
  ensureContainer(container: string): Promise<void>;
  /**
   * Stages one block. Once the promise resolves the caller reuses `bytes` for a later block: an
   * implementation that keeps them must copy them.
   */
  stageBlock(container: string, blobName: string, blockId: string, bytes: Buffer): Promise<void>;
  /** Commits exactly `blockIds`, in order, as the blob's content. */
  commitBlockList(
    container: string,
    blobName: string,
    blockIds: readonly string[],
    contentType: string,
  ): Promise<void>;
  /** The committed block ids in order; empty when the blob does not exist. */
  getCommittedBlockIds(container: string, blobName: string): Promise<string[]>;
  /**
   * Appends `bytes` to an append blob, creating it when missing (a session's custody journal).
   * Not idempotent: a retried append after a lost answer may append twice (readers tolerate a
   * repeated line).
   */
  appendBlock(container: string, blobName: string, bytes: Buffer): Promise<void>;
  /** Writes a small blob in one request (manifest, wrapped key). */
  upload(container: string, blobName: string, bytes: Buffer, contentType: string): Promise<void>;
  /** Reads a whole blob; undefined when it does not exist. */
  download(container: string, blobName: string): Promise<Buffer | undefined>;
}

export interface RetryOptions {
  /** First delay; doubles each attempt up to `maxDelayInMs`. Default 200. */
  readonly baseDelayInMs?: number;
  /** Default 5 000. */
  readonly maxDelayInMs?: number;
  /** Attempts before giving up; default unlimited (the spool bound decides when to fail). */
  readonly maxAttempts?: number;
  /** Injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called on every failed attempt that will be retried. */
  readonly onRetry?: (operation: string, attempt: number, error: unknown) => void;
  /** Stops retrying (for example when a session is aborted). */
  readonly abortSignal?: AbortSignal;
}

/** Whether a storage failure may succeed when tried again. */
export function isTransientStorageError(error: unknown): boolean {
  if (error instanceof RecorderError) return error.retryable;
  const e = error as { statusCode?: number; code?: string; name?: string } | undefined;
  const status = e?.statusCode;
  if (status !== undefined && status > 0) return status === 408 || status === 429 || status >= 500;
  // No HTTP status: the request never got an answer (refused, reset, timeout, aborted socket).
  return true;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function retrying<T>(
  operation: string,
  run: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const base = options.baseDelayInMs ?? 200;
  const max = options.maxDelayInMs ?? 5000;
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      const isLast = options.maxAttempts !== undefined && attempt >= options.maxAttempts;
      if (!isTransientStorageError(error) || isLast || options.abortSignal?.aborted === true) {
        throw new RecorderError(
          ErrorCode.StorageWriteFailed,
          `storage operation ${operation} failed`,
          {
            cause: error,
            retryable: isTransientStorageError(error),
            details: { operation, attempt },
          },
        );
      }
      options.onRetry?.(operation, attempt, error);
      await sleep(Math.min(max, base * 2 ** Math.min(attempt - 1, 16)));
    }
  }
}

/** Wraps every operation of a store with {@link retrying}. */
export function withRetries(store: BlockStore, options: RetryOptions = {}): BlockStore {
  return {
    ensureContainer: (c) => retrying('ensureContainer', () => store.ensureContainer(c), options),
    stageBlock: (c, b, id, bytes) =>
      retrying('stageBlock', () => store.stageBlock(c, b, id, bytes), options),
    commitBlockList: (c, b, ids, t) =>
      retrying('commitBlockList', () => store.commitBlockList(c, b, ids, t), options),
    getCommittedBlockIds: (c, b) =>
      retrying('getCommittedBlockIds', () => store.getCommittedBlockIds(c, b), options),
    appendBlock: (c, b, bytes) =>
      retrying('appendBlock', () => store.appendBlock(c, b, bytes), options),
    upload: (c, b, bytes, t) => retrying('upload', () => store.upload(c, b, bytes, t), options),
    download: (c, b) => retrying('download', () => store.download(c, b), options),
  };
}

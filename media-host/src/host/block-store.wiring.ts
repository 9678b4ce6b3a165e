/**
 * The host's block store: the given one (tests) or Azure from configuration, wrapped with
 * retries that are counted and logged (the first and every tenth attempt).
 */
import type { MediaHostConfig } from '../config/media-host.config';
import { MetricNames, type MetricsSink } from '../hooks/metrics-sink';
import { errorMessage, type Logger } from '../logging/logger';
import { createAzureBlockStore } from '../sink/azure-block-store';
import { withRetries, type BlockStore } from '../sink/block-store';

export interface BlockStoreWiringOptions {
  /** Storage without retries; default: Azure from configuration. */
  readonly store: BlockStore | undefined;
  readonly sleep: ((ms: number) => Promise<void>) | undefined;
  readonly retryBaseDelayInMs: number | undefined;
  readonly retryMaxDelayInMs: number | undefined;
  readonly metrics: MetricsSink;
  readonly logger: Logger;
}

export function createHostBlockStore(
  config: MediaHostConfig,
  options: BlockStoreWiringOptions,
): BlockStore {
  const rawStore =
    options.store ??
    createAzureBlockStore({
      ...(config.storageConnectionString !== undefined
        ? { connectionString: config.storageConnectionString }
        : {}),
      ...(config.storageAccountUrl !== undefined ? { accountUrl: config.storageAccountUrl } : {}),
      hotPath: config.shouldSendBlocksThroughSdk === true ? 'sdk' : 'rest',
    });
  return withRetries(rawStore, {
    ...(options.sleep !== undefined ? { sleep: options.sleep } : {}),
    ...(options.retryBaseDelayInMs !== undefined
      ? { baseDelayInMs: options.retryBaseDelayInMs }
      : {}),
    ...(options.retryMaxDelayInMs !== undefined ? { maxDelayInMs: options.retryMaxDelayInMs } : {}),
    onRetry: (operation, attempt, error) => {
      options.metrics.increment(MetricNames.storageRetries);
      if (attempt === 1 || attempt % 10 === 0)
        options.logger.warn('storage operation retried', {
          operation,
          attempt,
          error: errorMessage(error),
        });
    },
  });
}

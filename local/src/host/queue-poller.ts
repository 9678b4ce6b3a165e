/**
 * Runs storage queue triggers against Azure Storage queues (Azurite locally), as the Functions
 * host does: messages are base64-decoded by default (`extensions.queues.messageEncoding`), JSON
 * content reaches the handler parsed, trigger metadata carries `Id`, `DequeueCount`,
 * `InsertionTime`, `ExpirationTime`, `NextVisibleTime`, `PopReceipt`, `QueueTrigger`. A message
 * whose invocation succeeded is deleted; one that failed is made visible again after
 * `extensions.queues.visibilityTimeout`; once it has failed `maxDequeueCount` times it is moved
 * (original text) to `<queue>-poison`.
 */
import {
  QueueServiceClient,
  type DequeuedMessageItem,
  type QueueClient,
} from '@azure/storage-queue';
import type { CapturedFunction } from './contracts';
import type { LoadedFunctionApp } from './function-app';
import type { HostJsonSettings } from './host-config';
import {
  resolveSettingExpressions,
  resolveStorageConnection,
  type AppSettings,
} from './app-settings';
import type { HostLogger } from './log-sink';
import { jsonData, stringData } from './typed-data';
import type { CoreTypedData } from './functions-core';

export interface QueuePollerOptions {
  readonly app: LoadedFunctionApp;
  readonly logger: HostLogger;
  readonly appSettings: AppSettings;
  readonly settings: Pick<
    HostJsonSettings,
    | 'queueMaxDequeueCount'
    | 'queueVisibilityTimeoutInMs'
    | 'queueMaxPollingIntervalInMs'
    | 'queueBatchSize'
    | 'queueMessageEncoding'
  >;
  /** Shortest wait between polls of an empty queue; doubles up to the host.json maximum. Default 100 ms. */
  readonly minPollingIntervalInMs?: number;
  /** How long a received message stays invisible while its function runs. Default 10 minutes. */
  readonly processingVisibilityTimeoutInMs?: number;
}

interface QueueTarget {
  readonly fn: CapturedFunction;
  readonly queueName: string;
  readonly queue: QueueClient;
  readonly poison: QueueClient;
  delayInMs: number;
}

const QUEUE_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

function decodeMessage(text: string, encoding: 'base64' | 'none'): string {
  if (encoding === 'none') return text;
  const compact = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new Error(
      'The queue message is not base64; set extensions.queues.messageEncoding to "none" for plain text',
    );
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

function metadataOf(message: DequeuedMessageItem, decoded: string): Record<string, CoreTypedData> {
  const metadata: Record<string, CoreTypedData | undefined> = {
    Id: jsonData(message.messageId),
    DequeueCount: jsonData(message.dequeueCount),
    InsertionTime: jsonData(message.insertedOn.toISOString()),
    ExpirationTime: jsonData(message.expiresOn.toISOString()),
    NextVisibleTime: jsonData(message.nextVisibleOn.toISOString()),
    PopReceipt: jsonData(message.popReceipt),
    QueueTrigger: stringData(decoded),
  };
  return Object.fromEntries(Object.entries(metadata).filter(([, v]) => v !== undefined)) as Record<
    string,
    CoreTypedData
  >;
}

export class QueuePoller {
  readonly #options: QueuePollerOptions;
  readonly #targets: QueueTarget[];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #started = false;
  #closed = false;

  constructor(options: QueuePollerOptions) {
    this.#options = options;
    const clients = new Map<string, QueueServiceClient>();
    this.#targets = options.app.listByTrigger('queueTrigger').map((fn) => {
      const raw = typeof fn.trigger.queueName === 'string' ? fn.trigger.queueName : '';
      const queueName = resolveSettingExpressions(raw, options.appSettings, fn.name).toLowerCase();
      if (!QUEUE_NAME.test(queueName)) {
        throw new Error(`Function "${fn.name}" has an invalid queue name "${queueName}"`);
      }
      const connection = resolveStorageConnection(
        fn.trigger.connection,
        options.appSettings,
        fn.name,
      );
      let service = clients.get(connection);
      if (service === undefined) {
        service = QueueServiceClient.fromConnectionString(connection);
        clients.set(connection, service);
      }
      return {
        fn,
        queueName,
        queue: service.getQueueClient(queueName),
        poison: service.getQueueClient(`${queueName}-poison`),
        delayInMs: 0,
      };
    });
  }

  /** Queue names being watched, by function. */
  list(): readonly { functionName: string; queueName: string }[] {
    return this.#targets.map((t) => ({ functionName: t.fn.name, queueName: t.queueName }));
  }

  /**
   * Creates the queues and, unless `poll` is false, starts polling in the background (tests pass
   * false and drive the poller with `pollOnce`).
   */
  async start(options: { poll?: boolean } = {}): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await Promise.all(this.#targets.map((t) => t.queue.createIfNotExists()));
    if (options.poll === false) return;
    for (const target of this.#targets) this.#schedule(target, 0);
  }

  /**
   * Receives and processes one batch from every watched queue and waits for the invocations.
   * Resolves with the number of messages processed (tests drive the poller with this).
   */
  async pollOnce(): Promise<number> {
    const counts = await Promise.all(this.#targets.map((t) => this.#pollTarget(t)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Stops polling and waits for running invocations; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await Promise.allSettled([...this.#inFlight]);
  }

  #schedule(target: QueueTarget, delayInMs: number): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const poll = this.#pollTarget(target)
        .then((count) => {
          const min = this.#options.minPollingIntervalInMs ?? 100;
          const max = Math.max(this.#options.settings.queueMaxPollingIntervalInMs, min);
          target.delayInMs = count > 0 ? 0 : Math.min(Math.max(target.delayInMs * 2, min), max);
        })
        .catch((error: unknown) => {
          target.delayInMs = this.#options.settings.queueMaxPollingIntervalInMs;
          this.#options.logger.log('warn', 'queue poll failed', {
            functionName: target.fn.name,
            queueName: target.queueName,
            errorMessage: error instanceof Error ? error.message : String(error),
          });
        })
        .finally(() => {
          this.#inFlight.delete(poll);
          this.#schedule(target, target.delayInMs);
        });
      this.#inFlight.add(poll);
    }, delayInMs);
    this.#timers.add(timer);
  }

  async #pollTarget(target: QueueTarget): Promise<number> {
    const visibilityTimeout = Math.ceil(
      (this.#options.processingVisibilityTimeoutInMs ?? 600_000) / 1000,
    );
    const received = await target.queue.receiveMessages({
      numberOfMessages: Math.min(this.#options.settings.queueBatchSize, 32),
      visibilityTimeout,
    });
    await Promise.all(received.receivedMessageItems.map((m) => this.#process(target, m)));
    return received.receivedMessageItems.length;
  }

  async #process(target: QueueTarget, message: DequeuedMessageItem): Promise<void> {
    const { app, logger, settings } = this.#options;
    const log = logger.child({
      functionName: target.fn.name,
      queueName: target.queueName,
      messageId: message.messageId,
    });
    try {
      const decoded = decodeMessage(message.messageText, settings.queueMessageEncoding);
      await app.invoke(
        target.fn.name,
        stringData(decoded),
        { triggerMetadata: metadataOf(message, decoded) },
        {
          correlation: { messageId: message.messageId },
        },
      );
      await target.queue.deleteMessage(message.messageId, message.popReceipt);
      return;
    } catch (error) {
      log.log('warn', 'queue function failed', {
        dequeueCount: message.dequeueCount,
        errorMessage: error instanceof Error ? error.message : String(error),
      });
    }
    if (message.dequeueCount >= settings.queueMaxDequeueCount) {
      await target.poison.createIfNotExists();
      await target.poison.sendMessage(message.messageText);
      await target.queue.deleteMessage(message.messageId, message.popReceipt);
      log.log('warn', 'queue message moved to poison queue', {
        dequeueCount: message.dequeueCount,
        poisonQueueName: `${target.queueName}-poison`,
      });
      return;
    }
    await target.queue.updateMessage(
      message.messageId,
      message.popReceipt,
      undefined,
      Math.ceil(settings.queueVisibilityTimeoutInMs / 1000),
    );
  }
}

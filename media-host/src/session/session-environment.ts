/**
 * What a media session is built from: the host's shared services and settings, and the writer
 * factory that turns them into one stream segment's writer.
 */
import { recordingBlobNames, type CreateMediaSessionRequest, type Signer } from '@attest/core';
import type { MetricsSink } from '../hooks/metrics-sink';
import type { Logger } from '../logging/logger';
import type { StreamFormatterFactory } from '../pipeline/formats/stream-format';
import type { Spool } from '../pipeline/spool';
import { StreamWriter } from '../pipeline/stream-writer';
import type { BlockStore } from '../sink/block-store';
import type { WriterFactory } from './frame-router';

/** Which session a report is about: its id and the request it was created for. */
export interface SessionRef {
  readonly sessionId: string;
  readonly request: CreateMediaSessionRequest;
}

export interface SessionEnvironment {
  readonly hostId: string;
  readonly softwareVersion: string;
  readonly container: string;
  readonly spool: Spool;
  readonly store: BlockStore;
  readonly formatterFactory: StreamFormatterFactory;
  readonly isAudioLossless: boolean;
  readonly blockMinDurationInMs: number;
  /** Media per stream segment (blob); see `StreamWriterOptions.segmentMaxDurationInMs`. */
  readonly segmentMaxDurationInMs?: number;
  readonly sessionsDir: string;
  /** Signs the manifest at seal (a local key, or Key Vault). */
  readonly signer: Signer;
  readonly now: () => Date;
  readonly metrics: MetricsSink;
  readonly logger: Logger;
  /**
   * Runs a session record write (with its fsync). The host limits how many run at once so they do
   * not fill libuv's thread pool ahead of the spool's own write and fsync.
   */
  readonly limitRecordWrite: <T>(write: () => Promise<T>) => Promise<T>;
  /** Tells the function app persistence failed (spool full, storage refusing). */
  readonly reportFailure: (session: SessionRef, reason: string) => void;
}

export interface NewSessionInit {
  readonly sessionId: string;
  readonly token: string;
  readonly request: CreateMediaSessionRequest;
  readonly dataKey: Buffer | undefined;
  readonly kekId: string | undefined;
}

/**
 * Writers for a session's segments: the environment's formatter for the stream's kind, the blob
 * named by `recordingBlobNames(...).stream`, encrypted with `dataKey` when there is one.
 */
export function segmentWriterFactory(
  env: SessionEnvironment,
  request: CreateMediaSessionRequest,
  dataKey: Buffer | undefined,
): WriterFactory {
  const names = recordingBlobNames(request.tenantId, request.interactionId);
  return (stream) => {
    const formatter = env.formatterFactory({ kind: stream.kind, isLossless: env.isAudioLossless });
    return new StreamWriter({
      ...stream,
      blobName: names.stream(stream.streamId, formatter.extension),
      container: env.container,
      interactionId: request.interactionId,
      formatter,
      store: env.store,
      dataKey,
      blockMinDurationInMs: env.blockMinDurationInMs,
      ...(env.segmentMaxDurationInMs !== undefined
        ? { segmentMaxDurationInMs: env.segmentMaxDurationInMs }
        : {}),
      now: env.now,
    });
  };
}

/**
 * `node media-host/dist/main.js`: reads `ATTEST_MEDIA_*` from the environment, starts the host,
 * stops it on SIGINT/SIGTERM. Audio is stored as Opus in Ogg (WAV when lossless), video as
 * fragmented MP4.
 */
// The spool's writes and fsyncs, session records and TLS all use libuv's thread pool; the
// default of 4 threads lets a burst of record fsyncs delay the spool's (and so every ack).
process.env.UV_THREADPOOL_SIZE ??= '16';
import { formatLogLine } from '@attest/core';
import { loadConfig } from './config/media-host.config';
import { startMediaHost } from './host/media-host';
import { createJsonLogger, errorMessage } from './logging/logger';
import { createMetricsHandler, MediaHostMetrics } from './metrics';
import { closeDefaultOpusEncoderPool, createStreamFormatter } from './pipeline/formats';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createJsonLogger({ level: config.logLevel, base: { hostId: config.hostId } });
  const metrics = new MediaHostMetrics();
  const host = await startMediaHost(config, {
    formatterFactory: createStreamFormatter,
    logger,
    metrics,
    extraRoutes: {
      'GET /metrics': createMetricsHandler(metrics, {
        bearerKey: config.metricsKey ?? config.controlKey,
      }),
    },
  });
  const stop = (): void => {
    host
      .close()
      .then(() => closeDefaultOpusEncoderPool())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error('media host did not stop cleanly', { error: errorMessage(error) });
        process.exit(1);
      });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const fields = { component: 'media-host', error: errorMessage(error) };
  process.stderr.write(
    `${formatLogLine('error', 'media host failed to start', fields, undefined, { time: new Date().toISOString() })}\n`,
  );
  process.exit(1);
});

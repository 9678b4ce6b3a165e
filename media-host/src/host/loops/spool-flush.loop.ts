/**
 * The spool flush loop, which is also the ack loop: every interval the spool is fsynced, and each
 * connected session learns that what it had accepted before the flush started is durable, so its
 * source may forget it. A failed flush fails every running session (reported).
 */
import { MetricNames, type MetricsSink } from '../../hooks/metrics-sink';
import { errorMessage, type Logger } from '../../logging/logger';
import type { Spool } from '../../pipeline/spool';
import type { MediaSession } from '../../session/media-session';
import type { SessionRegistry } from '../session-registry';

export interface SpoolFlushLoopOptions {
  readonly spool: Spool;
  readonly registry: SessionRegistry;
  readonly intervalInMs: number;
  readonly metrics: MetricsSink;
  readonly logger: Logger;
}

/** A flush slower than this is logged (debug) with the spool's own timings. */
const SLOW_FLUSH_IN_MS = 250;

/** Starts the loop (its timer does not hold the process open); returns its stop function. */
export function startSpoolFlushLoop(options: SpoolFlushLoopOptions): () => void {
  const { spool, registry, metrics, logger } = options;
  let isFlushing = false;
  const flushOnce = (): void => {
    if (isFlushing) return;
    isFlushing = true;
    // Only what was accepted before the flush started is covered by its fsync.
    const accepted = new Map<MediaSession, number>();
    for (const sessionId of registry.connectedSessionIds()) {
      const session = registry.get(sessionId);
      if (session !== undefined) accepted.set(session, session.acceptedSequence);
    }
    const flushStarted = Date.now();
    spool
      .flush()
      .then(() => {
        const flushInMs = Date.now() - flushStarted;
        if (flushInMs > SLOW_FLUSH_IN_MS)
          logger.debug('spool flush was slow', {
            flushInMs,
            sessionCount: accepted.size,
            ...spool.lastFlushTimings,
          });
        for (const [session, sequence] of accepted) {
          const before = session.durableThrough;
          const after = session.markDurable(sequence);
          if (after !== before)
            registry.getConnection(session.sessionId)?.sendAck(after, session.nextSequence);
        }
        metrics.set(MetricNames.spoolBytes, spool.sizeInBytes);
      })
      .catch((error: unknown) => {
        logger.error('spool flush failed', { error: errorMessage(error) });
        for (const session of registry.values())
          if (!session.isFinished) session.fail('spool write failed');
      })
      .finally(() => {
        isFlushing = false;
      });
  };
  const timer = setInterval(flushOnce, options.intervalInMs);
  timer.unref();
  return () => clearInterval(timer);
}

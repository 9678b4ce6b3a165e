/**
 * Housekeeping: an always-on host must not keep every session it ever had, in memory (every loop
 * walks the sessions), on disk, or read again at each start. Finished sessions stay for the
 * retention (status, an idempotent repeated seal), then are retired: their files leave the
 * sessions folder (see `MediaSession.retire`), they leave the registry, their metric series are
 * dropped and any connection still attached is closed.
 */
import { MediaProtocolErrorCode } from '@attest/core';
import type { MetricsSink } from '../../hooks/metrics-sink';
import { errorMessage, type Logger } from '../../logging/logger';
import type { SessionRegistry } from '../session-registry';

export interface HousekeepingOptions {
  readonly registry: SessionRegistry;
  readonly finishedSessionRetentionInMs: number;
  readonly now: () => Date;
  readonly metrics: MetricsSink;
  readonly logger: Logger;
}

export interface Housekeeping {
  /** Retires every session finished at least the retention ago; shared while one runs. */
  readonly retireFinishedSessions: () => Promise<number>;
  /** Starts the periodic run (its timer does not hold the process open). */
  start(): void;
  /** Stops the periodic run and waits for one in progress. */
  stop(): Promise<void>;
}

/** At most this long between runs (less when the retention is shorter). */
const MAX_RUN_INTERVAL_IN_MS = 60_000;

export function createHousekeeping(options: HousekeepingOptions): Housekeeping {
  const { registry, metrics, logger, now } = options;
  // A finished session restored from a record without its finish time counts from the start.
  const startedAtInMs = now().getTime();
  let retiring: Promise<number> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const retireOnce = async (): Promise<number> => {
    const cutoff = now().getTime() - options.finishedSessionRetentionInMs;
    let retired = 0;
    for (const session of [...registry.values()]) {
      const finishedAt = session.finishedAtInMs(startedAtInMs);
      if (finishedAt === undefined || finishedAt > cutoff) continue;
      try {
        await session.retire();
      } catch (error) {
        logger.warn('finished session not retired', {
          sessionId: session.sessionId,
          callId: session.request.callId,
          error: errorMessage(error),
        });
        continue;
      }
      registry.delete(session);
      // A failed session's metric series were never dropped (seal and abort drop theirs).
      metrics.forgetSession?.(session.sessionId);
      registry
        .getConnection(session.sessionId)
        ?.close(MediaProtocolErrorCode.sessionClosed, 'session retired');
      retired += 1;
    }
    if (retired > 0) logger.info('finished sessions retired', { sessionCount: retired });
    return retired;
  };

  const retireFinishedSessions = (): Promise<number> => {
    retiring ??= retireOnce().finally(() => {
      retiring = undefined;
    });
    return retiring;
  };

  return {
    retireFinishedSessions,
    start() {
      timer ??= setInterval(
        () => {
          retireFinishedSessions().catch((error: unknown) =>
            logger.warn('housekeeping failed', { error: errorMessage(error) }),
          );
        },
        Math.min(MAX_RUN_INTERVAL_IN_MS, options.finishedSessionRetentionInMs),
      );
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await retiring;
    },
  };
}

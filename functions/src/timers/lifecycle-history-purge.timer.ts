/**
 * Purges the task hub history of call lifecycles that finished long ago. The Durable task hub keeps
 * every instance's history until it is purged, so without this it grows by every call forever.
 * Only finished call lifecycles (both versions) created before the retention are taken; the
 * interaction records, the ledger and the recordings are not touched, and `GET /api/calls/{callId}`
 * answers from the interaction record once the orchestration status is gone.
 *
 * The listing holds every finished lifecycle older than the cutoff still in the hub: once the
 * timer runs daily, about one day of calls. After the timer has not run for a long time it holds
 * the whole backlog (the SDK's `getStatusBy` pages internally and returns everything); purging
 * still goes at most {@link LIFECYCLE_HISTORY_PURGE_MAX_PER_RUN} a run.
 */
import type { InvocationContext, Timer } from '@azure/functions';
import type { LifecycleHistory } from '../domain/recorder-ports';
import { structuredLog } from '../logging/structured-log';

/** Daily at 03:30 (host time zone, UTC in Azure by default). */
export const LIFECYCLE_HISTORY_PURGE_SCHEDULE = '0 30 3 * * *';

/** Instances one run purges at most; the next run takes the rest. */
export const LIFECYCLE_HISTORY_PURGE_MAX_PER_RUN = 5000;

/** A progress line every this many purged instances. */
const PROGRESS_EVERY = 500;

export interface LifecycleHistoryPurgeDeps {
  readonly history: (context: InvocationContext) => LifecycleHistory;
  /** Finished lifecycles created longer ago than this are purged. */
  readonly retentionInMs: number;
  readonly now: () => Date;
  /** Default {@link LIFECYCLE_HISTORY_PURGE_MAX_PER_RUN}. */
  readonly maxPerRun?: number;
}

export function createLifecycleHistoryPurgeHandler(
  deps: LifecycleHistoryPurgeDeps,
): (timer: Timer, context: InvocationContext) => Promise<void> {
  return async (_timer, context) => {
    const log = structuredLog(context);
    const history = deps.history(context);
    const cutoff = new Date(deps.now().getTime() - deps.retentionInMs);
    const max = deps.maxPerRun ?? LIFECYCLE_HISTORY_PURGE_MAX_PER_RUN;
    // One more than a run takes tells whether the next run has work left.
    const ids = await history.listFinished(cutoff, max + 1);
    const batch = ids.slice(0, max);
    let purged = 0;
    let failed = 0;
    for (const instanceId of batch) {
      try {
        if (await history.purge(instanceId)) purged += 1;
      } catch (error) {
        failed += 1;
        log.warn('lifecycle history not purged', {
          instanceId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      const done = purged + failed;
      if (done % PROGRESS_EVERY === 0 && done < batch.length)
        log.info('lifecycle history purge progress', { done, of: batch.length });
    }
    log.info('lifecycle history purged', {
      purged,
      failed,
      cutoff: cutoff.toISOString(),
      isMoreLeft: ids.length > max,
    });
  };
}

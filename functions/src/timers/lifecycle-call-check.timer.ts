/**
 * The call check when the function app starts: raises `hostStarted` to every running call
 * lifecycle of the version that acts on it (`callLifecycleV4`), which then asks Graph for its
 * call. Teams does not redeliver a notification that found the app down, so a call that ended
 * meanwhile would otherwise stay "in progress" until its next keepAlive (up to 15 minutes).
 *
 * Registered with `runOnStartup` (every start of the Functions host, which is what we want here:
 * each lifecycle limits its own lookups to one per `callCheckMinIntervalInMs`, so the starts of a
 * scaled-out app cost one Graph request per call) and a daily schedule, which harms nothing.
 * Idempotent: the event's delivery id names this invocation.
 */
import type { InvocationContext, Timer } from '@azure/functions';
import { CALL_EVENT_NAME, type CallEvent } from '../domain/call-lifecycle.contract';
import type { RunningLifecycles } from '../domain/recorder-ports';
import { structuredLog } from '../logging/structured-log';

/** Daily at 04:10 (host time zone), besides every host start. */
export const LIFECYCLE_CALL_CHECK_SCHEDULE = '0 10 4 * * *';

/** A progress line every this many lifecycles told. */
const PROGRESS_EVERY = 500;

export interface LifecycleCallCheckDeps {
  readonly lifecycles: (context: InvocationContext) => RunningLifecycles;
  /** The orchestration name whose instances act on `hostStarted`. */
  readonly orchestratorName: string;
  readonly now: () => Date;
}

export function createLifecycleCallCheckHandler(
  deps: LifecycleCallCheckDeps,
): (timer: Timer, context: InvocationContext) => Promise<void> {
  return async (_timer, context) => {
    const log = structuredLog(context);
    const lifecycles = deps.lifecycles(context);
    const instanceIds = await lifecycles.listRunning(deps.orchestratorName);
    const at = deps.now().toISOString();
    let told = 0;
    let failed = 0;
    for (const instanceId of instanceIds) {
      const event: CallEvent = {
        kind: 'hostStarted',
        deliveryId: `host-started-${context.invocationId}`,
        at,
      };
      try {
        // An instance that finished since the listing answers notFound: nothing to do.
        if ((await lifecycles.raise(instanceId, CALL_EVENT_NAME, event)) === 'raised') told += 1;
      } catch (error) {
        failed += 1;
        log.warn('lifecycle not told of the host start', {
          instanceId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      const done = told + failed;
      if (done % PROGRESS_EVERY === 0 && done < instanceIds.length)
        log.info('lifecycle call check progress', { done, of: instanceIds.length });
    }
    log.info('lifecycles told of the host start', { running: instanceIds.length, told, failed });
  };
}

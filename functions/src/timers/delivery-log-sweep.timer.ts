/** Deletes webhook delivery claims older than the retention; Teams does not redeliver that late. */
import type { InvocationContext, Timer } from '@azure/functions';
import type { DeliveryLog } from '../domain/recorder-ports';
import { structuredLog } from '../logging/structured-log';

export const DELIVERY_LOG_SWEEP_SCHEDULE = '0 */30 * * * *';

export function createDeliveryLogSweepHandler(deps: {
  readonly deliveries: DeliveryLog;
  readonly retentionInMs: number;
  readonly now: () => Date;
}): (timer: Timer, context: InvocationContext) => Promise<void> {
  return async (_timer, context) => {
    const cutoff = new Date(deps.now().getTime() - deps.retentionInMs);
    const deleted = await deps.deliveries.purgeOlderThan(cutoff);
    structuredLog(context).info('delivery log swept', { deleted, cutoff: cutoff.toISOString() });
  };
}

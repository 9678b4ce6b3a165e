/** The one shape of a failure line in the durable engine: the error's message only, bounded. */
import type { HostLogger } from '../host/log-sink';

export function logFailure(
  log: HostLogger,
  message: string,
  error: unknown,
  fields: Record<string, unknown> = {},
): void {
  const err = error instanceof Error ? error : new Error(String(error));
  log.log('warn', message, { ...fields, error: err.message.slice(0, 500) });
}

/**
 * Clocks for the local durable engine. Orchestration time (OrchestratorStarted timestamps,
 * timer due times) is read only through a {@link Clock}; tests inject core's {@link ManualClock} and
 * fast-forward it, child processes in restart tests use an offset clock configured by env.
 */
import { ManualClock } from '@attest/core/testing';
import type { Clock } from '../host/contracts';

export { ManualClock, type Clock };

/** System time shifted by a fixed offset (ms). */
export function offsetClock(offsetInMs: number): Clock {
  return { now: () => new Date(Date.now() + offsetInMs) };
}

/** Env variable read by {@link clockFromEnv}: a signed integer offset in ms added to system time. */
export const CLOCK_OFFSET_ENV = 'ATTEST_DURABLE_CLOCK_OFFSET_MS';

/**
 * The clock a local host process should use: system time, shifted by
 * `ATTEST_DURABLE_CLOCK_OFFSET_MS` when set (restart tests start a host "in the future" so
 * that a durable timer created by a previous process is due). Throws on a malformed value.
 */
export function clockFromEnv(env: NodeJS.ProcessEnv): Clock {
  const raw = env[CLOCK_OFFSET_ENV];
  if (raw === undefined || raw.trim() === '') return { now: () => new Date() };
  const offset = Number(raw);
  if (!Number.isSafeInteger(offset))
    throw new Error(`${CLOCK_OFFSET_ENV} must be an integer number of ms`);
  return offsetClock(offset);
}

/**
 * Clocks for the local host. Production-like runs use the system clock; tests use core's one
 * manual clock and move it forward, then ask the host to run what became due.
 */
import { ManualClock } from '@attest/core/testing';
import { systemClock, type Clock } from './contracts';

export { ManualClock, systemClock, type Clock };

export function isManualClock(clock: Clock): clock is ManualClock {
  return clock instanceof ManualClock;
}

/**
 * Clocks for the local host. Production-like runs use the system clock; tests use a manual clock
 * and move it forward, then ask the host to run what became due.
 */
import { systemClock, type Clock } from './contracts';

export { systemClock, type Clock };

/** A clock that only moves when told to. */
export interface ManualClock extends Clock {
  /** Moves to `date`; refuses to go back in time. */
  set(date: Date): void;
  advanceBy(durationInMs: number): void;
}

export function createManualClock(start: Date): ManualClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    set(date) {
      if (date.getTime() < current) throw new Error('A manual clock cannot move backwards');
      current = date.getTime();
    },
    advanceBy(durationInMs) {
      if (durationInMs < 0) throw new Error('A manual clock cannot move backwards');
      current += durationInMs;
    },
  };
}

export function isManualClock(clock: Clock): clock is ManualClock {
  return typeof (clock as Partial<ManualClock>).set === 'function';
}

/**
 * The simulator reads time and schedules deadlines only through a {@link SimClock}, so tests
 * drive the 5-second answer deadline and the 45-minute keepAlive timeout without sleeping.
 */
export interface SimClock {
  nowInMs(): number;
  /** Runs `fn` once at or after `atInMs`; returns a cancel function (idempotent). */
  schedule(atInMs: number, fn: () => void): () => void;
}

export const systemSimClock: SimClock = {
  nowInMs: () => Date.now(),
  schedule(atInMs, fn) {
    const handle = setTimeout(fn, Math.max(0, atInMs - Date.now()));
    handle.unref();
    return () => clearTimeout(handle);
  },
};

/** The one manual clock (core's) drives the simulator in tests: it is a {@link SimClock}. */
export { ManualClock } from '@attest/core/testing';

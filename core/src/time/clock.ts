/**
 * Where time comes from outside orchestrators: every handler, pool, store, engine and simulator
 * reads it through a {@link Clock} built once in its composition root, so tests drive it with the
 * one manual clock (`core/src/testing/manual-clock.ts`) and never sleep.
 */
export interface Clock {
  now(): Date;
}

/** The system's clock. */
export const systemClock: Clock = { now: () => new Date() };

/**
 * The one manual clock of the tests (and benchmarks), for every process: a {@link Clock} for the
 * function app, the media host and the local host and durable engine, and a scheduling clock for
 * the simulator (`nowInMs`, `schedule`). It moves only when told to; callbacks scheduled on it run
 * in time order inside {@link ManualClock.advance} and {@link ManualClock.set}. Product code never
 * imports a `testing/` folder (lint).
 */
import type { Clock } from '../time/clock';

interface Pending {
  readonly atInMs: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class ManualClock implements Clock {
  #nowInMs: number;
  #seq = 0;
  #pending: Pending[] = [];

  /** Starts at `start` (default 2030-01-01T00:00:00Z). */
  constructor(start: Date | number = Date.parse('2030-01-01T00:00:00Z')) {
    this.#nowInMs = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#nowInMs);
  }

  nowInMs(): number {
    return this.#nowInMs;
  }

  /** Moves time forward by `ms` (not negative), running every callback that falls due, in order. */
  advance(ms: number): Date {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError('ManualClock.advance needs a non-negative number of ms');
    this.#runUntil(this.#nowInMs + ms);
    return this.now();
  }

  /**
   * Moves to `at`. Forward, due callbacks run as in {@link advance}; backward (a test that
   * replays a moment) nothing runs.
   */
  set(at: Date | number): void {
    const target = typeof at === 'number' ? at : at.getTime();
    if (target >= this.#nowInMs) this.#runUntil(target);
    else this.#nowInMs = target;
  }

  /** Runs `fn` once when the clock reaches `atInMs`; returns a cancel function (idempotent). */
  schedule(atInMs: number, fn: () => void): () => void {
    const entry: Pending = { atInMs, seq: this.#seq++, fn };
    this.#pending.push(entry);
    return () => {
      this.#pending = this.#pending.filter((p) => p !== entry);
    };
  }

  /** Callbacks scheduled and not yet run. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  #runUntil(target: number): void {
    for (;;) {
      const due = this.#pending
        .filter((p) => p.atInMs <= target)
        .sort((a, b) => a.atInMs - b.atInMs || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.#pending = this.#pending.filter((p) => p !== due);
      this.#nowInMs = Math.max(this.#nowInMs, due.atInMs);
      due.fn();
    }
    this.#nowInMs = target;
  }
}

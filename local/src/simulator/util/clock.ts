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

interface Pending {
  readonly atInMs: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A clock that moves only when told to; due callbacks run in time order inside {@link advance}. */
export class ManualSimClock implements SimClock {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];

  constructor(startInMs = Date.parse('2030-01-01T00:00:00Z')) {
    this.#now = startInMs;
  }

  nowInMs(): number {
    return this.#now;
  }

  schedule(atInMs: number, fn: () => void): () => void {
    const entry: Pending = { atInMs, seq: this.#seq++, fn };
    this.#pending.push(entry);
    return () => {
      this.#pending = this.#pending.filter((p) => p !== entry);
    };
  }

  /** Moves time forward by `ms`, running every callback that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#pending
        .filter((p) => p.atInMs <= target)
        .sort((a, b) => a.atInMs - b.atInMs || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.#pending = this.#pending.filter((p) => p !== due);
      this.#now = Math.max(this.#now, due.atInMs);
      due.fn();
    }
    this.#now = target;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }
}

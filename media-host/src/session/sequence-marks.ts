/**
 * How far a session's frame sequence has got: accepted (spooled, or consumed without storing)
 * and durable (covered by a spool fsync, so the source may forget it). Pure.
 */
export class SequenceMarks {
  #accepted: number;
  #durable: number;

  /** Both marks start at `through` (0 for a new session; the checkpoint after a restart). */
  constructor(through: number) {
    this.#accepted = through;
    this.#durable = through;
  }

  /** Highest sequence accepted; snapshot it before a spool flush. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Highest sequence durable in the spool. */
  get durable(): number {
    return this.#durable;
  }

  /** The sequence the source sends next. */
  get next(): number {
    return this.#accepted + 1;
  }

  /** Frames up to `sequence` were accepted from the source. */
  accept(sequence: number): void {
    this.#accepted = sequence;
  }

  /** A record read back from the spool after a restart: accepted and already durable. */
  replayed(sequence: number): void {
    this.#accepted = Math.max(this.#accepted, sequence);
    this.#durable = this.#accepted;
  }

  /** A spool flush that started when `accepted` was `sequence` finished; returns `durable`. */
  markDurable(sequence: number): number {
    this.#durable = Math.max(this.#durable, sequence);
    return this.#durable;
  }
}

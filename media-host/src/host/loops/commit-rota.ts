/**
 * Which member's turn it is: members get slots `0..slotCount-1` in the order they are first
 * seen (round robin), and each tick is the next slot. Pure; members are held weakly.
 */
export class CommitRota<T extends object> {
  readonly #slotCount: number;
  readonly #slotOf = new WeakMap<T, number>();
  #nextSlot = 0;
  #tick = 0;

  constructor(slotCount: number) {
    if (!Number.isInteger(slotCount) || slotCount < 1)
      throw new RangeError(`slotCount must be a positive integer, got ${slotCount}`);
    this.#slotCount = slotCount;
  }

  /** Advances to the next slot; the returned test says whether a member's turn is this slot. */
  nextTick(): (member: T) => boolean {
    const slot = this.#tick % this.#slotCount;
    this.#tick += 1;
    return (member) => this.slotOf(member) === slot;
  }

  /** The member's slot, given on first sight. */
  slotOf(member: T): number {
    let own = this.#slotOf.get(member);
    if (own === undefined) {
      own = this.#nextSlot % this.#slotCount;
      this.#nextSlot += 1;
      this.#slotOf.set(member, own);
    }
    return own;
  }
}

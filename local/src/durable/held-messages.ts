/**
 * Messages held in memory for an instance's next episode instead of being stored as inbox rows:
 * activity results (the episode that applies one deletes its work item in the same transaction,
 * so a crash before that re-runs the activity, and a result is never applied twice; saves one
 * write per activity) and raised events (the episode's commit stores the event in history, which
 * saves the inbox row's insert and delete). An episode takes them with the stored inbox.
 */
import type { InboxMessage } from './instance-rows';

/** A raised event waiting in memory for its instance's next episode. */
export interface HeldRaise {
  readonly message: InboxMessage;
  /** The episode that applied (or legitimately dropped) the event has committed. */
  readonly applied: () => void;
}

export class HeldMessages {
  /** Activity results not yet in storage, per instance. */
  readonly #results = new Map<string, InboxMessage[]>();
  readonly #raises = new Map<string, HeldRaise[]>();

  /** Held messages of the instance: activity results, then raised events, each in arrival order. */
  of(instanceId: string): InboxMessage[] {
    const results = this.#results.get(instanceId) ?? [];
    const raises = this.#raises.get(instanceId) ?? [];
    return [...results, ...raises.map((h) => h.message)];
  }

  addResult(instanceId: string, message: InboxMessage): void {
    const list = this.#results.get(instanceId) ?? [];
    list.push(message);
    this.#results.set(instanceId, list);
  }

  hasResults(instanceId: string): boolean {
    return this.#results.has(instanceId);
  }

  /** Whether `message` is still held as a result of the instance (not consumed). */
  holdsResult(instanceId: string, message: InboxMessage): boolean {
    return this.#results.get(instanceId)?.includes(message) === true;
  }

  /** Instances with results not yet applied. */
  instancesWithResults(): string[] {
    return [...this.#results.keys()];
  }

  /** Removes and returns the instance's results (to store them as inbox rows). */
  takeResults(instanceId: string): InboxMessage[] {
    const list = this.#results.get(instanceId) ?? [];
    this.#results.delete(instanceId);
    return list;
  }

  addRaise(instanceId: string, raise: HeldRaise): void {
    const list = this.#raises.get(instanceId) ?? [];
    list.push(raise);
    this.#raises.set(instanceId, list);
  }

  /** Takes a raise back; false when it was applied meanwhile. */
  withdrawRaise(instanceId: string, raise: HeldRaise): boolean {
    const list = this.#raises.get(instanceId);
    const index = list?.indexOf(raise) ?? -1;
    if (list === undefined || index < 0) return false;
    list.splice(index, 1);
    if (list.length === 0) this.#raises.delete(instanceId);
    return true;
  }

  /**
   * An episode has committed `message` (applied or dropped it): a held raise is answered, a held
   * result forgotten. Stored messages are not held: nothing happens.
   */
  consume(instanceId: string, message: InboxMessage): void {
    if (message.direct !== true) return;
    const held = this.#raises.get(instanceId);
    const heldIndex = held?.findIndex((h) => h.message === message) ?? -1;
    if (held !== undefined && heldIndex >= 0) {
      const [raise] = held.splice(heldIndex, 1);
      if (held.length === 0) this.#raises.delete(instanceId);
      raise?.applied();
      return;
    }
    const list = this.#results.get(instanceId);
    if (list === undefined) return;
    const index = list.indexOf(message);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.#results.delete(instanceId);
  }
}

/**
 * A session's set-up, run after the control API has already answered its create: the wrapped
 * data key to storage (written once, before any media is stored) and the first session record to
 * disk. Persistence waits for it and fails with it, so no media is stored before its key.
 */
import { recordingBlobNames, RECORDING_KEYS_CONTAINER } from '@attest/core';
import type { Logger } from '../logging/logger';
import type { SessionEnvironment } from './session-environment';
import type { SessionIdentity } from './session-facts';

export class SessionSetup {
  readonly #store: SessionEnvironment['store'];
  readonly #identity: SessionIdentity;
  readonly #log: Logger;
  #hasKeyRecord: boolean;
  #done: Promise<void> = Promise.resolve();

  /** `hasKeyRecord`: the key record is known to be written already (or there is no key). */
  constructor(
    store: SessionEnvironment['store'],
    identity: SessionIdentity,
    log: Logger,
    hasKeyRecord: boolean,
  ) {
    this.#store = store;
    this.#identity = identity;
    this.#log = log;
    this.#hasKeyRecord = hasKeyRecord;
  }

  /** Resolves when the set-up has run; rejects with its failure. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Runs the set-up in the background; its failure is logged here and surfaces at {@link done}. */
  begin(task: () => Promise<void>): void {
    this.#done = task();
    this.#done.catch((error: unknown) =>
      this.#log.error('session set-up failed', {
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }

  /** Writes the wrapped data key record, once; must happen before any media is stored. */
  async ensureKeyRecord(wrappedRecord: Buffer | undefined): Promise<void> {
    if (this.#hasKeyRecord || wrappedRecord === undefined) {
      this.#hasKeyRecord = true;
      return;
    }
    const { tenantId, interactionId } = this.#identity.request;
    await this.#store.upload(
      RECORDING_KEYS_CONTAINER,
      recordingBlobNames(tenantId, interactionId).wrappedKey,
      wrappedRecord,
      'application/json',
    );
    this.#hasKeyRecord = true;
  }
}

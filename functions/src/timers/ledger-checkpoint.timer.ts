/** The hourly ledger checkpoint: signs the head when it moved since the last checkpoint. */
import { signCheckpoint, type LedgerCheckpoint } from '@attest/core';
import type { KeyObject } from 'node:crypto';
import type { Clock, LedgerStore } from '../domain/archive-ports';

export interface LedgerCheckpointDeps {
  readonly ledger: LedgerStore;
  readonly signingKey: KeyObject;
  readonly clock: Clock;
}

/** Returns the new checkpoint, or undefined when the ledger is empty or unchanged. */
export function createLedgerCheckpointJob(deps: LedgerCheckpointDeps): () => Promise<LedgerCheckpoint | undefined> {
  return async () => {
    const head = await deps.ledger.getHead();
    if (head === undefined) return undefined;
    const checkpoints = await deps.ledger.listCheckpoints();
    if (checkpoints.some((c) => c.seq === head.seq)) return undefined;
    const checkpoint = signCheckpoint(head, deps.clock.now(), deps.signingKey);
    await deps.ledger.putCheckpoint(checkpoint);
    return checkpoint;
  };
}

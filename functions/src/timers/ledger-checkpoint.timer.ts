/** The hourly ledger checkpoint: signs the head when it moved since the last checkpoint. */
import {
  publicKeyId,
  resolveSigner,
  signCheckpointWith,
  type LedgerCheckpoint,
  type SigningKeyLike,
} from '@attest/core';
import type { Clock, LedgerStore } from '../domain/archive-ports';

export interface LedgerCheckpointDeps {
  readonly ledger: LedgerStore;
  /** The ledger key: a local private key, or a Key Vault signer (source). */
  readonly signingKey: SigningKeyLike;
  readonly clock: Clock;
}

/** Returns the new checkpoint, or undefined when the ledger is empty or unchanged. */
export function createLedgerCheckpointJob(
  deps: LedgerCheckpointDeps,
): () => Promise<LedgerCheckpoint | undefined> {
  return async () => {
    const head = await deps.ledger.getHead();
    if (head === undefined) return undefined;
    const checkpoints = await deps.ledger.listCheckpoints();
    if (checkpoints.some((c) => c.seq === head.seq)) return undefined;
    const checkpoint = await signCheckpointWith(
      head,
      deps.clock.now(),
      await resolveSigner(deps.signingKey, publicKeyId),
    );
    await deps.ledger.putCheckpoint(checkpoint);
    return checkpoint;
  };
}

/**
 * At every start of the function app: hash the effective custody configuration, compare it with
 * the one recorded at the last start and, when it differs (or on the first start), append one
 * `configurationChanged` ledger entry, then remember the new hash. The entry is appended before
 * the hash is stored: two instances starting together may both record the same change (a
 * duplicate in the ledger), but a change is never left out.
 */
import type { LedgerEntry } from '@attest/core';
import type { CustodyConfigurationStore, LedgerStore } from '../domain/archive-ports';
import {
  custodyConfigurationEntry,
  hashCustodyConfiguration,
  type CustodyConfiguration,
} from '../domain/custody-configuration';

export interface CustodyConfigurationDeps {
  readonly store: CustodyConfigurationStore;
  readonly ledger: Pick<LedgerStore, 'append'>;
}

/** The entry written, or undefined when the configuration is the one last recorded. */
export async function recordCustodyConfiguration(
  deps: CustodyConfigurationDeps,
  configuration: CustodyConfiguration,
): Promise<LedgerEntry | undefined> {
  const current = hashCustodyConfiguration(configuration);
  const previous = await deps.store.get();
  const draft = custodyConfigurationEntry(previous, current);
  if (draft === undefined) return undefined;
  const entry = await deps.ledger.append(draft);
  await deps.store.put(current);
  return entry;
}

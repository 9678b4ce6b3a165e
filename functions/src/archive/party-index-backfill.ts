/**
 * Fills the party index from interactions archived before it existed: every archived (not
 * deleted) interaction of a tenant, with its parties from the recorder's participant rows (a
 * paired call's from each capture's). Idempotent (the index's writes are upserts) and run once
 * per tenant and index version: a marker row is written at the end, so an interrupted run starts
 * again at the next start of the function app. Logs its progress.
 */
import type { ArchiveLogger } from './archive.service';
import type { ArchiveRecordStore, CallLog, Clock, PartyIndex } from '../domain/archive-ports';
import { partyKeysOf } from '../domain/party-keys';

/** The shape of the index's rows; a new version indexes every tenant again. */
export const PARTY_INDEX_VERSION = 'v1';

export interface PartyIndexBackfillDeps {
  readonly records: ArchiveRecordStore;
  readonly callLog: Pick<CallLog, 'listParticipants'>;
  readonly parties: PartyIndex;
  readonly clock: Clock;
  readonly log: ArchiveLogger;
  /** A progress line after this many interactions. Default 500. */
  readonly progressEvery?: number;
}

export interface PartyIndexBackfillOutcome {
  readonly tenantId: string;
  /** True when the tenant was indexed in full before (nothing done). */
  readonly isAlreadyDone: boolean;
  readonly interactionCount: number;
}

export async function backfillPartyIndex(
  deps: PartyIndexBackfillDeps,
  tenantId: string,
): Promise<PartyIndexBackfillOutcome> {
  if (await deps.parties.isBackfilled(tenantId, PARTY_INDEX_VERSION))
    return { tenantId, isAlreadyDone: true, interactionCount: 0 };
  const every = deps.progressEvery ?? 500;
  let count = 0;
  deps.log.info('party index backfill started', { tenantId });
  for await (const record of deps.records.search({
    tenantId,
    isDeletedIncluded: false,
    limit: Number.MAX_SAFE_INTEGER,
  })) {
    const { interaction } = record;
    const ids = [
      interaction.interactionId,
      ...(interaction.captures ?? []).map((c) => c.captureId),
    ];
    const participants = (
      await Promise.all(ids.map((id) => deps.callLog.listParticipants(id)))
    ).flat();
    await deps.parties.add(
      tenantId,
      interaction.interactionId,
      partyKeysOf(interaction, participants),
    );
    count += 1;
    if (count % every === 0)
      deps.log.info('party index backfill progress', { tenantId, interactionCount: count });
  }
  await deps.parties.markBackfilled(tenantId, PARTY_INDEX_VERSION, deps.clock.now());
  deps.log.info('party index backfill done', { tenantId, interactionCount: count });
  return { tenantId, isAlreadyDone: false, interactionCount: count };
}

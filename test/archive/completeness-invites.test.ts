/**
 * The completeness report cross-checks the recorder's own interaction rows (Azure Tables, here
 * Azurite): an invite the recorder received whose archive intake never completed is still listed,
 * with that reason, and counted in the totals.
 */
import { randomUUID } from 'node:crypto';
import { isCompletenessSignatureValid, type InteractionRecord } from '@attest/core';
import {
  createCompletenessActivities,
  NOT_IN_ARCHIVE_REASON,
} from '../../functions/src/activities/completeness.activities';
import {
  createTableFactory,
  TablesInteractionStore,
} from '../../functions/src/adapters/table-stores';
import {
  createHarness,
  ledgerKeys,
  memoryBlobWriter,
  writeSealedRecording,
} from './archive-fixtures';
import type { MemoryRecordingBlobStore } from './support/memory-archive-stores';

const tenantId = `tenant-${randomUUID().slice(0, 8)}`;

const invite = (
  interactionId: string,
  invitedAt: string,
  extra: Partial<InteractionRecord> = {},
): InteractionRecord => ({
  tenantId,
  interactionId,
  callId: interactionId,
  type: 'p2p',
  direction: 'inbound',
  outcome: 'inProgress',
  invitedAt,
  recordedUserIds: ['user-a'],
  recordingStatusHistory: [],
  gaps: [],
  ...extra,
});

describe("completeness report against the recorder's invites", () => {
  it('lists an invite that never reached the archive, with the reason, and leaves out other periods', async () => {
    const connectionString = process.env.ATTEST_TEST_STORAGE_CONNECTION;
    if (connectionString === undefined)
      throw new Error('ATTEST_TEST_STORAGE_CONNECTION is not set (integration global setup)');
    const store = new TablesInteractionStore(createTableFactory({ connectionString }));
    const harness = createHarness('2031-03-01T00:00:00.000Z');

    // Archived and known to the recorder.
    const sealed = await writeSealedRecording(
      memoryBlobWriter(harness.blobs as MemoryRecordingBlobStore),
      {
        tenantId,
        interactionId: `a-${randomUUID()}`,
        recordedUserIds: ['user-a'],
        invitedAt: '2031-02-03T10:00:00.000Z',
      },
    );
    await store.createIfAbsent(
      invite(sealed.interaction.interactionId, sealed.interaction.invitedAt),
    );
    await harness.activities.recordInvite({ ...sealed.interaction, outcome: 'inProgress' });
    await harness.activities.recordSealed(sealed.interaction);
    // Known to the recorder only: its archive intake failed.
    const lost = invite(`l-${randomUUID()}`, '2031-02-10T08:30:00.000Z', {
      outcome: 'rejectedBusy',
      outcomeReason: 'noMediaHostCapacity',
    });
    await store.createIfAbsent(lost);
    // Outside the period.
    await store.createIfAbsent(invite(`o-${randomUUID()}`, '2031-03-02T08:00:00.000Z'));

    const completeness = createCompletenessActivities({
      records: harness.records,
      invites: store,
      ledgerSigningKey: ledgerKeys.privateKey,
      clock: harness.clock,
    });
    const { report, signature } = await completeness.buildReport({
      from: '2031-02-01T00:00:00.000Z',
      to: '2031-03-01T00:00:00.000Z',
      tenantId,
    });

    expect(report.items.map((i) => i.interactionId)).toEqual([
      sealed.interaction.interactionId,
      lost.interactionId,
    ]);
    expect(report.items[1]).toMatchObject({
      outcome: 'rejectedBusy',
      reason: NOT_IN_ARCHIVE_REASON,
      invitedAt: lost.invitedAt,
    });
    expect(report.totals).toMatchObject({ invites: 2, recorded: 1, rejectedBusy: 1 });
    expect(isCompletenessSignatureValid(report, signature, ledgerKeys.publicKey)).toBe(true);

    // Without the recorder's log the lost invite would not be there at all.
    const archiveOnly = createCompletenessActivities({
      records: harness.records,
      ledgerSigningKey: ledgerKeys.privateKey,
      clock: harness.clock,
    });
    expect(
      (
        await archiveOnly.buildReport({
          from: '2031-02-01T00:00:00.000Z',
          to: '2031-03-01T00:00:00.000Z',
          tenantId,
        })
      ).report.totals.invites,
    ).toBe(1);
  });
});

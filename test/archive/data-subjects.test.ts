/**
 * Data subject requests cover every party of an interaction, not only recorded users: a PSTN
 * caller is found by phone number and a Teams participant who was not recorded by identity id,
 * in export and erasure; the same number in another tenant is never matched. Interactions
 * archived before the party index existed are found once the backfill has run.
 */
import type { InteractionRecord } from '@attest/core';
import type { IndexedParty } from '../../functions/src/archive/archive.service';
import { backfillPartyIndex } from '../../functions/src/archive/party-index-backfill';
import { silentLogger } from '../../functions/src/archive/archive.service';
import { callRoute, createAdminHarness, type AdminHarness } from './archive-admin-harness';
import { DAY_IN_MS, memoryBlobWriter, writeSealedRecording } from './archive-fixtures';
import type { MemoryRecordingBlobStore } from './support/memory-archive-stores';

const T0 = '2030-01-01T00:00:00.000Z';
const CALLER = '+1 425 555 0100';
const users = {
  officer: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-1', groups: ['g-all'] },
  officerB: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-2', groups: ['g-all'] },
};

async function seal(
  admin: AdminHarness,
  interaction: { tenantId: string; interactionId: string; recordedUserIds: string[] },
  extra: Partial<InteractionRecord>,
  participants: readonly IndexedParty[],
  options: { isIndexed: boolean } = { isIndexed: true },
): Promise<InteractionRecord> {
  const fixture = await writeSealedRecording(
    memoryBlobWriter(admin.harness.blobs as MemoryRecordingBlobStore),
    { ...interaction, invitedAt: '2030-01-01T09:00:00.000Z', type: 'pstn' },
  );
  const record = { ...fixture.interaction, ...extra };
  if (options.isIndexed) await admin.harness.activities.recordSealed(record, participants);
  else await admin.harness.records.upsert({ interaction: record, groupIds: [], state: 'active' });
  admin.callLog.add(record, {
    participants: participants.map((p, i) => ({ ...p, participantId: `p-${i}`, msis: [] })),
  });
  return record;
}

async function setup(): Promise<AdminHarness> {
  const admin = await createAdminHarness(T0, users, [], { 'g-all': ['*'] });
  // Tenant 1: an inbound PSTN call of a recorded user; a Teams call with a colleague not recorded.
  await seal(
    admin,
    { tenantId: 'tenant-1', interactionId: 'int-pstn', recordedUserIds: ['user-x'] },
    { originNumber: CALLER },
    [
      { identityKind: 'phone', identityId: '+14255550100' },
      { identityKind: 'user', identityId: 'user-x' },
    ],
  );
  await seal(
    admin,
    { tenantId: 'tenant-1', interactionId: 'int-teams', recordedUserIds: ['user-x'] },
    {},
    [
      { identityKind: 'user', identityId: 'user-x' },
      { identityKind: 'user', identityId: 'user-colleague' },
    ],
  );
  // Tenant 2 recorded a call with the same caller.
  await seal(
    admin,
    { tenantId: 'tenant-2', interactionId: 'int-b-pstn', recordedUserIds: ['user-b'] },
    { originNumber: CALLER },
    [{ identityKind: 'phone', identityId: '+14255550100' }],
  );
  return admin;
}

async function exportedInteractions(admin: AdminHarness, subject: string, user = 'officer') {
  const started = await callRoute(admin.handlers.subjectExport, {
    method: 'POST',
    user,
    params: { userId: subject },
  });
  expect(started.status).toBe(202);
  const { exportId } = started.jsonBody as { exportId: string };
  await admin.jobs.runAll();
  const tenantId = users[user as keyof typeof users].tenantId;
  const files = await admin.packages.list({ tenantId, exportId });
  return [
    ...new Set(
      files
        .filter((f) => f.startsWith('interactions/'))
        .map((f) => f.split('/').slice(1, 3).join('/')),
    ),
  ].sort();
}

describe('data subject requests by party', () => {
  it('exports a PSTN caller’s interactions found by phone number, in the caller’s tenant only', async () => {
    const admin = await setup();
    expect(await exportedInteractions(admin, '+14255550100')).toEqual(['tenant-1/int-pstn']);
    expect(await exportedInteractions(admin, '+1 (425) 555-0100', 'officerB')).toEqual([
      'tenant-2/int-b-pstn',
    ]);
  });

  it('exports a Teams participant who was not recorded, found by identity id', async () => {
    const admin = await setup();
    expect(await exportedInteractions(admin, 'USER-COLLEAGUE')).toEqual(['tenant-1/int-teams']);
  });

  it('erases a PSTN caller’s interactions once retention allows, never another tenant’s', async () => {
    const admin = await setup();
    const early = await callRoute(admin.handlers.subjectErasure, {
      method: 'POST',
      user: 'officer',
      params: { userId: '+14255550100' },
    });
    expect(early.jsonBody).toMatchObject({
      deleted: [],
      refused: [{ tenantId: 'tenant-1', interactionId: 'int-pstn', reason: 'notExpired' }],
    });
    // The ledger names the number only by its hash.
    const refusal = admin.harness.ledger.entries.at(-1)!;
    expect(refusal).toMatchObject({ kind: 'erasureRefused', subjectType: 'dataSubject' });
    expect(refusal.subjectId).toMatch(/^phone-sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(refusal)).not.toContain('4255550100');

    admin.harness.clock.advance(32 * DAY_IN_MS);
    const done = await callRoute(admin.handlers.subjectErasure, {
      method: 'POST',
      user: 'officer',
      params: { userId: '+14255550100' },
    });
    expect(done.jsonBody).toEqual({ deleted: ['int-pstn'], refused: [] });
    expect(await admin.harness.blobs.listRecordingBlobs('tenant-1', 'int-pstn')).toEqual([]);
    expect(await admin.harness.blobs.listRecordingBlobs('tenant-2', 'int-b-pstn')).not.toEqual([]);
    expect((await admin.harness.records.get('tenant-2', 'int-b-pstn'))?.state).toBe('active');
  });

  it('refuses the erasure of a participant under a legal hold, with the hold as basis', async () => {
    const admin = await setup();
    await callRoute(admin.handlers.placeHold, {
      method: 'POST',
      user: 'officer',
      body: { matterId: 'M-9', description: 'd', scope: { interactionIds: ['int-teams'] } },
    });
    admin.harness.clock.advance(32 * DAY_IN_MS);
    const response = await callRoute(admin.handlers.subjectErasure, {
      method: 'POST',
      user: 'officer',
      params: { userId: 'user-colleague' },
    });
    expect(response.jsonBody).toEqual({
      deleted: [],
      refused: [
        {
          tenantId: 'tenant-1',
          interactionId: 'int-teams',
          reason: 'legalHold',
          legalBasis: 'legal hold, matter M-9',
        },
      ],
    });
  });

  it('answers 400 to a subject that is neither a phone number nor an id', async () => {
    const admin = await setup();
    const response = await callRoute(admin.handlers.subjectErasure, {
      method: 'POST',
      user: 'officer',
      params: { userId: '../holds' },
    });
    expect(response.status).toBe(400);
  });

  it('finds interactions archived before the index once the backfill has run, once', async () => {
    const admin = await setup();
    await seal(
      admin,
      { tenantId: 'tenant-1', interactionId: 'int-old', recordedUserIds: ['user-x'] },
      { dialedNumber: '+442079460958' },
      [{ identityKind: 'guest', identityId: 'guest-old' }],
      { isIndexed: false },
    );
    const deps = {
      records: admin.harness.records,
      callLog: admin.callLog,
      parties: admin.harness.parties,
      clock: admin.harness.clock,
      log: silentLogger,
    };
    expect(await exportedInteractions(admin, '+442079460958')).toEqual([]);
    expect(await backfillPartyIndex(deps, 'tenant-1')).toMatchObject({
      isAlreadyDone: false,
      interactionCount: 3,
    });
    expect(await backfillPartyIndex(deps, 'tenant-1')).toMatchObject({ isAlreadyDone: true });
    expect(await exportedInteractions(admin, '+442079460958')).toEqual(['tenant-1/int-old']);
    expect(await exportedInteractions(admin, 'guest-old')).toEqual(['tenant-1/int-old']);
  });
});

import { BlobServiceClient } from '@azure/storage-blob';
import {
  LedgerEntryKind,
  signCheckpoint,
  verifyLedger,
  type LedgerCheckpoint,
  type LedgerEntry,
} from '@attest/core';
import {
  AppendBlobLedgerMirror,
  type LedgerMirror,
} from '../../functions/src/adapters/append-blob-ledger';
import { BlobArchiveMediaStore } from '../../functions/src/adapters/blob-archive-media';
import { GuardedMediaStore } from '../../functions/src/adapters/guarded-archive-media';
import { TableLedgerStore } from '../../functions/src/adapters/table-ledger';
import {
  archiveTableNames,
  TableArchiveRecordStore,
  TableHoldStore,
} from '../../functions/src/adapters/table-archive-stores';
import { createArchiveService } from '../../functions/src/archive/archive.service';
import {
  DAY_IN_MS,
  groupDirectory,
  ledgerKeys,
  ManualClock,
  testPolicy,
  writeSealedRecording,
} from './archive-fixtures';

const connection = (): string => {
  const value = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  if (value === undefined)
    throw new Error(
      'ATTEST_TEST_STORAGE_CONNECTION is not set: run through the integration project',
    );
  return value;
};
let counter = 0;
const unique = (): string => `arch${process.pid}t${Date.now().toString(36)}n${(counter += 1)}`;

/** An interaction in progress of tenant `t`, as the recorder writes it at the invite. */
const activeInteraction = (interactionId: string) => ({
  tenantId: 't',
  interactionId,
  callId: interactionId,
  type: 'p2p' as const,
  direction: 'inbound' as const,
  outcome: 'inProgress' as const,
  invitedAt: '2030-01-01T00:00:00.000Z',
  recordedUserIds: ['u'],
  recordingStatusHistory: [],
  gaps: [],
});

describe('archive on Azurite', () => {
  it('keeps one chain when two writers append concurrently to the table ledger', async () => {
    const names = archiveTableNames(unique());
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const a = TableLedgerStore.fromConnectionString(connection(), names.ledger, clock);
    const b = TableLedgerStore.fromConnectionString(connection(), names.ledger, clock);
    const draft = (i: number) => ({
      kind: LedgerEntryKind.accessed,
      actor: `user-${i}`,
      subjectType: 'query' as const,
      subjectId: `q-${i}`,
    });

    await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).append(draft(i))));

    const entries = [];
    for await (const entry of a.listEntries(0)) entries.push(entry);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(verifyLedger(entries).isValid).toBe(true);
    expect((await b.getHead())!.seq).toBe(59);
  });

  it('takes new appends made right after an awaited append (no lost wake-up)', async () => {
    const names = archiveTableNames(unique());
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const ledger = TableLedgerStore.fromConnectionString(connection(), names.ledger, clock);
    await ledger.append({
      kind: LedgerEntryKind.configurationChanged,
      actor: 'a',
      subjectType: 'configuration',
      subjectId: 'c',
    });
    const burst = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        ledger.append({
          kind: LedgerEntryKind.accessed,
          actor: 'a',
          subjectType: 'query',
          subjectId: `q-${i}`,
        }),
      ),
    );
    expect(burst.map((e) => e.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
  });

  it('round-trips an archive record larger than one table column', async () => {
    const names = archiveTableNames(unique());
    const records = TableArchiveRecordStore.fromConnectionString(connection(), names);
    const interaction = {
      tenantId: 't',
      interactionId: 'big',
      callId: 'big',
      type: 'p2p' as const,
      direction: 'inbound' as const,
      outcome: 'recorded' as const,
      invitedAt: '2030-01-01T00:00:00.000Z',
      recordedUserIds: ['u'],
      recordingStatusHistory: [],
      gaps: [],
      customData: { note: 'x'.repeat(70_000) },
    };
    await records.upsert({ interaction, groupIds: [], state: 'active' });
    expect((await records.get('t', 'big'))!.interaction.customData).toEqual({
      note: 'x'.repeat(70_000),
    });
  });

  it('creates a record only when none exists, and moves the expiry index with a previous record the caller read', async () => {
    const names = archiveTableNames(unique());
    const records = TableArchiveRecordStore.fromConnectionString(connection(), names);
    const interaction = activeInteraction('once');
    expect(await records.createIfAbsent({ interaction, groupIds: [], state: 'active' })).toBe(true);
    expect(
      await records.createIfAbsent({
        interaction: { ...interaction, outcome: 'failed' },
        groupIds: ['g'],
        state: 'active',
      }),
    ).toBe(false);
    expect(await records.get('t', 'once')).toMatchObject({
      interaction: { outcome: 'inProgress' },
      groupIds: [],
    });

    const sealed = {
      interaction: {
        ...interaction,
        outcome: 'recorded' as const,
        expiresAt: '2030-02-01T00:00:00.000Z',
      },
      groupIds: [],
      state: 'active' as const,
    };
    await records.upsert(sealed, { previous: await records.get('t', 'once') });
    const moved = {
      ...sealed,
      interaction: { ...sealed.interaction, expiresAt: '2030-03-01T00:00:00.000Z' },
    };
    await records.upsert(moved, { previous: sealed });
    const expired = async (at: string): Promise<string[]> => {
      const ids: string[] = [];
      for await (const record of records.listExpired(new Date(at)))
        ids.push(record.interaction.expiresAt ?? '');
      return ids;
    };
    // The index row of the first expiry went with the second write: nothing is due in February.
    expect(await expired('2030-02-15T00:00:00.000Z')).toEqual([]);
    expect(await expired('2030-03-02T00:00:00.000Z')).toEqual(['2030-03-01T00:00:00.000Z']);
  });

  it('replaces a record only while it is the version read: a stale ETag is told so and changes nothing', async () => {
    const names = archiveTableNames(unique());
    const records = TableArchiveRecordStore.fromConnectionString(connection(), names);
    const interaction = activeInteraction('cas');
    expect(await records.createIfAbsent({ interaction, groupIds: [], state: 'active' })).toBe(true);
    const read = await records.getVersioned('t', 'cas');
    if (read === undefined) throw new Error('the record was not created');
    const sealed = {
      ...read.record,
      interaction: {
        ...interaction,
        outcome: 'recorded' as const,
        expiresAt: '2030-02-01T00:00:00.000Z',
      },
    };
    expect(await records.replaceIfUnchanged(sealed, read)).toBe(true);
    const stale = { ...read.record, interaction: { ...interaction, outcome: 'failed' as const } };
    expect(await records.replaceIfUnchanged(stale, read)).toBe(false);
    expect((await records.get('t', 'cas'))?.interaction).toMatchObject({
      outcome: 'recorded',
      expiresAt: '2030-02-01T00:00:00.000Z',
    });
    expect(await records.getVersioned('t', 'absent')).toBeUndefined();
  });

  it('copies every entry and checkpoint to the append-blob mirror, which verifies on its own', async () => {
    const prefix = unique();
    const clock = new ManualClock(Date.parse('2030-01-01T23:59:59Z'));
    const mirror = AppendBlobLedgerMirror.fromConnectionString(connection(), `${prefix}ledger`);
    const ledger = TableLedgerStore.fromConnectionString(
      connection(),
      archiveTableNames(prefix).ledger,
      clock,
      mirror,
    );
    await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        ledger.append({
          kind: LedgerEntryKind.accessed,
          actor: 'a',
          subjectType: 'query',
          subjectId: `q-${i}`,
        }),
      ),
    );
    clock.advance(2000); // the next entries fall on the next day's blob
    const last = await ledger.append({
      kind: LedgerEntryKind.accessed,
      actor: 'a',
      subjectType: 'query',
      subjectId: 'q-last',
    });
    await ledger.putCheckpoint(signCheckpoint(last, clock.now(), ledgerKeys.privateKey));
    await ledger.whenMirrored();
    const container = BlobServiceClient.fromConnectionString(connection()).getContainerClient(
      `${prefix}ledger`,
    );
    const lines = async <T>(name: string): Promise<T[]> =>
      (await container.getBlobClient(name).downloadToBuffer())
        .toString('utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as T);
    const entries = [
      ...(await lines<LedgerEntry>('entries/2030-01-01.jsonl')),
      ...(await lines<LedgerEntry>('entries/2030-01-02.jsonl')),
    ];
    entries.sort((a, b) => a.seq - b.seq);
    expect(entries).toHaveLength(121);
    expect(
      verifyLedger(entries, {
        checkpoints: await lines<LedgerCheckpoint>('checkpoints/2030-01-02.jsonl'),
        publicKey: ledgerKeys.publicKey,
      }).isValid,
    ).toBe(true);
  });

  it('keeps appending when the mirror fails, and copies the backlog with the next batch', async () => {
    const copied: number[] = [];
    let failures = 1;
    const flaky: LedgerMirror = {
      appendEntries: (entries) =>
        failures-- > 0
          ? Promise.reject(new Error('mirror down'))
          : Promise.resolve(void copied.push(...entries.map((e) => e.seq))),
      appendCheckpoint: () => Promise.resolve(),
    };
    const seen: unknown[] = [];
    const ledger = TableLedgerStore.fromConnectionString(
      connection(),
      archiveTableNames(unique()).ledger,
      new ManualClock(0),
      flaky,
      (error) => seen.push(error),
    );
    await ledger.append({
      kind: LedgerEntryKind.accessed,
      actor: 'a',
      subjectType: 'query',
      subjectId: 'q-0',
    });
    await ledger.append({
      kind: LedgerEntryKind.accessed,
      actor: 'a',
      subjectType: 'query',
      subjectId: 'q-1',
    });
    await ledger.whenMirrored();
    expect(seen).toHaveLength(1);
    expect(copied).toEqual([0, 1]);
  });

  it('stores checkpoints once per head', async () => {
    const names = archiveTableNames(unique());
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const ledger = TableLedgerStore.fromConnectionString(connection(), names.ledger, clock);
    const checkpoint = {
      v: 1 as const,
      seq: 0,
      headSha256: 'a'.repeat(64),
      at: '2030-01-01T00:00:00.000Z',
      keyId: 'k',
      alg: 'Ed25519' as const,
      signature: 'x',
    };
    await ledger.putCheckpoint(checkpoint);
    await ledger.putCheckpoint(checkpoint);
    expect(await ledger.listCheckpoints()).toEqual([checkpoint]);
  });

  it('finds expired records across missed days, refuses early deletion and crypto-shreds blobs and key at expiry', async () => {
    const prefix = unique();
    const names = archiveTableNames(prefix);
    const service = BlobServiceClient.fromConnectionString(connection());
    const recordingsContainer = `${prefix}rec`;
    const keysContainer = `${prefix}keys`;
    await service.getContainerClient(recordingsContainer).create();
    await service.getContainerClient(keysContainer).create();
    const blobs = BlobArchiveMediaStore.fromConnectionString(connection(), {
      recordingsContainer,
      keysContainer,
    });
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const records = TableArchiveRecordStore.fromConnectionString(connection(), names);
    const holds = TableHoldStore.fromConnectionString(connection(), names);
    const ledger = TableLedgerStore.fromConnectionString(connection(), names.ledger, clock);
    const media = new GuardedMediaStore(blobs, holds, clock);
    const activities = createArchiveService({
      records,
      holds,
      ledger,
      blobs,
      media,
      groups: groupDirectory,
      policy: testPolicy,
      clock,
    });
    const writer = {
      putRecording: async (name: string, data: Buffer) =>
        void (await service
          .getContainerClient(recordingsContainer)
          .getBlockBlobClient(name)
          .uploadData(data)),
      putKey: async (name: string, data: Buffer) =>
        void (await service
          .getContainerClient(keysContainer)
          .getBlockBlobClient(name)
          .uploadData(data)),
    };
    for (const [id, day] of [
      ['int-a', '01'],
      ['int-b', '03'],
      ['int-c', '20'],
    ] as const) {
      const fixture = await writeSealedRecording(writer, {
        tenantId: 'tenant-1',
        interactionId: id,
        recordedUserIds: ['user-a'],
        invitedAt: `2030-01-${day}T00:00:00.000Z`,
      });
      await activities.recordSealed(fixture.interaction);
    }

    const before = await records.get('tenant-1', 'int-a');
    await expect(media.shred(before!)).rejects.toThrow('ATT_RETENTION_LOCKED');
    expect(await blobs.listRecordingBlobs('tenant-1', 'int-a')).toHaveLength(4);

    clock.set(Date.parse('2030-02-10T00:00:00Z'));
    const expired: string[] = [];
    for await (const record of records.listExpired(clock.now()))
      expired.push(record.interaction.interactionId);
    expect(expired.sort()).toEqual(['int-a', 'int-b']);

    await activities.placeHold({
      tenantId: 'tenant-1',
      holdId: 'hold-b',
      matterId: 'M',
      description: 'd',
      custodian: 'c',
      scope: { interactionIds: ['int-b'] },
      actor: 'officer-1',
    });
    expect(
      await activities.disposeInteraction({
        tenantId: 'tenant-1',
        interactionId: 'int-b',
        approvedBy: 'system',
      }),
    ).toEqual({ status: 'refused', reason: 'legalHold' });
    const outcome = await activities.disposeInteraction({
      tenantId: 'tenant-1',
      interactionId: 'int-a',
      approvedBy: 'system',
    });
    expect(outcome).toMatchObject({ status: 'deleted', deletedBlobCount: 4 });
    expect(await blobs.listRecordingBlobs('tenant-1', 'int-a')).toEqual([]);
    expect(await blobs.readWrappedKey('tenant-1', 'int-a')).toBeUndefined();

    const after: string[] = [];
    for await (const record of records.listExpired(new Date(clock.now().getTime() + DAY_IN_MS)))
      after.push(record.interaction.interactionId);
    expect(after).toEqual(['int-b']);
    expect(await holds.release('tenant-1', 'hold-b', 'officer-2', clock.now())).toBe(true);
    expect(await holds.release('tenant-1', 'hold-b', 'officer-2', clock.now())).toBe(false);
  });
});

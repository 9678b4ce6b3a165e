/**
 * Business data of an interaction, attached by an integration through
 * `PUT archive/interactions/{tenantId}/{interactionId}/business-data`: validated, size-limited,
 * every version kept (history and ledger hash), never silently overwritten (If-Match, 409), kept
 * when the interaction is sealed afterwards, and found by search.
 */
import { TableClient } from '@azure/data-tables';
import { canonicalJson, sha256Hex } from '@attest/core';
import { TableBusinessDataHistory } from '../../functions/src/adapters/table-business-data';
import { callRoute, createAdminHarness, type AdminHarness } from './archive-admin-harness';
import { memoryBlobWriter, writeSealedRecording } from './archive-fixtures';
import type { MemoryRecordingBlobStore } from './support/memory-archive-stores';

const users = {
  integration: { roles: ['Attest.Integration'], tenantId: 'tenant-1' },
  admin: { roles: ['Attest.Admin'], tenantId: 'tenant-1' },
  officer: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-1', groups: ['g-all'] },
  otherIntegration: { roles: ['Attest.Integration'], tenantId: 'tenant-2' },
};
const ofInteraction = { tenantId: 'tenant-1', interactionId: 'int-1' };

const setup = () =>
  createAdminHarness(
    '2030-01-01T00:00:00.000Z',
    users,
    [['tenant-1', 'int-1', 'user-a', '2030-01-01T09:00:00.000Z']],
    { 'g-all': ['*'] },
  );

const attach = (
  admin: AdminHarness,
  body: unknown,
  ifMatch: string | undefined,
  user = 'integration',
  params: Record<string, string> = ofInteraction,
) =>
  callRoute(admin.handlers.attachBusinessData, {
    method: 'PUT',
    user,
    params,
    body,
    headers: ifMatch === undefined ? {} : { 'if-match': ifMatch },
  });

const search = async (admin: AdminHarness, customData: string) =>
  (
    (await callRoute(admin.handlers.search, { user: 'officer', query: { customData } }))
      .jsonBody as { items: { interactionId: string }[] }
  ).items.map((i) => i.interactionId);

describe('business data API', () => {
  it('attaches a version with its ETag, records its hash in the ledger, and search finds it', async () => {
    const admin = await setup();
    const data = { desk: 'FX Options', ticket: 4711 };
    const answer = await attach(admin, data, '"bd-0"');
    expect(answer).toMatchObject({
      status: 200,
      headers: { etag: '"bd-1"' },
      jsonBody: { version: 1, data, sha256: sha256Hex(canonicalJson(data)) },
    });
    expect(admin.harness.ledger.entries.at(-1)).toMatchObject({
      kind: 'businessDataChanged',
      actor: 'integration',
      tenantId: 'tenant-1',
      subjectId: 'int-1',
      subjectSha256: sha256Hex(canonicalJson(data)),
      details: { action: 'attachBusinessData', version: 1, keyCount: 2 },
    });
    expect((await admin.harness.records.get('tenant-1', 'int-1'))?.interaction.customData).toEqual(
      data,
    );
    expect(await search(admin, 'desk=fx options')).toEqual(['int-1']);
    expect(await search(admin, 'ticket=4711')).toEqual(['int-1']);
    expect(await search(admin, 'desk=rates')).toEqual([]);
  });

  it('never overwrites silently: a stale If-Match answers 409, and every version is kept', async () => {
    const admin = await setup();
    expect((await attach(admin, { desk: 'FX' }, '"bd-0"')).status).toBe(200);
    const stale = await attach(admin, { desk: 'Rates' }, '"bd-0"');
    expect(stale).toMatchObject({
      status: 409,
      headers: { etag: '"bd-1"' },
      jsonBody: { code: 'ATT_CONFLICT', details: { currentVersion: 1 } },
    });
    expect(admin.harness.ledger.entries.at(-1)).toMatchObject({
      kind: 'accessed',
      details: { action: 'attachBusinessData', outcome: 'refused:conflict' },
    });
    expect((await admin.harness.records.get('tenant-1', 'int-1'))?.interaction.customData).toEqual({
      desk: 'FX',
    });
    expect((await attach(admin, { desk: 'Rates' }, '"bd-1"', 'admin')).status).toBe(200);

    const view = await callRoute(admin.handlers.viewBusinessData, {
      user: 'officer',
      params: ofInteraction,
    });
    expect(view).toMatchObject({
      status: 200,
      headers: { etag: '"bd-2"' },
      jsonBody: {
        version: 2,
        data: { desk: 'Rates' },
        history: [
          { version: 1, changedBy: 'integration', data: { desk: 'FX' } },
          { version: 2, changedBy: 'admin', data: { desk: 'Rates' } },
        ],
      },
    });
  });

  it('refuses what it cannot take: no If-Match 400, bad shape 400, over 32 KiB 413, nothing stored', async () => {
    const admin = await setup();
    const before = JSON.stringify(await admin.harness.records.get('tenant-1', 'int-1'));
    expect(await attach(admin, { desk: 'FX' }, undefined)).toMatchObject({
      status: 400,
      jsonBody: { message: expect.stringContaining('If-Match is required') },
    });
    for (const body of [{ desk: { nested: 1 } }, { 'bad key!': 1 }, ['x'], { list: [1] }])
      expect((await attach(admin, body, '"bd-0"')).status).toBe(400);
    expect(await attach(admin, { note: 'x'.repeat(33 * 1024) }, '"bd-0"')).toMatchObject({
      status: 413,
      jsonBody: { code: 'ATT_PAYLOAD_TOO_LARGE' },
    });
    expect(JSON.stringify(await admin.harness.records.get('tenant-1', 'int-1'))).toBe(before);
    expect(admin.businessDataHistory.versions.size).toBe(0);
  });

  it('lets only integrations and admins of the tenant attach, and records each refusal', async () => {
    const admin = await setup();
    expect(await attach(admin, { desk: 'FX' }, '"bd-0"', 'officer')).toMatchObject({
      status: 403,
    });
    expect(admin.harness.ledger.entries.at(-1)).toMatchObject({
      kind: 'accessed',
      actor: 'officer',
      details: { action: 'attachBusinessData', outcome: expect.stringMatching(/^denied/) },
    });
    const other = await attach(admin, { desk: 'FX' }, '"bd-0"', 'otherIntegration');
    expect([403, 404]).toContain(other.status);
    expect(admin.businessDataHistory.versions.size).toBe(0);
  });

  it('keeps business data attached before the seal when the interaction is sealed', async () => {
    const admin = await setup();
    const fixture = await writeSealedRecording(
      memoryBlobWriter(admin.harness.blobs as MemoryRecordingBlobStore),
      {
        tenantId: 'tenant-1',
        interactionId: 'int-live',
        recordedUserIds: ['user-a'],
        invitedAt: '2030-01-01T12:00:00.000Z',
      },
    );
    await admin.harness.activities.recordInvite({ ...fixture.interaction, outcome: 'inProgress' });
    const params = { tenantId: 'tenant-1', interactionId: 'int-live' };
    expect((await attach(admin, { crmCase: 'C-42' }, '"bd-0"', 'integration', params)).status).toBe(
      200,
    );

    await admin.harness.activities.recordSealed(fixture.interaction);

    const sealed = await admin.harness.records.get('tenant-1', 'int-live');
    expect(sealed?.interaction).toMatchObject({
      outcome: 'recorded',
      retentionClass: 'standard',
      customData: { crmCase: 'C-42' },
    });
    expect(sealed?.businessData).toMatchObject({ version: 1, changedBy: 'integration' });
    expect(await search(admin, 'crmCase=C-42')).toEqual(['int-live']);
    // The next version names the one that survived the seal.
    expect((await attach(admin, { crmCase: 'C-43' }, '"bd-1"', 'integration', params)).status).toBe(
      200,
    );
  });
});

/**
 * Holds the `nth` read of the record store (either kind of read) after `arm()` until `release()`,
 * so a test can run another writer between that read and the write that follows it.
 */
function pauseRead(records: AdminHarness['harness']['records']) {
  let remaining = 0;
  let release: () => void = () => undefined;
  let reached: () => void = () => undefined;
  const isReached = new Promise<void>((resolve) => (reached = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  const hold = async <T>(read: Promise<T>): Promise<T> => {
    const value = await read;
    if (remaining > 0 && (remaining -= 1) === 0) {
      reached();
      await gate;
    }
    return value;
  };
  const get = records.get.bind(records);
  const getVersioned = records.getVersioned.bind(records);
  jest.spyOn(records, 'get').mockImplementation((t, i) => hold(get(t, i)));
  jest.spyOn(records, 'getVersioned').mockImplementation((t, i) => hold(getVersioned(t, i)));
  return {
    arm: (nth: number) => (remaining = nth),
    isReached,
    release: () => release(),
  };
}

describe('business data attached while the interaction is sealed', () => {
  const params = { tenantId: 'tenant-1', interactionId: 'int-live' };
  const liveInteraction = async (admin: AdminHarness) => {
    const fixture = await writeSealedRecording(
      memoryBlobWriter(admin.harness.blobs as MemoryRecordingBlobStore),
      { ...params, recordedUserIds: ['user-a'], invitedAt: '2030-01-01T12:00:00.000Z' },
    );
    await admin.harness.activities.recordInvite({ ...fixture.interaction, outcome: 'inProgress' });
    expect((await attach(admin, { crmCase: 'C-1' }, '"bd-0"', 'integration', params)).status).toBe(
      200,
    );
    return fixture.interaction;
  };
  const expectSealedWith = async (admin: AdminHarness, crmCase: string, version: number) => {
    const sealed = await admin.harness.records.get('tenant-1', 'int-live');
    expect(sealed?.interaction).toMatchObject({
      outcome: 'recorded',
      retentionClass: 'standard',
      customData: { crmCase },
    });
    expect(sealed?.interaction.expiresAt).toBeDefined();
    expect(sealed?.businessData).toMatchObject({ version });
    expect(await search(admin, `crmCase=${crmCase}`)).toEqual(['int-live']);
  };

  it('keeps a version attached between the seal reading the record and writing it', async () => {
    const admin = await setup();
    const interaction = await liveInteraction(admin);
    const pause = pauseRead(admin.harness.records);
    pause.arm(1);
    const sealing = admin.harness.activities.recordSealed(interaction);
    await pause.isReached;
    expect((await attach(admin, { crmCase: 'C-2' }, '"bd-1"', 'integration', params)).status).toBe(
      200,
    );
    pause.release();
    await sealing;
    await expectSealedWith(admin, 'C-2', 2);
  });

  it('keeps a version attached after the seal when the seal then flags the manifest', async () => {
    const admin = await setup();
    const interaction = await liveInteraction(admin);
    const sealed = await admin.harness.activities.recordSealed(interaction);
    expect((await attach(admin, { crmCase: 'C-2' }, '"bd-1"', 'integration', params)).status).toBe(
      200,
    );
    // The intake flags the record it sealed, read before the attach.
    const flagged = await admin.harness.integrity.flag(sealed, ['bad signature'], 'intake');
    expect(flagged.interaction.integrityAlert).toMatchObject({ problems: ['bad signature'] });
    expect(admin.harness.alerts).toHaveLength(1);
    await expectSealedWith(admin, 'C-2', 2);
    expect(
      (await admin.harness.records.get('tenant-1', 'int-live'))?.interaction.integrityAlert,
    ).toMatchObject({ detectedBy: 'intake' });
  });

  it('keeps the seal when a version is written from a record read before the seal', async () => {
    const admin = await setup();
    const interaction = await liveInteraction(admin);
    const pause = pauseRead(admin.harness.records);
    // The route reads the record (scope), the attach reads it to check the version, then again
    // just before it writes: the seal runs between the last two.
    pause.arm(3);
    const attaching = attach(admin, { crmCase: 'C-2' }, '"bd-1"', 'integration', params);
    await pause.isReached;
    await admin.harness.activities.recordSealed(interaction);
    pause.release();
    expect((await attaching).status).toBe(200);
    await expectSealedWith(admin, 'C-2', 2);
  });
});

describe('business data attached while another writer changes the record', () => {
  it('keeps a version attached between a retention class change reading the record and writing it', async () => {
    const admin = await setup();
    expect((await attach(admin, { crmCase: 'C-1' }, '"bd-0"')).status).toBe(200);
    const pause = pauseRead(admin.harness.records);
    // The route reads the record (scope), the change reads it again to write: the attach runs
    // between the change's read and its write.
    pause.arm(2);
    const changing = callRoute(admin.handlers.changeRetentionClass, {
      method: 'POST',
      user: 'officer',
      params: ofInteraction,
      body: { retentionClass: 'mifid', reason: 'trade call' },
    });
    await pause.isReached;
    expect((await attach(admin, { crmCase: 'C-2' }, '"bd-1"')).status).toBe(200);
    pause.release();
    expect((await changing).status).toBe(200);
    const record = await admin.harness.records.get('tenant-1', 'int-1');
    expect(record?.interaction).toMatchObject({
      retentionClass: 'mifid',
      customData: { crmCase: 'C-2' },
    });
    expect(record?.businessData).toMatchObject({ version: 2 });
    expect(await search(admin, 'crmCase=C-2')).toEqual(['int-1']);
  });

  it('keeps a version attached while a disposition is rejected', async () => {
    const admin = await setup();
    const pause = pauseRead(admin.harness.records);
    pause.arm(1);
    const rejecting = admin.harness.activities.recordDispositionOutcome({
      tenantId: 'tenant-1',
      interactionId: 'int-1',
      outcome: 'rejected',
      decidedBy: 'officer',
    });
    await pause.isReached;
    expect((await attach(admin, { crmCase: 'C-1' }, '"bd-0"')).status).toBe(200);
    pause.release();
    await rejecting;
    const record = await admin.harness.records.get('tenant-1', 'int-1');
    expect(record?.state).toBe('dispositionRejected');
    expect(record?.interaction.customData).toEqual({ crmCase: 'C-1' });
  });
});

describe('business data history in Azure Tables', () => {
  it('creates each version once: a second writer of the same version is told so', async () => {
    const connection = process.env.ATTEST_TEST_STORAGE_CONNECTION;
    if (connection === undefined)
      throw new Error(
        'ATTEST_TEST_STORAGE_CONNECTION is not set: run through the integration project',
      );
    const name = `bd${process.pid}t${Date.now().toString(36)}`;
    const history = new TableBusinessDataHistory(
      TableClient.fromConnectionString(connection, name, { allowInsecureConnection: true }),
    );
    const version = (n: number, desk: string) => ({
      tenantId: 'tenant-1',
      interactionId: 'int-1',
      version: n,
      data: { desk },
      sha256: sha256Hex(canonicalJson({ desk })),
      changedAt: '2030-01-01T00:00:00.000Z',
      changedBy: 'integration',
    });
    expect(await history.createVersion(version(1, 'FX'))).toBe(true);
    expect(await history.createVersion(version(1, 'Rates'))).toBe(false);
    expect(await history.createVersion(version(2, 'Rates'))).toBe(true);
    expect(await history.list('tenant-1', 'int-1')).toEqual([
      version(1, 'FX'),
      version(2, 'Rates'),
    ]);
    expect(await history.list('tenant-1', 'int-2')).toEqual([]);
  });
});

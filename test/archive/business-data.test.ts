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

/**
 * The archive checks each recording's signed manifest (with the offline verifier's functions)
 * at intake, at every playback and at every export. Recordings are in Azurite; a manifest or its
 * signature is changed there. Intake flags the interaction and records the result in the `sealed`
 * entry; playback answers 409 and is recorded; an export stops, naming the interaction.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { signManifest, signingKeyId } from '@attest/core';
import { BlobArchiveMediaStore } from '../../functions/src/adapters/blob-archive-media';
import { callRoute, createAdminHarness, type AdminHarness } from './archive-admin-harness';
import { manifestKeys } from './archive-fixtures';

const connection = (): string => {
  const value = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  if (value === undefined)
    throw new Error(
      'ATTEST_TEST_STORAGE_CONNECTION is not set: run through the integration project',
    );
  return value;
};

const users = {
  officer: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-1', groups: ['g-all'] },
};
let counter = 0;

interface Azurite {
  readonly admin: AdminHarness;
  /** Replaces a blob of the recordings container. */
  put(name: string, bytes: Buffer | string): Promise<void>;
  read(name: string): Promise<Buffer>;
}

/** A signature in the right form, by the right key, over other bytes. */
const wrongSignature = (): string =>
  JSON.stringify(
    signManifest(
      Buffer.from('other bytes'),
      manifestKeys.privateKey,
      signingKeyId(manifestKeys.publicKey),
    ),
  );

async function setup(
  tamperBeforeSeal: Record<string, (azurite: Omit<Azurite, 'admin'>) => Promise<void>> = {},
): Promise<Azurite> {
  const service = BlobServiceClient.fromConnectionString(connection());
  const prefix = `mi${process.pid}t${Date.now().toString(36)}n${(counter += 1)}`;
  const recordings = service.getContainerClient(`${prefix}rec`);
  const keys = service.getContainerClient(`${prefix}keys`);
  await recordings.create();
  await keys.create();
  const put = async (name: string, bytes: Buffer | string): Promise<void> =>
    void (await recordings.getBlockBlobClient(name).uploadData(Buffer.from(bytes)));
  const read = async (name: string): Promise<Buffer> =>
    recordings.getBlockBlobClient(name).downloadToBuffer();
  const store = BlobArchiveMediaStore.fromConnectionString(connection(), {
    recordingsContainer: recordings.containerName,
    keysContainer: keys.containerName,
  });
  const admin = await createAdminHarness(
    '2030-01-01T00:00:00.000Z',
    users,
    [
      ['tenant-1', 'int-ok', 'user-a', '2030-01-01T09:00:00.000Z'],
      ['tenant-1', 'int-sig', 'user-a', '2030-01-01T10:00:00.000Z'],
      ['tenant-1', 'int-body', 'user-a', '2030-01-01T11:00:00.000Z'],
    ],
    { 'g-all': ['*'] },
    {
      recordings: {
        store,
        writer: {
          putRecording: put,
          putKey: async (name, data) => void (await keys.getBlockBlobClient(name).uploadData(data)),
        },
      },
      beforeSeal: async (_tenantId, interactionId) =>
        tamperBeforeSeal[interactionId]?.({ put, read }),
    },
  );
  return { admin, put, read };
}

const tampered = {
  'int-sig': ({ put }: Omit<Azurite, 'admin'>) =>
    put('tenant-1/int-sig/manifest.sig', wrongSignature()),
  'int-body': async ({ put, read }: Omit<Azurite, 'admin'>) => {
    const bytes = (await read('tenant-1/int-body/manifest.json')).toString('utf8');
    await put('tenant-1/int-body/manifest.json', bytes.replace('"mh-1"', '"mh-9"'));
  },
};

const sealedEntry = (admin: AdminHarness, interactionId: string) =>
  admin.harness.ledger.entries.find((e) => e.kind === 'sealed' && e.subjectId === interactionId);

describe('signed manifests checked at intake, playback and export', () => {
  it('flags at intake a manifest whose signature or bytes were changed, records the result and raises an alert', async () => {
    const { admin } = await setup(tampered);
    expect(sealedEntry(admin, 'int-ok')?.details).toMatchObject({ manifestCheck: 'valid' });
    expect(sealedEntry(admin, 'int-sig')?.details).toMatchObject({
      manifestCheck: 'invalid',
      manifestProblems: [expect.stringMatching(/^signature: Ed25519 signature does not match/)],
    });
    expect(sealedEntry(admin, 'int-body')?.details).toMatchObject({
      manifestCheck: 'invalid',
      manifestProblems: expect.arrayContaining([
        'manifest.json: differs from the hash sealed in the ledger',
        expect.stringMatching(/^signature: /),
      ]),
    });
    const ok = await admin.harness.records.get('tenant-1', 'int-ok');
    expect(ok?.interaction.integrityAlert).toBeUndefined();
    const bad = await admin.harness.records.get('tenant-1', 'int-sig');
    expect(bad?.interaction.integrityAlert).toMatchObject({
      kind: 'manifestInvalid',
      detectedBy: 'intake',
      detectedAt: '2030-01-01T00:00:00.000Z',
    });
    expect(admin.harness.alerts).toEqual([
      { tenantId: 'tenant-1', interactionId: 'int-sig', detectedBy: 'intake', problemCount: 1 },
      expect.objectContaining({ interactionId: 'int-body', detectedBy: 'intake' }),
    ]);

    // The flag is part of the record that search and the portal show.
    const search = await callRoute(admin.handlers.search, { user: 'officer' });
    const items = (
      search.jsonBody as { items: { interactionId: string; integrityAlert?: unknown }[] }
    ).items;
    expect(items.find((i) => i.interactionId === 'int-sig')?.integrityAlert).toMatchObject({
      kind: 'manifestInvalid',
    });
    expect(items.find((i) => i.interactionId === 'int-ok')?.integrityAlert).toBeUndefined();
  });

  it('answers 409 to playback of a flagged interaction and records the refusal; a sound one plays', async () => {
    const { admin } = await setup(tampered);
    const before = admin.harness.ledger.entries.length;
    const refused = await callRoute(admin.handlers.media, {
      user: 'officer',
      params: { tenantId: 'tenant-1', interactionId: 'int-sig', streamId: 'audio-11' },
    });
    expect(refused).toMatchObject({
      status: 409,
      jsonBody: { code: 'ATT_INTEGRITY_VIOLATION', details: { interactionId: 'int-sig' } },
    });
    expect(admin.harness.ledger.entries.slice(before)).toEqual([
      expect.objectContaining({
        kind: 'accessed',
        actor: 'officer',
        subjectId: 'int-sig',
        details: expect.objectContaining({ action: 'playback', outcome: 'refused:integrity' }),
      }),
    ]);
    const played = await callRoute(admin.handlers.media, {
      user: 'officer',
      params: { tenantId: 'tenant-1', interactionId: 'int-ok', streamId: 'audio-11' },
    });
    expect(played.status).toBe(200);
  });

  it('refuses playback of a manifest changed after intake, and flags it then', async () => {
    const { admin, put } = await setup();
    await put('tenant-1/int-ok/manifest.sig', wrongSignature());
    const refused = await callRoute(admin.handlers.media, {
      user: 'officer',
      params: { tenantId: 'tenant-1', interactionId: 'int-ok', streamId: 'audio-11' },
      query: { download: 'true' },
    });
    expect(refused).toMatchObject({ status: 409, jsonBody: { code: 'ATT_INTEGRITY_VIOLATION' } });
    const record = await admin.harness.records.get('tenant-1', 'int-ok');
    expect(record?.interaction.integrityAlert).toMatchObject({ detectedBy: 'playback' });
    expect(admin.harness.alerts).toEqual([
      expect.objectContaining({ interactionId: 'int-ok', detectedBy: 'playback' }),
    ]);
    // Restoring a valid signature does not clear the flag: the evidence was found altered once.
    const again = await callRoute(admin.handlers.media, {
      user: 'officer',
      params: { tenantId: 'tenant-1', interactionId: 'int-ok', streamId: 'audio-11' },
    });
    expect(again.status).toBe(409);
  });

  it('answers 409, never 500, to playback of a stored block that no longer decrypts', async () => {
    const { admin, put, read } = await setup();
    const manifest = JSON.parse((await read('tenant-1/int-ok/manifest.json')).toString('utf8')) as {
      streams: { streamId: string; blobName: string }[];
    };
    const stream = manifest.streams.find((s) => s.streamId === 'audio-11')!;
    const stored = await read(stream.blobName);
    stored[0] = stored[0]! ^ 0xff;
    await put(stream.blobName, stored);
    const refused = await callRoute(admin.handlers.media, {
      user: 'officer',
      params: { tenantId: 'tenant-1', interactionId: 'int-ok', streamId: 'audio-11' },
    });
    expect(refused).toMatchObject({ status: 409, jsonBody: { code: 'ATT_INTEGRITY_VIOLATION' } });
    expect(JSON.stringify(refused.jsonBody)).toContain('block 0');
  });

  it('stops an export at a manifest that does not verify, naming the interaction', async () => {
    const { admin, put } = await setup();
    await put('tenant-1/int-body/manifest.sig', wrongSignature());
    const started = await callRoute(admin.handlers.export, {
      method: 'POST',
      user: 'officer',
      body: { query: {} },
    });
    expect(started.status).toBe(202);
    const { exportId } = started.jsonBody as { exportId: string };
    await expect(admin.jobs.runAll()).rejects.toThrow(
      /\[ATT_INTEGRITY_VIOLATION\] export .* stopped: interaction int-body of tenant tenant-1/,
    );
    expect(admin.harness.ledger.entries.some((e) => e.kind === 'exported')).toBe(false);
    expect(admin.harness.ledger.entries).toContainEqual(
      expect.objectContaining({
        kind: 'accessed',
        subjectType: 'export',
        subjectId: exportId,
        details: { action: 'export', outcome: 'refused:integrity', interactionId: 'int-body' },
      }),
    );
    expect((await admin.harness.records.get('tenant-1', 'int-body'))?.interaction).toMatchObject({
      integrityAlert: { detectedBy: 'export' },
    });
  });
});

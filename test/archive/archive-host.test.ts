/**
 * The archive wired by its composition root, served by the local Functions host: keys generated
 * on first start, a real Entra-style token (RS256, OpenID metadata on loopback) verified by the
 * product's JWT verifier, role and scope checks, one ledger entry per call in Azurite Tables.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import type { InteractionRecord, LedgerEntry } from '@attest/core';
import { loadFunctionApp } from '../../local/src/host/function-app';
import { startHttpTriggerServer, type HttpTriggerServer } from '../../local/src/host/http-server';
import { createHostLogger, memorySink } from '../../local/src/host/log-sink';
import type { ArchiveIntake } from '../../functions/src/domain/archive-intake';
import type { ArchiveComposition } from '../../functions/src/composition/archive.composition';
import { startTestIssuer, type TestIssuer } from './support/test-issuer';

const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const prefix = `host${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const keyDir = mkdtempSync(join(tmpdir(), 'attest-archive-keys-'));
let issuer: TestIssuer;
let server: HttpTriggerServer;
let intake: ArchiveIntake;
let archive: ArchiveComposition;

const token = (claims: Record<string, unknown>, key?: KeyObject): string =>
  issuer.token(claims, key);

async function ledgerEntries(): Promise<LedgerEntry[]> {
  const table = TableClient.fromConnectionString(
    process.env.ATTEST_TEST_STORAGE_CONNECTION!,
    `${prefix}ledger`,
    { allowInsecureConnection: true },
  );
  const out: LedgerEntry[] = [];
  for await (const row of table.listEntities<{ json: string }>({
    queryOptions: { filter: "PartitionKey eq 'ledger' and RowKey ge 'e-' and RowKey lt 'e.'" },
  }))
    out.push(JSON.parse(row.json) as LedgerEntry);
  return out;
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  Object.assign(process.env, {
    ATTEST_STORAGE_CONNECTION_STRING: process.env.ATTEST_TEST_STORAGE_CONNECTION,
    TEST_ADMIN_OPENID_METADATA_URL: issuer.metadataUrl,
    ATTEST_ARCHIVE_TABLE_PREFIX: prefix,
    ATTEST_ARCHIVE_RECORDINGS_CONTAINER: `${prefix}rec`,
    ATTEST_ARCHIVE_KEYS_CONTAINER: `${prefix}keys`,
    ATTEST_LEDGER_MIRROR_CONTAINER: `${prefix}ledger`,
    ATTEST_KEK_PRIVATE_KEY_FILE: join(keyDir, 'kek.pem'),
    ATTEST_KEK_PUBLIC_KEY_FILE: join(keyDir, 'kek.pub.pem'),
    ATTEST_LEDGER_SIGNING_KEY_FILE: join(keyDir, 'ledger.pem'),
    ATTEST_ARCHIVE_USER_GROUPS: JSON.stringify({ 'user-trader': ['traders'] }),
    ATTEST_ARCHIVE_RBAC_SCOPES: JSON.stringify({
      'officer-sales': ['sales'],
      'officer-all': ['*'],
    }),
  });
  const sink = memorySink();
  // No durable engine here: routes that take a durable client get one that points nowhere (the
  // paths under test answer before they would use it).
  const app = await loadFunctionApp(join(__dirname, 'apps', 'archive-app.ts'), {
    logSink: sink,
    durableClientData: () => ({
      taskHubName: 'none',
      creationUrls: {},
      managementUrls: {},
      baseUrl: 'http://127.0.0.1:9/runtime/webhooks/durabletask',
      requiredQueryStringParameters: '',
    }),
  });
  server = await startHttpTriggerServer({
    app,
    logger: createHostLogger(sink),
    routePrefix: 'api',
    maxRequestBodyInBytes: 64 * 1024,
  });
  archive = (globalThis as { __attestArchive?: ArchiveComposition }).__attestArchive!;
  intake = archive.intake;
  const interaction: InteractionRecord = {
    tenantId: 'tenant-1',
    interactionId: 'int-h1',
    callId: 'call-h1',
    type: 'p2p',
    direction: 'outbound',
    outcome: 'recorded',
    invitedAt: '2026-01-05T10:00:00.000Z',
    sealedAt: '2026-01-05T10:10:00.000Z',
    recordedUserIds: ['user-trader'],
    recordingStatusHistory: [],
    gaps: [],
    manifestSha256: 'a'.repeat(64),
  };
  await intake.recordInvite({ ...interaction, outcome: 'inProgress', sealedAt: undefined });
  await intake.recordSealed(interaction);
});

afterAll(async () => {
  await server?.close();
  await issuer.close();
  rmSync(keyDir, { recursive: true, force: true });
});

const get = (path: string, bearer?: string) =>
  fetch(`${server.functionsUrl}${path}`, {
    headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
  });

describe('archive through the local Functions host', () => {
  it('generated the KEK and ledger key files on first start', () => {
    expect([
      existsSync(join(keyDir, 'kek.pem')),
      existsSync(join(keyDir, 'kek.pub.pem')),
      existsSync(join(keyDir, 'ledger.pem')),
    ]).toEqual([true, true, true]);
  });

  it('sealed the interaction with the default seven-year class and wrote recorded and sealed entries', async () => {
    const entries = (await ledgerEntries()).filter((e) => e.subjectType === 'interaction');
    expect(entries.slice(0, 2).map((e) => [e.kind, e.subjectId])).toEqual([
      ['recorded', 'int-h1'],
      ['sealed', 'int-h1'],
    ]);
    expect(entries[1]!.details.expiresAt).toBe('2033-01-05T10:10:00.000Z');
  });

  it('recorded the custody configuration of its first start in the ledger', async () => {
    await archive.whenConfigurationRecorded;
    const entries = (await ledgerEntries()).filter((e) => e.kind === 'configurationChanged');
    expect(entries.map((e) => [e.subjectId, e.tenantId, e.details.previousSha256])).toEqual([
      ['custody', undefined, null],
    ]);
    expect(entries[0]!.details.changedSections).toContain('scopes');
  });

  it('keeps the write-once copy of the ledger in an append blob', async () => {
    await archive.whenLedgerMirrored();
    const { BlobServiceClient } = await import('@azure/storage-blob');
    const container = BlobServiceClient.fromConnectionString(
      process.env.ATTEST_TEST_STORAGE_CONNECTION!,
    ).getContainerClient(`${prefix}ledger`);
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: 'entries/' })) names.push(blob.name);
    expect(names.length).toBeGreaterThan(0);
  });

  it('answers 401 to a forged token', async () => {
    const forged = token({ oid: 'auditor-1', roles: ['auditor'] }, attacker.privateKey);
    const response = await get('/archive/interactions', forged);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'ATT_UNAUTHORIZED', status: 401 });
  });

  it('lets an auditor search with a verified token and records the search once', async () => {
    const before = (await ledgerEntries()).length;
    const response = await get(
      '/archive/interactions?recordedUserId=user-trader',
      token({ oid: 'auditor-1', roles: ['Attest.Auditor'] }),
    );
    expect(response.status).toBe(200);
    expect(
      ((await response.json()) as { items: { interactionId: string }[] }).items.map(
        (i) => i.interactionId,
      ),
    ).toEqual(['int-h1']);
    const after = await ledgerEntries();
    expect(after).toHaveLength(before + 1);
    expect(after[after.length - 1]).toMatchObject({
      kind: 'accessed',
      actor: 'auditor-1',
      details: {
        action: 'search',
        outcome: 'allowed',
        resultCount: 1,
        query: { recordedUserId: 'user-trader' },
      },
    });
  });

  it('refuses a compliance officer outside their scope with 403 and records it', async () => {
    const response = await get(
      '/archive/interactions/tenant-1/int-h1',
      token({ oid: 'officer-sales', roles: ['complianceOfficer'] }),
    );
    expect(response.status).toBe(403);
    const entries = await ledgerEntries();
    expect(entries[entries.length - 1]).toMatchObject({
      kind: 'accessed',
      actor: 'officer-sales',
      details: { outcome: 'denied:outOfScope' },
    });
  });

  it('refuses deletion before expiry with 409', async () => {
    const response = await fetch(`${server.functionsUrl}/archive/interactions/tenant-1/int-h1`, {
      method: 'DELETE',
      headers: {
        authorization: `Bearer ${token({ oid: 'officer-all', roles: ['complianceOfficer'] })}`,
      },
    });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: 'ATT_RETENTION_LOCKED', status: 409 });
  });
});

/**
 * The archive's composition root with `ATTEST_KEYVAULT_URI` set, served by the local Functions
 * host: playback unwraps the data key through the vault, the completeness report and the ledger
 * checkpoint are signed ES256 through it (the export path with the same keys is in
 * key-vault.test.ts). The simulator's Key Vault
 * stand-in over HTTPS, Azurite for storage. Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { ClientSecretCredential } from '@azure/identity';
import {
  isCompletenessSignatureValid,
  publicKeyId,
  verifyLedger,
  type CompletenessReportBody,
  type CompletenessSignature,
  type LedgerEntry,
} from '@attest/core';
import { KeyVaultKeys } from '../../functions/src/adapters/key-vault-keys';
import { TableLedgerStore } from '../../functions/src/adapters/table-ledger';
import { systemClock } from '../../functions/src/domain/archive-ports';
import type { ArchiveComposition } from '../../functions/src/composition/archive.composition';
import { loadFunctionApp, type LoadedFunctionApp } from '../../local/src/host/function-app';
import { jsonData } from '../../local/src/host/typed-data';
import { startHttpTriggerServer, type HttpTriggerServer } from '../../local/src/host/http-server';
import { createHostLogger, memorySink } from '../../local/src/host/log-sink';
import { startTeamsSimulator, type TeamsSimulator } from '../../local/src/simulator';
import { BOT_APP, BOT_SECRET, TENANT, testDirectory } from '../simulator/support/fixtures';
import { requireLocalCaTrust } from '../simulator/support/local-ca';
import { writeVaultSealedRecording } from './key-vault-fixtures';
import { startTestIssuer, type TestIssuer } from './support/test-issuer';

const prefix = `kv${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const workDir = mkdtempSync(join(tmpdir(), 'attest-kv-composition-'));
const silent = (): void => undefined;
let sim: TeamsSimulator;
let issuer: TestIssuer | undefined;
let server: HttpTriggerServer;
let app: LoadedFunctionApp;
let plaintext: ReadonlyMap<string, Buffer>;

const officer = (): string =>
  issuer!.token({ oid: 'officer-all', roles: ['complianceOfficer', 'auditor'] });

beforeAll(async () => {
  requireLocalCaTrust();
  sim = await startTeamsSimulator({
    directory: testDirectory('http://127.0.0.1:9/api/calling'),
    log: silent,
  });
  issuer = await startTestIssuer();
  Object.assign(process.env, {
    ATTEST_STORAGE_CONNECTION_STRING: process.env.ATTEST_TEST_STORAGE_CONNECTION,
    TEST_ADMIN_OPENID_METADATA_URL: issuer.metadataUrl,
    TEST_APP_ID: BOT_APP,
    TEST_APP_SECRET: BOT_SECRET,
    TEST_TENANT_ID: TENANT,
    TEST_AUTHORITY_HOST: sim.url,
    ATTEST_KEYVAULT_URI: sim.url,
    ATTEST_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
    // Never read with Key Vault: pointing them at nothing shows no key file is used.
    ATTEST_KEK_PRIVATE_KEY_FILE: join(workDir, 'absent', 'kek.pem'),
    ATTEST_KEK_PUBLIC_KEY_FILE: join(workDir, 'absent', 'kek.pub.pem'),
    ATTEST_LEDGER_SIGNING_KEY_FILE: join(workDir, 'absent', 'ledger.pem'),
    ATTEST_ARCHIVE_GENERATE_KEYS: 'false',
    ATTEST_ARCHIVE_TABLE_PREFIX: prefix,
    ATTEST_ARCHIVE_RECORDINGS_CONTAINER: `${prefix}rec`,
    ATTEST_ARCHIVE_KEYS_CONTAINER: `${prefix}keys`,
    ATTEST_LEDGER_MIRROR_CONTAINER: `${prefix}ledger`,
    ATTEST_ARCHIVE_USER_GROUPS: JSON.stringify({ 'user-trader': ['traders'] }),
    ATTEST_ARCHIVE_RBAC_SCOPES: JSON.stringify({ 'officer-all': ['*'] }),
  });
  const sink = memorySink();
  app = await loadFunctionApp(join(__dirname, 'apps', 'archive-keyvault-app.ts'), {
    logSink: sink,
  });
  server = await startHttpTriggerServer({
    app,
    logger: createHostLogger(sink),
    routePrefix: 'api',
    maxRequestBodyInBytes: 64 * 1024,
  });
  const archive = (globalThis as { __attestArchive?: ArchiveComposition }).__attestArchive!;

  const service = BlobServiceClient.fromConnectionString(
    process.env.ATTEST_TEST_STORAGE_CONNECTION!,
  );
  const recordings = service.getContainerClient(`${prefix}rec`);
  const keys = service.getContainerClient(`${prefix}keys`);
  await recordings.createIfNotExists();
  await keys.createIfNotExists();
  const writer = {
    putRecording: async (name: string, data: Buffer) =>
      void (await recordings.getBlockBlobClient(name).upload(data, data.length)),
    putKey: async (name: string, data: Buffer) =>
      void (await keys.getBlockBlobClient(name).upload(data, data.length)),
  };
  const vault = new KeyVaultKeys({
    vaultUri: sim.url,
    credential: new ClientSecretCredential(TENANT, BOT_APP, BOT_SECRET, {
      authorityHost: sim.url,
      disableInstanceDiscovery: true,
    }),
    shouldDisableChallengeResourceVerification: true,
  });
  const sealed = await writeVaultSealedRecording(writer, vault, {
    tenantId: 'tenant-1',
    interactionId: 'int-kv1',
    recordedUserIds: ['user-trader'],
    invitedAt: '2026-01-05T10:00:00.000Z',
  });
  plaintext = sealed.plaintext;
  await archive.intake.recordInvite({
    ...sealed.interaction,
    outcome: 'inProgress',
    sealedAt: undefined,
  });
  await archive.intake.recordSealed(sealed.interaction);
});

afterAll(async () => {
  await server?.close();
  await issuer?.close();
  await sim?.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('archive composition with ATTEST_KEYVAULT_URI', () => {
  it('plays back a stream whose data key it unwraps through the vault', async () => {
    const response = await fetch(
      `${server.functionsUrl}/archive/interactions/tenant-1/int-kv1/streams/audio-11`,
      { headers: { authorization: `Bearer ${officer()}` } },
    );
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(plaintext.get('audio-11')!)).toBe(true);
  });

  it('signs the completeness report ES256 through the vault', async () => {
    const response = await fetch(
      `${server.functionsUrl}/archive/reports/completeness?from=2026-01-01T00:00:00.000Z&to=2026-02-01T00:00:00.000Z`,
      { headers: { authorization: `Bearer ${officer()}` } },
    );
    expect(response.status).toBe(200);
    const { report, signature } = (await response.json()) as {
      report: CompletenessReportBody;
      signature: CompletenessSignature;
    };
    expect(signature.alg).toBe('ES256');
    const ledgerKey = (await sim.keyVault.getPublicKey('ledger-signing'))!;
    expect(isCompletenessSignatureValid(report, signature, ledgerKey)).toBe(true);
    expect(
      isCompletenessSignatureValid(
        { ...report, to: '2026-03-01T00:00:00.000Z' },
        signature,
        ledgerKey,
      ),
    ).toBe(false);
  });

  it('signs the ledger checkpoint ES256 through the vault when the checkpoint timer fires', async () => {
    await app.invoke(
      'archiveLedgerCheckpoint',
      jsonData({ Schedule: { AdjustForDST: true }, IsPastDue: false }),
    );
    const ledger = TableLedgerStore.fromConnectionString(
      process.env.ATTEST_TEST_STORAGE_CONNECTION!,
      `${prefix}ledger`,
      systemClock,
    );
    const checkpoints = await ledger.listCheckpoints();
    expect(checkpoints.map((c) => c.alg)).toEqual(['ES256']);
    const entries: LedgerEntry[] = [];
    for await (const entry of ledger.listEntries(0)) entries.push(entry);
    const ledgerKey = (await sim.keyVault.getPublicKey('ledger-signing'))!;
    expect(checkpoints[0]!.keyId).toBe(publicKeyId(ledgerKey));
    expect(verifyLedger(entries, { checkpoints, publicKey: ledgerKey })).toMatchObject({
      isValid: true,
      checkpointCount: 1,
    });
  });
});

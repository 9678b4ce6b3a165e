/**
 * The archive's Key Vault adapters with the real `@azure/keyvault-keys` SDK and the real
 * ClientSecretCredential against the simulator's Key Vault stand-in over HTTPS (challenge auth,
 * tokens from the simulated Entra). Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClientSecretCredential, type AccessToken, type TokenCredential } from '@azure/identity';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import {
  createDataKey,
  publicKeyId,
  signingKeyId,
  verifyLedger,
  verifySignature,
  wrapDataKey,
  type LedgerCheckpoint,
  type WrappedKeyRecord,
} from '@attest/core';
import { createExportActivities } from '../../functions/src/activities/export.activities';
import { DirectoryExportPackageStore } from '../../functions/src/adapters/directory-export-packages';
import { KeyVaultKeys, keyVaultArchiveKeys } from '../../functions/src/adapters/key-vault-keys';
import {
  MemoryExportRequestStore,
  MemoryLedgerStore,
  MemoryRecordingBlobStore,
} from './support/memory-archive-stores';
import { main } from '../../functions/src/cli/verify';
import { verifyExport } from '../../functions/src/cli/verify-export';
import { createLedgerCheckpointJob } from '../../functions/src/timers/ledger-checkpoint.timer';
import { startTeamsSimulator, type TeamsSimulator } from '../../local/src/simulator';
import { BOT_APP, BOT_SECRET, TENANT, testDirectory } from '../simulator/support/fixtures';
import { requireLocalCaTrust } from '../simulator/support/local-ca';
import { createHarness, kek, ManualClock, memoryBlobWriter } from './archive-fixtures';
import { writeVaultSealedRecording } from './key-vault-fixtures';

const KEYS = {
  kekName: 'recording-kek',
  manifestSigningKeyName: 'manifest-signing',
  ledgerSigningKeyName: 'ledger-signing',
  shouldDisableChallengeResourceVerification: true,
};
const silent = (): void => undefined;
let sim: TeamsSimulator;
let credential: TokenCredential;
let vault: KeyVaultKeys;
let base: string;

/** A credential that hands out a token the vault must refuse. */
const forgedCredential: TokenCredential = {
  getToken: (): Promise<AccessToken> =>
    Promise.resolve({
      token: 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL3ZhdWx0LmF6dXJlLm5ldCJ9.c2lnbmF0dXJl',
      expiresOnTimestamp: Date.now() + 3_600_000,
    }),
};

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected a rejection');
  return outcome;
}

beforeAll(async () => {
  requireLocalCaTrust();
  sim = await startTeamsSimulator({
    directory: testDirectory('http://127.0.0.1:9/api/calling'),
    log: silent,
    keyVault: { allowedAppIds: [BOT_APP] },
  });
  credential = new ClientSecretCredential(TENANT, BOT_APP, BOT_SECRET, {
    authorityHost: sim.url,
    disableInstanceDiscovery: true,
  });
  vault = new KeyVaultKeys({
    vaultUri: sim.url,
    credential,
    shouldDisableChallengeResourceVerification: true,
  });
  base = await mkdtemp(path.join(tmpdir(), 'attest-keyvault-'));
});

afterAll(async () => {
  await sim?.close();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

describe('Key Vault stand-in', () => {
  it('answers a request without a token with 401 and the Key Vault challenge', async () => {
    const response = await fetch(`${sim.url}/keys/ledger-signing?api-version=7.6`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer authorization="${sim.url}/${TENANT}", resource="https://vault.azure.net"`,
    );
  });

  it('never exports a private key: GET returns the public JWK only', async () => {
    const key = await new KeyClient(sim.url, credential, {
      disableChallengeResourceVerification: true,
    }).getKey('recording-kek');
    expect(key.key).toMatchObject({ kty: 'RSA', keyOps: ['wrapKey', 'unwrapKey'] });
    expect(key.key?.n).toHaveLength(384);
    expect(key.key?.d).toBeUndefined();
    expect(key.properties.exportable).toBe(false);
    expect(key.id).toMatch(new RegExp(`^${sim.url}/keys/recording-kek/[0-9a-f]{32}$`));
  });

  it('refuses a token that is not for the vault with 401 (a Graph token)', async () => {
    const graphToken = await credential.getToken('https://graph.microsoft.com/.default');
    const response = await fetch(`${sim.url}/keys/ledger-signing?api-version=7.6`, {
      headers: { authorization: `Bearer ${graphToken!.token}` },
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'Unauthorized',
    );
  });

  it('answers 403 to an operation the key does not permit', async () => {
    const token = await credential.getToken('https://vault.azure.net/.default');
    const response = await fetch(`${sim.url}/keys/ledger-signing//unwrapkey?api-version=7.6`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token!.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ alg: 'RSA-OAEP-256', value: 'AAAA' }),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      error: { code: 'Forbidden', message: 'Operation unwrapKey is not permitted on this key.' },
    });
  });
});

describe('Key Vault adapters (real SDK)', () => {
  it('wraps locally with the KEK public key fetched from the vault and unwraps through the vault', async () => {
    const { kid, publicKey } = await vault.getPublicKey('recording-kek');
    const dataKey = createDataKey();
    const record = wrapDataKey(publicKey, kid, dataKey, new Date('2030-01-01T00:00:00Z'));
    expect((await vault.unwrapper('recording-kek').unwrapDataKey(record)).equals(dataKey)).toBe(
      true,
    );
  });

  it('wraps through the vault (wrapKey) and unwraps through the vault', async () => {
    const { kid } = await vault.getPublicKey('recording-kek');
    const dataKey = createDataKey();
    const wrapped = await new CryptographyClient(kid, credential, {
      disableChallengeResourceVerification: true,
    }).wrapKey('RSA-OAEP-256', dataKey);
    const record: WrappedKeyRecord = {
      v: 1,
      kekId: kid,
      alg: 'RSA-OAEP-256',
      wrappedKey: Buffer.from(wrapped.result).toString('base64'),
      createdAt: '2030-01-01T00:00:00.000Z',
    };
    expect((await vault.unwrapper('recording-kek').unwrapDataKey(record)).equals(dataKey)).toBe(
      true,
    );
  });

  it('refuses a data key wrapped with another KEK with a clear error', async () => {
    const { kid } = await vault.getPublicKey('recording-kek');
    const record = wrapDataKey(
      kek.publicKey,
      kid,
      createDataKey(),
      new Date('2030-01-01T00:00:00Z'),
    );
    const error = await rejection(vault.unwrapper('recording-kek').unwrapDataKey(record));
    expect(error.message).toBe(
      '[ATT_INTERNAL] Key Vault unwrapKey on key recording-kek failed (400)',
    );
  });

  it('signs ES256 through the vault; core verifies the raw r||s signature with the vault public key', async () => {
    const signer = await vault.signerSource('manifest-signing', signingKeyId)();
    const data = Buffer.from('manifest bytes', 'utf8');
    const signature = await signer.sign(data);
    const publicKey = (await sim.keyVault.getPublicKey('manifest-signing'))!;
    expect(signer).toMatchObject({ alg: 'ES256', keyId: signingKeyId(publicKey) });
    expect(signature).toHaveLength(64);
    expect(verifySignature('ES256', data, signature, publicKey)).toBe(true);
    expect(verifySignature('ES256', Buffer.from('other bytes'), signature, publicKey)).toBe(false);
  });

  it('verifies ES256 through the vault (verify) and refuses a flipped signature', async () => {
    const { kid } = await vault.getPublicKey('ledger-signing');
    const signer = await vault.signerSource('ledger-signing', publicKeyId)();
    const data = Buffer.from('checkpoint body', 'utf8');
    const signature = await signer.sign(data);
    const client = new CryptographyClient(kid, credential, {
      disableChallengeResourceVerification: true,
    });
    const digest = createHash('sha256').update(data).digest();
    expect((await client.verify('ES256', digest, signature)).result).toBe(true);
    const flipped = Buffer.from(signature);
    flipped[0] = (flipped[0] ?? 0) ^ 0x01;
    expect((await client.verify('ES256', digest, flipped)).result).toBe(false);
  });

  it('refuses a bad token with 401 and a clear error', async () => {
    const forged = new KeyVaultKeys({
      vaultUri: sim.url,
      credential: forgedCredential,
      shouldDisableChallengeResourceVerification: true,
    });
    const error = await rejection(forged.getPublicKey('ledger-signing'));
    expect(error.message).toBe(
      "[ATT_UNAUTHORIZED] Key Vault did not accept the function app's credential for get on key ledger-signing (401): check the identity can get a token for https://vault.azure.net",
    );
    expect(error).toMatchObject({
      code: 'ATT_UNAUTHORIZED',
      details: { keyName: 'ledger-signing', operation: 'get', status: 401 },
    });
  });

  it('reports a credential that cannot get a token (wrong client secret) as the credential failing', async () => {
    const wrongSecret = new ClientSecretCredential(TENANT, BOT_APP, 'not-the-secret', {
      authorityHost: sim.url,
      disableInstanceDiscovery: true,
    });
    const keys = new KeyVaultKeys({
      vaultUri: sim.url,
      credential: wrongSecret,
      shouldDisableChallengeResourceVerification: true,
    });
    const error = await rejection(keys.getPublicKey('ledger-signing'));
    expect(error.message).toBe(
      "[ATT_UNAUTHORIZED] no token for Key Vault (get on key ledger-signing): the function app's credential failed",
    );
  });

  it('refuses an operation the key does not permit with a clear error (the SDK checks before the vault would answer 403)', async () => {
    const { kid, publicKey } = await vault.getPublicKey('recording-kek');
    const record = wrapDataKey(publicKey, kid, createDataKey(), new Date('2030-01-01T00:00:00Z'));
    const error = await rejection(vault.unwrapper('ledger-signing').unwrapDataKey(record));
    expect(error.message).toBe(
      "[ATT_CONFIG_INVALID] Key Vault key ledger-signing does not permit unwrapKey: check the key's operations (infra/modules/key-vault.bicep)",
    );
  });

  it('refuses a caller the vault does not allow with 403', async () => {
    const other = await startTeamsSimulator({
      directory: testDirectory('http://127.0.0.1:9/api/calling'),
      log: silent,
      keyVault: { allowedAppIds: ['someone-else'] },
    });
    try {
      const keys = new KeyVaultKeys({
        vaultUri: other.url,
        credential: new ClientSecretCredential(TENANT, BOT_APP, BOT_SECRET, {
          authorityHost: other.url,
          disableInstanceDiscovery: true,
        }),
        shouldDisableChallengeResourceVerification: true,
      });
      const error = await rejection(keys.getPublicKey('ledger-signing'));
      expect(error).toMatchObject({ code: 'ATT_CONFIG_INVALID', details: { status: 403 } });
    } finally {
      await other.close();
    }
  });

  it('refuses the challenge of a vault outside vault.azure.net unless verification is disabled', async () => {
    const strict = new KeyVaultKeys({ vaultUri: sim.url, credential });
    const error = await rejection(strict.getPublicKey('ledger-signing'));
    expect(error.message).toMatch(
      /^\[ATT_CONFIG_INVALID\] the vault's challenge names another resource than its domain; set ATTEST_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION/,
    );
  });

  it('signs a ledger checkpoint with ES256 that verifies, and a forged one fails', async () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const ledger = new MemoryLedgerStore(clock);
    const job = createLedgerCheckpointJob({
      ledger,
      signingKey: vault.signerSource('ledger-signing', publicKeyId),
      clock,
    });
    await ledger.append({ kind: 'accessed', actor: 'a', subjectType: 'query', subjectId: 'q1' });
    await ledger.append({ kind: 'accessed', actor: 'a', subjectType: 'query', subjectId: 'q2' });
    const checkpoint = (await job())!;
    const publicKey = (await sim.keyVault.getPublicKey('ledger-signing'))!;
    expect(checkpoint).toMatchObject({ seq: 1, alg: 'ES256', keyId: publicKeyId(publicKey) });
    expect(verifyLedger(ledger.entries, { checkpoints: [checkpoint], publicKey })).toMatchObject({
      isValid: true,
      checkpointCount: 1,
    });
    const forged: LedgerCheckpoint = {
      ...checkpoint,
      seq: 0,
      headSha256: ledger.entries[0]!.sha256,
    };
    expect(verifyLedger(ledger.entries, { checkpoints: [forged], publicKey }).failures).toEqual([
      {
        kind: 'badCheckpointSignature',
        seq: 0,
        message: 'checkpoint at entry 0 has no valid signature',
      },
    ]);
  });
});

describe('an export signed through Key Vault', () => {
  let good: string;

  beforeAll(async () => {
    const keys = keyVaultArchiveKeys(vault, { ...KEYS, vaultUri: sim.url });
    const blobs = new MemoryRecordingBlobStore();
    const harness = createHarness('2030-01-01T00:00:00.000Z', blobs, {
      manifestPublicKeyPem: keys.manifestPublicKeyPem,
      ledgerSigningKey: keys.ledgerSigner,
    });
    for (const [n, id] of ['int-1', 'int-2'].entries()) {
      const { interaction } = await writeVaultSealedRecording(memoryBlobWriter(blobs), vault, {
        tenantId: 'tenant-1',
        interactionId: id,
        recordedUserIds: ['user-a'],
        invitedAt: `2030-01-0${n + 1}T10:00:00.000Z`,
      });
      await harness.activities.recordInvite({ ...interaction, outcome: 'inProgress' });
      await harness.activities.recordSealed(interaction);
    }
    await createLedgerCheckpointJob({
      ledger: harness.ledger,
      signingKey: keys.ledgerSigner,
      clock: harness.clock,
    })();
    harness.clock.advance(86_400_000);
    good = path.join(base, 'exp-kv');
    const exports = createExportActivities({
      records: harness.records,
      holds: harness.holds,
      ledger: harness.ledger,
      blobs,
      packages: DirectoryExportPackageStore.under(base),
      kekPrivateKey: keys.kek,
      ledgerSigningKey: keys.ledgerSigner,
      manifestPublicKeyPem: keys.manifestPublicKeyPem,
      requests: new MemoryExportRequestStore(),
      integrity: harness.integrity,
      clock: harness.clock,
    });
    await exports.runExport({
      exportId: 'exp-kv',
      createdBy: 'officer-1',
      tenantId: 'tenant-1',
      query: {
        from: '2030-01-01T00:00:00.000Z',
        to: '2030-02-01T00:00:00.000Z',
      },
    });
  });

  it('carries ES256 signatures and the vault public keys as SPKI PEM', async () => {
    const checkpoints = JSON.parse(
      await readFile(path.join(good, 'ledger/checkpoints.json'), 'utf8'),
    ) as LedgerCheckpoint[];
    expect(checkpoints.map((c) => c.alg)).toEqual(['ES256', 'ES256']);
    expect(JSON.parse(await readFile(path.join(good, 'completeness.sig'), 'utf8'))).toMatchObject({
      alg: 'ES256',
    });
    expect(
      JSON.parse(
        await readFile(path.join(good, 'interactions/tenant-1/int-1/manifest.sig'), 'utf8'),
      ),
    ).toMatchObject({
      alg: 'ES256',
      keyId: signingKeyId((await sim.keyVault.getPublicKey('manifest-signing'))!),
    });
    const manifestPem = (await sim.keyVault.getPublicKey('manifest-signing'))!
      .export({ type: 'spki', format: 'pem' })
      .toString();
    expect(await readFile(path.join(good, 'keys/manifest-signing.pem'), 'utf8')).toBe(manifestPem);
    expect(await readFile(path.join(good, 'keys/ledger-signing.pem'), 'utf8')).toBe(
      (await sim.keyVault.getPublicKey('ledger-signing'))!
        .export({ type: 'spki', format: 'pem' })
        .toString(),
    );
  });

  it('passes attest verify, with the media decrypted through the vault', async () => {
    const lines: string[] = [];
    expect(
      await main(
        ['verify', good],
        (line) => lines.push(line),
        () => undefined,
      ),
    ).toBe(0);
    expect(lines[0]).toMatch(
      /^ledger key [0-9a-f]{64} \(ES256\); manifest key [0-9a-f]{64} \(ES256\)$/,
    );
    expect(lines.at(-1)).toBe('PASS');
    expect(
      (await readFile(path.join(good, 'interactions/tenant-1/int-1/media/audio-11.bin')))
        .subarray(0, 200)
        .equals(Buffer.alloc(200, 1)),
    ).toBe(true);
  });

  it('fails attest verify on a flipped manifest signature byte, naming the interaction and manifest.sig', async () => {
    const dir = path.join(base, 'flipped-manifest');
    await cp(good, dir, { recursive: true });
    const file = path.join(dir, 'interactions/tenant-1/int-2/manifest.sig');
    const signature = JSON.parse(await readFile(file, 'utf8')) as { signature: string };
    const raw = Buffer.from(signature.signature, 'base64');
    raw[5] = (raw[5] ?? 0) ^ 0x01;
    await writeFile(file, JSON.stringify({ ...signature, signature: raw.toString('base64') }));
    const lines: string[] = [];
    expect(
      await main(
        ['verify', dir],
        (line) => lines.push(line),
        () => undefined,
      ),
    ).toBe(1);
    expect(lines.filter((l) => l.startsWith('FAIL '))).toEqual([
      'FAIL interaction tenant-1/int-2 manifest.sig: signature: ES256 signature does not match the manifest bytes and key',
    ]);
  });

  it('fails attest verify on a flipped checkpoint signature byte, naming the ledger entry', async () => {
    const dir = path.join(base, 'flipped-checkpoint');
    await cp(good, dir, { recursive: true });
    const file = path.join(dir, 'ledger/checkpoints.json');
    const checkpoints = JSON.parse(await readFile(file, 'utf8')) as LedgerCheckpoint[];
    const last = checkpoints.at(-1)!;
    const raw = Buffer.from(last.signature, 'base64');
    raw[40] = (raw[40] ?? 0) ^ 0x80;
    checkpoints[checkpoints.length - 1] = { ...last, signature: raw.toString('base64') };
    await writeFile(file, JSON.stringify(checkpoints));
    const failures = (await verifyExport(dir)).failures.map((f) => `${f.location}: ${f.message}`);
    expect(failures).toContain(
      `ledger entry ${last.seq}: checkpoint at entry ${last.seq} has no valid signature`,
    );
  });

  it('fails attest verify on a flipped completeness signature byte, naming completeness.sig', async () => {
    const dir = path.join(base, 'flipped-completeness');
    await cp(good, dir, { recursive: true });
    const file = path.join(dir, 'completeness.sig');
    const signature = JSON.parse(await readFile(file, 'utf8')) as { signature: string };
    const raw = Buffer.from(signature.signature, 'base64');
    raw[63] = (raw[63] ?? 0) ^ 0x01;
    await writeFile(file, JSON.stringify({ ...signature, signature: raw.toString('base64') }));
    expect((await verifyExport(dir)).failures.map((f) => `${f.location}: ${f.message}`)).toEqual([
      'completeness.sig: ES256 signature not valid for the ledger key (report altered?)',
    ]);
  });

  it('fails attest verify, without crashing, on a signature with an unknown algorithm', async () => {
    const dir = path.join(base, 'unknown-alg');
    await cp(good, dir, { recursive: true });
    const file = path.join(dir, 'interactions/tenant-1/int-1/manifest.sig');
    await writeFile(
      file,
      JSON.stringify({ ...(JSON.parse(await readFile(file, 'utf8')) as object), alg: 'PS256' }),
    );
    const lines: string[] = [];
    expect(
      await main(
        ['verify', dir],
        (line) => lines.push(line),
        () => undefined,
      ),
    ).toBe(1);
    expect(lines.filter((l) => l.startsWith('FAIL '))).toEqual([
      'FAIL interaction tenant-1/int-1 manifest.sig: signature: unknown algorithm "PS256"',
    ]);
  });
});

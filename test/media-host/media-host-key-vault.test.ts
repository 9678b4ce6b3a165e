/**
 * The media host with its keys in Key Vault: the simulator's Key Vault stand-in over HTTPS, the
 * real SDK, Azurite for the recording. The manifest is signed ES256 through the vault, the data
 * key wrapped with the vault KEK's public key, and the archive's Key Vault unwrapper reads it
 * back. Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { rmSync } from 'node:fs';
import { ClientSecretCredential, type AccessToken, type TokenCredential } from '@azure/identity';
import {
  blockAad,
  decryptBlock,
  signingKeyId,
  verifyManifest,
  wrappedKeyBlobName,
  type CreateMediaSessionResponse,
  type RecordingManifest,
  type SealSummary,
  type WrappedKeyRecord,
} from '@attest/core';
import { KeyVaultKeys } from '../../functions/src/adapters/key-vault-keys';
import { loadConfig, type MediaHostConfig } from '../../media-host/src/config/media-host.config';
import { startMediaHost, type MediaHost } from '../../media-host/src';
import { startTeamsSimulator, type TeamsSimulator } from '../../local/src/simulator';
import { BOT_APP, BOT_SECRET, TENANT, testDirectory } from '../simulator/support/fixtures';
import { requireLocalCaTrust } from '../simulator/support/local-ca';
import {
  control,
  hostFiles,
  MediaTestClient,
  pcmFrame,
  type HostFiles,
  TS0,
  STEP,
  TEST_CONNECTION,
  downloadBlob,
} from './media-host-fixtures';

const connection = TEST_CONNECTION;
const silent = (): void => undefined;

const download = downloadBlob;

function vaultConfig(sim: TeamsSimulator): NonNullable<MediaHostConfig['keyVault']> {
  return {
    vaultUri: sim.url,
    manifestSigningKeyName: 'manifest-signing',
    kekName: 'recording-kek',
    shouldDisableChallengeResourceVerification: true,
  };
}

describe('media host with Key Vault keys', () => {
  let sim: TeamsSimulator;
  let credential: TokenCredential;
  let files: HostFiles;
  let host: MediaHost;

  beforeAll(async () => {
    requireLocalCaTrust();
    sim = await startTeamsSimulator({
      directory: testDirectory('http://127.0.0.1:9/api/calling'),
      log: silent,
    });
    credential = new ClientSecretCredential(TENANT, BOT_APP, BOT_SECRET, {
      authorityHost: sim.url,
      disableInstanceDiscovery: true,
    });
    files = hostFiles(connection);
    // No key files: the KEK public key and the signing key come from the vault.
    const config: MediaHostConfig = {
      ...files.config,
      signingKeyFile: '',
      keyVault: vaultConfig(sim),
    };
    delete (config as { kekPublicKeyFile?: string }).kekPublicKeyFile;
    host = await startMediaHost(config, { keyVaultCredential: credential });
  });

  afterAll(async () => {
    await host?.close();
    await sim?.close();
    if (files !== undefined) rmSync(files.dir, { recursive: true, force: true });
  });

  it('reads the Key Vault settings, and needs no key files with them', () => {
    const config = loadConfig({
      ATTEST_MEDIA_CONTROL_KEY: 'test-control-key-0123456789',
      ATTEST_MEDIA_STORAGE_ACCOUNT_URL: 'https://account.blob.core.windows.net',
      ATTEST_MEDIA_TLS_CERT_FILE: 'tls.crt',
      ATTEST_MEDIA_TLS_KEY_FILE: 'tls.key',
      ATTEST_MEDIA_SPOOL_DIR: 'spool',
      ATTEST_MEDIA_KEYVAULT_URI: 'https://attest-kv.vault.azure.net/',
    });
    expect(config.keyVault).toEqual({
      vaultUri: 'https://attest-kv.vault.azure.net',
      manifestSigningKeyName: 'manifest-signing',
      kekName: 'recording-kek',
      shouldDisableChallengeResourceVerification: false,
    });
  });

  it('refuses a bad vault URI and key name, naming the settings', () => {
    expect(() =>
      loadConfig({
        ATTEST_MEDIA_CONTROL_KEY: 'test-control-key-0123456789',
        ATTEST_MEDIA_STORAGE_ACCOUNT_URL: 'https://account.blob.core.windows.net',
        ATTEST_MEDIA_TLS_CERT_FILE: 'tls.crt',
        ATTEST_MEDIA_TLS_KEY_FILE: 'tls.key',
        ATTEST_MEDIA_SPOOL_DIR: 'spool',
        ATTEST_MEDIA_KEYVAULT_URI: 'http://attest-kv.vault.azure.net/keys',
        ATTEST_MEDIA_KEYVAULT_KEK_NAME: 'bad name',
      }),
    ).toThrow(
      'media host configuration is invalid: ATTEST_MEDIA_KEYVAULT_URI must be an https URL of a vault; ATTEST_MEDIA_KEYVAULT_KEK_NAME must be a Key Vault key name (letters, digits and dashes)',
    );
  });

  it('fails to start with a clear error when the vault refuses the credential', async () => {
    const forged: TokenCredential = {
      getToken: (): Promise<AccessToken> =>
        Promise.resolve({ token: 'not-a-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const other = hostFiles(connection);
    try {
      const outcome = await startMediaHost(
        { ...other.config, keyVault: vaultConfig(sim) },
        { keyVaultCredential: forged },
      ).then(
        async (started) => {
          await started.close();
          return undefined;
        },
        (error: unknown) => error,
      );
      expect(outcome).toMatchObject({
        code: 'ATT_UNAUTHORIZED',
        message:
          "[ATT_UNAUTHORIZED] Key Vault did not accept the media host's credential for get on key manifest-signing (401): check the identity can get a token for https://vault.azure.net",
      });
    } finally {
      rmSync(other.dir, { recursive: true, force: true });
    }
  });

  it('seals a manifest signed ES256 through the vault, with the data key wrapped by the vault KEK and unwrapped through the vault', async () => {
    const created = await control<CreateMediaSessionResponse>(
      host.controlUrl,
      'POST',
      '/v1/sessions',
      {
        callId: 'call-kv',
        tenantId: 'tenant-a',
        interactionId: 'int-kv',
        recordedUserIds: ['user-1'],
      },
    );
    expect(created.status).toBe(201);
    const { sessionId } = created.body;
    const client = await MediaTestClient.connect(created.body.mediaConfigBlob);
    await client.until(() => client.acks.length > 0);
    await control(host.controlUrl, 'POST', `/v1/sessions/${sessionId}/persist`, {
      recordingConfirmedAt: new Date().toISOString(),
    });
    const sent: Buffer[] = [];
    for (let seq = 1; seq <= 30; seq += 1) {
      const payload = pcmFrame(11, seq);
      sent.push(payload);
      client.unmixed(seq, TS0 + BigInt(seq) * STEP, [{ msi: 11, payload }]);
    }
    await client.until(() => (client.lastAck?.ackedSequence ?? 0) >= 30);
    const sealed = await control<SealSummary>(
      host.controlUrl,
      'POST',
      `/v1/sessions/${sessionId}/seal`,
    );
    expect(sealed.status).toBe(200);
    await client.close();

    const container = files.config.recordingsContainer;
    const manifestBytes = await download(container, sealed.body.manifestBlobName);
    const signatureBytes = await download(
      container,
      sealed.body.manifestBlobName.replace('manifest.json', 'manifest.sig'),
    );
    const signature = JSON.parse(signatureBytes.toString()) as { alg: string; keyId: string };
    const manifest = JSON.parse(manifestBytes.toString()) as RecordingManifest;
    const publicKey = (await sim.keyVault.getPublicKey('manifest-signing'))!;
    expect(signature).toMatchObject({ alg: 'ES256', keyId: signingKeyId(publicKey) });
    expect(manifest.signingKeyId).toBe(signingKeyId(publicKey));

    const keyRecord = JSON.parse(
      (await download('recordingkeys', wrappedKeyBlobName('tenant-a', 'int-kv'))).toString(),
    ) as WrappedKeyRecord;
    expect(keyRecord.kekId).toMatch(new RegExp(`^${sim.url}/keys/recording-kek/[0-9a-f]{32}$`));
    expect(manifest.encryption?.kekId).toBe(keyRecord.kekId);
    const vault = new KeyVaultKeys({
      vaultUri: sim.url,
      credential,
      shouldDisableChallengeResourceVerification: true,
    });
    const dataKey = await vault.unwrapper('recording-kek').unwrapDataKey(keyRecord);
    const blob = await download(container, manifest.streams[0]!.blobName);
    const verification = await verifyManifest(manifestBytes, signatureBytes, publicKey, {
      readStoredBlock: (_s, b) =>
        Promise.resolve(blob.subarray(b.storedOffset, b.storedOffset + b.storedLength)),
      toPlaintext: (s, b, stored) =>
        decryptBlock(dataKey, blockAad(manifest.interactionId, s.streamId, b.index), stored),
    });
    expect(verification).toMatchObject({ isValid: true });
    const plaintext = Buffer.concat(
      manifest.streams[0]!.blocks.map((b) =>
        decryptBlock(
          dataKey,
          blockAad(manifest.interactionId, 'audio-11', b.index),
          blob.subarray(b.storedOffset, b.storedOffset + b.storedLength),
        ),
      ),
    );
    expect(plaintext.equals(Buffer.concat(sent))).toBe(true);
  });
});

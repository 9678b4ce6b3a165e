/**
 * What the media benchmarks share: the local CA's certificate, a throwaway KEK in a folder, and the media
 * host configuration they run with (lossless audio, encryption on, loopback, quiet logs).
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getFreePort } from '@attest/local/dist/azurite/azurite-process';
import { CA_FILE_NAMES, ensureLocalCa } from '@attest/local/dist/simulator/ca/ensure-ca';
import type { MediaHostConfig } from '@attest/media-host/dist/config/media-host.config';

export const BENCH_CONTROL_KEY = 'bench-control-key-0123456789';

/**
 * The local CA's server certificate (127.0.0.1): the control API is HTTPS, and `npm run bench`
 * trusts that CA through NODE_EXTRA_CA_CERTS.
 */
function localCaTls(): { cert: string; key: string } {
  const ca = ensureLocalCa(join('.data', 'ca'));
  return {
    cert: join(ca.dir, CA_FILE_NAMES.serverCert),
    key: join(ca.dir, CA_FILE_NAMES.serverKey),
  };
}

/**
 * Writes a KEK public key into `dir` and returns a host configuration using
 * them, with free ports (fixed from then on, so media config blobs stay valid across a restart),
 * and the KEK's private key (to decrypt what was stored).
 */
export async function benchMediaHostConfig(
  dir: string,
  storageConnectionString: string,
  settings: Pick<
    MediaHostConfig,
    'blockMinDurationInMs' | 'segmentMaxDurationInMs' | 'maxSessions' | 'helloTimeoutInMs'
  >,
): Promise<{ config: MediaHostConfig; kekPrivateKeyPem: string }> {
  const tls = localCaTls();
  const kek = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'kek.pem'), kek.publicKey.export({ type: 'spki', format: 'pem' }));
  const config: MediaHostConfig = {
    hostId: 'bench',
    region: 'local',
    version: '0.1.0',
    controlHost: '127.0.0.1',
    controlPort: await getFreePort(),
    controlKey: BENCH_CONTROL_KEY,
    publicHost: '127.0.0.1',
    protocolHost: '127.0.0.1',
    protocolPort: await getFreePort(),
    // The bridge's transport (plain TCP on loopback); the ingest bench may use it instead of TLS.
    loopbackProtocolPort: await getFreePort(),
    tlsCertFile: tls.cert,
    tlsKeyFile: tls.key,
    storageConnectionString,
    recordingsContainer: 'recordings',
    spoolDir: join(dir, 'spool'),
    spoolLimitInBytes: 4 * 1024 * 1024 * 1024,
    spoolFlushIntervalInMs: 100,
    commitIntervalInMs: 5000,
    finishedSessionRetentionInMs: 3_600_000,
    maxFramePayloadBytes: 1024 * 1024,
    heartbeatIntervalInMs: 600_000,
    isEncryptionEnabled: true,
    kekPublicKeyFile: join(dir, 'kek.pem'),
    signingKeyFile: join(dir, 'signing.pem'),
    isAudioLossless: true,
    logLevel: 'error',
    listenHost: '127.0.0.1',
    listenPort: 0,
    ...settings,
  };
  return {
    config,
    kekPrivateKeyPem: kek.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

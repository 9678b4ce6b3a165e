/**
 * Local stand-ins for the Key Vault keys, generated once under `.data/keys` (git-ignored):
 * the KEK pair (RSA, wraps each recording's data key), the manifest signing key (Ed25519, the
 * media host signs, the archive verifies) and the control key the function app and the media
 * host share, and the live listen-in key (the function app signs listen tokens, the media host
 * checks them). In Azure all of these live in Key Vault.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceDefinition } from './services';

export interface LocalKeyFiles {
  readonly kekPrivateKeyFile: string;
  readonly kekPublicKeyFile: string;
  readonly manifestSigningKeyFile: string;
  readonly manifestPublicKeyFile: string;
  readonly ledgerSigningKeyFile: string;
  readonly controlKeyFile: string;
  readonly liveListenKeyFile: string;
}

export function localKeyFiles(dataDir: string): LocalKeyFiles {
  const dir = join(dataDir, 'keys');
  return {
    kekPrivateKeyFile: join(dir, 'kek-private.pem'),
    kekPublicKeyFile: join(dir, 'kek-public.pem'),
    manifestSigningKeyFile: join(dir, 'manifest-signing.pem'),
    manifestPublicKeyFile: join(dir, 'manifest-signing.pem.pub'),
    ledgerSigningKeyFile: join(dir, 'ledger-signing.pem'),
    controlKeyFile: join(dir, 'media-control.key'),
    liveListenKeyFile: join(dir, 'live-listen.key'),
  };
}

/** Creates whatever key file is missing; never overwrites one (recordings depend on them). */
export function ensureLocalKeys(dataDir: string): LocalKeyFiles {
  const files = localKeyFiles(dataDir);
  mkdirSync(join(dataDir, 'keys'), { recursive: true });
  if (!existsSync(files.kekPrivateKeyFile)) {
    const kek = generateKeyPairSync('rsa', { modulusLength: 3072 });
    writeFileSync(
      files.kekPrivateKeyFile,
      kek.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      { mode: 0o600, flag: 'wx' },
    );
    writeFileSync(files.kekPublicKeyFile, kek.publicKey.export({ type: 'spki', format: 'pem' }), {
      mode: 0o644,
    });
  }
  if (!existsSync(files.manifestSigningKeyFile)) {
    const signing = generateKeyPairSync('ed25519');
    writeFileSync(
      files.manifestSigningKeyFile,
      signing.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      { mode: 0o600, flag: 'wx' },
    );
    writeFileSync(
      files.manifestPublicKeyFile,
      signing.publicKey.export({ type: 'spki', format: 'pem' }),
      { mode: 0o644 },
    );
  }
  if (!existsSync(files.controlKeyFile)) {
    writeFileSync(files.controlKeyFile, randomBytes(32).toString('base64url'), {
      mode: 0o600,
      flag: 'wx',
    });
  }
  if (!existsSync(files.liveListenKeyFile)) {
    // 43 characters: both sides require at least 32.
    writeFileSync(files.liveListenKeyFile, randomBytes(32).toString('base64url'), {
      mode: 0o600,
      flag: 'wx',
    });
  }
  return files;
}

export function localKeysService(): ServiceDefinition {
  return {
    name: 'keys',
    start(context) {
      const files = ensureLocalKeys(context.dataDir);
      const liveListenKey = readFileSync(files.liveListenKeyFile, 'utf8').trim();
      return Promise.resolve({
        name: 'keys',
        urls: {},
        settings: {
          ATTEST_MEDIA_CONTROL_KEY: readFileSync(files.controlKeyFile, 'utf8').trim(),
          // One secret under both names: the function app's and the media host's.
          ATTEST_LIVE_LISTEN_KEY: liveListenKey,
          ATTEST_MEDIA_LIVE_LISTEN_KEY: liveListenKey,
          ATTEST_KEK_PRIVATE_KEY_FILE: files.kekPrivateKeyFile,
          ATTEST_KEK_PUBLIC_KEY_FILE: files.kekPublicKeyFile,
          ATTEST_LEDGER_SIGNING_KEY_FILE: files.ledgerSigningKeyFile,
          ATTEST_MANIFEST_PUBLIC_KEY_FILE: files.manifestPublicKeyFile,
          ATTEST_MEDIA_KEK_PUBLIC_KEY_FILE: files.kekPublicKeyFile,
          ATTEST_MEDIA_SIGNING_KEY_FILE: files.manifestSigningKeyFile,
        },
        stop: () => Promise.resolve(),
      });
    },
  };
}

/**
 * The archive's keys from PEM files: the RSA key-encryption key (KEK) and the Ed25519 ledger
 * signing key, generated on first start when missing (local development only), and the media
 * host's manifest public key. In Azure the keys live in Key Vault (`key-vault-keys.ts`); the
 * composition root picks one of the two from configuration.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, RecorderError, type KeyUnwrapperLike, type SigningKeyLike } from '@attest/core';
import type { ArchiveConfig } from '../config/archive-config';

/** The keys the archive's activities and handlers receive, wherever they live. */
export interface ArchiveKeys {
  /** Unwraps recordings' data keys: the KEK private key (local) or Key Vault's unwrapKey. */
  readonly kek: KeyUnwrapperLike;
  /** Signs ledger checkpoints, completeness reports and exports: Ed25519 (local) or ES256 (Key Vault). */
  readonly ledgerSigner: SigningKeyLike;
  /** SPKI PEM of the manifest signing public key, copied into exports (a source of it with Key Vault). */
  readonly manifestPublicKeyPem: string | (() => Promise<string>) | undefined;
}

function writeKey(file: string, pem: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  // Owner-only: the private key must not be readable by other accounts on the machine.
  writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
}

function missing(name: string): RecorderError {
  return new RecorderError(
    ErrorCode.ConfigInvalid,
    `the key file of ${name} is missing and key generation is off`,
  );
}

export function loadArchiveKeys(config: ArchiveConfig): ArchiveKeys {
  if (!existsSync(config.kekPrivateKeyFile)) {
    if (!config.shouldGenerateMissingKeys) throw missing('ATTEST_KEK_PRIVATE_KEY_FILE');
    const pair = generateKeyPairSync('rsa', { modulusLength: 3072 });
    writeKey(
      config.kekPrivateKeyFile,
      pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    if (!existsSync(config.kekPublicKeyFile))
      writeKey(
        config.kekPublicKeyFile,
        pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      );
  }
  const kekPrivateKey = createPrivateKey(readFileSync(config.kekPrivateKeyFile));
  if (!existsSync(config.kekPublicKeyFile))
    writeKey(
      config.kekPublicKeyFile,
      createPublicKey(kekPrivateKey).export({ type: 'spki', format: 'pem' }).toString(),
    );
  // Read to fail at start on a broken public key file, which the media hosts use to wrap.
  createPublicKey(readFileSync(config.kekPublicKeyFile));

  if (!existsSync(config.ledgerSigningKeyFile)) {
    if (!config.shouldGenerateMissingKeys) throw missing('ATTEST_LEDGER_SIGNING_KEY_FILE');
    writeKey(
      config.ledgerSigningKeyFile,
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
  }
  const ledgerSigningKey = createPrivateKey(readFileSync(config.ledgerSigningKeyFile));
  if (ledgerSigningKey.asymmetricKeyType !== 'ed25519')
    throw new RecorderError(
      ErrorCode.ConfigInvalid,
      'ATTEST_LEDGER_SIGNING_KEY_FILE must hold an Ed25519 private key',
    );

  let manifestPublicKeyPem: string | undefined;
  if (config.manifestPublicKeyFile !== undefined) {
    try {
      manifestPublicKeyPem = readFileSync(config.manifestPublicKeyFile, 'utf8');
      createPublicKey(manifestPublicKeyPem);
    } catch (cause) {
      throw new RecorderError(
        ErrorCode.ConfigInvalid,
        'ATTEST_MANIFEST_PUBLIC_KEY_FILE is not a readable public key',
        { cause },
      );
    }
  }
  return { kek: kekPrivateKey, ledgerSigner: ledgerSigningKey, manifestPublicKeyPem };
}

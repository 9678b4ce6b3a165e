/**
 * The media host's keys. Local key files: the manifest signing key (Ed25519, generated on first
 * start when the file is missing) and the KEK public key for envelope encryption. In Azure both
 * live in Key Vault (`key-vault-keys.ts`); `media-host-keys.ts` picks from configuration.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, RecorderError, signingKeyId } from '@attest/core';

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

/** Reads the PKCS#8 PEM at `path`, or creates one (mode 0600) with its public key at `path.pub`. */
export function loadOrCreateSigningKey(path: string): SigningKey {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const pair = generateKeyPairSync('ed25519');
    writeFileSync(path, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
      flag: 'wx',
    });
    writeFileSync(`${path}.pub`, pair.publicKey.export({ type: 'spki', format: 'pem' }), {
      mode: 0o644,
    });
  }
  const privateKey = createPrivateKey(readFileSync(path));
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new RecorderError(
      ErrorCode.ConfigInvalid,
      'the signing key file must hold an Ed25519 private key',
    );
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: signingKeyId(publicKey) };
}

export interface KekPublicKey {
  readonly publicKey: KeyObject;
  /** `sha256:` and the first 16 hex chars of the SPKI DER fingerprint. */
  readonly kekId: string;
}

export function loadKekPublicKey(path: string): KekPublicKey {
  const publicKey = createPublicKey(readFileSync(path));
  if (publicKey.asymmetricKeyType !== 'rsa')
    throw new RecorderError(
      ErrorCode.ConfigInvalid,
      'the KEK public key file must hold an RSA public key',
    );
  const fingerprint = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
  return { publicKey, kekId: `sha256:${fingerprint.slice(0, 16)}` };
}

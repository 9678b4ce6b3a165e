/**
 * The media host's keys in Azure Key Vault, through `@azure/keyvault-keys`: manifests are signed
 * with the EC P-256 manifest key (`sign`, ES256 over the SHA-256 digest, raw `r || s`); data keys
 * are wrapped locally with the KEK's public key, fetched once at start (equivalent to `wrapKey`,
 * without a round trip per recording). Private keys never leave the vault.
 */
import type { TokenCredential } from '@azure/identity';
import { CryptographyClient, KeyClient, type KeyVaultKey } from '@azure/keyvault-keys';
import {
  createDigestSigner,
  ErrorCode,
  publicKeyFromJwk,
  RecorderError,
  signatureAlgorithmOf,
  signingKeyId,
  withKeyVaultErrors,
  type KeyVaultErrorContext,
  type Signer,
} from '@attest/core';
import type { MediaHostKeyVaultConfig } from '../config/media-host.config';
import type { KekPublicKey } from './local-keys';

/** How this adapter's failures read (see `keyVaultError` in core). */
const ERROR_CONTEXT: KeyVaultErrorContext = {
  service: 'the media host',
  keyNameSettings: 'ATTEST_MEDIA_KEYVAULT_*_NAME',
  challengeSetting: 'ATTEST_MEDIA_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION',
};

const attempt = <T>(keyName: string, operation: string, run: () => Promise<T>): Promise<T> =>
  withKeyVaultErrors(keyName, operation, ERROR_CONTEXT, run);

export interface KeyVaultMediaHostKeys {
  readonly signer: Signer;
  /** Undefined when encryption is off. `kekId` is the vault key id with its version. */
  readonly kek: KekPublicKey | undefined;
}

/**
 * Fetches the public parts of the manifest key and (when `isEncryptionEnabled`) the KEK, and
 * builds the signer. Rejects with ATT_UNAUTHORIZED / ATT_CONFIG_INVALID naming the key when the
 * vault refuses or a key has the wrong type.
 */
export async function loadKeyVaultMediaHostKeys(
  config: MediaHostKeyVaultConfig,
  credential: TokenCredential,
  isEncryptionEnabled: boolean,
): Promise<KeyVaultMediaHostKeys> {
  const clientOptions = {
    disableChallengeResourceVerification: config.shouldDisableChallengeResourceVerification,
  };
  const keys = new KeyClient(config.vaultUri, credential, clientOptions);
  const manifestKey: KeyVaultKey = await attempt(config.manifestSigningKeyName, 'get', () =>
    keys.getKey(config.manifestSigningKeyName),
  );
  const manifestPublicKey =
    manifestKey.key === undefined ? undefined : publicKeyFromJwk(manifestKey.key);
  if (manifestPublicKey === undefined || signatureAlgorithmOf(manifestPublicKey) !== 'ES256') {
    throw new RecorderError(
      ErrorCode.ConfigInvalid,
      `Key Vault key ${config.manifestSigningKeyName} must be an EC P-256 key to sign manifests`,
      { details: { keyName: config.manifestSigningKeyName } },
    );
  }
  const cryptography = new CryptographyClient(manifestKey, credential, clientOptions);
  const signer = createDigestSigner({
    keyId: signingKeyId(manifestPublicKey),
    publicKey: manifestPublicKey,
    signDigest: async (digest) =>
      (
        await attempt(config.manifestSigningKeyName, 'sign', () =>
          cryptography.sign('ES256', digest),
        )
      ).result,
  });
  if (!isEncryptionEnabled) return { signer, kek: undefined };
  const kekKey = await attempt(config.kekName, 'get', () => keys.getKey(config.kekName));
  const kekPublicKey =
    kekKey.key === undefined || kekKey.id === undefined ? undefined : publicKeyFromJwk(kekKey.key);
  if (kekPublicKey === undefined || kekPublicKey.asymmetricKeyType !== 'rsa') {
    throw new RecorderError(
      ErrorCode.ConfigInvalid,
      `Key Vault key ${config.kekName} must be an RSA key to wrap data keys`,
      { details: { keyName: config.kekName } },
    );
  }
  return { signer, kek: { publicKey: kekPublicKey, kekId: kekKey.id! } };
}

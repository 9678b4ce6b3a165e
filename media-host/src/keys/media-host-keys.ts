/** The media host's keys, from Key Vault or from the local key files, as configured. */
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { createLocalSigner, type Signer } from '@attest/core';
import type { MediaHostConfig } from '../config/media-host.config';
import { loadKeyVaultMediaHostKeys } from './key-vault-keys';
import { loadKekPublicKey, loadOrCreateSigningKey, type KekPublicKey } from './local-keys';

export interface MediaHostKeys {
  /** Signs manifests at seal: Ed25519 from the key file, or ES256 through Key Vault. */
  readonly signer: Signer;
  /** Wraps each recording's data key; undefined when encryption is off. */
  readonly kek: KekPublicKey | undefined;
}

/**
 * The media host's keys from configuration: Key Vault when `keyVault` is set (with
 * `credential`, default the same `DefaultAzureCredential` the blob store uses), else the local
 * key files.
 */
export async function loadMediaHostKeys(
  config: MediaHostConfig,
  credential?: TokenCredential,
): Promise<MediaHostKeys> {
  if (config.keyVault !== undefined)
    return loadKeyVaultMediaHostKeys(
      config.keyVault,
      credential ?? new DefaultAzureCredential(),
      config.isEncryptionEnabled,
    );
  const signingKey = loadOrCreateSigningKey(config.signingKeyFile);
  return {
    signer: createLocalSigner(signingKey.privateKey, signingKey.publicKey, signingKey.keyId),
    kek:
      config.isEncryptionEnabled && config.kekPublicKeyFile !== undefined
        ? loadKekPublicKey(config.kekPublicKeyFile)
        : undefined,
  };
}

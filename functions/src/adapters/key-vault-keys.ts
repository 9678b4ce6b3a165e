/**
 * The archive's keys in Azure Key Vault, through `@azure/keyvault-keys`: data keys unwrapped with
 * the KEK (`unwrapKey`, RSA-OAEP-256), ledger checkpoints and completeness reports signed with an
 * EC P-256 key (`sign`, ES256 over the SHA-256 digest, raw `r || s`), and the manifest key's
 * public part read for exports. Private keys never leave the vault. Authenticates with the same
 * credential as Storage (the managed identity in Azure).
 */
import type { TokenCredential } from '@azure/identity';
import { CryptographyClient, KeyClient, type KeyVaultKey } from '@azure/keyvault-keys';
import type { KeyObject } from 'node:crypto';
import {
  createDigestSigner,
  ErrorCode,
  memoizeSignerSource,
  publicKeyFromJwk,
  publicKeyId,
  RecorderError,
  signatureAlgorithmOf,
  type KeyUnwrapper,
  type Signer,
  type SignerSource,
  type WrappedKeyRecord,
  type KeyVaultErrorContext,
  withKeyVaultErrors,
} from '@attest/core';
import type { KeyVaultConfig } from '../config/key-vault-config';
import type { ArchiveKeys } from './archive-keys';

export interface KeyVaultKeysOptions {
  /** `https://<vault>.vault.azure.net`, no trailing slash. */
  readonly vaultUri: string;
  readonly credential: TokenCredential;
  /** Only for a vault outside `vault.azure.net` (the simulator). Default false. */
  readonly shouldDisableChallengeResourceVerification?: boolean;
}

export interface VaultPublicKey {
  /** The key identifier with its version (`{vault}/keys/{name}/{version}`). */
  readonly kid: string;
  readonly publicKey: KeyObject;
}

/** How this adapter's failures read (see `keyVaultError` in core). */
const ERROR_CONTEXT: KeyVaultErrorContext = {
  service: 'the function app',
  keyNameSettings: 'ATTEST_KEYVAULT_*_NAME',
  challengeSetting: 'ATTEST_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION',
};

const attempt = <T>(keyName: string, operation: string, run: () => Promise<T>): Promise<T> =>
  withKeyVaultErrors(keyName, operation, ERROR_CONTEXT, run);

/** Keys of one vault. Clients are built once; public keys are fetched once per key and kept. */
export class KeyVaultKeys {
  readonly #options: KeyVaultKeysOptions;
  readonly #keys: KeyClient;
  readonly #cryptography = new Map<string, CryptographyClient>();
  readonly #latest = new Map<string, Promise<KeyVaultKey>>();

  constructor(options: KeyVaultKeysOptions) {
    this.#options = options;
    this.#keys = new KeyClient(options.vaultUri, options.credential, {
      disableChallengeResourceVerification:
        options.shouldDisableChallengeResourceVerification === true,
    });
  }

  /** The key's current version, fetched once (a failure is retried on the next call). */
  #latestKey(name: string): Promise<KeyVaultKey> {
    let pending = this.#latest.get(name);
    if (pending === undefined) {
      pending = attempt(name, 'get', () => this.#keys.getKey(name));
      pending.catch(() => this.#latest.delete(name));
      this.#latest.set(name, pending);
    }
    return pending;
  }

  /** One client per key version; built from the fetched key when there is one (no second GET). */
  #cryptographyClient(key: KeyVaultKey | string): CryptographyClient {
    const id = typeof key === 'string' ? key : (key.id ?? '');
    let client = this.#cryptography.get(id);
    if (client === undefined) {
      client = new CryptographyClient(key, this.#options.credential, {
        disableChallengeResourceVerification:
          this.#options.shouldDisableChallengeResourceVerification === true,
      });
      this.#cryptography.set(id, client);
    }
    return client;
  }

  /** The public part of the key's current version (the private part is never exportable). */
  async getPublicKey(name: string): Promise<VaultPublicKey> {
    const key = await this.#latestKey(name);
    if (key.key === undefined || key.id === undefined)
      throw new RecorderError(
        ErrorCode.ConfigInvalid,
        `Key Vault returned key ${name} without its public part`,
        { details: { keyName: name } },
      );
    try {
      return { kid: key.id, publicKey: publicKeyFromJwk(key.key) };
    } catch (cause) {
      throw new RecorderError(
        ErrorCode.ConfigInvalid,
        `Key Vault key ${name} is not an RSA or EC key`,
        { cause, details: { keyName: name } },
      );
    }
  }

  /**
   * A source of an ES256 signer over key `name` (EC P-256, `sign` permitted); its key id is
   * `keyIdOf(publicKey)`. Loads the public key on first use and keeps it.
   */
  signerSource(name: string, keyIdOf: (publicKey: KeyObject) => string): SignerSource {
    return memoizeSignerSource(async (): Promise<Signer> => {
      const { publicKey } = await this.getPublicKey(name);
      if (signatureAlgorithmOf(publicKey) !== 'ES256')
        throw new RecorderError(
          ErrorCode.ConfigInvalid,
          `Key Vault key ${name} must be an EC P-256 key to sign with ES256`,
          { details: { keyName: name } },
        );
      const client = this.#cryptographyClient(await this.#latestKey(name));
      return createDigestSigner({
        keyId: keyIdOf(publicKey),
        publicKey,
        signDigest: async (digest) =>
          (await attempt(name, 'sign', () => client.sign('ES256', digest))).result,
      });
    });
  }

  /**
   * Unwraps data keys with key `name` (RSA, `unwrapKey` permitted). A record whose `kekId` names
   * a version of this key is unwrapped with that version (keys rotate); otherwise the current one.
   */
  unwrapper(name: string): KeyUnwrapper {
    const prefix = `${this.#options.vaultUri}/keys/${name}/`;
    return {
      unwrapDataKey: async (record: WrappedKeyRecord): Promise<Buffer> => {
        if (record.alg !== 'RSA-OAEP-256')
          throw new RecorderError(
            ErrorCode.IntegrityViolation,
            `a wrapped data key uses ${String(record.alg)}, not RSA-OAEP-256`,
            { details: { keyName: name } },
          );
        const client =
          record.kekId.startsWith(prefix) && record.kekId.length > prefix.length
            ? this.#cryptographyClient(record.kekId)
            : this.#cryptographyClient(await this.#latestKey(name));
        const result = await attempt(name, 'unwrapKey', () =>
          client.unwrapKey('RSA-OAEP-256', Buffer.from(record.wrappedKey, 'base64')),
        );
        return Buffer.from(result.result);
      },
    };
  }
}

/**
 * The archive's keys from Key Vault: the KEK unwraps, the ledger key signs (its key id is the
 * SHA-256 of its SPKI DER, as for a local key), the manifest key's public PEM goes into exports.
 */
export function keyVaultArchiveKeys(vault: KeyVaultKeys, config: KeyVaultConfig): ArchiveKeys {
  return {
    kek: vault.unwrapper(config.kekName),
    ledgerSigner: vault.signerSource(config.ledgerSigningKeyName, publicKeyId),
    manifestPublicKeyPem: async () =>
      (await vault.getPublicKey(config.manifestSigningKeyName)).publicKey
        .export({ type: 'spki', format: 'pem' })
        .toString(),
  };
}

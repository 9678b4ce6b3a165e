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

/**
 * Turns an SDK failure into an Attest error that names the key and what to do; never includes
 * tokens (the SDK's messages carry the service's error text only).
 */
export function keyVaultError(keyName: string, operation: string, error: unknown): RecorderError {
  if (error instanceof RecorderError) return error;
  const status = (error as { statusCode?: unknown }).statusCode;
  const details = { keyName, operation, ...(typeof status === 'number' ? { status } : {}) };
  const message = error instanceof Error ? error.message : '';
  const name = error instanceof Error ? error.name : '';
  // @azure/identity's failures (the token endpoint refused, no managed identity) carry the token
  // endpoint's status, not the vault's: report them as the credential's.
  if (['AuthenticationError', 'AuthenticationRequiredError', 'CredentialUnavailableError', 'AggregateAuthenticationError'].includes(name)) {
    return new RecorderError(ErrorCode.Unauthorized, `no token for Key Vault (${operation} on key ${keyName}): the credential failed`, { cause: error, details: { keyName, operation } });
  }
  if (status === 401) {
    return new RecorderError(ErrorCode.Unauthorized, `Key Vault did not accept the credential for ${operation} on key ${keyName} (401): check the identity can get a token for https://vault.azure.net`, { cause: error, details });
  }
  if (status === 403) {
    // Not ErrorCode.Forbidden: a caller of the admin API must not read the service's missing
    // permission as their own 403.
    return new RecorderError(ErrorCode.ConfigInvalid, `Key Vault refused ${operation} on key ${keyName} (403): grant the identity Key Vault Crypto User and check the key permits ${operation}`, { cause: error, details });
  }
  if (status === 404) {
    return new RecorderError(ErrorCode.ConfigInvalid, `Key Vault has no key ${keyName} (404): check the key name settings`, { cause: error, details });
  }
  // The SDK checks the key's permitted operations itself before it asks the vault (which answers 403).
  if (/^Operation \w+ is not supported on key/.test(message)) {
    return new RecorderError(ErrorCode.ConfigInvalid, `Key Vault key ${keyName} does not permit ${operation}: check the key's operations (infra/modules/key-vault.bicep)`, { cause: error, details });
  }
  if (/challenge resource/i.test(message)) {
    return new RecorderError(ErrorCode.ConfigInvalid, `the vault's challenge names another resource than its domain; set ATTEST_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION only for a vault outside vault.azure.net`, { cause: error, details });
  }
  const isRetryable = typeof status !== 'number' || status === 408 || status === 429 || status >= 500;
  return new RecorderError(ErrorCode.Internal, `Key Vault ${operation} on key ${keyName} failed${typeof status === 'number' ? ` (${status})` : ''}`, { cause: error, details, retryable: isRetryable });
}

async function attempt<T>(keyName: string, operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw keyVaultError(keyName, operation, error);
  }
}

/** Keys of one vault. Clients are built once; public keys are fetched once per key and kept. */
export class KeyVaultKeys {
  readonly #options: KeyVaultKeysOptions;
  readonly #keys: KeyClient;
  readonly #cryptography = new Map<string, CryptographyClient>();
  readonly #latest = new Map<string, Promise<KeyVaultKey>>();

  constructor(options: KeyVaultKeysOptions) {
    this.#options = options;
    this.#keys = new KeyClient(options.vaultUri, options.credential, { disableChallengeResourceVerification: options.shouldDisableChallengeResourceVerification === true });
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
      client = new CryptographyClient(key, this.#options.credential, { disableChallengeResourceVerification: this.#options.shouldDisableChallengeResourceVerification === true });
      this.#cryptography.set(id, client);
    }
    return client;
  }

  /** The public part of the key's current version (the private part is never exportable). */
  async getPublicKey(name: string): Promise<VaultPublicKey> {
    const key = await this.#latestKey(name);
    if (key.key === undefined || key.id === undefined) throw new RecorderError(ErrorCode.ConfigInvalid, `Key Vault returned key ${name} without its public part`, { details: { keyName: name } });
    try {
      return { kid: key.id, publicKey: publicKeyFromJwk(key.key) };
    } catch (cause) {
      throw new RecorderError(ErrorCode.ConfigInvalid, `Key Vault key ${name} is not an RSA or EC key`, { cause, details: { keyName: name } });
    }
  }

  /**
   * A source of an ES256 signer over key `name` (EC P-256, `sign` permitted); its key id is
   * `keyIdOf(publicKey)`. Loads the public key on first use and keeps it.
   */
  signerSource(name: string, keyIdOf: (publicKey: KeyObject) => string): SignerSource {
    return memoizeSignerSource(async (): Promise<Signer> => {
      const { publicKey } = await this.getPublicKey(name);
      if (signatureAlgorithmOf(publicKey) !== 'ES256') throw new RecorderError(ErrorCode.ConfigInvalid, `Key Vault key ${name} must be an EC P-256 key to sign with ES256`, { details: { keyName: name } });
      const client = this.#cryptographyClient(await this.#latestKey(name));
      return createDigestSigner({
        keyId: keyIdOf(publicKey),
        publicKey,
        signDigest: async (digest) => (await attempt(name, 'sign', () => client.sign('ES256', digest))).result,
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
        if (record.alg !== 'RSA-OAEP-256') throw new RecorderError(ErrorCode.IntegrityViolation, `a wrapped data key uses ${String(record.alg)}, not RSA-OAEP-256`, { details: { keyName: name } });
        const client = record.kekId.startsWith(prefix) && record.kekId.length > prefix.length ? this.#cryptographyClient(record.kekId) : this.#cryptographyClient(await this.#latestKey(name));
        const result = await attempt(name, 'unwrapKey', () => client.unwrapKey('RSA-OAEP-256', Buffer.from(record.wrappedKey, 'base64')));
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
    manifestPublicKeyPem: async () => (await vault.getPublicKey(config.manifestSigningKeyName)).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

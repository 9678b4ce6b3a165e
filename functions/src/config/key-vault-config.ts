import type { EnvReader } from '@attest/core';

/**
 * Where the archive's keys live in Azure. When `ATTEST_KEYVAULT_URI` is unset the local key
 * files of {@link ArchiveConfig} are used instead (development, tests).
 */
export interface KeyVaultConfig {
  /** `https://<vault>.vault.azure.net` (Bicep sets it on the function app). */
  readonly vaultUri: string;
  /** RSA key (wrapKey/unwrapKey) that wraps each recording's data key. Default `recording-kek`. */
  readonly kekName: string;
  /** EC P-256 key of the media hosts' manifest signatures (its public key goes into exports). Default `manifest-signing`. */
  readonly manifestSigningKeyName: string;
  /** EC P-256 key that signs ledger checkpoints and completeness reports. Default `ledger-signing`. */
  readonly ledgerSigningKeyName: string;
  /**
   * Skip the SDK's check that the challenge's resource matches the vault's domain. Only for a
   * vault not under `vault.azure.net` (the simulator's stand-in). Default false.
   */
  readonly shouldDisableChallengeResourceVerification: boolean;
}

const KEY_NAME = /^[0-9A-Za-z-]{1,127}$/;

/** Reads `ATTEST_KEYVAULT_*`; undefined when no vault is configured. */
export function readKeyVaultConfig(reader: EnvReader): KeyVaultConfig | undefined {
  const vaultUri = reader.url('ATTEST_KEYVAULT_URI', { required: false });
  const name = (key: string, fallback: string): string => {
    const value = reader.stringOr(key, fallback);
    if (!KEY_NAME.test(value))
      reader.problem(`${key} must be a Key Vault key name (letters, digits and dashes)`);
    return value;
  };
  const kekName = name('ATTEST_KEYVAULT_KEK_NAME', 'recording-kek');
  const manifestSigningKeyName = name('ATTEST_KEYVAULT_MANIFEST_KEY_NAME', 'manifest-signing');
  const ledgerSigningKeyName = name('ATTEST_KEYVAULT_LEDGER_KEY_NAME', 'ledger-signing');
  const shouldDisableChallengeResourceVerification = reader.boolean(
    'ATTEST_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION',
    false,
  );
  if (vaultUri === undefined) return undefined;
  if (!vaultUri.startsWith('https://')) reader.problem('ATTEST_KEYVAULT_URI must be an https URL');
  return {
    vaultUri: vaultUri.replace(/\/+$/, ''),
    kekName,
    manifestSigningKeyName,
    ledgerSigningKeyName,
    shouldDisableChallengeResourceVerification,
  };
}

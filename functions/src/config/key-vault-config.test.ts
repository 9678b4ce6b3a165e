import { EnvReader } from '@attest/core';
import { readKeyVaultConfig } from './key-vault-config';

function read(env: Record<string, string>) {
  const reader = new EnvReader(env);
  const config = readKeyVaultConfig(reader);
  return { config, assert: () => reader.assertValid() };
}

describe('readKeyVaultConfig', () => {
  it('is undefined without ATTEST_KEYVAULT_URI (the local key files stay in use)', () => {
    const { config, assert } = read({});
    assert();
    expect(config).toBeUndefined();
  });

  it('defaults the key names to the Bicep template and keeps challenge verification on', () => {
    const { config, assert } = read({
      ATTEST_KEYVAULT_URI: 'https://kv-attest-abc.vault.azure.net/',
    });
    assert();
    expect(config).toEqual({
      vaultUri: 'https://kv-attest-abc.vault.azure.net',
      kekName: 'recording-kek',
      manifestSigningKeyName: 'manifest-signing',
      ledgerSigningKeyName: 'ledger-signing',
      shouldDisableChallengeResourceVerification: false,
    });
  });

  it('reads other key names and the challenge verification switch', () => {
    const { config } = read({
      ATTEST_KEYVAULT_URI: 'https://127.0.0.1:7443',
      ATTEST_KEYVAULT_LEDGER_KEY_NAME: 'ledger-2',
      ATTEST_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: 'true',
    });
    expect(config).toMatchObject({
      ledgerSigningKeyName: 'ledger-2',
      shouldDisableChallengeResourceVerification: true,
    });
  });

  it('reports a non-https vault and a bad key name together, without echoing values', () => {
    const { assert } = read({
      ATTEST_KEYVAULT_URI: 'http://kv.example',
      ATTEST_KEYVAULT_KEK_NAME: 'kek/../x',
    });
    expect(assert).toThrow(
      /ATTEST_KEYVAULT_KEK_NAME must be a Key Vault key name \(letters, digits and dashes\); ATTEST_KEYVAULT_URI must be an https URL/,
    );
    expect(assert).not.toThrow(/kek\/\.\.\/x/);
  });
});

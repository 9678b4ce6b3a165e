/**
 * Key Vault failures as Attest errors that name the key and what to do, for the function app's
 * and the media host's vault adapters alike. Pure: it reads the shape of the SDK's (and
 * `@azure/identity`'s) errors, never their tokens (their messages carry the service's text only).
 */
import { ErrorCode, RecorderError } from '../errors';

/** Who is asking, for the messages: which identity and which settings an operator should check. */
export interface KeyVaultErrorContext {
  /** `the function app`, `the media host`. */
  readonly service: string;
  /** The settings that name the keys, e.g. `ATTEST_KEYVAULT_*_NAME`. */
  readonly keyNameSettings: string;
  /** The setting that turns the challenge resource check off. */
  readonly challengeSetting: string;
}

const CREDENTIAL_ERRORS = new Set([
  'AuthenticationError',
  'AuthenticationRequiredError',
  'CredentialUnavailableError',
  'AggregateAuthenticationError',
]);

export function keyVaultError(
  keyName: string,
  operation: string,
  error: unknown,
  context: KeyVaultErrorContext,
): RecorderError {
  if (error instanceof RecorderError) return error;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  const details = { keyName, operation, ...(typeof status === 'number' ? { status } : {}) };
  const message = error instanceof Error ? error.message : '';
  const name = error instanceof Error ? error.name : '';
  // @azure/identity's failures (the token endpoint refused, no managed identity) carry the token
  // endpoint's status, not the vault's: report them as the credential's.
  if (CREDENTIAL_ERRORS.has(name)) {
    return new RecorderError(
      ErrorCode.Unauthorized,
      `no token for Key Vault (${operation} on key ${keyName}): ${context.service}'s credential failed`,
      { cause: error, details: { keyName, operation } },
    );
  }
  if (status === 401) {
    return new RecorderError(
      ErrorCode.Unauthorized,
      `Key Vault did not accept ${context.service}'s credential for ${operation} on key ${keyName} (401): check the identity can get a token for https://vault.azure.net`,
      { cause: error, details },
    );
  }
  if (status === 403) {
    // Not ErrorCode.Forbidden: a caller of an admin API must not read the service's missing
    // permission as their own 403.
    return new RecorderError(
      ErrorCode.ConfigInvalid,
      `Key Vault refused ${operation} on key ${keyName} (403): grant ${context.service}'s identity Key Vault Crypto User and check the key permits ${operation}`,
      { cause: error, details },
    );
  }
  if (status === 404) {
    return new RecorderError(
      ErrorCode.ConfigInvalid,
      `Key Vault has no key ${keyName} (404): check ${context.keyNameSettings}`,
      { cause: error, details },
    );
  }
  // The SDK checks the key's permitted operations itself before it asks the vault (which answers 403).
  if (/^Operation \w+ is not supported on key/.test(message)) {
    return new RecorderError(
      ErrorCode.ConfigInvalid,
      `Key Vault key ${keyName} does not permit ${operation}: check the key's operations (infra/modules/key-vault.bicep)`,
      { cause: error, details },
    );
  }
  if (/challenge resource/i.test(message)) {
    return new RecorderError(
      ErrorCode.ConfigInvalid,
      `the vault's challenge names another resource than its domain; set ${context.challengeSetting} only for a vault outside vault.azure.net`,
      { cause: error, details },
    );
  }
  const isRetryable =
    typeof status !== 'number' || status === 408 || status === 429 || status >= 500;
  return new RecorderError(
    ErrorCode.Internal,
    `Key Vault ${operation} on key ${keyName} failed${typeof status === 'number' ? ` (${status})` : ''}`,
    { cause: error, details, retryable: isRetryable },
  );
}

/** Runs one vault call; its failure becomes {@link keyVaultError}. */
export async function withKeyVaultErrors<T>(
  keyName: string,
  operation: string,
  context: KeyVaultErrorContext,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw keyVaultError(keyName, operation, error, context);
  }
}

/**
 * `attest doctor`: checks a deployment (or the local stack) end to end, one line per check with
 * its remedy. Exit 0 only when every check passes.
 */
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { loadConfig, type FunctionsConfig } from '../../config/load-config';
import { fail, formatResult, reason, skip, type CheckResult } from './check';
import {
  checkCallingWebhook,
  checkEntraToken,
  checkGraphPermissions,
  checkKeys,
  checkMediaHosts,
  checkOpenIdMetadata,
  checkRecentInvites,
  checkStorage,
  type DoctorContext,
} from './checks';
import { checkRegionalMediaHosts, checkRegionalStorage } from './regional-checks';

export interface DoctorOptions {
  /** The function app's settings (what `az functionapp config appsettings list` shows). */
  readonly settings: Readonly<Record<string, string | undefined>>;
  /** Base URL of the function app; default ATTEST_PUBLIC_BASE_URL. */
  readonly url?: string;
  readonly certificateWarningInDays: number;
  /** Summarise invites since this time (default: the last 24 hours). */
  readonly invitesSince?: Date;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
  /** Reads `@Microsoft.KeyVault(SecretUri=…)` references; default: the signed-in Azure user. */
  readonly credential?: TokenCredential;
}

const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\(SecretUri=(https:\/\/[^)]+)\)$/;

export async function runDoctor(
  options: DoctorOptions,
  out: (line: string) => void,
): Promise<number> {
  const results: CheckResult[] = [];
  const report = (result: CheckResult): void => {
    results.push(result);
    out(formatResult(result));
  };
  const fetchImpl = options.fetch ?? fetch;
  const needsAzure = Object.values(options.settings).some((v) => KEY_VAULT_REFERENCE.test(v ?? ''));
  const credential =
    options.credential ??
    (needsAzure || options.settings.ATTEST_KEYVAULT_URI !== undefined
      ? new DefaultAzureCredential()
      : undefined);

  let config: FunctionsConfig | undefined;
  try {
    const settings = await resolveReferences(options.settings, credential, fetchImpl);
    // Run off Azure, the app's managed identity is not there: use the signed-in user instead.
    config = loadConfig({ ...settings, ATTEST_STORAGE_IDENTITY_CLIENT_ID: undefined });
    report({
      name: 'settings',
      status: 'pass',
      detail: 'every setting loadConfig requires is present and valid',
    });
  } catch (error) {
    report(
      fail(
        'settings',
        reason(error),
        'set the named app settings (infra/modules/settings.bicep sets them all in Azure)',
      ),
    );
  }
  if (config === undefined) {
    report(skip('other checks', 'skipped: the settings are invalid'));
    return 1;
  }
  const ctx: DoctorContext = {
    config,
    url: (options.url ?? config.recorder.publicBaseUrl).replace(/\/+$/, ''),
    now: options.now ?? (() => new Date()),
    certificateWarningInMs: options.certificateWarningInDays * 86_400_000,
    ...(options.invitesSince !== undefined ? { invitesSince: options.invitesSince } : {}),
    ...(credential !== undefined ? { credential } : {}),
    fetch: fetchImpl,
  };
  report(
    await checkOpenIdMetadata(
      ctx,
      'webhook-metadata',
      config.recorder.webhook,
      'ATTEST_WEBHOOK_OPENID_METADATA_URL',
    ),
  );
  report(
    await checkOpenIdMetadata(
      ctx,
      'admin-metadata',
      config.recorder.admin,
      'ATTEST_ADMIN_OPENID_METADATA_URL',
    ),
  );
  const token = await checkEntraToken(ctx);
  report(token.result);
  report(checkGraphPermissions(token.roles));
  report(await checkCallingWebhook(ctx));
  report(await checkStorage(ctx));
  for (const result of await checkRegionalStorage(ctx)) report(result);
  report(await checkKeys(ctx));
  for (const result of await checkMediaHosts(ctx)) report(result);
  for (const result of await checkRegionalMediaHosts(ctx)) report(result);
  report(await checkRecentInvites(ctx));
  const failed = results.filter((r) => r.status === 'fail').length;
  out(failed === 0 ? 'ALL CHECKS PASSED' : `${failed} CHECK(S) FAILED`);
  return failed === 0 ? 0 : 1;
}

/** Replaces Key Vault references by the secrets they name, read with the caller's credential. */
async function resolveReferences(
  settings: Readonly<Record<string, string | undefined>>,
  credential: TokenCredential | undefined,
  fetchImpl: typeof fetch,
): Promise<Record<string, string | undefined>> {
  const resolved: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(settings)) {
    const match = KEY_VAULT_REFERENCE.exec(value ?? '');
    if (match?.[1] === undefined || credential === undefined) {
      resolved[key] = value;
      continue;
    }
    const token = await credential.getToken('https://vault.azure.net/.default');
    const response = await fetchImpl(`${match[1]}?api-version=7.4`, {
      headers: { authorization: `Bearer ${token?.token ?? ''}` },
    });
    if (!response.ok)
      throw new Error(`${key}: Key Vault answered ${response.status} for its reference`);
    resolved[key] = ((await response.json()) as { value?: string }).value;
  }
  return resolved;
}

/** Settings from a file: a JSON object, `az functionapp config appsettings list` output, or local.settings.json. */
export function parseSettingsFile(text: string): Record<string, string> {
  const parsed = JSON.parse(text) as unknown;
  if (Array.isArray(parsed))
    return Object.fromEntries(
      (parsed as { name?: unknown; value?: unknown }[])
        .filter((s) => typeof s.name === 'string')
        .map((s) => [String(s.name), typeof s.value === 'string' ? s.value : '']),
    );
  const object = parsed as { Values?: Record<string, string> } & Record<string, unknown>;
  if (object.Values !== undefined && typeof object.Values === 'object') return { ...object.Values };
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, String(v)]));
}

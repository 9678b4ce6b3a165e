/**
 * The checks of `attest doctor`, each independent and each naming its fix. They read the same
 * configuration and use the same adapters as the function app, so a pass here means the app sees
 * the same thing.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { FunctionsConfig } from '../../config/load-config';
import type { JwtSettings } from '../../config/recorder-config';
import { createStorageClients } from '../../adapters/storage-clients';
import {
  createTableFactory,
  TablesInteractionStore,
  TablesMediaHostRegistry,
  type TableFactory,
} from '../../adapters/table-stores';
import { fail, pass, reason, skip, type CheckResult } from './check';

export interface DoctorContext {
  readonly config: FunctionsConfig;
  /** Base URL of the function app. */
  readonly url: string;
  readonly now: () => Date;
  /** A certificate ending sooner than this fails. */
  readonly certificateWarningInMs: number;
  /** Invites since this time are summarised (default: the last 24 hours). */
  readonly invitesSince?: Date;
  /** Credential of the person running doctor (Key Vault, storage in Azure). */
  readonly credential?: TokenCredential;
  readonly fetch: typeof fetch;
}

const REQUIRED_ROLES = ['Calls.AccessMedia.All', 'Calls.JoinGroupCall.All'];

async function getJson(ctx: DoctorContext, url: string): Promise<unknown> {
  const response = await ctx.fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

export async function checkOpenIdMetadata(
  ctx: DoctorContext,
  name: string,
  settings: JwtSettings,
  settingName: string,
): Promise<CheckResult> {
  const host = new URL(settings.openIdMetadataUrl).host;
  try {
    const metadata = (await getJson(ctx, settings.openIdMetadataUrl)) as { jwks_uri?: unknown };
    if (typeof metadata.jwks_uri !== 'string') throw new Error('no jwks_uri in the document');
    const keys = (await getJson(ctx, metadata.jwks_uri)) as { keys?: unknown[] };
    if (!Array.isArray(keys.keys) || keys.keys.length === 0) throw new Error('no signing keys');
    return pass(name, `${host}: ${keys.keys.length} signing key(s)`);
  } catch (error) {
    return fail(
      name,
      `${host} unreachable or invalid (${reason(error)})`,
      `check ${settingName} and that the function app can reach ${host}; tokens cannot be verified without it`,
    );
  }
}

/** A Graph token for the first served tenant, with the roles it carries. */
export async function checkEntraToken(
  ctx: DoctorContext,
): Promise<{ result: CheckResult; roles?: readonly string[] }> {
  const name = 'entra-token';
  const recorder = ctx.config.recorder;
  const tenantId = recorder.servedTenantIds[0] ?? '';
  try {
    const credential = new ClientSecretCredential(tenantId, recorder.appId, recorder.appSecret, {
      authorityHost: recorder.entraAuthorityHost,
      disableInstanceDiscovery: recorder.entraDisableInstanceDiscovery,
    });
    const token = await credential.getToken('https://graph.microsoft.com/.default');
    const payload = JSON.parse(
      Buffer.from(token.token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { roles?: unknown };
    const roles = Array.isArray(payload.roles) ? payload.roles.map(String) : [];
    return { result: pass(name, `token for Microsoft Graph issued for tenant ${tenantId}`), roles };
  } catch (error) {
    return {
      result: fail(
        name,
        `Entra refused the bot's credentials (${reason(error)})`,
        'check ATTEST_APP_ID and the client secret (ATTEST_APP_SECRET, in Key Vault as bot-app-secret); create a new secret if it expired',
      ),
    };
  }
}

export function checkGraphPermissions(roles: readonly string[] | undefined): CheckResult {
  const name = 'graph-permissions';
  if (roles === undefined) return skip(name, 'no Graph token (see entra-token)');
  const missing = REQUIRED_ROLES.filter((role) => !roles.includes(role));
  return missing.length === 0
    ? pass(name, `${REQUIRED_ROLES.join(' and ')} granted and consented`)
    : fail(
        name,
        `missing application permission(s): ${missing.join(', ')}`,
        "add them to the bot's app registration (Microsoft Graph, application permissions) and grant admin consent",
      );
}

export async function checkCallingWebhook(ctx: DoctorContext): Promise<CheckResult> {
  const name = 'calling-webhook';
  const url = `${ctx.url}/api/calling`;
  try {
    // Unsigned on purpose: a live webhook refuses it; it never reaches call handling.
    const response = await ctx.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status === 401 || response.status === 403)
      return pass(name, `${url} answers and refuses unsigned requests`);
    return fail(
      name,
      `${url} answered ${response.status} to an unsigned request`,
      response.status === 404
        ? 'the function app package is not deployed or is another app: redeploy (packageBaseUrl, packageVersion)'
        : 'the webhook must answer 401 to unsigned requests; check the function app logs',
    );
  } catch (error) {
    return fail(
      name,
      `${url} does not answer (${reason(error)})`,
      'start the function app (or check --url); Teams gets no answer and the call is not recorded',
    );
  }
}

export async function checkStorage(ctx: DoctorContext): Promise<CheckResult> {
  return checkRecordingsAccount({
    name: 'storage',
    blobs: createStorageClients(ctx.config.storage).blobService(),
    container: ctx.config.archive.recordingsContainer,
    isEmulator: ctx.config.storage.connectionString !== undefined,
    unreachableFix:
      'check ATTEST_STORAGE_* and that the identity holds Storage Blob Data Contributor on the account',
  });
}

/**
 * One recordings account: reachable, its recordings container present and, in Azure, immutable
 * with versioning (an emulator answers 501 to immutability: Attest enforces it there).
 */
export async function checkRecordingsAccount(account: {
  readonly name: string;
  readonly blobs: BlobServiceClient;
  readonly container: string;
  readonly isEmulator: boolean;
  readonly unreachableFix: string;
}): Promise<CheckResult> {
  const { name, blobs, container, isEmulator } = account;
  try {
    await blobs.getProperties({ abortSignal: AbortSignal.timeout(10_000) });
    const properties = await blobs
      .getContainerClient(container)
      .getProperties({ abortSignal: AbortSignal.timeout(10_000) })
      .catch((error: unknown) => {
        if ((error as { statusCode?: number }).statusCode === 404) return undefined;
        throw error;
      });
    if (isEmulator)
      return pass(
        name,
        `storage reachable, container ${container} ${properties === undefined ? 'created at the first recording' : 'present'} (emulator: immutability enforced by Attest)`,
      );
    if (properties === undefined)
      return fail(
        name,
        `container ${container} does not exist`,
        'redeploy infra/ (it creates the recordings containers)',
      );
    if (properties.isImmutableStorageWithVersioningEnabled !== true)
      return fail(
        name,
        `container ${container} has no version-level immutability`,
        'recreate the recordings account from infra/ (immutability can only be enabled at creation)',
      );
    return pass(name, `container ${container} reachable, immutable with versioning`);
  } catch (error) {
    return fail(name, `recordings storage unreachable (${reason(error)})`, account.unreachableFix);
  }
}

export async function checkKeys(ctx: DoctorContext): Promise<CheckResult> {
  const name = 'keys';
  const archive = ctx.config.archive;
  if (archive.keyVault === undefined) {
    const files = [archive.kekPublicKeyFile, archive.ledgerSigningKeyFile];
    const missing = files.filter((file) => !existsSync(file));
    if (missing.length === 0) return pass(name, 'local key files present');
    return archive.shouldGenerateMissingKeys
      ? pass(name, 'local key files are generated on first start')
      : fail(
          name,
          `missing key file(s): ${missing.join(', ')}`,
          'restore the key files or set ATTEST_KEYVAULT_URI',
        );
  }
  const vault = archive.keyVault;
  try {
    const client = new KeyClient(vault.vaultUri, ctx.credential ?? missingCredential());
    for (const key of [vault.kekName, vault.manifestSigningKeyName, vault.ledgerSigningKeyName]) {
      const found = await client.getKey(key);
      if (found.properties.enabled === false) throw new Error(`key ${key} is disabled`);
    }
    return pass(
      name,
      `${vault.kekName}, ${vault.manifestSigningKeyName}, ${vault.ledgerSigningKeyName} usable`,
    );
  } catch (error) {
    return fail(
      name,
      `Key Vault keys not usable (${reason(error)})`,
      'check ATTEST_KEYVAULT_URI and the Key Vault Crypto User role of the identities',
    );
  }
}

export function tablesOf(ctx: DoctorContext): TableFactory {
  return createTableFactory({
    connectionString: ctx.config.storage.connectionString,
    tableUrl: ctx.config.storage.tableUrl,
    credential: createStorageClients(ctx.config.storage).credential,
  });
}

export async function checkMediaHosts(ctx: DoctorContext): Promise<CheckResult[]> {
  const registry = new TablesMediaHostRegistry(tablesOf(ctx));
  let hosts;
  try {
    hosts = await registry.list();
  } catch (error) {
    return [
      fail(
        'media-hosts',
        `the host registry is unreadable (${reason(error)})`,
        'see the storage check',
      ),
    ];
  }
  if (hosts.length === 0)
    return [
      fail(
        'media-hosts',
        'no media host has ever sent a heartbeat',
        'check the media host services on the scale set instances and ATTEST_MEDIA_FUNCTIONS_URL',
      ),
    ];
  const nowMs = ctx.now().getTime();
  const endpointProblems = new Map(
    await Promise.all(
      hosts.map(
        async (h) =>
          [
            h.hostId,
            h.mediaEndpoint === undefined ? undefined : await tcpProblem(h.mediaEndpoint),
          ] as const,
      ),
    ),
  );
  return hosts.map((host) => {
    const name = `media-host ${host.hostId}`;
    const ageInMs = nowMs - Date.parse(host.receivedAt);
    if (ageInMs > ctx.config.recorder.mediaHostStaleAfterInMs)
      return fail(
        name,
        `no heartbeat for ${Math.round(ageInMs / 1000)} s`,
        'restart the attest-media-host service on that instance or remove it from the scale set',
      );
    const expiresAt = host.certificateExpiresAt;
    if (expiresAt === undefined)
      return fail(
        name,
        'the host reports no media certificate',
        'check ATTEST_MEDIA_TLS_CERT_FILE on that instance (the install extension writes it from Key Vault) and restart the service',
      );
    const leftInMs = Date.parse(expiresAt) - nowMs;
    if (leftInMs < ctx.certificateWarningInMs)
      return fail(
        name,
        leftInMs <= 0
          ? `media certificate expired at ${expiresAt}`
          : `media certificate expires at ${expiresAt} (in ${Math.floor(leftInMs / 86_400_000)} days)`,
        'import a renewed certificate into Key Vault (media-tls) and redeploy, or rerun the install extension',
      );
    const bridge = host.bridge;
    if (bridge !== undefined && (!bridge.isReachable || bridge.isPlatformInitialized !== true))
      return fail(
        name,
        bridge.isReachable
          ? "the media bridge's media platform is not initialized"
          : 'the media bridge does not answer the media host',
        "restart the attest-media-bridge service on that instance and read its log (the bot's app id, the certificate thumbprint and the public address it was given)",
      );
    const portProblem = endpointProblems.get(host.hostId);
    if (portProblem !== undefined)
      return fail(
        name,
        `media port ${host.mediaEndpoint ?? ''} unreachable from here (${portProblem})`,
        "Teams' media platform connects there: open the port to the Teams media ranges (teamsMediaSourceRanges in the NSG, the Windows firewall) and check the bridge service; run doctor from a network those rules admit",
      );
    const load = `${host.capacity.activeSessions}/${host.capacity.maxSessions} sessions`;
    const certificate = `, certificate until ${expiresAt}`;
    return pass(
      name,
      `heartbeat ${Math.round(ageInMs / 1000)} s ago, ${load}${host.isDraining ? ', draining' : ''}${certificate}`,
    );
  });
}

const RECENT_WINDOW_IN_MS = 24 * 3_600_000;

/** Recent invites by outcome; a failed or refused one fails, naming its interaction. */
export async function checkRecentInvites(ctx: DoctorContext): Promise<CheckResult> {
  const name = 'recent-invites';
  const since = (
    ctx.invitesSince ?? new Date(ctx.now().getTime() - RECENT_WINDOW_IN_MS)
  ).toISOString();
  const window = ctx.invitesSince === undefined ? 'in the last 24 h' : `since ${since}`;
  let invites;
  try {
    invites = await new TablesInteractionStore(tablesOf(ctx)).list({
      invitedAfter: since,
      top: 500,
    });
  } catch (error) {
    return fail(
      name,
      `the interaction index is unreadable (${reason(error)})`,
      'see the storage check',
    );
  }
  if (invites.length === 0)
    return pass(
      name,
      "no invite in the last 24 h; if recorded users had calls, Teams is not inviting the bot: check the policy grant (attest teams-policy) and the bot's calling webhook",
    );
  const counts = new Map<string, number>();
  for (const invite of invites) counts.set(invite.outcome, (counts.get(invite.outcome) ?? 0) + 1);
  const summary = [...counts].map(([outcome, count]) => `${count} ${outcome}`).join(', ');
  const bad = invites.filter((i) => i.outcome === 'failed' || i.outcome === 'rejectedBusy');
  if (bad.length === 0) return pass(name, `${invites.length} invite(s) ${window}: ${summary}`);
  const examples = bad
    .slice(0, 3)
    .map((i) => `${i.interactionId}${i.outcomeReason !== undefined ? ` (${i.outcomeReason})` : ''}`)
    .join('; ');
  return fail(
    name,
    `${invites.length} invite(s) ${window}: ${summary}; e.g. ${examples}`,
    'rejectedBusy: no media host could take the call (see the media-host lines, scale out); failed: read the function app logs for these interaction ids',
  );
}

/** Why a TCP connection to `tls://host:port` / `tcp://host:port` fails, or undefined when it opens. */
function tcpProblem(endpoint: string, timeoutInMs = 5_000): Promise<string | undefined> {
  const match = /^(?:tls|tcp):\/\/(.+):(\d{1,5})$/.exec(endpoint);
  if (match === null) return Promise.resolve('not a host:port endpoint');
  return new Promise((resolve) => {
    const socket = connect({ host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) });
    const done = (problem: string | undefined): void => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutInMs, () => done(`no answer within ${timeoutInMs / 1000} s`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

function missingCredential(): never {
  throw new Error('no Azure credential: sign in with az login');
}

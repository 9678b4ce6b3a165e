/**
 * The local stack the fault campaign breaks: an in-memory Azurite, the Teams simulator, the
 * function app in the local Functions host (with the local durable engine) and one media host,
 * all in this process on loopback (their log lines are captured with the process output), as
 * the recorder's end-to-end tests run it. Users: a recorded trader and a colleague, and one portal
 * user per role, plus an officer whose security group reaches only another desk.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getFreePort, startAzurite } from '@attest/local/dist/azurite/azurite-process';
import { startFunctionsHost, type FunctionsHost } from '@attest/local/dist/host/functions-host';
import { jsonLineSink } from '@attest/local/dist/host/log-sink';
import { ensureLocalKeys } from '@attest/local/dist/start/local-keys.service';
import { startTeamsSimulator, type TeamsSimulator } from '@attest/local/dist/simulator';
import { startMediaHost, type MediaHost } from '@attest/media-host/dist/host/media-host';
import {
  functionAppSettings,
  localMediaHostConfig,
  recorderDirectory,
  simulatorControl,
  type RecorderTenantFixture,
} from '../local-stack-fixture';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const TENANT = 'c4a05000-0000-4000-8000-0000000000aa';
export const BOT_APP = 'c4a05000-0000-4000-8000-0000000000b1';
export const INSTANCE = 'c4a05000-0000-4000-8000-0000000000c1';
export const USERS = {
  trader: 'c4a05000-0000-4000-8000-0000000000d1',
  colleague: 'c4a05000-0000-4000-8000-0000000000d2',
  admin: 'c4a05000-0000-4000-8000-0000000000e1',
  officer: 'c4a05000-0000-4000-8000-0000000000e2',
  auditor: 'c4a05000-0000-4000-8000-0000000000e3',
  supervisor: 'c4a05000-0000-4000-8000-0000000000e4',
  operator: 'c4a05000-0000-4000-8000-0000000000e5',
  salesOfficer: 'c4a05000-0000-4000-8000-0000000000e6',
  /** The payment integration's identity: pauses recordings for card payments (PCI). */
  controller: 'c4a05000-0000-4000-8000-0000000000e7',
} as const;
export const GROUPS = {
  traders: 'c4a05000-0000-4000-8000-0000000000f1',
  tradeOfficers: 'c4a05000-0000-4000-8000-0000000000f2',
  salesOfficers: 'c4a05000-0000-4000-8000-0000000000f3',
} as const;

export interface ChaosStack {
  readonly sim: TeamsSimulator;
  readonly host: FunctionsHost;
  /**
   * The function app's Functions host in this process: a scenario may stop it and run the app
   * in a child process on the same port (`child-functions-host.ts`), then start it again.
   */
  readonly functionApp: {
    readonly port: number;
    stopInProcess(): Promise<void>;
    startInProcess(): Promise<void>;
  };
  readonly media: MediaHost;
  readonly baseUrl: string;
  /** Connection string of the stack's storage (Azurite). */
  readonly storageConnection: string;
  /** The campaign's scratch folder (spools, keys, exports). */
  readonly workDir: string;
  /** Settings of another media host of this stack (a child process), without its id and ports. */
  readonly mediaHostEnv: Readonly<Record<string, string>>;
  /** Secrets the campaign's logs must never show (the secrets scan looks for each). */
  readonly secrets: readonly string[];
  control<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  api<T = unknown>(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T }>;
  /** A portal token of one of {@link USERS} with its directory roles. */
  userToken(user: keyof typeof USERS): Promise<string>;
  close(): Promise<void>;
}

function fixture(secret: string): RecorderTenantFixture {
  const user = (id: string, displayName: string, portalRoles?: string[]) => ({
    id,
    displayName,
    userPrincipalName: `${displayName.toLowerCase().replace(/ /g, '.')}@chaos.example`,
    ...(portalRoles === undefined ? {} : { portalRoles }),
  });
  return {
    tenantId: TENANT,
    tenantName: 'Chaos tenant',
    botAppId: BOT_APP,
    botSecret: secret,
    botName: 'Chaos recorder',
    instanceId: INSTANCE,
    users: [
      user(USERS.trader, 'Chaos Trader'),
      user(USERS.colleague, 'Chaos Colleague'),
      user(USERS.admin, 'Chaos Admin', ['admin']),
      user(USERS.officer, 'Chaos Officer', ['complianceOfficer']),
      user(USERS.auditor, 'Chaos Auditor', ['auditor']),
      user(USERS.supervisor, 'Chaos Supervisor', ['supervisor']),
      user(USERS.operator, 'Chaos Operator', ['operator']),
      user(USERS.salesOfficer, 'Chaos Sales Officer', ['complianceOfficer']),
      user(USERS.controller, 'Chaos Payments', ['recordingController']),
    ],
    groups: [
      { id: GROUPS.traders, displayName: 'Traders', memberIds: [USERS.trader] },
      {
        id: GROUPS.tradeOfficers,
        displayName: 'Trade officers',
        memberIds: [USERS.officer, USERS.supervisor],
      },
      {
        id: GROUPS.salesOfficers,
        displayName: 'Sales officers',
        memberIds: [USERS.salesOfficer],
      },
    ],
    recordedUserIds: [USERS.trader],
  };
}

export async function startChaosStack(): Promise<ChaosStack> {
  const azurite = await startAzurite({ inMemory: true });
  const port = await getFreePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const botSecret = randomBytes(24).toString('base64url');
  const controlKey = randomBytes(24).toString('base64url');
  const tenant = fixture(botSecret);
  const sim = await startTeamsSimulator({
    // Real-time media: under load a fast-paced call can end before persistence starts.
    behaviour: { mediaPacing: 'realtime' },
    directory: recorderDirectory(tenant, `${baseUrl}/api/calling`),
  });
  const work = mkdtempSync(join(tmpdir(), 'attest-chaos-'));
  // The key files `npm start` makes: KEK, manifest signing (media host) and its public half (the
  // function app's exports carry it), ledger signing.
  const keys = ensureLocalKeys(work);
  Object.assign(process.env, {
    ...functionAppSettings(tenant, sim, {
      storageConnection: azurite.connectionString,
      baseUrl,
      controlKey,
    }),
    // Short enough to see a killed host within a scenario, long enough that a loaded machine's
    // slow heartbeats and health checks are not taken for a dead host.
    ATTEST_MEDIA_HOST_STALE_AFTER_MS: '10000',
    ATTEST_RECORDER_MEDIA_HEALTH_INTERVAL_MS: '2000',
    ATTEST_MEDIA_CONTROL_TIMEOUT_MS: '10000',
    ATTEST_KEK_PRIVATE_KEY_FILE: keys.kekPrivateKeyFile,
    ATTEST_KEK_PUBLIC_KEY_FILE: keys.kekPublicKeyFile,
    ATTEST_LEDGER_SIGNING_KEY_FILE: keys.ledgerSigningKeyFile,
    ATTEST_MANIFEST_PUBLIC_KEY_FILE: keys.manifestPublicKeyFile,
    ATTEST_ARCHIVE_EXPORT_DIR: join(work, 'exports'),
    ATTEST_ARCHIVE_USER_GROUPS: JSON.stringify({ [USERS.trader]: ['traders'] }),
    ATTEST_ARCHIVE_RBAC_SCOPES: JSON.stringify({
      [GROUPS.tradeOfficers]: ['traders'],
      [GROUPS.salesOfficers]: ['sales'],
      [USERS.controller]: ['traders'],
    }),
  });
  // The task hub is host.json's, so a Functions host started as a child process (the
  // function-app-killed scenario) takes over the same durable work.
  const startHost = (): Promise<FunctionsHost> =>
    startFunctionsHost({
      appPath: join(ROOT, 'functions'),
      port,
      logSink: jsonLineSink(),
      appSettings: { ...process.env, AzureWebJobsStorage: azurite.connectionString },
    });
  let host = await startHost();
  const media = await startMediaHost(
    localMediaHostConfig(
      {
        // The simulator's media platform trusts the local CA: serve its loopback certificate.
        caDir: join(ROOT, '.data', 'ca'),
        controlKey,
        storageConnectionString: azurite.connectionString,
        functionsUrl: baseUrl,
        spoolDir: join(work, 'spool'),
        kekPublicKeyFile: keys.kekPublicKeyFile,
        signingKeyFile: keys.manifestSigningKeyFile,
      },
      {
        hostId: 'chaos-media-1',
        version: '0.1.0',
        recordingsContainer: 'recordings',
        spoolLimitInBytes: 256 * 1024 * 1024,
        spoolFlushIntervalInMs: 20,
        commitIntervalInMs: 200,
        blockMinDurationInMs: 100,
        maxSessions: 50,
        heartbeatIntervalInMs: 300,
        logLevel: 'info',
      },
    ),
  );

  const control: ChaosStack['control'] = simulatorControl(sim);
  const api: ChaosStack['api'] = async (method, path, options = {}) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON: kept as text.
    }
    return { status: response.status, body: parsed as never };
  };
  const stack: ChaosStack = {
    sim,
    get host() {
      return host;
    },
    functionApp: {
      port,
      async stopInProcess() {
        await host.close();
      },
      async startInProcess() {
        host = await startHost();
      },
    },
    media,
    baseUrl,
    workDir: work,
    storageConnection: azurite.connectionString,
    mediaHostEnv: {
      ATTEST_MEDIA_CONTROL_KEY: controlKey,
      ATTEST_MEDIA_TLS_CERT_FILE: join(ROOT, '.data', 'ca', 'server-cert.pem'),
      ATTEST_MEDIA_TLS_KEY_FILE: join(ROOT, '.data', 'ca', 'server-key.pem'),
      ATTEST_MEDIA_STORAGE_CONNECTION: azurite.connectionString,
      ATTEST_MEDIA_FUNCTIONS_URL: baseUrl,
      ATTEST_MEDIA_HEARTBEAT_INTERVAL_MS: '300',
      ATTEST_MEDIA_COMMIT_INTERVAL_MS: '200',
      ATTEST_MEDIA_BLOCK_MIN_DURATION_MS: '100',
      ATTEST_MEDIA_KEK_PUBLIC_KEY_FILE: keys.kekPublicKeyFile,
      ATTEST_MEDIA_SIGNING_KEY_FILE: keys.manifestSigningKeyFile,
      ATTEST_MEDIA_AUDIO_LOSSLESS: 'true',
      ATTEST_MEDIA_LOG_LEVEL: 'info',
      ATTEST_MEDIA_LISTEN_PORT: '0',
    },
    secrets: [botSecret, controlKey, sim.controlToken],
    control,
    api,
    async userToken(user) {
      const issued = await control<{ access_token: string }>('POST', '/_sim/users/token', {
        tenantId: TENANT,
        userId: USERS[user],
      });
      return issued.body.access_token;
    },
    async close() {
      await media.close().catch(() => undefined);
      await host.close().catch(() => undefined);
      await sim.close().catch(() => undefined);
      await azurite.close().catch(() => undefined);
    },
  };
  // The media host registers by heartbeat before the first call.
  const operator = await stack.userToken('operator');
  for (let i = 0; ; i += 1) {
    const hosts = await api<{ value?: unknown[] }>('GET', '/api/mediahosts', { token: operator });
    if (hosts.status === 200 && (hosts.body.value?.length ?? 0) > 0) break;
    if (i > 100) throw new Error('the media host did not register within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return stack;
}

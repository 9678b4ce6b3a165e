/**
 * The whole local stack for recorder end-to-end tests: the Teams simulator, one media host and
 * the function app in the local Functions host with the local durable engine, all on loopback,
 * storage in the shared in-memory Azurite. Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem (the
 * simulator's local CA) like the simulator suites.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort as freePort } from '../../../local/src/azurite/azurite-process';
import {
  startFunctionsHost,
  type FunctionsHost,
  type FunctionsHostOptions,
} from '../../../local/src/host/functions-host';
import { memorySink } from '../../../local/src/host/log-sink';
import {
  functionAppSettingsFor,
  startTeamsSimulator,
  type TeamsSimulator,
} from '../../../local/src/simulator';
import {
  startMediaHost,
  type MediaHost,
  type MediaHostDependencies,
} from '../../../media-host/src/host/media-host';
import { CONTROL_KEY, hostFiles } from '../../media-host/media-host-fixtures';
import type { CompliancePolicy } from '../../../local/src/simulator/policy/model';
import { BOT_APP, BOT_SECRET, TENANT, testDirectory } from '../../simulator/support/fixtures';

export interface RecorderStack {
  readonly sim: TeamsSimulator;
  /** The running Functions host (a new one after {@link startFunctionApp}). */
  readonly host: FunctionsHost;
  readonly baseUrl: string;
  media: MediaHost | undefined;
  readonly logs: ReturnType<typeof memorySink>;
  control<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  api<T = unknown>(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string },
  ): Promise<{ status: number; body: T }>;
  adminToken(): Promise<string>;
  /** Stops the function app's Functions host: nothing answers on its port until it starts again. */
  stopFunctionApp(): Promise<void>;
  /** Starts the function app again on its port, storage and task hub (its timers run on start). */
  startFunctionApp(): Promise<void>;
  /** Starts the media host; `deps` chooses, for example, the stored formats (default: raw). */
  startMedia(overrides?: Record<string, unknown>, deps?: MediaHostDependencies): Promise<MediaHost>;
  close(): Promise<void>;
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutInMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutInMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startRecorderStack(
  options: {
    env?: Record<string, string>;
    /** Settings that need the simulator's URL (issuers of other tenants, for example). */
    envFor?: (simUrl: string) => Record<string, string>;
    policy?: Partial<CompliancePolicy>;
    /** Where the simulator finds scenarios by name (`/_sim/scenarios/run`). */
    scenarioDir?: string;
  } = {},
): Promise<RecorderStack> {
  const connection = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  if (connection === undefined)
    throw new Error('ATTEST_TEST_STORAGE_CONNECTION is not set (integration global setup)');
  if (process.env.NODE_EXTRA_CA_CERTS === undefined)
    throw new Error('run with NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const sim = await startTeamsSimulator({
    log: () => undefined,
    behaviour: { mediaPacing: 'fast' },
    directory: testDirectory(`${baseUrl}/api/calling`, options.policy),
    ...(options.scenarioDir === undefined ? {} : { scenarioDir: options.scenarioDir }),
  });
  const keysDir = mkdtempSync(join(tmpdir(), 'attest-rec-keys-'));
  const env: Record<string, string> = {
    ATTEST_STORAGE_CONNECTION_STRING: connection,
    ...functionAppSettingsFor(
      sim,
      { appId: BOT_APP, clientSecret: BOT_SECRET },
      { served: [TENANT], home: TENANT },
    ),
    ATTEST_PUBLIC_BASE_URL: baseUrl,
    ATTEST_MEDIA_CONTROL_KEY: CONTROL_KEY,
    ATTEST_MEDIA_HOST_STALE_AFTER_MS: '3000',
    ATTEST_RECORDER_MEDIA_HEALTH_INTERVAL_MS: '1000',
    ATTEST_ARCHIVE_TABLE_PREFIX: `r${randomUUID().replace(/-/g, '').slice(0, 10)}`,
    ATTEST_KEK_PRIVATE_KEY_FILE: join(keysDir, 'kek-private.pem'),
    ATTEST_KEK_PUBLIC_KEY_FILE: join(keysDir, 'kek-public.pem'),
    ATTEST_LEDGER_SIGNING_KEY_FILE: join(keysDir, 'ledger-signing.pem'),
    ...options.env,
    ...options.envFor?.(sim.url),
  };
  Object.assign(process.env, env);
  const logs = memorySink();
  const hostOptions: FunctionsHostOptions = {
    appPath: join(__dirname, '..', '..', '..', 'functions', 'src', 'index.ts'),
    port,
    logSink: logs,
    appSettings: { ...process.env, AzureWebJobsStorage: connection },
    hostSettings: { taskHubName: `Rec${randomUUID().replace(/-/g, '').slice(0, 12)}` },
  };
  let host = await startFunctionsHost(hostOptions);

  const stack: RecorderStack = {
    sim,
    get host() {
      return host;
    },
    baseUrl,
    media: undefined,
    logs,
    async control<T>(method: string, path: string, body?: unknown) {
      const response = await fetch(`${sim.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${sim.controlToken}`,
          'content-type': 'application/json',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
    },
    async api<T>(method: string, path: string, opts: { body?: unknown; token?: string } = {}) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` }),
        },
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
    },
    async adminToken() {
      const { USERS } = await import('../../simulator/support/fixtures');
      const issued = await stack.control<{ access_token: string }>('POST', '/_sim/users/token', {
        tenantId: TENANT,
        userId: USERS.admin,
        // The media host routes are the deployment operators' (the home tenant's).
        roles: ['admin', 'auditor', 'operator'],
      });
      return issued.body.access_token;
    },
    async stopFunctionApp() {
      await host.close();
    },
    async startFunctionApp() {
      host = await startFunctionsHost(hostOptions);
    },
    async startMedia(overrides = {}, deps = {}) {
      const files = hostFiles(connection, {
        functionsUrl: baseUrl,
        heartbeatIntervalInMs: 300,
        // The simulator's media platform trusts the local CA: serve its loopback certificate.
        tlsCertFile: join(process.cwd(), '.data', 'ca', 'server-cert.pem'),
        tlsKeyFile: join(process.cwd(), '.data', 'ca', 'server-key.pem'),
        hostId: `mh-${randomUUID().slice(0, 8)}`,
        ...overrides,
      });
      stack.media = await startMediaHost(files.config, deps);
      return stack.media;
    },
    async close() {
      await stack.media?.close().catch(() => undefined);
      await host.close().catch(() => undefined);
      await sim.close().catch(() => undefined);
    },
  };
  return stack;
}

/** The stack with a media host whose first heartbeat has registered it, and an admin token. */
export async function startRecorderStackWithMedia(
  options: Parameters<typeof startRecorderStack>[0] = {},
): Promise<{ stack: RecorderStack; adminToken: string }> {
  const stack = await startRecorderStack(options);
  await stack.startMedia();
  const adminToken = await stack.adminToken();
  await waitFor(async () => {
    const hosts = await stack.api<{ value: unknown[] }>('GET', '/api/mediahosts', {
      token: adminToken,
    });
    return hosts.status === 200 && hosts.body.value.length > 0 ? true : undefined;
  }, 'the media host heartbeat');
  return { stack, adminToken };
}

/**
 * The Teams simulator: Entra ID, Graph calling, the compliance policy engine, webhook deliveries
 * and the media platform, on one HTTPS port (loopback only). See docs/simulator.md.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { ensureLocalCa } from './ca/ensure-ca';
import { CallEngine, DEFAULT_BEHAVIOUR, type EngineBehaviour } from './calls/call-engine';
import { handleControl } from './control/control-api';
import { SimulatedEntra } from './entra/entra';
import { SimulatedEntraSignIn } from './entra/entra-sign-in';
import { GraphCallsApi, graphSchemaDir } from './graph/calls-api';
import { GraphDirectoryApi } from './graph/directory-api';
import { SimulatedKeyVault, type VaultKeyDefinition } from './keyvault/key-vault';
import { SchemaValidator } from './graph/schema-validator';
import type { Directory } from './policy/model';
import { validateDirectory } from './policy/policy-engine';
import { systemSimClock, type SimClock } from './util/clock';
import {
  BodyTooLargeError,
  graphError,
  jsonLineLogger,
  readBody,
  sendJson,
  type SimLogger,
} from './util/http';
import { WebhookDeliverer } from './webhook/deliverer';
import { simulatorLogLevel } from '../config/local-env';

export { ensureLocalCa, CA_FILE_NAMES } from './ca/ensure-ca';
export { ManualClock, systemSimClock, type SimClock } from './util/clock';
export type { CallEngine, EngineBehaviour } from './calls/call-engine';
export type { Directory } from './policy/model';
export {
  parseScenario,
  loadScenarioFile,
  resolveScenario,
  ScenarioError,
  type Scenario,
  type CallSpec,
} from './scenarios/scenario';
export {
  synthesizeAudioFrame,
  toneFrequencyForMsi,
  estimateToneFrequency,
} from './media/synthetic-media';
export { SimulatedEntra } from './entra/entra';
export { functionAppSettingsFor, type SimulatorEndpoints } from './app-settings';
export {
  DEFAULT_VAULT_KEYS,
  KEY_VAULT_RESOURCE,
  SimulatedKeyVault,
  type KeyOperation,
  type VaultKeyDefinition,
} from './keyvault/key-vault';

export interface TeamsSimulatorOptions {
  /** Default 0 (any free port). Always bound to 127.0.0.1. */
  readonly port?: number;
  /** Folder of the local CA. Default `.data/ca`. */
  readonly caDir?: string;
  /** The directory (tenants, users, policies, bots); default `local/scenarios/directory.json`. */
  readonly directory?: Directory;
  readonly scenarioDir?: string;
  /** Bearer token of the `/_sim/` control API; generated when absent. */
  readonly controlToken?: string;
  readonly clock?: SimClock;
  readonly behaviour?: Partial<EngineBehaviour>;
  readonly portalAudience?: string;
  readonly log?: SimLogger;
  /** The Key Vault keys stand-in at `{url}/keys/...`. */
  readonly keyVault?: {
    /** Keys created at start; default the Bicep template's three (`DEFAULT_VAULT_KEYS`). */
    readonly keys?: readonly VaultKeyDefinition[];
    /** Tenant of the vault's challenge; default the directory's first tenant. */
    readonly tenantId?: string;
    /** Apps allowed to use the keys; default any app with a token for the tenant. */
    readonly allowedAppIds?: readonly string[];
  };
}

export interface TeamsSimulator {
  /** `https://127.0.0.1:<port>`: authority host, Graph base URL and control API. */
  readonly url: string;
  readonly port: number;
  readonly caCertPath: string;
  readonly caCertPem: string;
  readonly controlToken: string;
  /** OpenID metadata URL whose keys sign webhook deliveries. */
  readonly webhookOpenIdConfigurationUrl: string;
  readonly engine: CallEngine;
  readonly graph: GraphCallsApi;
  /** Graph's directory subset: users' group membership (groups overage fallback). */
  readonly directoryApi: GraphDirectoryApi;
  readonly entra: SimulatedEntra;
  readonly deliverer: WebhookDeliverer;
  /** The Key Vault stand-in; its vault URI is {@link url}. */
  readonly keyVault: SimulatedKeyVault;
  directory(): Directory;
  setDirectory(directory: Directory): void;
  /** Stops media, timers and the server; idempotent. */
  close(): Promise<void>;
}

function localPackageRoot(): string {
  // src/simulator or dist/simulator → local/
  return resolve(__dirname, '..', '..');
}

export function defaultScenarioDir(): string {
  return join(localPackageRoot(), 'scenarios');
}

export function loadDirectoryFile(path: string): Directory {
  const directory = JSON.parse(readFileSync(path, 'utf8')) as Directory;
  const problems = validateDirectory(directory);
  if (problems.length > 0) throw new Error(`${path}: ${problems.join('; ')}`);
  return directory;
}

export async function startTeamsSimulator(
  options: TeamsSimulatorOptions = {},
): Promise<TeamsSimulator> {
  const ca = ensureLocalCa(options.caDir);
  const scenarioDir = options.scenarioDir ?? defaultScenarioDir();
  let directory = options.directory ?? loadDirectoryFile(join(scenarioDir, 'directory.json'));
  const problems = validateDirectory(directory);
  if (problems.length > 0) throw new Error(`invalid simulator directory: ${problems.join('; ')}`);
  const clock = options.clock ?? systemSimClock;
  const log = options.log ?? jsonLineLogger(simulatorLogLevel());
  const controlToken = options.controlToken ?? randomBytes(24).toString('base64url');
  let baseUrl = 'https://127.0.0.1:0';

  const entra = new SimulatedEntra({
    baseUrl: () => baseUrl,
    directory: () => directory,
    clock,
    ...(options.portalAudience ? { portalAudience: options.portalAudience } : {}),
  });
  const signIn = new SimulatedEntraSignIn({
    baseUrl: () => baseUrl,
    directory: () => directory,
    clock,
    entra,
  });
  const deliverer = new WebhookDeliverer({ clock, log });
  const engine = new CallEngine({
    directory: () => directory,
    clock,
    entra,
    deliverer,
    baseUrl: () => baseUrl,
    log,
    behaviour: { ...DEFAULT_BEHAVIOUR, mediaCa: ca.caCertPem, ...options.behaviour },
  });
  const keyVault = new SimulatedKeyVault({
    baseUrl: () => baseUrl,
    entra,
    clock,
    tenantId: () => options.keyVault?.tenantId ?? directory.tenants[0]?.id ?? 'common',
    log,
    ...(options.keyVault?.keys !== undefined ? { keys: options.keyVault.keys } : {}),
    ...(options.keyVault?.allowedAppIds !== undefined
      ? { allowedAppIds: options.keyVault.allowedAppIds }
      : {}),
  });
  const graph = new GraphCallsApi({
    engine,
    entra,
    clock,
    log,
    validator: SchemaValidator.fromDirectory(graphSchemaDir()),
  });
  const directoryApi = new GraphDirectoryApi({ entra, directory: () => directory });
  const controlDeps = {
    controlToken,
    engine,
    graph,
    directoryApi,
    entra,
    deliverer,
    clock,
    scenarioDir,
    getDirectory: () => directory,
    setDirectory: (next: Directory) => {
      directory = next;
    },
  };

  const server: Server = createServer(
    { cert: ca.serverCertPem, key: ca.serverKeyPem },
    (req, res) => {
      const url = new URL(req.url ?? '/', baseUrl);
      const body = (): Promise<string> => readBody(req);
      void (async () => {
        try {
          if (await handleControl(controlDeps, req, res, url, body)) return;
          if (await directoryApi.handle(req, res, url)) return;
          if (await graph.handle(req, res, url, body)) return;
          if (await signIn.handle(req, res, url, body)) return;
          if (await entra.handle(req, res, url, body)) return;
          if (await keyVault.handle(req, res, url, body)) return;
          sendJson(
            res,
            404,
            graphError('NotFound', `No route ${req.method ?? ''} ${url.pathname}.`),
          );
        } catch (err) {
          if (err instanceof BodyTooLargeError) {
            sendJson(res, 413, graphError('RequestEntityTooLarge', err.message));
            return;
          }
          log('error', 'simulator request failed', {
            path: url.pathname,
            error: err instanceof Error ? err.message : String(err),
          });
          if (!res.headersSent)
            sendJson(
              res,
              500,
              graphError('InternalServerError', 'The simulator failed to process the request.'),
            );
          else res.end();
        }
      })();
    },
  );
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `https://127.0.0.1:${port}`;
  log('info', 'teams simulator listening', { url: baseUrl });

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    port,
    caCertPath: ca.caCertPath,
    caCertPem: ca.caCertPem,
    controlToken,
    webhookOpenIdConfigurationUrl: `${baseUrl}${SimulatedEntra.webhookMetadataPath}`,
    engine,
    graph,
    directoryApi,
    entra,
    deliverer,
    keyVault,
    directory: () => directory,
    setDirectory: (next) => {
      const p = validateDirectory(next);
      if (p.length > 0) throw new Error(`invalid simulator directory: ${p.join('; ')}`);
      directory = next;
    },
    close() {
      closing ??= (async () => {
        await engine.close();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      })();
      return closing;
    },
  };
}

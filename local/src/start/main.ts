/**
 * `npm start`: Azurite on disk, the local key files, the Teams simulator, the local Functions
 * host with the built function app, and the media host.
 * Prints the URLs, and on Ctrl-C (SIGINT) or SIGTERM stops everything in reverse order.
 *
 * Settings: `ATTEST_START_FUNCTIONS_PORT` (default 7071), `ATTEST_START_DATA_DIR` (default
 * `<repo>/.data`), `ATTEST_START_FUNCTIONS_APP` (default `functions`), `ATTEST_START_SIMULATOR_PORT`
 * (7443), `ATTEST_START_MEDIA_CONTROL_PORT` (7400), `ATTEST_START_MEDIA_PROTOCOL_PORT` (7401),
 * `ATTEST_START_MEDIA_LISTEN_PORT` (7403), `ATTEST_START_MEDIA_HOSTS` (2: how many media hosts,
 * each in its own zone; host n uses the control, protocol and listen ports plus 10(n-1), so
 * paired recorders have two hosts to go to; a port set to 0 gives every host free ports of its
 * own), `ATTEST_START_MEDIA_REGIONS` (`westeurope,northeurope`:
 * host n takes the n-th region, round the list, so a call spills over to the other region when
 * its nearest has no room), `ATTEST_START_IMDS_PORT` (7480: the Instance Metadata Service
 * stand-in whose scheduled events drain a host before a scale-in),
 * `ATTEST_START_FUNCTION_INSTANCES` (1, at most 4: with 2 or more, further function hosts on free
 * ports join the first one's task hub, and the simulator's front door sends each call leg's
 * webhook deliveries to the next instance in turn, so the two legs of a paired call land on
 * different instances; they stop before the first).
 */
import { join, resolve } from 'node:path';
import { azuriteService } from './azurite.service';
import { frontDoorService } from './front-door.service';
import { functionsHostService } from './functions-host.service';
import { imdsService } from './imds.service';
import { localKeysService } from './local-keys.service';
import { mediaHostService } from './media-host.service';
import { simulatorService } from './simulator.service';
import { startServices, type ServiceDefinition } from './services';

export interface StartConfig {
  readonly rootDir: string;
  readonly dataDir: string;
  readonly functionsPort: number;
  readonly simulatorPort: number;
  readonly mediaControlPort: number;
  readonly mediaProtocolPort: number;
  readonly mediaListenPort: number;
  /** How many media hosts to run (1 to 8). */
  readonly mediaHostCount: number;
  /** The media hosts' Azure regions: host n takes the n-th, round the list. */
  readonly mediaRegions: readonly string[];
  readonly imdsPort: number;
  /** App folder or entry for the Functions host, relative to the root. Default `functions`. */
  readonly functionsApp: string;
  /** How many function app instances to run on one task hub (1 to 4). */
  readonly functionInstanceCount: number;
}

export function loadStartConfig(
  env: Readonly<Record<string, string | undefined>>,
  rootDir: string,
): StartConfig {
  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
      throw new Error(`${name} must be an integer from 0 to 65535`);
    }
    return value;
  };
  const functionsPort = port('ATTEST_START_FUNCTIONS_PORT', 7071);
  const simulatorPort = port('ATTEST_START_SIMULATOR_PORT', 7443);
  const mediaControlPort = port('ATTEST_START_MEDIA_CONTROL_PORT', 7400);
  const mediaProtocolPort = port('ATTEST_START_MEDIA_PROTOCOL_PORT', 7401);
  const mediaListenPort = port('ATTEST_START_MEDIA_LISTEN_PORT', 7403);
  const rawCount = env.ATTEST_START_MEDIA_HOSTS;
  const mediaHostCount = rawCount === undefined || rawCount === '' ? 2 : Number(rawCount);
  if (!Number.isInteger(mediaHostCount) || mediaHostCount < 1 || mediaHostCount > 8)
    throw new Error('ATTEST_START_MEDIA_HOSTS must be an integer from 1 to 8');
  const rawRegions = env.ATTEST_START_MEDIA_REGIONS;
  const mediaRegions = (
    rawRegions === undefined || rawRegions === '' ? 'westeurope,northeurope' : rawRegions
  )
    .split(',')
    .map((r) => r.trim().toLowerCase());
  if (mediaRegions.some((r) => !/^[a-z0-9]+$/.test(r)))
    throw new Error('ATTEST_START_MEDIA_REGIONS must be Azure region names separated by commas');
  const imdsPort = port('ATTEST_START_IMDS_PORT', 7480);
  const rawInstances = env.ATTEST_START_FUNCTION_INSTANCES;
  const functionInstanceCount =
    rawInstances === undefined || rawInstances === '' ? 1 : Number(rawInstances);
  if (
    !Number.isInteger(functionInstanceCount) ||
    functionInstanceCount < 1 ||
    functionInstanceCount > 4
  )
    throw new Error('ATTEST_START_FUNCTION_INSTANCES must be an integer from 1 to 4');
  const dataDir = env.ATTEST_START_DATA_DIR
    ? resolve(env.ATTEST_START_DATA_DIR)
    : join(rootDir, '.data');
  const functionsApp = env.ATTEST_START_FUNCTIONS_APP
    ? env.ATTEST_START_FUNCTIONS_APP
    : 'functions';
  return Object.freeze({
    rootDir,
    dataDir,
    functionsPort,
    simulatorPort,
    mediaControlPort,
    mediaProtocolPort,
    mediaListenPort,
    mediaHostCount,
    mediaRegions,
    imdsPort,
    functionsApp,
    functionInstanceCount,
  });
}

export function defaultServices(config: StartConfig): ServiceDefinition[] {
  const functionsBaseUrl = `http://127.0.0.1:${config.functionsPort}`;
  return [
    azuriteService('recordings'),
    azuriteService('host'),
    localKeysService(),
    simulatorService({ port: config.simulatorPort, functionsBaseUrl }),
    ...Array.from({ length: config.functionInstanceCount }, (_, index) =>
      functionsHostService({
        appPath: config.functionsApp,
        // The further instances take free ports: the front door reaches them.
        port: index === 0 ? config.functionsPort : 0,
        env: { ATTEST_PUBLIC_BASE_URL: functionsBaseUrl },
        instance: index + 1,
      }),
    ),
    ...(config.functionInstanceCount > 1
      ? [frontDoorService({ publicOrigin: new URL(functionsBaseUrl).origin })]
      : []),
    imdsService({ port: config.imdsPort }),
    ...Array.from({ length: config.mediaHostCount }, (_, index) =>
      mediaHostService({
        region: config.mediaRegions[index % config.mediaRegions.length],
        // 0: each host takes free ports of its own.
        controlPort: config.mediaControlPort === 0 ? 0 : config.mediaControlPort + 10 * index,
        protocolPort: config.mediaProtocolPort === 0 ? 0 : config.mediaProtocolPort + 10 * index,
        listenPort: config.mediaListenPort === 0 ? 0 : config.mediaListenPort + 10 * index,
        functionsBaseUrl,
        // The first keeps the single host's names (and spool) from before.
        ...(index === 0 ? {} : { instance: index + 1 }),
      }),
    ),
  ];
}

function log(message: string, fields: Readonly<Record<string, unknown>> = {}): void {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'info', component: 'start', message, ...fields })}\n`,
  );
}

async function main(): Promise<number> {
  const rootDir = resolve(__dirname, '..', '..', '..');
  let config: StartConfig;
  try {
    config = loadStartConfig(process.env, rootDir);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  let running;
  try {
    running = await startServices(defaultServices(config), {
      rootDir,
      dataDir: config.dataDir,
      env: process.env,
      log,
    });
  } catch (error) {
    process.stderr.write(`npm start failed: ${(error as Error).message}\n`);
    return 1;
  }
  const lines = running.services.flatMap((s) =>
    Object.entries(s.urls).map(([label, url]) => `  ${s.name} ${label}: ${url}`),
  );
  process.stdout.write(`\nAttest is running:\n${lines.join('\n')}\nPress Ctrl-C to stop.\n\n`);

  const services = running;
  return new Promise<number>((resolvePromise) => {
    let stopping = false;
    const stop = (code: number): void => {
      if (stopping) return;
      stopping = true;
      services.stop().then(
        () => resolvePromise(code),
        () => resolvePromise(1),
      );
    };
    process.on('SIGINT', () => stop(0));
    process.on('SIGTERM', () => stop(0));
    void services.firstExit.then(({ name, reason }) => {
      // Ctrl-C reaches the whole process group, so children may stop before we ask them to.
      if (stopping) return;
      process.stderr.write(`${name} stopped unexpectedly (${reason}); stopping the rest\n`);
      stop(1);
    });
  });
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`npm start crashed: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}

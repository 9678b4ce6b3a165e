/**
 * Starts and stops Azurite (blob, queue, table) as a child process on free loopback ports.
 * Used by `npm start` (on disk under the git-ignored data folder) and by jest's global setup
 * (in memory). Product code never sees this: it receives the connection string by configuration.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { azuriteNodeArgs } from '../config/local-env';

/** Azurite's published development account (documented by Microsoft; not a secret). */
export const DEV_ACCOUNT_NAME = 'devstoreaccount1';
const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** Keep data in memory only (tests). Default false. */
  inMemory?: boolean;
  /** Folder for on-disk data; required unless `inMemory`. */
  location?: string;
  /** Fixed ports; free ports are chosen when omitted. */
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  /** How long to wait for the three services to listen. Default 30 000. */
  startTimeoutInMs?: number;
  /** Node options for Azurite's process (diagnostics). Default: `ATTEST_AZURITE_NODE_ARGS`. */
  nodeArgs?: readonly string[];
}

export interface AzuriteInstance {
  readonly blobUrl: string;
  readonly queueUrl: string;
  readonly tableUrl: string;
  /** A full connection string for all three services. */
  readonly connectionString: string;
  readonly pid: number | undefined;
  /** Stops Azurite; idempotent. */
  close(): Promise<void>;
}

export async function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on the loopback port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function connectionStringFor(blobUrl: string, queueUrl: string, tableUrl: string): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${DEV_ACCOUNT_NAME}`,
    `AccountKey=${DEV_ACCOUNT_KEY}`,
    `BlobEndpoint=${blobUrl}`,
    `QueueEndpoint=${queueUrl}`,
    `TableEndpoint=${tableUrl}`,
  ].join(';');
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteInstance> {
  const blobPort = options.blobPort ?? (await getFreePort());
  const queuePort = options.queuePort ?? (await getFreePort());
  const tablePort = options.tablePort ?? (await getFreePort());
  const args = [
    require.resolve('azurite/dist/src/azurite.js'),
    '--blobPort',
    String(blobPort),
    '--queuePort',
    String(queuePort),
    '--tablePort',
    String(tablePort),
    '--silent',
    '--skipApiVersionCheck',
    '--loose',
    '--disableTelemetry',
  ];
  if (options.inMemory === true) {
    args.push('--inMemoryPersistence');
  } else {
    if (options.location === undefined)
      throw new Error('startAzurite needs a location unless inMemory');
    mkdirSync(options.location, { recursive: true });
    args.push('--location', options.location);
  }
  // Diagnostics only (for example `--cpu-prof --cpu-prof-dir=/tmp/azurite-prof`): node options for Azurite's process.
  const nodeArgs = options.nodeArgs ?? azuriteNodeArgs();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', () => ((exited = true), resolve())),
  );

  const deadline = Date.now() + (options.startTimeoutInMs ?? 30_000);
  for (;;) {
    if (exited) throw new Error(`Azurite exited during start: ${output.trim()}`);
    const ready = await Promise.all([blobPort, queuePort, tablePort].map(canConnect));
    if (ready.every(Boolean)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Azurite did not listen within the start timeout: ${output.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const blobUrl = `http://127.0.0.1:${blobPort}/${DEV_ACCOUNT_NAME}`;
  const queueUrl = `http://127.0.0.1:${queuePort}/${DEV_ACCOUNT_NAME}`;
  const tableUrl = `http://127.0.0.1:${tablePort}/${DEV_ACCOUNT_NAME}`;
  let closing: Promise<void> | undefined;
  return {
    blobUrl,
    queueUrl,
    tableUrl,
    connectionString: connectionStringFor(blobUrl, queueUrl, tableUrl),
    pid: child.pid,
    close(): Promise<void> {
      closing ??= (async () => {
        if (exited) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exitPromise;
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}

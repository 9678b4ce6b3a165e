/**
 * The media ingest benchmark's stack: Azurite in memory, the media host in its own process pinned
 * to one core with `taskset` when available (`ATTEST_BENCH_MEDIA_CORE`, default 0;
 * `ATTEST_BENCH_MEDIA_PIN=false` to not pin), the load generator (the bench's process) pinned to
 * the other core(s) (`ATTEST_BENCH_MEDIA_PIN_GENERATOR=false` to not), and the host role that the
 * host's process runs. Azurite runs on any core: it stands in for a storage service elsewhere.
 */
import { spawn, spawnSync, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { startAzurite } from '@attest/local/dist/azurite/azurite-process';
import type { MediaHostConfig } from '@attest/media-host/dist/config/media-host.config';
import type { BlockStore } from '@attest/media-host/dist/sink/block-store';
import { benchMediaHostConfig } from '../media-bench-host';

/** The environment variable that tells the bench's entry file which role its process plays. */
export const ROLE_VARIABLE = 'ATTEST_BENCH_ROLE';

export interface HostMemory {
  readonly rss: number;
  /** V8 heap in use plus external (Buffers) after a full GC. */
  readonly live: number;
  /** Put Block requests on their way (sent or waiting for a connection, or to be retried). */
  readonly putBlocksInFlight: number;
  /** The stored block bytes they hold. */
  readonly putBlockBytesInFlight: number;
  /**
   * Stored bytes of the level's blocks that storage has not taken yet: on their way, waiting for a
   * connection, or waiting behind their stream's block list commit (which waits for storage too).
   */
  readonly blockBytesAwaitingStorage: number;
}

// ---------------------------------------------------------------- host role (child process)
/**
 * The host role: starts the media host from `ATTEST_BENCH_MEDIA_CONFIG` with the raw passthrough
 * formatter and a store that counts the Put Blocks on their way, prints its control URL, then
 * answers `mem [<session ids>]` lines on stdin with its memory (after a full GC) and exits on `exit`.
 */
export async function runHost(): Promise<void> {
  const { startMediaHost, createRawPassthroughFormatter, silentLogger, createJsonLogger } =
    await import('@attest/media-host/dist/index');
  const config = JSON.parse(process.env.ATTEST_BENCH_MEDIA_CONFIG ?? '{}') as MediaHostConfig;
  const logger =
    process.env.ATTEST_BENCH_MEDIA_DEBUG === 'true'
      ? createJsonLogger({ level: 'debug', write: (line) => void process.stderr.write(line) })
      : silentLogger;
  const { createAzureBlockStore } = await import('@attest/media-host/dist/sink/azure-block-store');
  // The store the host would build, counting the Put Blocks on their way: the stored bytes they
  // hold are the storage backlog (a store slower than the load), reported beside the memory.
  const azure = createAzureBlockStore({ connectionString: config.storageConnectionString! });
  let stagingCount = 0;
  let stagingBytes = 0;
  const store: BlockStore = {
    ...azure,
    async stageBlock(container, blobName, blockId, bytes) {
      stagingCount += 1;
      stagingBytes += bytes.length;
      try {
        await azure.stageBlock(container, blobName, blockId, bytes);
      } finally {
        stagingCount -= 1;
        stagingBytes -= bytes.length;
      }
    },
  };
  const host = await startMediaHost(config, {
    formatterFactory: createRawPassthroughFormatter,
    logger,
    store,
  });
  process.stdout.write(`${JSON.stringify({ controlUrl: host.controlUrl })}\n`);
  // `mem` on stdin: collect garbage, then report memory (live data, not garbage not yet collected).
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'exit') process.exit(0);
    // `mem <session ids>`: also the stored bytes of those sessions' blocks storage has not taken yet.
    if (line !== 'mem' && !line.startsWith('mem ')) return;
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const sessionIds = line.length > 4 ? line.slice(4).split(',') : [];
    const awaiting = sessionIds.reduce(
      (sum, id) => sum + (host.getSession(id)?.blockBytesAwaitingStorage ?? 0),
      0,
    );
    process.stdout.write(
      `${JSON.stringify({ rss: m.rss, live: m.heapUsed + m.external, putBlocksInFlight: stagingCount, putBlockBytesInFlight: stagingBytes, blockBytesAwaitingStorage: awaiting })}\n`,
    );
  });
}

// ---------------------------------------------------------------- the generator's side
/** A media host process of the bench, as the generator sees it. */
export interface BenchHost {
  readonly child: ChildProcess;
  readonly controlUrl: string;
  /** The host's memory after a full GC, with the storage backlog of these sessions' blocks. */
  askMemory(sessionIds?: readonly string[]): Promise<HostMemory>;
}

async function startHostProcess(
  command: string,
  args: readonly string[],
  hostConfig: MediaHostConfig,
  onSpawn: (child: ChildProcess) => void,
): Promise<BenchHost> {
  const child = spawn(command, args, {
    env: {
      ...process.env,
      UV_THREADPOOL_SIZE: '16',
      [ROLE_VARIABLE]: 'host',
      ATTEST_BENCH_MEDIA_CONFIG: JSON.stringify(hostConfig),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  onSpawn(child);
  let memoryReader: ((line: string) => void) | undefined;
  const started = await new Promise<{ controlUrl: string }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      lines.on('line', (next) => memoryReader?.(next));
      resolve(JSON.parse(line) as { controlUrl: string });
    });
    child.once('exit', (code) => reject(new Error(`media host exited with ${code}`)));
  });
  return {
    child,
    controlUrl: started.controlUrl,
    askMemory: (sessionIds = []) =>
      new Promise((resolve) => {
        memoryReader = (line) => resolve(JSON.parse(line) as HostMemory);
        child.stdin.write(sessionIds.length === 0 ? 'mem\n' : `mem ${sessionIds.join(',')}\n`);
      }),
  };
}

/** Asks a host to exit, waits up to 5 s, then kills it. */
export async function stopHost(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin?.write('exit\n');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  child.kill('SIGKILL');
}

export interface IngestStack {
  readonly azuriteConnectionString: string;
  /** The host configuration (free ports, a spool and a KEK in the stack's folder). */
  readonly config: MediaHostConfig;
  readonly kekPrivateKeyPem: string;
  /** A folder of the stack's, removed on close. */
  readonly dir: string;
  readonly pinnedCore: string;
  readonly isHostPinned: boolean;
  readonly isGeneratorPinned: boolean;
  /** The cores the generator may run on (all but the host's). */
  readonly otherCores: string;
  /** Starts a media host process (with this configuration, or the stack's); the stack stops it. */
  startHost(hostConfig?: MediaHostConfig): Promise<BenchHost>;
  /**
   * Runs `entryFile` as a child pinned like the host (without the host's Node flags), in `role`
   * with this extra environment: for other servers measured on the host's core.
   */
  spawnOnHostCore(
    role: string,
    env: Readonly<Record<string, string>>,
  ): ChildProcessByStdio<null, Readable, null>;
  /** Stops the last host started, Azurite, and removes the folder. */
  close(): Promise<void>;
}

export interface IngestStackOptions {
  /** The compiled bench entry file: the host's process runs it with the host role. */
  readonly entryFile: string;
  readonly blockMinDurationInMs: number;
}

/** Starts Azurite, pins this process, and writes the host's configuration; no host runs yet. */
export async function startIngestStack(options: IngestStackOptions): Promise<IngestStack> {
  const dir = mkdtempSync(join(tmpdir(), 'attest-bench-media-'));
  // The core the host is pinned to (ATTEST_BENCH_MEDIA_CORE, default 0): pick one no other pinned work uses.
  const core = process.env.ATTEST_BENCH_MEDIA_CORE ?? '0';
  const hasTaskset =
    process.env.ATTEST_BENCH_MEDIA_PIN !== 'false' &&
    spawnSync('taskset', ['-c', core, 'true']).status === 0;
  // Azurite is started first and left free to run on any core (it stands in for a storage service
  // that is not on the host's machine; it uses the host core's idle time too). The load generator
  // (this process, all its threads) then runs on the other core(s), so it never takes the host's.
  const azurite = await startAzurite({ inMemory: true });
  const otherCores = cpus()
    .map((_, i) => i)
    .filter((i) => String(i) !== core)
    .join(',');
  const isGeneratorPinned =
    hasTaskset &&
    process.env.ATTEST_BENCH_MEDIA_PIN_GENERATOR !== 'false' &&
    otherCores !== '' &&
    spawnSync('taskset', ['-a', '-p', '-c', otherCores, String(process.pid)], { stdio: 'ignore' })
      .status === 0;
  let host: ChildProcess | undefined;
  // A run stopped from outside (timeout) still stops its children.
  process.once('SIGTERM', () => {
    host?.kill('SIGKILL');
    void azurite.close().finally(() => process.exit(1));
  });
  const closeAll = async (): Promise<void> => {
    if (host !== undefined) await stopHost(host);
    await azurite.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { config, kekPrivateKeyPem } = await benchMediaHostConfig(dir, azurite.connectionString, {
      blockMinDurationInMs: options.blockMinDurationInMs,
      segmentMaxDurationInMs: 30 * 60_000,
      maxSessions: 10_000,
      helloTimeoutInMs: 10_000,
    });
    const command = hasTaskset ? 'taskset' : process.execPath;
    const extra = (process.env.ATTEST_BENCH_MEDIA_NODE_ARGS ?? '')
      .split(' ')
      .filter((a) => a !== '');
    const hostArgs = hasTaskset
      ? ['-c', core, process.execPath, '--expose-gc', ...extra, options.entryFile]
      : ['--expose-gc', ...extra, options.entryFile];
    const plainArgs = hasTaskset
      ? ['-c', core, process.execPath, options.entryFile]
      : [options.entryFile];
    return {
      azuriteConnectionString: azurite.connectionString,
      config,
      kekPrivateKeyPem,
      dir,
      pinnedCore: core,
      isHostPinned: hasTaskset,
      isGeneratorPinned,
      otherCores,
      startHost: (hostConfig = config) =>
        startHostProcess(command, hostArgs, hostConfig, (child) => (host = child)),
      spawnOnHostCore: (role, env) =>
        spawn(command, plainArgs, {
          env: { ...process.env, [ROLE_VARIABLE]: role, ...env },
          stdio: ['ignore', 'pipe', 'inherit'],
        }),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * Starts the real local host CLI (`local/src/host/main.ts`, compiled on the fly) as a child
 * process on its own task hub, so restart tests can kill it with SIGKILL mid-orchestration.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(__dirname, '../../..');
const REGISTER = join(__dirname, 'register-ts.js');
const HOST_MAIN = join(ROOT, 'local/src/host/main.ts');
const APP = join(ROOT, 'test/apps/durable-app.ts');

export interface HostProcess {
  readonly child: ChildProcess;
  readonly rpcBaseUrl: string;
  readonly baseUrl: string;
  /** SIGKILL, then wait for exit. */
  kill(): Promise<void>;
  /** SIGTERM (clean shutdown), then wait for exit. */
  stop(): Promise<void>;
  output(): string;
}

/** Removes a folder made by {@link createAppFolder}. */
export function removeAppFolder(entry: string): void {
  rmSync(dirname(entry), { recursive: true, force: true });
}

/** A folder with host.json naming the task hub and an entry file loading the sample app. */
export function createAppFolder(taskHubName: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'attest-durable-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'host.json'),
    JSON.stringify({ version: '2.0', extensions: { durableTask: { hubName: taskHubName } } }),
  );
  writeFileSync(join(dir, 'index.js'), `require(${JSON.stringify(APP)});\n`);
  return join(dir, 'index.js');
}

export async function startHostProcess(
  entry: string,
  env: Record<string, string>,
): Promise<HostProcess> {
  const child = spawn(
    process.execPath,
    ['-r', REGISTER, HOST_MAIN, '--app', entry, '--port', '0'],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const ready = await new Promise<Record<string, unknown>>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`host did not become ready: ${output}`)), 45_000);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      output = (output + line + '\n').slice(-8000);
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        if (record.message === 'host ready') {
          clearTimeout(timer);
          done(record);
        }
      } catch {
        // not a JSON line
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`host exited with ${String(code)} before it was ready: ${output}`));
    });
  });
  if (typeof ready.durableRpcBaseUrl !== 'string')
    throw new Error(`host has no durable engine: ${JSON.stringify(ready)}`);
  return {
    child,
    rpcBaseUrl: ready.durableRpcBaseUrl,
    baseUrl: String(ready.baseUrl),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
    output: () => output,
  };
}

/** Polls `check` every 100 ms until it returns a value or `timeoutInMs` passes (waits on a child process). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutInMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutInMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

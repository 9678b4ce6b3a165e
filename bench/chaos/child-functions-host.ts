/**
 * The function app in a local Functions host of its own process (`local/dist/host/main.js`, as
 * `npm start` runs it), on the chaos stack's port and storage, for the scenario that kills it.
 * Its log lines go through this process's output, so the campaign's capture holds them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childControls } from './child-controls';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, type ChaosStack } from './stack';

export interface ChildFunctionsHost {
  /** SIGKILL: in-flight work is lost as a crashed instance loses it. */
  kill(): Promise<void>;
  /** SIGTERM and wait; idempotent. */
  stop(): Promise<void>;
}

export async function startChildFunctionsHost(
  stack: ChaosStack,
  startTimeoutInMs = 120_000,
): Promise<ChildFunctionsHost> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'local', 'dist', 'host', 'main.js'),
      '--app',
      join(ROOT, 'functions'),
      '--port',
      String(stack.functionApp.port),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, AzureWebJobsStorage: stack.storageConnection },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stderr?.on('data', (chunk: Buffer) => void process.stderr.write(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the Functions host printed no ready line in time')),
      startTimeoutInMs,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      process.stdout.write(`${line}\n`);
      if (line.includes('"message":"host ready"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error('the Functions host exited at start'));
    });
  });
  return childControls(child, exited);
}

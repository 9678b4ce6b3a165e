/**
 * The host CLI as a process (needs `npm run build`, which `npm test` runs first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';

const root = join(__dirname, '..', '..');
const hostMain = join(root, 'local', 'dist', 'host', 'main.js');
const builtApp = join(root, 'test', 'dist', 'apps', 'http-app.js');

function startCli(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; ready: Promise<Record<string, unknown>>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [hostMain, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (record.message === 'host ready') resolve(record);
    });
    void exit.then((code) => reject(new Error(`host exited with ${code} before ready`)));
  });
  return { child, ready, exit };
}

describe('host CLI', () => {
  beforeAll(() => {
    if (!existsSync(hostMain) || !existsSync(builtApp)) {
      throw new Error('Build first: npx tsc -b local test (npm test does it)');
    }
  });

  it('serves the app, prints a ready line with its URLs and exits 0 on SIGTERM', async () => {
    const cli = startCli(['--app', builtApp, '--port', '0'], {
      AzureWebJobsStorage: process.env.ATTEST_TEST_STORAGE_CONNECTION!,
      ATTEST_TEST_HOST_SCHEDULE: '0 0 * * * *',
      ATTEST_TEST_HOST_QUEUE: `cli-${randomUUID().slice(0, 8)}`,
    });
    const ready = await cli.ready;
    expect(ready.functionsUrl).toBe(`${String(ready.baseUrl)}/api`);
    const response = await fetch(`${String(ready.functionsUrl)}/items/9`);
    expect(await response.json()).toEqual({ id: '9', sort: null, tags: [] });
    cli.child.kill('SIGTERM');
    expect(await cli.exit).toBe(0);
  });

  it('exits 2 with a usage line when --app is missing', async () => {
    const cli = startCli([], {});
    let stderr = '';
    cli.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    cli.ready.catch(() => undefined);
    expect(await cli.exit).toBe(2);
    expect(stderr).toContain('--app is required');
  });

  it('exits 1 naming the missing app setting', async () => {
    const cli = startCli(['--app', builtApp], {});
    let stderr = '';
    cli.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    cli.ready.catch(() => undefined);
    expect(await cli.exit).toBe(1);
    expect(stderr).toContain('App setting ATTEST_TEST_HOST_SCHEDULE');
  });
});

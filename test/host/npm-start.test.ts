/**
 * `npm start`'s launcher as a process (needs `npm run build`): Azurite on disk, the key files, the
 * Teams simulator, the host with an app and the media host; URLs printed; Ctrl-C (SIGINT to the
 * process group) stops them in reverse order, storage last.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect } from '../../local/src/azurite/azurite-process';

const root = join(__dirname, '..', '..');
const startMain = join(root, 'local', 'dist', 'start', 'main.js');

describe('npm start launcher', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'attest-start-test-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints the URLs, serves the app and stops every service in reverse order on Ctrl-C', async () => {
    if (!existsSync(startMain))
      throw new Error('Build first: npx tsc -b local test (npm test does it)');
    const child = spawn(process.execPath, [startMain], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        ATTEST_START_FUNCTIONS_PORT: '0',
        ATTEST_START_SIMULATOR_PORT: '0',
        // Each media host takes free ports when it starts (a fixed port + 10 for the second host
        // could be taken by another suite's server).
        ATTEST_START_MEDIA_CONTROL_PORT: '0',
        ATTEST_START_MEDIA_PROTOCOL_PORT: '0',
        ATTEST_START_MEDIA_LISTEN_PORT: '0',
        ATTEST_START_IMDS_PORT: '0',
        ATTEST_START_DATA_DIR: dataDir,
        ATTEST_START_FUNCTIONS_APP: 'test/dist/apps/http-app.js',
        ATTEST_TEST_HOST_SCHEDULE: '0 0 0 * * *',
        ATTEST_TEST_HOST_QUEUE: 'start-test-queue',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    const banner = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('Press Ctrl-C to stop.')) resolve(stdout);
      });
      void exit.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
    const functionsUrl = /functions functions: (\S+)/.exec(banner)?.[1];
    const queueUrl = /azurite queue: (\S+)/.exec(banner)?.[1];
    expect(functionsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    expect(banner).toContain(`functions portal: ${functionsUrl!}/portal/`);
    expect(queueUrl).toBeDefined();
    expect(banner).toMatch(/simulator simulator: https:\/\/127\.0\.0\.1:\d+/);
    // Two media hosts by default, their control APIs over HTTPS.
    expect(banner).toMatch(/media-host control: https:\/\/127\.0\.0\.1:\d+/);
    expect(banner).toMatch(/media-host-2 control: https:\/\/127\.0\.0\.1:\d+/);
    const controlPort = (host: string) =>
      new RegExp(`${host} control: https://127\\.0\\.0\\.1:(\\d+)`).exec(banner)?.[1];
    expect(controlPort('media-host-2')).not.toBe(controlPort('media-host'));
    const response = await fetch(`${functionsUrl!}/greet/start`);
    expect(await response.text()).toBe('hello start');

    process.kill(-child.pid!, 'SIGINT');
    expect(await exit).toBe(0);
    const stops = stdout
      .split('\n')
      .filter((line) => line.includes('"service stopped"'))
      .map((line) => (JSON.parse(line) as { service: string }).service);
    expect(stops).toEqual([
      'media-host-2',
      'media-host',
      'imds',
      'functions',
      'simulator',
      'keys',
      'azurite-host',
      'azurite',
    ]);
    expect(stdout).not.toContain('lease release failed');
    expect(await canConnect(Number(new URL(queueUrl!).port))).toBe(false);
  });
});

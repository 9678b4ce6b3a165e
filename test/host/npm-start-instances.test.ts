/**
 * `npm start` with `ATTEST_START_FUNCTION_INSTANCES=2` (needs `npm run build` and
 * NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem, whose CA the launcher reuses): the launcher runs a
 * second function host on the first one's task hub and spreads the recorder's webhook over both
 * per leg; `npm run scenario -- paired-two-instances`, run by the scenario command's own code
 * against it, sends the two legs of a paired call to different instances and gets one sealed,
 * recorded interaction with two captures. Without two instances behind the front door the
 * scenario says how to start them and exits 2. Ctrl-C stops the second instance before the first.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runScenario } from '../../local/src/start/scenario';

const root = join(__dirname, '..', '..');
const startMain = join(root, 'local', 'dist', 'start', 'main.js');

/** A port free now (the first function host's must be known before it starts: the webhook). */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

// A loaded two-core machine can take minutes to start eight services and a paired call.
jest.setTimeout(600_000);

describe('npm start with two function app instances', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'attest-start-instances-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('plays paired-two-instances: the legs reach different instances and build one recorded interaction', async () => {
    if (!existsSync(startMain)) throw new Error('Build first: npm run build');
    const caCert = process.env.NODE_EXTRA_CA_CERTS;
    if (caCert === undefined) throw new Error('Run with NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem');
    // The launcher's simulator reuses the CA this process trusts.
    cpSync(dirname(caCert), join(dataDir, 'ca'), { recursive: true });
    const child = spawn(process.execPath, [startMain], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        ATTEST_START_FUNCTIONS_PORT: String(await freePort()),
        ATTEST_START_SIMULATOR_PORT: '0',
        ATTEST_START_MEDIA_CONTROL_PORT: '0',
        ATTEST_START_MEDIA_PROTOCOL_PORT: '0',
        ATTEST_START_MEDIA_LISTEN_PORT: '0',
        ATTEST_START_IMDS_PORT: '0',
        ATTEST_START_DATA_DIR: dataDir,
        ATTEST_START_FUNCTION_INSTANCES: '2',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const exit = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('Press Ctrl-C to stop.')) resolve(stdout);
        });
        void exit.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)));
      });
      const url = (label: string) =>
        new RegExp(`^  ${label}: (\\S+)$`, 'm').exec(banner)?.[1] ?? '';
      const first = url('functions functions');
      const second = url('functions-2 functions');
      expect(first).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
      expect(second).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
      expect(new URL(second).port).not.toBe(new URL(first).port);
      const simulatorUrl = url('simulator simulator');
      expect(banner).toContain(`front-door routes: ${simulatorUrl}/_sim/webhook-routes`);

      const options = {
        simulatorUrl,
        functionsUrl: new URL(first).origin,
        imdsUrl: url('imds events').replace(/\/_imds\/events$/, ''),
        scenarioDir: join(root, 'local', 'scenarios'),
        controlToken: readFileSync(join(dataDir, 'sim-control-token'), 'utf8').trim(),
        timeoutInMs: 240_000,
      };
      const lines: string[] = [];
      const code = await runScenario('paired-two-instances', {
        ...options,
        write: (line) => lines.push(line),
      });
      // The whole story on failure: what the command printed.
      expect(code === 0 ? [] : lines).toEqual([]);
      const origins = [first, second].map((u) => new URL(u).origin);
      const legLines = lines.filter((l) => l.startsWith('  function instances: leg '));
      expect(legLines).toHaveLength(2);
      expect(legLines.map((l) => /deliveries to (\S+)$/.exec(l)?.[1]).sort()).toEqual(
        [...origins].sort(),
      );
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^ {2}attest paired interaction ix-\S+: recorded, sealed, 2 capture\(s\) on 2 media host\(s\)$/,
          ),
          'scenario paired-two-instances: PASS',
        ]),
      );

      // With the webhook back on one instance, the scenario says how to start two and fails.
      const control = (method: string, body?: unknown) =>
        fetch(`${simulatorUrl}/_sim/webhook-routes`, {
          method,
          headers: {
            authorization: `Bearer ${options.controlToken}`,
            'content-type': 'application/json',
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      const routes = (await (await control('GET')).json()) as { routes: unknown[] };
      expect((await control('PUT', { routes: [] })).status).toBe(200);
      const refused: string[] = [];
      const refusedCode = await runScenario('paired-two-instances', {
        ...options,
        write: (line) => refused.push(line),
      });
      expect({ refusedCode, refused }).toEqual({
        refusedCode: 2,
        refused: [
          'scenario paired-two-instances: this scenario needs 2 function app instances and npm start runs 1: start it with ATTEST_START_FUNCTION_INSTANCES=2 npm start',
        ],
      });
      expect((await control('PUT', routes)).status).toBe(200);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGINT');
    }
    expect(await exit).toBe(0);
    const stops = stdout
      .split('\n')
      .filter((line) => line.includes('"service stopped"'))
      .map((line) => (JSON.parse(line) as { service: string }).service);
    // The second instance stops before the first (it would take the task hub over).
    expect(stops.indexOf('functions-2')).toBeGreaterThan(stops.indexOf('front-door'));
    expect(stops.indexOf('functions')).toBeGreaterThan(stops.indexOf('functions-2'));
    expect(stops.indexOf('front-door')).toBeGreaterThanOrEqual(0);
  });
});

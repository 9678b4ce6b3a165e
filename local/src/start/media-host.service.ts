/**
 * The media host as a child process (`media-host/dist/main.js`), as it runs on its own VM in
 * Azure: control API (HTTPS), live listen-in (WSS) and media protocol listener on loopback with the
 * simulator CA's certificate, spool under `.data/spool`, storage in Azurite, heartbeats to the
 * local function app. Its JSON log lines are passed through.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import type { ServiceDefinition } from './services';

export interface MediaHostServiceOptions {
  readonly controlPort: number;
  readonly protocolPort: number;
  /** Live listen-in (`wss://127.0.0.1:<port>`). */
  readonly listenPort: number;
  readonly functionsBaseUrl: string;
  /**
   * The host's number when several run (2, 3, ...): its id, spool folder and availability zone
   * take it. Absent: the first host (`local-media-host`, `.data/spool`, zone 1).
   */
  readonly instance?: number;
  /** Milliseconds to wait for `/health`. Default 60 000. */
  readonly startTimeoutInMs?: number;
}

export function mediaHostService(options: MediaHostServiceOptions): ServiceDefinition {
  const suffix = options.instance === undefined ? '' : `-${options.instance}`;
  const name = `media-host${suffix}`;
  return {
    name,
    async start(context) {
      const env: Record<string, string | undefined> = {
        ...context.env,
        ATTEST_MEDIA_HOST_ID: `${context.env.ATTEST_MEDIA_HOST_ID ?? 'local-media-host'}${suffix}`,
        ATTEST_MEDIA_ZONE: String(options.instance ?? 1),
        ATTEST_MEDIA_CONTROL_PORT: String(options.controlPort),
        ATTEST_MEDIA_PROTOCOL_PORT: String(options.protocolPort),
        ATTEST_MEDIA_LISTEN_PORT: String(options.listenPort),
        ATTEST_MEDIA_SPOOL_DIR: `${context.env.ATTEST_MEDIA_SPOOL_DIR ?? join(context.dataDir, 'spool')}${suffix}`,
        ATTEST_MEDIA_STORAGE_CONNECTION: context.env.ATTEST_STORAGE_CONNECTION_STRING,
        ATTEST_MEDIA_FUNCTIONS_URL: options.functionsBaseUrl,
        ATTEST_MEDIA_HEARTBEAT_INTERVAL_MS:
          context.env.ATTEST_MEDIA_HEARTBEAT_INTERVAL_MS ?? '5000',
      };
      const child = spawn(
        process.execPath,
        [join(context.rootDir, 'media-host', 'dist', 'main.js')],
        {
          cwd: context.rootDir,
          env,
          stdio: ['ignore', 'inherit', 'inherit'],
        },
      );
      const exited = new Promise<string>((resolve) =>
        child.once('exit', (code, signal) =>
          resolve(`exited with ${signal ?? `code ${String(code)}`}`),
        ),
      );
      let hasExited = false;
      void exited.then(() => (hasExited = true));
      // HTTPS with the simulator CA's certificate: the simulator service hands its path to the
      // services after it (NODE_EXTRA_CA_CERTS); the launcher trusts it here whatever its own
      // environment says.
      const healthUrl = `https://127.0.0.1:${options.controlPort}/health`;
      const caPath = context.env.NODE_EXTRA_CA_CERTS;
      const ca = caPath === undefined || caPath === '' ? undefined : readFileSync(caPath);
      const deadline = Date.now() + (options.startTimeoutInMs ?? 60_000);
      for (;;) {
        if (hasExited) throw new Error(`${name} ${await exited}`);
        const healthy = await isHealthy(healthUrl, ca);
        if (healthy) break;
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error('the media host did not answer /health within the start timeout');
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      let stopping: Promise<void> | undefined;
      return {
        name,
        urls: {
          control: `https://127.0.0.1:${options.controlPort}`,
          metrics: `https://127.0.0.1:${options.controlPort}/metrics (Bearer: the control key)`,
          listen: `wss://127.0.0.1:${options.listenPort}`,
          media: `tls://127.0.0.1:${options.protocolPort}`,
        },
        exited,
        stop() {
          stopping ??= (async () => {
            if (hasExited) return;
            child.kill('SIGTERM');
            // The media host flushes its spool and commits before it exits; force it after 20 s.
            const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
            await exited;
            clearTimeout(force);
          })();
          return stopping;
        },
      };
    },
  };
}

/** Whether `url` answers 2xx over HTTPS trusting `ca` (and the system's CAs when none). */
function isHealthy(url: string, ca: Buffer | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(url, { ...(ca === undefined ? {} : { ca }), timeout: 2000 }, (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      resolve(status >= 200 && status < 300);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(false));
  });
}

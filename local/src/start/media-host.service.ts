/**
 * The media host as a child process (`media-host/dist/main.js`), as it runs on its own VM in
 * Azure: control API (HTTPS), live listen-in (WSS) and media protocol listener on loopback with the
 * simulator CA's certificate, spool under `.data/spool`, storage in Azurite, heartbeats to the
 * local function app. Its JSON log lines are passed through.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { getFreePort } from '../azurite/azurite-process';
import { stopChild } from './child-stop';
import type { ServiceDefinition } from './services';

export interface MediaHostServiceOptions {
  /**
   * The control API's port. 0, here and for the two ports below: the launcher takes free ports
   * when it starts the host, and other ones if the host fails to start (another process took one
   * between the choice and the bind), so tests can run it beside other servers.
   */
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
  /** The host's Azure region (`ATTEST_MEDIA_REGION`); absent: the media host's default. */
  readonly region?: string;
  /** Milliseconds to wait for `/health`. Default 60 000. */
  readonly startTimeoutInMs?: number;
}

export function mediaHostService(options: MediaHostServiceOptions): ServiceDefinition {
  const suffix = options.instance === undefined ? '' : `-${options.instance}`;
  const name = `media-host${suffix}`;
  return {
    name,
    async start(context) {
      const hostId = `${context.env.ATTEST_MEDIA_HOST_ID ?? 'local-media-host'}${suffix}`;
      const imdsUrl = context.env.ATTEST_MEDIA_SCHEDULED_EVENTS_URL;
      const isAutoPort =
        options.controlPort === 0 || options.protocolPort === 0 || options.listenPort === 0;
      const pickPort = async (configured: number) =>
        configured === 0 ? await getFreePort() : configured;
      const pickPorts = async () => ({
        control: await pickPort(options.controlPort),
        protocol: await pickPort(options.protocolPort),
        listen: await pickPort(options.listenPort),
      });
      let ports = await pickPorts();
      const environment = (): Record<string, string | undefined> => ({
        ...context.env,
        ATTEST_MEDIA_HOST_ID: hostId,
        ATTEST_MEDIA_ZONE: String(options.instance ?? 1),
        ...(options.region === undefined ? {} : { ATTEST_MEDIA_REGION: options.region }),
        // Scheduled events name the instance; locally an instance is its host.
        ...(imdsUrl === undefined ? {} : { ATTEST_MEDIA_INSTANCE_NAME: hostId }),
        ATTEST_MEDIA_CONTROL_PORT: String(ports.control),
        ATTEST_MEDIA_PROTOCOL_PORT: String(ports.protocol),
        ATTEST_MEDIA_LISTEN_PORT: String(ports.listen),
        ATTEST_MEDIA_SPOOL_DIR: `${context.env.ATTEST_MEDIA_SPOOL_DIR ?? join(context.dataDir, 'spool')}${suffix}`,
        ATTEST_MEDIA_STORAGE_CONNECTION: context.env.ATTEST_STORAGE_CONNECTION_STRING,
        ATTEST_MEDIA_FUNCTIONS_URL: options.functionsBaseUrl,
        ATTEST_MEDIA_HEARTBEAT_INTERVAL_MS:
          context.env.ATTEST_MEDIA_HEARTBEAT_INTERVAL_MS ?? '5000',
      });
      // HTTPS with the simulator CA's certificate: the simulator service hands its path to the
      // services after it (NODE_EXTRA_CA_CERTS); the launcher trusts it here whatever its own
      // environment says.
      const caPath = context.env.NODE_EXTRA_CA_CERTS;
      const ca = caPath === undefined || caPath === '' ? undefined : readFileSync(caPath);

      /** Spawns the host and waits for its /health; rejects if it exits or stays silent. */
      const launchOnce = async (): Promise<{ child: ChildProcess; exited: Promise<string> }> => {
        const healthUrl = `https://127.0.0.1:${ports.control}/health`;
        const child = spawn(
          process.execPath,
          [join(context.rootDir, 'media-host', 'dist', 'main.js')],
          { cwd: context.rootDir, env: environment(), stdio: ['ignore', 'inherit', 'inherit'] },
        );
        const exited = new Promise<string>((resolve) =>
          child.once('exit', (code, signal) =>
            resolve(`exited with ${signal ?? `code ${String(code)}`}`),
          ),
        );
        let hasExited = false;
        void exited.then(() => (hasExited = true));
        const deadline = Date.now() + (options.startTimeoutInMs ?? 60_000);
        for (;;) {
          if (hasExited) throw new Error(`${name} ${await exited}`);
          if (await isHealthy(healthUrl, ca)) return { child, exited };
          if (Date.now() > deadline) {
            child.kill('SIGKILL');
            throw new Error('the media host did not answer /health within the start timeout');
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      };
      /** With ports of its own choice, the launcher tries other free ports twice more. */
      const launch = async () => {
        for (let attempt = 1; ; attempt += 1) {
          try {
            return await launchOnce();
          } catch (error) {
            if (!isAutoPort || attempt >= 3) throw error;
            context.log('media host failed to start; trying other free ports', {
              name,
              attempt,
              error: (error as Error).message,
            });
            ports = await pickPorts();
          }
        }
      };
      /** SIGTERM: the media host flushes its spool and commits before it exits; forced after 20 s. */
      const terminate = (running: { child: ChildProcess; exited: Promise<string> }) =>
        stopChild(running.child, running.exited, 20_000);

      let current = await launch();
      let isStopping = false;
      let isReplacing = false;
      // Resolves when the host stops on its own (not when it is stopped or replaced).
      let reportExit: (reason: string) => void = () => undefined;
      const exited = new Promise<string>((resolve) => (reportExit = resolve));
      const watch = (running: typeof current) =>
        void running.exited.then((reason) => {
          if (!isStopping && !isReplacing && running === current) reportExit(reason);
        });
      watch(current);

      // A scale-in the host acknowledged: Azure removes the instance and the scale set brings
      // another; here the same host restarts as a new instance and the event is gone.
      const replacer =
        imdsUrl === undefined
          ? undefined
          : setInterval(() => {
              if (isReplacing || isStopping) return;
              void acknowledgedScaleIn(imdsUrl, hostId).then(async (eventId) => {
                if (eventId === undefined || isReplacing || isStopping) return;
                isReplacing = true;
                context.log('scale-in acknowledged: replacing the instance', { hostId, eventId });
                try {
                  await terminate(current);
                  await fetch(`${imdsUrl}/_imds/events/${encodeURIComponent(eventId)}`, {
                    method: 'DELETE',
                  });
                  current = await launch();
                  watch(current);
                  context.log('instance replaced', { hostId });
                } catch (error) {
                  reportExit(`replacement failed: ${(error as Error).message}`);
                } finally {
                  isReplacing = false;
                }
              });
            }, 2000);
      replacer?.unref();

      let stopping: Promise<void> | undefined;
      return {
        name,
        urls: {
          control: `https://127.0.0.1:${ports.control}`,
          metrics: `https://127.0.0.1:${ports.control}/metrics (Bearer: the control key)`,
          listen: `wss://127.0.0.1:${ports.listen}`,
          media: `tls://127.0.0.1:${ports.protocol}`,
        },
        exited,
        stop() {
          stopping ??= (async () => {
            isStopping = true;
            clearInterval(replacer);
            await terminate(current);
          })();
          return stopping;
        },
      };
    },
  };
}

/** The id of a scale-in of `instanceName` that its host acknowledged (status `Started`), if any. */
async function acknowledgedScaleIn(imdsUrl: string, instanceName: string) {
  try {
    const response = await fetch(`${imdsUrl}/_imds/events`);
    const body = (await response.json()) as {
      events?: { EventId: string; EventStatus: string; Resources: string[] }[];
    };
    return body.events?.find(
      (e) => e.EventStatus === 'Started' && e.Resources.includes(instanceName),
    )?.EventId;
  } catch {
    return undefined;
  }
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

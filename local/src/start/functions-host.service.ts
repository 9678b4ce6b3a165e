/**
 * The local Functions host as a child process (`local/dist/host/main.js`), so the app gets its
 * own process and env exactly as under Azure Functions. Its JSON log lines are passed through.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stopChild } from './child-stop';
import type { ServiceDefinition } from './services';

export interface FunctionsHostServiceOptions {
  /** App folder or entry file, relative to the repository root. */
  readonly appPath: string;
  readonly port: number;
  /** Extra settings for the app, over the environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Milliseconds to wait for the ready line. Default 60 000. */
  readonly startTimeoutInMs?: number;
  /**
   * 2 and up: one more instance of a scaled-out app (`functions-<n>`), which joins the first
   * instance's task hub (`ATTEST_HOST_JOIN_TASK_HUB`) and adds its origin to
   * `ATTEST_START_FUNCTION_INSTANCE_ORIGINS` for the services after it. Default 1: the first.
   */
  readonly instance?: number;
}

/** The setting that lists the origins of the instances after the first (comma-separated). */
export const FUNCTION_INSTANCE_ORIGINS = 'ATTEST_START_FUNCTION_INSTANCE_ORIGINS';

export function functionsHostService(options: FunctionsHostServiceOptions): ServiceDefinition {
  const instance = options.instance ?? 1;
  const name = instance === 1 ? 'functions' : `functions-${instance}`;
  return {
    name,
    async start(context) {
      const hostMain = join(context.rootDir, 'local', 'dist', 'host', 'main.js');
      const child = spawn(
        process.execPath,
        [hostMain, '--app', join(context.rootDir, options.appPath), '--port', String(options.port)],
        {
          cwd: context.rootDir,
          env: {
            ...context.env,
            ...options.env,
            ...(instance === 1 ? {} : { ATTEST_HOST_JOIN_TASK_HUB: 'true' }),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderrTail = '';
      child.stderr.on('data', (chunk: Buffer) => {
        process.stderr.write(chunk);
        stderrTail = (stderrTail + chunk.toString()).slice(-2000);
      });
      const exited = new Promise<string>((resolve) =>
        child.once('exit', (code, signal) =>
          resolve(`exited with ${signal ?? `code ${String(code)}`}`),
        ),
      );
      const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('no ready line within the start timeout')),
          options.startTimeoutInMs ?? 60_000,
        );
        const lines = createInterface({ input: child.stdout });
        lines.on('line', (line) => {
          process.stdout.write(`${line}\n`);
          try {
            const record = JSON.parse(line) as Record<string, unknown>;
            if (record.message === 'host ready') {
              clearTimeout(timer);
              resolve(record);
            }
          } catch {
            // Not a JSON line (an app printing directly); passed through above.
          }
        });
        void exited.then((reason) => {
          clearTimeout(timer);
          reject(new Error(`${reason}: ${stderrTail.trim().split('\n').pop() ?? ''}`));
        });
      });
      let stopping: Promise<void> | undefined;
      const functionsUrl = String(ready.functionsUrl);
      const urls: Record<string, string> = {
        functions: functionsUrl,
        // The portal (web/dist, built by npm run build) is served by the function app itself.
        portal: `${functionsUrl.replace(/\/+$/, '')}/portal/`,
      };
      if (typeof ready.durableRpcBaseUrl === 'string')
        urls.durableManagement = ready.durableRpcBaseUrl;
      const earlier = context.env[FUNCTION_INSTANCE_ORIGINS];
      const settings: Record<string, string> =
        instance === 1
          ? { ATTEST_FUNCTIONS_BASE_URL: functionsUrl }
          : {
              [FUNCTION_INSTANCE_ORIGINS]: [
                ...(earlier ? earlier.split(',') : []),
                new URL(functionsUrl).origin,
              ].join(','),
            };
      return {
        name,
        urls,
        settings,
        exited,
        stop() {
          // The host drains in-flight work; forced after 15 s so Ctrl-C always ends.
          stopping ??= stopChild(child, exited, 15_000);
          return stopping;
        },
      };
    },
  };
}

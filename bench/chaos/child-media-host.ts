/**
 * A media host in its own process (`media-host/dist/main.js`, as on its VM), for the scenarios
 * that kill one or give it a small capacity. Its log lines go through this process's output, so
 * the campaign's capture holds them. Calls reach it once the other hosts are drained.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { childControls } from './child-controls';
import { join } from 'node:path';
import { getFreePort } from '@attest/local/dist/azurite/azurite-process';
import { waitUntil } from './calls';
import { ROOT, type ChaosStack } from './stack';

export interface ChildMediaHost {
  readonly hostId: string;
  /** SIGKILL: no seal, no flush, no goodbye. */
  kill(): Promise<void>;
  /** SIGTERM and wait; idempotent. */
  stop(): Promise<void>;
}

export async function startChildMediaHost(
  stack: ChaosStack,
  options: {
    readonly hostId: string;
    readonly maxSessions?: number;
    /** Settings over the stack's (another storage connection, for example). */
    readonly env?: Readonly<Record<string, string>>;
  },
): Promise<ChildMediaHost> {
  const [controlPort, protocolPort] = [await getFreePort(), await getFreePort()];
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, 'media-host', 'dist', 'main.js')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ...stack.mediaHostEnv,
        ATTEST_MEDIA_HOST_ID: options.hostId,
        ATTEST_MEDIA_CONTROL_PORT: String(controlPort),
        ATTEST_MEDIA_PROTOCOL_PORT: String(protocolPort),
        ATTEST_MEDIA_SPOOL_DIR: join(stack.workDir, `spool-${options.hostId}`),
        ...(options.maxSessions === undefined
          ? {}
          : { ATTEST_MEDIA_MAX_SESSIONS: String(options.maxSessions) }),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (chunk: Buffer) => void process.stdout.write(chunk));
  child.stderr?.on('data', (chunk: Buffer) => void process.stderr.write(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const operator = await stack.userToken('operator');
  await waitUntil(async () => {
    if (child.exitCode !== null) throw new Error(`media host ${options.hostId} exited at start`);
    const hosts = await stack.api<{ value?: { hostId: string }[] }>('GET', '/api/mediahosts', {
      token: operator,
    });
    return hosts.body.value?.some((h) => h.hostId === options.hostId) === true ? true : undefined;
  }, `media host ${options.hostId} to register`);
  return { hostId: options.hostId, ...childControls(child, exited) };
}

/** Drains (or undrains) a media host through the operators' API. */
export async function setDraining(
  stack: ChaosStack,
  hostId: string,
  isDraining: boolean,
): Promise<void> {
  const answer = await stack.api('POST', `/api/mediahosts/${hostId}/drain`, {
    token: await stack.userToken('operator'),
    body: { isDraining },
  });
  if (answer.status >= 300) throw new Error(`drain of ${hostId} answered ${answer.status}`);
}

/** Runs `work` with only `child` taking new calls (the in-process host drained meanwhile). */
export async function withOnlyChildHost<T>(stack: ChaosStack, work: () => Promise<T>): Promise<T> {
  await setDraining(stack, stack.media.hostId, true);
  try {
    return await work();
  } finally {
    await setDraining(stack, stack.media.hostId, false);
  }
}

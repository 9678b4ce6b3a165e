/**
 * One more instance of the function app, as a scale-out adds one: the local Functions host CLI
 * (`local/dist/host/main.js`) in its own process on a free port, with the test process's app
 * settings, on the same storage and task hub as the stack's in-process host. Its durable engine
 * joins the hub (`ATTEST_HOST_JOIN_TASK_HUB`): its functions' durable client calls go to the
 * hub's owner. {@link scaleOut} puts such instances behind the simulator's front door. Needs a
 * built tree.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RecorderStack } from './recorder-stack';

const ROOT = join(__dirname, '..', '..', '..');

export interface FunctionInstance {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** Whether its engine runs the task hub (false: it joined the stack host's hub as a client). */
  readonly isTaskHubOwner: boolean;
  /** Its log lines so far (JSON lines, newest last; the last 5 000). */
  readonly logLines: readonly string[];
  /** SIGKILL; resolves once the process is gone (idempotent). */
  kill(): Promise<void>;
}

export async function startFunctionInstance(options: {
  readonly storageConnection: string;
  readonly taskHubName: string;
  readonly startTimeoutInMs?: number;
}): Promise<FunctionInstance> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'local', 'dist', 'host', 'main.js'), '--app', join(ROOT, 'functions')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ATTEST_HOST_PORT: '0',
        AzureWebJobsStorage: options.storageConnection,
        AzureFunctionsJobHost__extensions__durableTask__hubName: options.taskHubName,
        ATTEST_HOST_JOIN_TASK_HUB: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logLines: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const ready = await new Promise<{ baseUrl: string; isTaskHubOwner?: boolean }>(
    (resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the second function instance printed no ready line in time')),
        // A loaded machine (CI's two cores) can take long to load the app in a new process.
        options.startTimeoutInMs ?? 120_000,
      );
      // Every line is read (a full pipe would stall the host) and the recent ones kept.
      createInterface({ input: child.stdout }).on('line', (line) => {
        logLines.push(line);
        if (logLines.length > 5000) logLines.shift();
        if (line.includes('"message":"host ready"')) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { baseUrl: string; isTaskHubOwner?: boolean });
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the second function instance exited at start: ${stderr}`));
      });
    },
  );
  return {
    baseUrl: ready.baseUrl,
    isTaskHubOwner: ready.isTaskHubOwner === true,
    logLines,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Scales the stack's function app out to `1 + count` instances: starts `count` more on the
 * stack's storage (`storageConnection`) and task hub, and has the simulator's front door send each
 * new call leg's invite and notifications to the next instance in turn (per-leg affinity), for
 * the origin the app gives out (the stack host's: its webhook and `callbackUri`). Kill the
 * returned instances before closing the stack: they would take the task hub over.
 */
export async function scaleOut(
  stack: RecorderStack,
  storageConnection: string,
  count = 1,
): Promise<{ instances: FunctionInstance[]; origins: string[] }> {
  const instances: FunctionInstance[] = [];
  try {
    for (let i = 0; i < count; i += 1)
      instances.push(
        await startFunctionInstance({
          storageConnection,
          taskHubName: stack.host.settings.taskHubName,
        }),
      );
    const origins = [stack.baseUrl, ...instances.map((f) => f.baseUrl)];
    const routed = await stack.control('PUT', '/_sim/webhook-routes', {
      routes: [{ publicOrigin: stack.baseUrl, instanceOrigins: origins, affinity: 'perLeg' }],
    });
    if (routed.status !== 200)
      throw new Error(`the front door refused the routes: ${routed.status}`);
    return { instances, origins };
  } catch (error) {
    for (const instance of instances) await instance.kill();
    throw error;
  }
}

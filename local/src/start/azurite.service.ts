/**
 * Azurite (blob, queue, table) on disk, on free loopback ports, in a child process of its own
 * process group (see azurite-child.ts) so it is stopped last. Two accounts, as deployed (see
 * infra/modules/host-storage.bicep and recordings-storage.bicep): `recordings` (`<dataDir>/azurite`,
 * `ATTEST_STORAGE_CONNECTION_STRING`: recordings, interactions, archive, ledger) and `host`
 * (`<dataDir>/azurite-host`, `AzureWebJobsStorage`: the Functions host and the durable task hub).
 * Each is its own Azurite process, so the task hub's traffic never queues the app's requests.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { ServiceDefinition } from './services';

interface ReadyMessage {
  readonly ready: true;
  readonly blobUrl: string;
  readonly queueUrl: string;
  readonly tableUrl: string;
  readonly connectionString: string;
}

export type StorageAccountRole = 'recordings' | 'host';

const ROLES: Readonly<
  Record<StorageAccountRole, { name: string; folder: string; setting: string }>
> = {
  recordings: { name: 'azurite', folder: 'azurite', setting: 'ATTEST_STORAGE_CONNECTION_STRING' },
  host: { name: 'azurite-host', folder: 'azurite-host', setting: 'AzureWebJobsStorage' },
};

export function azuriteService(role: StorageAccountRole = 'recordings'): ServiceDefinition {
  const { name, folder, setting } = ROLES[role];
  return {
    name,
    async start(context) {
      const child = fork(
        join(__dirname, 'azurite-child.js'),
        ['--location', join(context.dataDir, folder)],
        {
          detached: true,
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        },
      );
      const exited = new Promise<string>((resolve) =>
        child.once('exit', (code, signal) =>
          resolve(`exited with ${signal ?? `code ${String(code)}`}`),
        ),
      );
      const ready = await new Promise<ReadyMessage>((resolve, reject) => {
        child.once('message', (message) => resolve(message as ReadyMessage));
        void exited.then((reason) => reject(new Error(reason)));
      });
      let stopping: Promise<void> | undefined;
      return {
        name,
        urls: { blob: ready.blobUrl, queue: ready.queueUrl, table: ready.tableUrl },
        settings: { [setting]: ready.connectionString },
        exited,
        stop() {
          stopping ??= (async () => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            if (child.connected) child.send({ stop: true });
            else child.kill('SIGTERM');
            const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(force);
          })();
          return stopping;
        },
      };
    },
  };
}

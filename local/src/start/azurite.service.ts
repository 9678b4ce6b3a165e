/**
 * Azurite (blob, queue, table) on disk under `<dataDir>/azurite`, on free loopback ports, in a
 * child process of its own process group (see azurite-child.ts) so it is stopped last.
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

export function azuriteService(): ServiceDefinition {
  return {
    name: 'azurite',
    async start(context) {
      const child = fork(join(__dirname, 'azurite-child.js'), ['--location', join(context.dataDir, 'azurite')], {
        detached: true,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const exited = new Promise<string>((resolve) =>
        child.once('exit', (code, signal) => resolve(`exited with ${signal ?? `code ${String(code)}`}`)),
      );
      const ready = await new Promise<ReadyMessage>((resolve, reject) => {
        child.once('message', (message) => resolve(message as ReadyMessage));
        void exited.then((reason) => reject(new Error(reason)));
      });
      let stopping: Promise<void> | undefined;
      return {
        name: 'azurite',
        urls: { blob: ready.blobUrl, queue: ready.queueUrl, table: ready.tableUrl },
        settings: {
          AzureWebJobsStorage: ready.connectionString,
          ATTEST_STORAGE_CONNECTION_STRING: ready.connectionString,
        },
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

/**
 * Runs Azurite for `npm start` in its own process group, so the terminal's Ctrl-C does not stop
 * storage while the Functions host is still draining; `npm start` stops it last, over IPC. If
 * the parent disappears (IPC disconnects), Azurite is stopped too.
 *
 * Usage (by azurite.service.ts only): fork with `--location <dir>`; sends `{ ready, … }` once.
 */
import { startAzurite } from '../azurite/azurite-process';

async function run(): Promise<void> {
  const index = process.argv.indexOf('--location');
  const location = index >= 0 ? process.argv[index + 1] : undefined;
  if (location === undefined || process.send === undefined) {
    process.stderr.write('usage: forked by npm start with --location <dir>\n');
    process.exit(2);
  }
  const azurite = await startAzurite({ location });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void azurite.close().finally(() => process.exit(0));
  };
  process.on('message', (message) => {
    if ((message as { stop?: unknown }).stop === true) stop();
  });
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.send({
    ready: true,
    blobUrl: azurite.blobUrl,
    queueUrl: azurite.queueUrl,
    tableUrl: azurite.tableUrl,
    connectionString: azurite.connectionString,
  });
}

run().catch((error: unknown) => {
  process.stderr.write(`azurite failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});

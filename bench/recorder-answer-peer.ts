/**
 * The other side of the recorder-answer benchmark, in its own process so it does not compete
 * with the function app for one event loop: the Teams simulator and one media host. Reads its
 * settings from the environment (set by recorder-answer.bench.ts), prints one JSON line with the
 * simulator's URLs when ready, and stops on SIGTERM.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { startTeamsSimulator, type Directory } from '@attest/local/dist/simulator';
import { startMediaHost } from '@attest/media-host/dist/host/media-host';

import { localMediaHostConfig } from './local-stack-fixture';
import { countStorageRequests } from './storage-requests';

interface PeerSettings {
  readonly caDir: string;
  readonly functionsBaseUrl: string;
  readonly storageConnection: string;
  readonly controlKey: string;
  readonly directory: Directory;
}

async function main(): Promise<void> {
  const settings = JSON.parse(process.env.ATTEST_BENCH_PEER ?? '{}') as PeerSettings;
  // The media host's storage requests (the recordings account), reported on `storage`.
  const storage = countStorageRequests({ recordings: settings.storageConnection });
  const sim = await startTeamsSimulator({
    caDir: settings.caDir,
    log: () => undefined,
    behaviour: { mediaPacing: 'realtime', streamVideo: false, maxConcurrentCallsPerApp: 1000 },
    directory: settings.directory,
  });
  const work = mkdtempSync(join(tmpdir(), 'attest-bench-peer-'));
  const kek = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(
    join(work, 'media-kek.pub.pem'),
    kek.publicKey.export({ type: 'spki', format: 'pem' }),
  );
  const media = await startMediaHost(
    localMediaHostConfig(
      {
        caDir: settings.caDir,
        controlKey: settings.controlKey,
        storageConnectionString: settings.storageConnection,
        functionsUrl: settings.functionsBaseUrl,
        spoolDir: join(work, 'spool'),
        kekPublicKeyFile: join(work, 'media-kek.pub.pem'),
        signingKeyFile: join(work, 'signing.pem'),
      },
      {
        hostId: 'bench-media',
        version: 'bench',
        recordingsContainer: 'benchrecordings',
        spoolLimitInBytes: 512 * 1024 * 1024,
        spoolFlushIntervalInMs: 50,
        commitIntervalInMs: 1_000,
        blockMinDurationInMs: 500,
        maxSessions: 400,
        heartbeatIntervalInMs: 500,
        logLevel: 'error',
      },
    ),
  );
  const stop = (): void => {
    void Promise.allSettled([media.close(), sim.close()]).then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(
    `${JSON.stringify({ simUrl: sim.url, controlToken: sim.controlToken, webhookMetadataUrl: sim.webhookOpenIdConfigurationUrl })}\n`,
  );
  // Event-loop delay of this process (simulator and media host), one line per `loop` on stdin;
  // its storage requests so far, one line per `storage`.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (text: string) => {
    if (text.includes('storage'))
      process.stdout.write(`${JSON.stringify({ storageRequests: storage.snapshot() })}\n`);
    if (!text.includes('loop')) return;
    const ms = (ns: number): number => Number((ns / 1e6).toFixed(1));
    process.stdout.write(
      `${JSON.stringify({ eventLoopDelayInMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) } })}\n`,
    );
    loopDelay.reset();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench peer failed: ${String(error)}\n`);
  process.exit(1);
});

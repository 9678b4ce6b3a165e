/**
 * Media host, long calls: does a session's cost stay flat as its call grows old?
 *
 * One session of 4 speakers (16 kHz lossless PCM, encrypted, 2 s blocks) is fed media faster than
 * real time straight into the host's session (`MediaSession.accept`, no TLS: that cost does not
 * depend on the call's age) and committed every 5 s of media, as the host's commit loop does in
 * real time. Storage is Azurite. Every `ATTEST_BENCH_LONG_CALL_SAMPLE_MINUTES` of media (default
 * 10) it reports, over that window:
 *
 * - `cpuPerCommitInMs`: the host's CPU per commit (the window's frames plus its commits; the frames
 *   cost the same in every window, so growth is commit cost that grows with the call);
 * - `liveBytesPerStream`: heap and external memory after a full GC, less the empty host's, per stream
 *   (external memory includes the host-wide buffer pools, which move by megabytes);
 * - `heapBytesPerStream`: the JavaScript heap alone (objects and strings, where per-block
 *   bookkeeping lives), after a full GC, less the empty host's, per stream;
 * - `largestBlockListIds`: the most block ids one Put Block List sent;
 * - `diskBytesWrittenPerCommit`: bytes the host process wrote to disk per commit (`write_bytes` of
 *   `/proc/self/io`: the spool's frames, the same in every window, plus the session's checkpoint
 *   files, record rewrites or appended lines, whichever the host does);
 * - `sessionFilesBytes`: the size of the session's files under the spool's `sessions/` folder.
 *
 * Writes `bench/results/media-long-call.json`. `ATTEST_BENCH_LONG_CALL_MINUTES` (default 120)
 * sets the call's length in media minutes.
 */
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PayloadFormat,
  type CreateMediaSessionResponse,
  type MediaProtocolFrame,
} from '@attest/core';
import { startAzurite } from '@attest/local/dist/azurite/azurite-process';
import type { BlockStore } from '@attest/media-host/dist/sink/block-store';
import { BENCH_CONTROL_KEY, benchMediaHostConfig } from './media-bench-host';

const SPEAKERS = 4;
const FRAME_MS = 20;
const COMMIT_EVERY_MEDIA_MS = 5000;
const CALL_MINUTES = Number(process.env.ATTEST_BENCH_LONG_CALL_MINUTES ?? 120);
const SAMPLE_MINUTES = Number(process.env.ATTEST_BENCH_LONG_CALL_SAMPLE_MINUTES ?? 10);
const SEGMENT_MAX_IN_MS = Number(process.env.ATTEST_BENCH_LONG_CALL_SEGMENT_MS ?? 30 * 60_000);
/** Pause feeding while the host holds more than this of blocks storage has not taken. */
const BACKLOG_LIMIT_IN_BYTES = 16 * 1024 * 1024;

interface Sample {
  readonly mediaMinutes: number;
  readonly commits: number;
  readonly cpuPerCommitInMs: number;
  readonly liveBytesPerStream: number;
  readonly heapBytesPerStream: number;
  readonly largestBlockListIds: number;
  readonly diskBytesWrittenPerCommit: number;
  readonly sessionFilesBytes: number;
  readonly wallSeconds: number;
}

/** Total size of the files in `dir` (the session's record and checkpoint files). */
function filesBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/** Bytes this process caused to be written to disk so far (Linux). */
function diskBytesWritten(): number {
  const line = readFileSync('/proc/self/io', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('write_bytes:'));
  return line === undefined ? 0 : Number(line.split(':')[1]);
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const memory = (): { live: number; heap: number } => {
  gc();
  const m = process.memoryUsage();
  return { live: m.heapUsed + m.external, heap: m.heapUsed };
};

async function main(): Promise<void> {
  if ((globalThis as { gc?: unknown }).gc === undefined) {
    // Memory after a full collection needs --expose-gc: run again with it.
    const again = spawnSync(process.execPath, ['--expose-gc', __filename], { stdio: 'inherit' });
    process.exit(again.status ?? 1);
  }
  const { startMediaHost, createRawPassthroughFormatter, silentLogger } =
    await import('@attest/media-host/dist/index');
  const { createAzureBlockStore } = await import('@attest/media-host/dist/sink/azure-block-store');
  const dir = mkdtempSync(join(tmpdir(), 'attest-long-call-'));
  const azurite = await startAzurite({ inMemory: true });
  try {
    const { config } = await benchMediaHostConfig(dir, azurite.connectionString, {
      blockMinDurationInMs: 2000,
      segmentMaxDurationInMs: SEGMENT_MAX_IN_MS,
      maxSessions: 10,
      helloTimeoutInMs: 600_000,
    });
    const azure = createAzureBlockStore({ connectionString: azurite.connectionString });
    let largestList = 0;
    let awaitingBytes = 0;
    const store: BlockStore = {
      ...azure,
      async stageBlock(container, blobName, blockId, bytes) {
        awaitingBytes += bytes.length;
        try {
          await azure.stageBlock(container, blobName, blockId, bytes);
        } finally {
          awaitingBytes -= bytes.length;
        }
      },
      async commitBlockList(container, blobName, blockIds, contentType) {
        largestList = Math.max(largestList, blockIds.length);
        await azure.commitBlockList(container, blobName, blockIds, contentType);
      },
    };
    const host = await startMediaHost(config, {
      formatterFactory: createRawPassthroughFormatter,
      logger: silentLogger,
      store,
    });
    const baseline = memory();
    try {
      const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
        const response = await fetch(`${host.controlUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${BENCH_CONTROL_KEY}`,
            'content-type': 'application/json',
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        if (!response.ok)
          throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
        return (await response.json()) as T;
      };
      const created = await control<CreateMediaSessionResponse>('POST', '/v1/sessions', {
        callId: 'long-call',
        tenantId: 't',
        interactionId: 'i-long-call',
        recordedUserIds: [],
      });
      await control('POST', `/v1/sessions/${created.sessionId}/persist`, {
        recordingConfirmedAt: new Date().toISOString(),
      });
      const session = host.getSession(created.sessionId)!;
      const sessionsDir = join(config.spoolDir, 'sessions');
      const payloads = Array.from({ length: SPEAKERS }, (_, s) => Buffer.alloc(640, 17 + s));
      const ticksPerCommit = COMMIT_EVERY_MEDIA_MS / FRAME_MS;
      const commitsPerSample = (SAMPLE_MINUTES * 60_000) / COMMIT_EVERY_MEDIA_MS;
      const samples: Sample[] = [];
      const started = Date.now();
      let sequence = 0;
      process.stdout.write(
        `  media-long-call: ${CALL_MINUTES} media minutes, ${SPEAKERS} streams, sample every ${SAMPLE_MINUTES} ...\n`,
      );
      for (let window = 0; window < CALL_MINUTES / SAMPLE_MINUTES; window += 1) {
        largestList = 0;
        const diskBefore = diskBytesWritten();
        const cpuBefore = process.cpuUsage();
        for (let c = 0; c < commitsPerSample; c += 1) {
          for (let t = 0; t < ticksPerCommit; t += 1) {
            sequence += 1;
            const frame: MediaProtocolFrame = {
              type: 'audioUnmixed',
              sessionId: created.sessionId,
              sequence,
              timestamp100ns: BigInt(sequence) * 200_000n,
              msi: 0,
              format: PayloadFormat.pcm16k,
              buffers: payloads.map((payload, s) => ({
                msi: 11 + s,
                originalSenderTimestamp100ns: 0n,
                payload,
              })),
            };
            session.accept(frame);
          }
          await session.commit();
          while (awaitingBytes > BACKLOG_LIMIT_IN_BYTES)
            await new Promise((resolve) => setTimeout(resolve, 5));
          await new Promise((resolve) => setImmediate(resolve));
        }
        const cpu = process.cpuUsage(cpuBefore);
        const diskWritten = diskBytesWritten() - diskBefore;
        // Memory with nothing on its way to storage: the last blocks staged and committed.
        while (awaitingBytes > 0) await new Promise((resolve) => setTimeout(resolve, 5));
        await session.commit();
        const now = memory();
        const sample: Sample = {
          mediaMinutes: (window + 1) * SAMPLE_MINUTES,
          commits: commitsPerSample,
          cpuPerCommitInMs: Number(((cpu.user + cpu.system) / 1000 / commitsPerSample).toFixed(2)),
          liveBytesPerStream: Math.round((now.live - baseline.live) / SPEAKERS),
          heapBytesPerStream: Math.round((now.heap - baseline.heap) / SPEAKERS),
          largestBlockListIds: largestList,
          diskBytesWrittenPerCommit: Math.round(diskWritten / commitsPerSample),
          sessionFilesBytes: filesBytes(sessionsDir),
          wallSeconds: Math.round((Date.now() - started) / 1000),
        };
        samples.push(sample);
        process.stdout.write(`  ${JSON.stringify(sample)}\n`);
      }
      const sealStarted = process.cpuUsage();
      const summary = await control<{ streams: { blockCount: number }[] }>(
        'POST',
        `/v1/sessions/${created.sessionId}/seal`,
      );
      const sealCpu = process.cpuUsage(sealStarted);
      const first = samples[0]!;
      const last = samples.at(-1)!;
      const output = {
        benchmark: 'media-long-call',
        at: new Date().toISOString(),
        machine: { cpus: spawnSync('nproc').stdout.toString().trim() },
        settings: {
          speakers: SPEAKERS,
          callMinutes: CALL_MINUTES,
          sampleMinutes: SAMPLE_MINUTES,
          blockMinDurationInMs: config.blockMinDurationInMs,
          segmentMaxDurationInMs: SEGMENT_MAX_IN_MS,
          commitEveryMediaMs: COMMIT_EVERY_MEDIA_MS,
          encryption: true,
          formatter: 'raw PCM (lossless)',
        },
        notes: [
          'Media is fed faster than real time and committed every 5 s of media; cpuPerCommitInMs counts the host process (frames and commits), Azurite runs apart.',
          'diskBytesWrittenPerCommit: /proc/self/io write_bytes per commit: the spool (the same in every window) plus the session checkpoint files.',
        ],
        samples,
        growth: {
          cpuPerCommitFirstToLast: Number(
            (last.cpuPerCommitInMs / first.cpuPerCommitInMs).toFixed(2),
          ),
          liveBytesPerStreamFirstToLast: Number(
            (last.liveBytesPerStream / Math.max(1, first.liveBytesPerStream)).toFixed(2),
          ),
          heapBytesPerStreamFirstToLast: Number(
            (last.heapBytesPerStream / Math.max(1, first.heapBytesPerStream)).toFixed(2),
          ),
          diskBytesWrittenPerCommitFirstToLast: Number(
            (last.diskBytesWrittenPerCommit / Math.max(1, first.diskBytesWrittenPerCommit)).toFixed(
              2,
            ),
          ),
        },
        seal: {
          cpuInMs: Math.round((sealCpu.user + sealCpu.system) / 1000),
          segments: summary.streams.length,
          blocks: summary.streams.reduce((n, s) => n + s.blockCount, 0),
        },
      };
      const resultsDir = join(__dirname, '..', 'results');
      mkdirSync(resultsDir, { recursive: true });
      writeFileSync(
        join(resultsDir, 'media-long-call.json'),
        `${JSON.stringify(output, null, 2)}\n`,
      );
      process.stdout.write(
        `  media-long-call: ${JSON.stringify(output.growth)} seal ${JSON.stringify(output.seal)}\n`,
      );
    } finally {
      await host.close();
    }
  } finally {
    await azurite.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);

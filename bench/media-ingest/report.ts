/**
 * The media ingest benchmark's report: the JSON written to bench/results/media-ingest.json
 * (`media-ingest-loopback.json` for the loopback transport), rewritten after every level so a run
 * stopped midway keeps what it measured. Results, targets (>= 2,000 streams with zero gaps at
 * <= 70 % CPU; <= 64 KB per stream; loss <= 2 s) and how to read the figures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { KillRecoveryResult } from './kill-recovery';
import { SPEAKERS_PER_SESSION, type Transport } from './load-generator';
import { perAddedStream, type LevelResult } from './measure-level';
import type { HostMemory } from './stack';
import type { TlsFloorResult } from './tls-floor';

/**
 * The bench's own environment variables as this run had them (what it measured depends on them);
 * not the role and configuration it hands its children.
 */
export function benchEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const named: Record<string, string> = {};
  for (const name of Object.keys(env).sort())
    if (
      name.startsWith('ATTEST_BENCH_') &&
      name !== 'ATTEST_BENCH_ROLE' &&
      !name.endsWith('_CONFIG')
    )
      named[name] = env[name] ?? '';
  return named;
}

/** What a run measured so far, and how it ran. */
export interface IngestRun {
  readonly transport: Transport;
  readonly windowInMs: number;
  readonly blockMinDurationInMs: number;
  readonly isHostPinned: boolean;
  readonly isGeneratorPinned: boolean;
  readonly otherCores: string;
  readonly baseline: HostMemory;
  readonly levels: readonly LevelResult[];
  /** A level the host could not take at all (it stopped answering): it ended the run. */
  readonly failedLevel?: { streams: number; error: string };
  readonly tlsFloor?: TlsFloorResult;
  readonly killRecovery?: KillRecoveryResult;
}

/** The report of a run (its `results` are also printed at the end). */
export function buildReport(run: IngestRun) {
  const { levels, failedLevel, tlsFloor, killRecovery, baseline } = run;
  const sustained = levels.filter((l) => l.isZeroGap && l.hostCpuPercentOfOneCore <= 70).at(-1);
  const best = levels.filter((l) => l.isZeroGap).at(-1);
  return {
    benchmark: 'media-ingest',
    transport: run.transport,
    at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      hostPinnedToOneCore: run.isHostPinned,
      generatorOnCores: run.isGeneratorPinned ? run.otherCores : 'any',
      azuriteOnCores: 'any',
      sharedWithOtherWork: true,
      // The machine's 1, 5 and 15 minute load when the report was written: CPU per frame moves with
      // the machine's state (see howToRead), so two runs compare only when run alternately.
      loadAverageWhenWritten: loadavg().map((l) => Math.round(l * 100) / 100),
    },
    settings: {
      speakersPerSession: SPEAKERS_PER_SESSION,
      windowInMs: run.windowInMs,
      encryption: true,
      formatter: 'raw PCM (lossless)',
      spoolFlushIntervalInMs: 100,
      commitIntervalInMs: 5000,
      blockMinDurationInMs: run.blockMinDurationInMs,
      benchEnvironment: benchEnvironment(process.env),
    },
    baselineHostMemory: baseline,
    levels,
    ...(failedLevel !== undefined ? { failedLevel } : {}),
    ...(tlsFloor !== undefined ? { tlsReceiveFloor: tlsFloor } : {}),
    ...(killRecovery !== undefined ? { killRecovery } : {}),
    results: {
      streamsSustainedZeroGapAtOrBelow70PercentCpu: sustained?.streams ?? 0,
      streamsSustainedZeroGapAnyCpu: best?.streams ?? 0,
      // At the highest level the host sustains: past it, memory is the backlog of a host that waits for CPU and storage.
      memoryPerStreamInBytes:
        (sustained ?? best)?.memoryPerStreamInBytes ??
        levels.at(-1)?.memoryPerStreamInBytes ??
        null,
      memoryPerStreamWithoutStorageBacklogInBytes:
        (sustained ?? best)?.memoryPerStreamWithoutStorageBacklogInBytes ?? null,
      worstAckLagInMs: best?.worstAckLagInMs ?? null,
      ...perAddedStream(levels.filter((l) => l.isZeroGap)),
      lossOnKillMaxInMs: killRecovery?.lostUnacknowledgedMaxInMs ?? null,
      everyAcknowledgedFrameStoredAfterKill:
        killRecovery === undefined
          ? null
          : killRecovery.streamsMissingAcknowledgedFrames === 0 &&
            killRecovery.streamsWithDuplicateOrDisorderedFrames === 0,
    },
    targets: {
      streams: 2000,
      maxCpuPercent: 70,
      memoryPerStreamInBytes: 64 * 1024,
      lossOnKillInMs: 2000,
    },
    targetsMet: {
      streams: (sustained?.streams ?? 0) >= 2000,
      memoryPerStream: ((sustained ?? best)?.memoryPerStreamInBytes ?? Infinity) <= 64 * 1024,
      lossOnKill:
        killRecovery?.lostUnacknowledgedMaxInMs !== undefined &&
        killRecovery.lostUnacknowledgedMaxInMs <= 2000 &&
        killRecovery.streamsMissingAcknowledgedFrames === 0,
    },
    howToRead: [
      "The host is pinned to one core; the load generator to the other core(s) (machine.generatorOnCores; before 2026-11-24T07:20Z it was not pinned and could run on the host's core); Azurite runs on any core (it stands in for a storage service that is elsewhere, and uses the host core's idle time). Azurite (one Node process) takes about 300-400 Put Blocks of 64 KB a second on a shared machine, about what 500 streams ask for (0.5 Put Block and 0.2 Put Block List per stream-second): past that, blocks wait for storage and hold memory (storageBacklogAtMemoryProbe; memoryPerStreamWithoutStorageBacklogInBytes leaves them out), and at high levels the host also waits for CPU: ack lag and memory then grow with the backlog, not with the streams.",
      "tlsReceiveFloor: a TLS server on the host's core that only reads the highest level's traffic (one 4-speaker frame per connection per 20 ms) and discards it; its CPU is what receiving the protocol costs before the host does anything with the frames.",
      "hostCpuSystemShare: the share of the host's CPU spent in the kernel (socket reads and writes, spool writes and fsyncs).",
      "memoryPerStreamInBytes is measured after every frame sent is acknowledged, with every session still open; memoryAtWindowEndPerStreamInBytes includes the spool queue at the end of the window; the per-added-stream slopes leave out the host's fixed share.",
      "hostCpuPercentOfOneCore and hostCpuMicrosecondsPerFrame count the host CPU (all threads) spent on the window's frames: during the window and while catching up after it (results before 2026-11-24T05:10Z counted the window only, which understates a level the host fell behind on; hostCpuPercentOfOneCoreDuringWindow is that figure); hostCpuMicrosecondsPerAddedFrame is the slope over levels.",
      "settings.blockMinDurationInMs is the minimum block duration (the host default is 2000 ms: 0.7 Put Block and Put Block List requests per stream-second with 5 s commits, 1.2 with 1000 ms blocks); memory per stream is then about half a block being filled (about 32 KB of 16 kHz PCM) plus the host's shared buffers spread over the streams.",
      "Comparing runs: the host's CPU per frame of one build moves with the machine's state by up to two times (measured 2026-12-07 on a shared 2-core VM: 17 to 43 us per frame at 200 streams for the same build within an hour, lower when the machine was busier). Compare two builds only from runs made alternately on the same machine (A B A B ..., medians and spread), never one run against a figure from another day; tlsReceiveFloor.microsecondsPerStreamFrame, a TLS server reading the same traffic on the same core, shows how fast the machine was during a run.",
      'killRecovery: the source does not resend after the kill, so lost media is what was sent but not yet in the spool; a bridge that keeps unacknowledged frames (as the protocol requires) loses none.',
    ],
  };
}

export type IngestReport = ReturnType<typeof buildReport>;

/** Writes the run's report under bench/results/ and returns it. */
export function writeReport(run: IngestRun): IngestReport {
  const output = buildReport(run);
  // Compiled to bench/dist/media-ingest/: the results are bench/results/.
  const resultsDir = join(__dirname, '..', '..', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, run.transport === 'tls' ? 'media-ingest.json' : 'media-ingest-loopback.json'),
    `${JSON.stringify(output, null, 2)}\n`,
  );
  return output;
}

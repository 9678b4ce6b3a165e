/**
 * The media ingest benchmark's measurements of the host: its CPU (user and kernel ticks from
 * /proc), resident memory, and one load level's figures (CPU per frame, memory per stream, ack
 * lag, catch-up, streams stored exactly); and the per-added-stream slopes over the levels.
 */
import { readFileSync } from 'node:fs';
import {
  FRAME_MS,
  openSessions,
  sealSessions,
  SPEAKERS_PER_SESSION,
  streamAll,
  type MediaTarget,
} from './load-generator';
import type { BenchHost, HostMemory } from './stack';

/** After the window, every frame sent must be acknowledged within this time (no growing backlog). */
const CATCH_UP_IN_MS = 5000;

/** The process's CPU ticks (user + kernel, 1/100 s) from /proc. */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Kernel-mode ticks of the process (system calls: socket reads and writes, file writes, fsync). */
export function systemTicks(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[12]);
}

export function rssInBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

export interface LevelResult {
  readonly sessions: number;
  readonly streams: number;
  readonly framesSentPerStream: number;
  readonly isZeroGap: boolean;
  readonly sessionsKeptUp: number;
  readonly streamsStoredExactly: number;
  /**
   * Host CPU the window's frames cost, per second of the window: CPU used during the window plus
   * while catching up after it (a host behind its load does part of the window's work then).
   */
  readonly hostCpuPercentOfOneCore: number;
  /** Host CPU used during the window only, per second of it (understates a host that fell behind). */
  readonly hostCpuPercentOfOneCoreDuringWindow: number;
  readonly hostRssInBytes: number;
  /**
   * Live heap + external growth over the idle host, per live stream, after a full GC, once every
   * frame sent is acknowledged (sessions open, blocks in progress held).
   */
  readonly memoryPerStreamInBytes: number;
  /**
   * The same without the blocks waiting for storage (Put Blocks on their way when memory was
   * measured): what a stream holds when storage keeps up.
   */
  readonly memoryPerStreamWithoutStorageBacklogInBytes: number;
  /**
   * When memory was measured: Put Blocks on their way and the bytes they held, and all the stored
   * bytes of blocks storage had not taken yet (those plus blocks waiting behind a commit).
   */
  readonly storageBacklogAtMemoryProbe: {
    readonly putBlocksInFlight: number;
    readonly putBlockBytesInFlight: number;
    readonly blockBytesAwaitingStorage: number;
  };
  /** The same at the end of the window, including frames queued for the spool's next fsync. */
  readonly memoryAtWindowEndPerStreamInBytes: number;
  /** Live heap + external after a full GC, once caught up (for the per-added-stream slope). */
  readonly liveBytesAfterCatchUp: number;
  /** Host CPU time per 20 ms frame of one stream (all included), in microseconds. */
  readonly hostCpuMicrosecondsPerFrame: number;
  /** Share of that CPU spent in the kernel (socket reads and writes, spool writes and fsyncs). */
  readonly hostCpuSystemShare: number;
  /** Resident set growth per stream (includes allocator slack). */
  readonly rssPerStreamInBytes: number;
  readonly worstAckLagInMs: number;
  readonly generatorSlipInMs: number;
  /** Time after the window until every frame sent was acknowledged. */
  readonly catchUpInMs: number;
  /** Worst current ack lag across sessions, sampled once a second. */
  readonly ackLagEverySecondInMs: readonly number[];
}

/**
 * One level: opens `sessionsCount` sessions, streams them for `windowInMs`, waits up to 5 s for
 * every frame sent to be acknowledged, measures the host's CPU and memory, seals every session and
 * counts the streams stored exactly (one 20 ms of media per frame sent).
 */
export async function runLevel(
  host: BenchHost,
  target: MediaTarget,
  sessionsCount: number,
  windowInMs: number,
  baseline: HostMemory,
): Promise<LevelResult> {
  const base = host.controlUrl;
  const pid = host.child.pid!;
  const sessions = await openSessions(base, target, String(sessionsCount), sessionsCount);
  const started = performance.now();
  const cpuStart = cpuTicks(pid);
  const systemStart = systemTicks(pid);
  let rssPeak = 0;
  let slip = 0;
  const lagTimeline: number[] = [];
  await streamAll(sessions, windowInMs, (tick, behindInMs) => {
    slip = Math.max(slip, behindInMs);
    if (tick % 50 === 0) {
      rssPeak = Math.max(rssPeak, rssInBytes(pid));
      lagTimeline.push(Math.max(...sessions.map((s) => s.sent - s.acked)) * FRAME_MS);
    }
  });
  const elapsed = performance.now() - started;
  const windowTicks = cpuTicks(pid) - cpuStart;
  rssPeak = Math.max(rssPeak, rssInBytes(pid));
  // The memory probe's forced full GC is not part of what the frames cost.
  const probeStarted = cpuTicks(pid);
  const atWindowEnd = await host.askMemory(sessions.map((x) => x.sessionId));
  const probeTicks = cpuTicks(pid) - probeStarted;
  // The host kept up if everything sent is acknowledged within a few seconds of the end.
  const catchUpStarted = performance.now();
  const deadline = Date.now() + CATCH_UP_IN_MS;
  while (sessions.some((s) => s.acked < s.sent && !s.isClosed) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const catchUpInMs = Math.round(performance.now() - catchUpStarted);
  const cpuTicksUsed = cpuTicks(pid) - cpuStart - probeTicks;
  const systemTicksUsed = systemTicks(pid) - systemStart;
  const cpuPercent = (cpuTicksUsed / 100 / (elapsed / 1000)) * 100;
  // Every session still open, its writers holding their blocks in progress; the spool's queue of
  // not yet fsynced frames (large only when the host fell behind) is written by now.
  const loaded = await host.askMemory(sessions.map((x) => x.sessionId));
  let exact = 0;
  (await sealSessions(base, sessions)).forEach((summary, i) => {
    const sent = sessions[i]!.sent;
    exact += summary.streams.filter(
      (st) => st.durationInMs === sent * FRAME_MS && st.blockCount > 0,
    ).length;
  });
  for (const s of sessions) s.socket.destroy();
  const kept = sessions.filter((s) => s.acked === s.sent).length;
  const streams = sessionsCount * SPEAKERS_PER_SESSION;
  return {
    sessions: sessionsCount,
    streams,
    framesSentPerStream: sessions[0]?.sent ?? 0,
    isZeroGap: kept === sessionsCount && exact === streams,
    sessionsKeptUp: kept,
    streamsStoredExactly: exact,
    hostCpuPercentOfOneCore: Math.round(cpuPercent),
    hostCpuPercentOfOneCoreDuringWindow: Math.round((windowTicks / 100 / (elapsed / 1000)) * 100),
    hostRssInBytes: rssPeak,
    memoryPerStreamInBytes: Math.round(Math.max(0, loaded.live - baseline.live) / streams),
    memoryPerStreamWithoutStorageBacklogInBytes: Math.round(
      Math.max(0, loaded.live - loaded.blockBytesAwaitingStorage - baseline.live) / streams,
    ),
    storageBacklogAtMemoryProbe: {
      putBlocksInFlight: loaded.putBlocksInFlight,
      putBlockBytesInFlight: loaded.putBlockBytesInFlight,
      blockBytesAwaitingStorage: loaded.blockBytesAwaitingStorage,
    },
    rssPerStreamInBytes: Math.round(Math.max(0, loaded.rss - baseline.rss) / streams),
    memoryAtWindowEndPerStreamInBytes: Math.round(
      Math.max(0, atWindowEnd.live - baseline.live) / streams,
    ),
    liveBytesAfterCatchUp: loaded.live,
    hostCpuMicrosecondsPerFrame:
      Math.round((((cpuTicksUsed / 100) * 1e6) / (streams * (elapsed / FRAME_MS))) * 10) / 10,
    hostCpuSystemShare: Math.round((systemTicksUsed / Math.max(1, cpuTicksUsed)) * 100) / 100,
    worstAckLagInMs: Math.max(...sessions.map((s) => s.maxLagInFrames)) * FRAME_MS,
    generatorSlipInMs: slip,
    catchUpInMs,
    ackLagEverySecondInMs: lagTimeline,
  };
}

/**
 * Least-squares slopes over the zero-gap levels: what one more stream costs, without the host's
 * fixed share (timers, pools, connections to storage) that a per-stream average of a small level
 * spreads over few streams.
 */
export function perAddedStream(levels: readonly LevelResult[]): {
  memoryPerAddedStreamInBytes?: number;
  hostCpuMicrosecondsPerAddedFrame?: number;
} {
  if (levels.length < 2) return {};
  const slope = (ys: readonly number[]): number => {
    const xs = levels.map((l) => l.streams);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    const sxy = xs.reduce((sum, x, i) => sum + (x - mx) * (ys[i]! - my), 0);
    const sxx = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
    return sxy / sxx;
  };
  const framesPerStreamPerSecond = 1000 / FRAME_MS;
  return {
    memoryPerAddedStreamInBytes: Math.round(slope(levels.map((l) => l.liveBytesAfterCatchUp))),
    // CPU share of one core (percent) per stream, as microseconds per frame.
    hostCpuMicrosecondsPerAddedFrame:
      Math.round(
        (slope(levels.map((l) => l.hostCpuPercentOfOneCore)) / 100 / framesPerStreamPerSecond) *
          1e6 *
          10,
      ) / 10,
  };
}

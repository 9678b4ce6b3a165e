/**
 * Media ingest benchmark: the whole pipeline of the media host (TLS, protocol decode, spool with
 * batched fsync, hashing, AES-GCM, block staging and commits to Azurite in memory) in its own
 * process, pinned to one core with `taskset` when available (`ATTEST_BENCH_MEDIA_CORE`, default 0).
 * The load generator (this process) opens sessions of 4 unmixed speakers each and, every 20 ms
 * tick, sends each session one `audioUnmixed` frame holding the 4 speakers' 640-byte PCM buffers
 * (one socket write per session per tick, as the bridge does with the SDK's per-call buffers): real
 * time, never batched beyond one tick. Each buffer starts with the frame's sequence number (u32),
 * so stored audio can be checked frame by frame.
 *
 * For each level it reports: streams, whether every stream kept up (everything sent acknowledged
 * within 5 s after the window) and stored exactly what was sent (zero gaps, checked from the seal
 * summaries), the media host's CPU share (what the window's frames cost it, including catching up
 * after the window), its memory per live stream, and the worst ack lag.
 *
 * Then, at the highest level that passed (zero gaps at <= 70 % CPU), kill -9: the same number of sessions stream for
 * `ATTEST_BENCH_MEDIA_KILL_AFTER_MS` (default 7 s, past the first 5 s commit) on a fresh host (own
 * spool and ports), the host is killed
 * with SIGKILL, started again on the same spool and ports, and every session is sealed without
 * the source resending anything. Each stream's stored blocks are decrypted and checked: every
 * frame acknowledged before the kill must be there, in order, once; what was sent but not
 * acknowledged and is missing is the loss of a source that does not keep unacknowledged frames
 * (the bridge keeps them and resends from the host's `nextSequence`, so it loses nothing).
 * Blocks are of at least `ATTEST_BENCH_MEDIA_BLOCK_MS` (default 2000, the host's default) of media:
 * with 5 s commits a stream then costs 0.7 storage requests a second (1.2 with 1000).
 * The load generator runs on the cores the host is not pinned to; Azurite on any core (it stands
 * in for a storage service elsewhere). Each level also reports the stored block bytes storage has
 * not taken yet when memory is measured (Azurite's backlog), and after the levels a TLS server
 * that only reads the highest level's traffic on the host's core gives the receive floor.
 * Targets: >= 2,000 streams with zero gaps at <= 70 % CPU; <= 64 KB per stream; loss <= 2 s.
 * `ATTEST_BENCH_MEDIA_TRANSPORT`: `tls` (default; remote sources such as the simulator) or
 * `loopback` (plain TCP to the host's loopback listener, as the .NET bridge on the same VM sends).
 * Writes bench/results/media-ingest.json (`media-ingest-loopback.json` for loopback).
 *
 * Knobs: `ATTEST_BENCH_MEDIA_LEVELS` (sessions per level, default `50,125,250,500`),
 * `ATTEST_BENCH_MEDIA_WINDOW_MS` (default 12000), `ATTEST_BENCH_MEDIA_FLOOR=false` and
 * `ATTEST_BENCH_MEDIA_KILL=false` to skip those runs, `ATTEST_BENCH_MEDIA_NODE_ARGS` (the host's
 * extra Node flags), `ATTEST_BENCH_MEDIA_DEBUG=true` (the host's debug log on stderr).
 *
 * Rooms (bench/media-ingest/): `stack.ts` (Azurite, the pinned host process, the host role),
 * `load-generator.ts` (sessions and their frames), `measure-level.ts` (one level's figures),
 * `kill-recovery.ts`, `tls-floor.ts`, `report.ts` (the JSON). This file runs them in order.
 */
import { join } from 'node:path';
import { getFreePort } from '@attest/local/dist/azurite/azurite-process';
import type { MediaHostConfig } from '@attest/media-host/dist/config/media-host.config';
import { runKillRecovery, type KillRecoveryResult } from './media-ingest/kill-recovery';
import { SPEAKERS_PER_SESSION, type MediaTarget } from './media-ingest/load-generator';
import { runLevel, type LevelResult } from './media-ingest/measure-level';
import { writeReport } from './media-ingest/report';
import { ROLE_VARIABLE, runHost, startIngestStack, stopHost } from './media-ingest/stack';
import {
  measureTlsFloor,
  runTlsFloor,
  TLS_FLOOR_ROLE,
  type TlsFloorResult,
} from './media-ingest/tls-floor';

const LEVELS_IN_SESSIONS = (process.env.ATTEST_BENCH_MEDIA_LEVELS ?? '50,125,250,500')
  .split(',')
  .map(Number);
const WINDOW_IN_MS = Number(process.env.ATTEST_BENCH_MEDIA_WINDOW_MS ?? 12_000);
const TRANSPORT = process.env.ATTEST_BENCH_MEDIA_TRANSPORT === 'loopback' ? 'loopback' : 'tls';
const BLOCK_MIN_IN_MS = Number(process.env.ATTEST_BENCH_MEDIA_BLOCK_MS ?? 2000);
const KILL_AFTER_IN_MS = Number(process.env.ATTEST_BENCH_MEDIA_KILL_AFTER_MS ?? 7000);
const TLS_FLOOR_WINDOW_IN_MS = 10_000;

async function main(): Promise<void> {
  const stack = await startIngestStack({
    entryFile: __filename,
    blockMinDurationInMs: BLOCK_MIN_IN_MS,
  });
  const { config } = stack;
  try {
    // The host's loopback listener (for the loopback transport) is fixed by its configuration.
    const target: MediaTarget = {
      transport: TRANSPORT,
      loopbackPort: config.loopbackProtocolPort ?? 0,
    };
    const ready = await stack.startHost();
    await new Promise((r) => setTimeout(r, 500));
    const baseline = await ready.askMemory();
    const levels: LevelResult[] = [];
    // A level the host could not take at all (it stopped answering) ends the run; it is reported.
    let failedLevel: { streams: number; error: string } | undefined;
    let killRecovery: KillRecoveryResult | undefined;
    let tlsFloor: TlsFloorResult | undefined;
    const writeResults = () =>
      writeReport({
        transport: TRANSPORT,
        windowInMs: WINDOW_IN_MS,
        blockMinDurationInMs: BLOCK_MIN_IN_MS,
        isHostPinned: stack.isHostPinned,
        isGeneratorPinned: stack.isGeneratorPinned,
        otherCores: stack.otherCores,
        baseline,
        levels,
        ...(failedLevel !== undefined ? { failedLevel } : {}),
        ...(tlsFloor !== undefined ? { tlsFloor } : {}),
        ...(killRecovery !== undefined ? { killRecovery } : {}),
      });
    for (const sessions of LEVELS_IN_SESSIONS) {
      process.stdout.write(`  media-ingest: ${sessions * SPEAKERS_PER_SESSION} streams ...\n`);
      let result: LevelResult;
      try {
        result = await runLevel(ready, target, sessions, WINDOW_IN_MS, baseline);
      } catch (error) {
        failedLevel = { streams: sessions * SPEAKERS_PER_SESSION, error: (error as Error).message };
        process.stdout.write(
          `  media-ingest: ${failedLevel.streams} streams failed: ${failedLevel.error}\n`,
        );
        break;
      }
      process.stdout.write(`  ${JSON.stringify(result)}\n`);
      levels.push(result);
      writeResults();
      if (!result.isZeroGap) break;
    }
    // What receiving the highest level's traffic costs a TLS server that does nothing with it, on
    // the host's core: the part of the host's CPU no change to the host's own work can remove.
    if (process.env.ATTEST_BENCH_MEDIA_FLOOR !== 'false') {
      const floorSessions = Math.max(...LEVELS_IN_SESSIONS);
      process.stdout.write(
        `  media-ingest: TLS receive floor at ${floorSessions * SPEAKERS_PER_SESSION} streams ...\n`,
      );
      tlsFloor = await measureTlsFloor(
        stack,
        floorSessions,
        { cert: config.tlsCertFile, key: config.tlsKeyFile },
        TLS_FLOOR_WINDOW_IN_MS,
      );
      process.stdout.write(`  ${JSON.stringify(tlsFloor)}\n`);
      writeResults();
    }
    // The highest passing level: zero gaps at <= 70 % CPU (else the highest with zero gaps). A host
    // past its capacity acknowledges late, and what a kill loses is then that backlog.
    const killLevel =
      levels.filter((l) => l.isZeroGap && l.hostCpuPercentOfOneCore <= 70).at(-1) ??
      levels.filter((l) => l.isZeroGap).at(-1) ??
      levels[0];
    if (killLevel !== undefined && process.env.ATTEST_BENCH_MEDIA_KILL !== 'false') {
      process.stdout.write(`  media-ingest: kill -9 at ${killLevel.streams} streams ...\n`);
      try {
        // A fresh host with its own spool and ports: sessions of the levels before (or of a level
        // the host could not take) are not part of what the kill and the restart measure.
        await stopHost(ready.child);
        const killConfig: MediaHostConfig = {
          ...config,
          spoolDir: join(stack.dir, 'spool-kill'),
          controlPort: await getFreePort(),
          protocolPort: await getFreePort(),
        };
        const killHost = await stack.startHost(killConfig);
        killRecovery = await runKillRecovery(
          killHost,
          target,
          killLevel.sessions,
          KILL_AFTER_IN_MS,
          () => stack.startHost(killConfig),
          stack.azuriteConnectionString,
          stack.kekPrivateKeyPem,
        );
        process.stdout.write(`  ${JSON.stringify(killRecovery)}\n`);
      } catch (error) {
        process.stdout.write(`  media-ingest: kill -9 run failed: ${(error as Error).message}\n`);
        killRecovery = { failed: (error as Error).message } as unknown as KillRecoveryResult;
      }
    }
    process.stdout.write(`  media-ingest: ${JSON.stringify(writeResults().results)}\n`);
  } finally {
    await stack.close();
  }
}

if (process.env[ROLE_VARIABLE] === TLS_FLOOR_ROLE) {
  runTlsFloor();
} else if (process.env[ROLE_VARIABLE] === 'host') {
  runHost().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}

/**
 * The media ingest benchmark's TLS receive floor: a TLS server on the host's core (same
 * certificate) that only reads the highest level's traffic (one 4-speaker frame per connection per
 * 20 ms) and discards it. Its CPU is what receiving the protocol costs before the host does
 * anything with the frames (kernel TCP, OpenSSL, Node's stream plumbing): the part of the host's
 * CPU no change to the host's own work can remove.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { connect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import {
  audioFrame,
  FIRST_TIMESTAMP_100NS,
  SPEAKERS_PER_SESSION,
  FRAME_MS,
  sendEverySlot,
} from './load-generator';
import { cpuTicks, systemTicks } from './measure-level';
import type { IngestStack } from './stack';

/** The role of the floor's process. */
export const TLS_FLOOR_ROLE = 'tls-floor';

/**
 * The floor role: a TLS server (same certificate, same core) that reads the media connections and
 * discards what it reads. What it costs is what receiving the protocol's bytes costs before the
 * host does anything with them (kernel TCP, OpenSSL, Node's stream plumbing).
 */
export function runTlsFloor(): void {
  const { cert, key } = JSON.parse(process.env.ATTEST_BENCH_MEDIA_FLOOR_TLS ?? '{}') as {
    cert: string;
    key: string;
  };
  const server = createTlsServer(
    { cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.2' },
    (socket) => {
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
    },
  );
  server.listen(0, '127.0.0.1', () =>
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`),
  );
}

export interface TlsFloorResult {
  readonly sessions: number;
  readonly streams: number;
  /** CPU of a TLS server on the host's core that only reads the same traffic, per second. */
  readonly cpuPercentOfOneCore: number;
  readonly systemShare: number;
  readonly microsecondsPerStreamFrame: number;
  readonly microsecondsPerProtocolFrame: number;
}

/**
 * Sends `sessionsCount` connections' worth of the level's traffic (one 4-speaker frame per
 * connection per 20 ms) to a TLS server that discards it, for `windowInMs`, and reports its CPU.
 */
export async function measureTlsFloor(
  stack: Pick<IngestStack, 'spawnOnHostCore'>,
  sessionsCount: number,
  tls: { cert: string; key: string },
  windowInMs: number,
): Promise<TlsFloorResult> {
  const child = stack.spawnOnHostCore(TLS_FLOOR_ROLE, {
    ATTEST_BENCH_MEDIA_FLOOR_TLS: JSON.stringify(tls),
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (line) =>
        resolve((JSON.parse(line) as { port: number }).port),
      );
      child.once('exit', (code) => reject(new Error(`TLS floor server exited with ${code}`)));
    });
    const sockets: TLSSocket[] = [];
    for (let i = 0; i < sessionsCount; i += 25) {
      const batch = Array.from(
        { length: Math.min(25, sessionsCount - i) },
        () =>
          new Promise<TLSSocket>((resolve, reject) => {
            const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () =>
              resolve(s),
            );
            s.once('error', reject);
          }),
      );
      sockets.push(...(await Promise.all(batch)));
    }
    const frame = audioFrame('00000000-0000-4000-8000-000000000000', 1, FIRST_TIMESTAMP_100NS);
    const pid = child.pid!;
    const started = performance.now();
    const cpuStart = cpuTicks(pid);
    const systemStart = systemTicks(pid);
    await sendEverySlot(windowInMs, () => {
      // A copy per write, as the generator's encodeFrame makes a new buffer per frame.
      for (const s of sockets) s.write(Buffer.from(frame));
    });
    const elapsed = (performance.now() - started) / 1000;
    const used = (cpuTicks(pid) - cpuStart) / 100;
    const system = (systemTicks(pid) - systemStart) / 100;
    for (const s of sockets) s.destroy();
    const protocolFrames = sessionsCount * ((elapsed * 1000) / FRAME_MS);
    return {
      sessions: sessionsCount,
      streams: sessionsCount * SPEAKERS_PER_SESSION,
      cpuPercentOfOneCore: Math.round((used / elapsed) * 100),
      systemShare: Math.round((system / Math.max(used, 0.01)) * 100) / 100,
      microsecondsPerStreamFrame:
        Math.round(((used * 1e6) / (protocolFrames * SPEAKERS_PER_SESSION)) * 10) / 10,
      microsecondsPerProtocolFrame: Math.round(((used * 1e6) / protocolFrames) * 10) / 10,
    };
  } finally {
    child.kill('SIGKILL');
  }
}

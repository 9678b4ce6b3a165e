/**
 * Benchmark of the local Functions host's HTTP path (loopback, real `@azure/functions`
 * invocation model): latency of a JSON echo, p50/p99, one request at a time and with 16 in
 * flight, and requests/s under that load. Writes bench/results/http-host.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { startFunctionsHost } from '@attest/local/dist/host/functions-host';

const SEQUENTIAL = 500;
const CONCURRENT = 16;
const CONCURRENT_TOTAL = 2000;
const WARMUP = 50;

function writeApp(dir: string): string {
  const functions = JSON.stringify(require.resolve('@azure/functions'));
  const entry = join(dir, 'index.js');
  writeFileSync(
    entry,
    `const { app } = require(${functions});
app.http('benchEcho', { route: 'echo/{id:int}', methods: ['POST'], handler: async (request) => {
  const body = await request.json();
  return { jsonBody: { id: request.params.id, body } };
} });
`,
  );
  return entry;
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Number((sorted[Math.max(0, index)] ?? 0).toFixed(2));
}

async function timedRequest(url: string, payload: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    body: payload,
    headers: { 'content-type': 'application/json' },
  });
  if (response.status !== 200) throw new Error(`unexpected status ${response.status}`);
  await response.arrayBuffer();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'attest-http-bench-'));
  const host = await startFunctionsHost({
    appPath: writeApp(dir),
    durable: false,
    logSink: () => undefined,
    appSettings: {},
  });
  const payload = JSON.stringify({ callId: 'c-1', items: Array.from({ length: 20 }, (_, i) => i) });
  const url = `${host.http.functionsUrl}/echo/7`;
  try {
    for (let i = 0; i < WARMUP; i++) await timedRequest(url, payload);

    const sequential: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) sequential.push(await timedRequest(url, payload));
    sequential.sort((a, b) => a - b);

    const loaded: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENT }, async () => {
        while (next < CONCURRENT_TOTAL) {
          next += 1;
          loaded.push(await timedRequest(url, payload));
        }
      }),
    );
    const elapsedInMs = performance.now() - started;
    loaded.sort((a, b) => a - b);

    const result = {
      name: 'http-host',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      sequential: {
        requests: SEQUENTIAL,
        p50InMs: percentile(sequential, 50),
        p99InMs: percentile(sequential, 99),
      },
      concurrent: {
        inFlight: CONCURRENT,
        requests: CONCURRENT_TOTAL,
        requestsPerSecond: Number(((CONCURRENT_TOTAL / elapsedInMs) * 1000).toFixed(1)),
        p50InMs: percentile(loaded, 50),
        p99InMs: percentile(loaded, 99),
      },
    };
    mkdirSync(join(__dirname, '..', 'results'), { recursive: true });
    writeFileSync(
      join(__dirname, '..', 'results', 'http-host.json'),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`http-host bench failed: ${(error as Error).message}\n`);
  process.exit(1);
});

/**
 * Benchmark of the local durable engine (Azurite in memory, system clock, real SDK):
 *  - throughput: orchestrations/s for a three-activity chain with 100 orchestrations in flight;
 *  - latency from `startNew` (real DurableClient over the management endpoint) to the first
 *    activity running, p50/p99: at light load (one at a time), with 100 orchestrations in flight
 *    that wait for events (the recorder's call lifecycles), and inside the busy closed loop above
 *    (where latency is about 100 / throughput by Little's law).
 * Writes bench/results/durable.json. Target: light-load start-to-first-activity p99 < 100 ms.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

import { startAzurite } from '@attest/local/dist/azurite/azurite-process';
import { createLocalDurableEngine, type LocalDurableEngine } from '@attest/local/dist/durable';
import { loadFunctionApp } from '@attest/local/dist/host/function-app';
import type { HostLogRecord } from '@attest/local/dist/host/log-sink';

const IN_FLIGHT = 100;
const THROUGHPUT_ORCHESTRATIONS = Number(process.env.ATTEST_BENCH_DURABLE_ORCHESTRATIONS ?? 400);
const LIGHT_SAMPLES = Number(process.env.ATTEST_BENCH_DURABLE_LIGHT_SAMPLES ?? 100);
const TARGET_P99_IN_MS = 100;

/** The benchmark's app, written as plain JS so the local host loads it like any app. */
function writeApp(dir: string): string {
  const functions = JSON.stringify(require.resolve('@azure/functions'));
  const durable = JSON.stringify(require.resolve('durable-functions'));
  const entry = join(dir, 'index.js');
  writeFileSync(
    entry,
    `const { performance } = require('node:perf_hooks');
require(${functions});
const df = require(${durable});
globalThis.__benchFirstActivity = globalThis.__benchFirstActivity || new Map();
df.app.activity('bStep1', { handler: (key) => { globalThis.__benchFirstActivity.set(key, performance.now()); return key + '-1'; } });
df.app.activity('bStep2', { handler: (value) => value + '-2' });
df.app.activity('bStep3', { handler: (value) => value + '-3' });
df.app.orchestration('bWaiting', function* (context) {
  return yield context.df.waitForExternalEvent('end');
});
df.app.orchestration('bChain', function* (context) {
  const a = yield context.df.callActivity('bStep1', context.df.getInput());
  const b = yield context.df.callActivity('bStep2', a);
  return yield context.df.callActivity('bStep3', b);
});
`,
  );
  return entry;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

function summary(samples: number[]): {
  samples: number;
  p50InMs: number;
  p99InMs: number;
  maxInMs: number;
} {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    samples: sorted.length,
    p50InMs: round(percentile(sorted, 50)),
    p99InMs: round(percentile(sorted, 99)),
    maxInMs: round(sorted[sorted.length - 1] ?? NaN),
  };
}

async function main(): Promise<void> {
  const azurite = await startAzurite({ inMemory: true });
  const dir = mkdtempSync(join(tmpdir(), 'attest-durable-bench-'));
  const completions = new Map<string, () => void>();
  const logSink = (record: HostLogRecord): void => {
    if (record.message === 'orchestration completed' && typeof record.instanceId === 'string') {
      completions.get(record.instanceId)?.();
    } else if (record.level === 'warn' || record.level === 'error') {
      process.stderr.write(`${JSON.stringify(record)}\n`);
    }
  };
  let engine: LocalDurableEngine | undefined;
  try {
    const app = await loadFunctionApp(writeApp(dir), { logSink: () => undefined });
    engine = createLocalDurableEngine({
      connectionString: azurite.connectionString,
      taskHubName: 'durablebench',
      logSink,
    });
    const running = engine;
    app.setDurableClientData(() => running.clientBindingData());
    await engine.start(app);
    const input = df.input.durableClient();
    const context = new InvocationContext({ options: { extraInputs: [input] } });
    context.extraInputs.set(input, engine.clientBindingData());
    const client = df.getClient(context);
    const firstActivity = (globalThis as { __benchFirstActivity?: Map<string, number> })
      .__benchFirstActivity as Map<string, number>;

    let sequence = 0;
    const runOne = async (): Promise<number> => {
      const id = `bench-${sequence++}`;
      const done = new Promise<void>((resolve) => completions.set(id, resolve));
      const startedAt = performance.now();
      await client.startNew('bChain', { instanceId: id, input: id });
      await done;
      completions.delete(id);
      const first = firstActivity.get(id);
      if (first === undefined) throw new Error(`first activity of ${id} did not run`);
      return first - startedAt;
    };

    // Warm-up: module loading, table creation, JIT.
    for (let i = 0; i < 20; i++) await runOne();
    firstActivity.clear();

    // Light load: one orchestration at a time.
    const light: number[] = [];
    for (let i = 0; i < LIGHT_SAMPLES; i++) light.push(await runOne());

    // The recorder's shape: IN_FLIGHT call lifecycles waiting for events while new ones start.
    const waitingIds: string[] = [];
    for (let i = 0; i < IN_FLIGHT; i++) {
      const id = `waiting-${i}`;
      waitingIds.push(id);
      await client.startNew('bWaiting', { instanceId: id });
    }
    const withWaiting: number[] = [];
    for (let i = 0; i < LIGHT_SAMPLES; i++) withWaiting.push(await runOne());
    await Promise.all(waitingIds.map((id) => client.raiseEvent(id, 'end', null)));

    // Throughput: keep IN_FLIGHT orchestrations running until THROUGHPUT_ORCHESTRATIONS completed.
    const loaded: number[] = [];
    let started = 0;
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      while (started < THROUGHPUT_ORCHESTRATIONS) {
        started += 1;
        loaded.push(await runOne());
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => worker()));
    const elapsedInMs = performance.now() - t0;

    const lightSummary = summary(light);
    const result = {
      benchmark: 'durable',
      recordedAt: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        availableParallelism: availableParallelism(),
        node: process.version,
        loadAverage1m: Math.round((loadavg()[0] ?? 0) * 10) / 10,
      },
      throughput: {
        inFlight: IN_FLIGHT,
        orchestrations: THROUGHPUT_ORCHESTRATIONS,
        activitiesPerOrchestration: 3,
        elapsedInMs: Math.round(elapsedInMs),
        orchestrationsPerSecond:
          Math.round((THROUGHPUT_ORCHESTRATIONS / elapsedInMs) * 1000 * 10) / 10,
        activitiesPerSecond:
          Math.round(((3 * THROUGHPUT_ORCHESTRATIONS) / elapsedInMs) * 1000 * 10) / 10,
      },
      startToFirstActivity: {
        lightLoad: lightSummary,
        with100WaitingInFlight: summary(withWaiting),
        with100BusyInFlight: summary(loaded),
      },
      targetP99InMs: TARGET_P99_IN_MS,
      meetsTarget: {
        lightLoad: lightSummary.p99InMs < TARGET_P99_IN_MS,
        with100WaitingInFlight: summary(withWaiting).p99InMs < TARGET_P99_IN_MS,
      },
    };
    const resultsDir = join(__dirname, '..', 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'durable.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await engine?.close();
    await azurite.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `durable bench failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  },
);

/**
 * Benchmark of the recorder's call path through the whole local stack (the function app in the
 * local Functions host with the local durable engine in this process; the Teams simulator and one
 * media host in a peer process; two in-memory Azurite processes, one per storage account as
 * deployed). Phases, each its own object in the result: steady 5, 10 and 20 invites/s
 * (ATTEST_BENCH_RATES) for ATTEST_BENCH_SECONDS each, then a burst of ATTEST_BENCH_BURST. Per
 * phase: invite → answer p50/p99/max and the count later than 5 s; established → recording status
 * 200 p50/p99/max; storage requests per call by account, service and operation (function app and
 * media host; independent of load); durable orchestrator episodes and function invocations per
 * call; CPU seconds per call per process (idle CPU subtracted); calls stored with no media.
 * Targets at 20/s: answer p99 ≤ 250 ms, max ≤ 1 s, none later than 5 s; recording status p99 ≤
 * 300 ms; whole-stack CPU per call ≤ 60 ms; no call stored as `recorded` without media.
 * Writes bench/results/recorder-answer.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join, resolve } from 'node:path';

import { TableClient, odata } from '@azure/data-tables';
import { startAzurite } from '@attest/local/dist/azurite/azurite-process';
import { startFunctionsHost } from '@attest/local/dist/host/functions-host';
import { ensureLocalCa } from '@attest/local/dist/simulator';

import {
  countStorageRequests,
  perCall as storagePerCall,
  totalOf,
  type StorageCounts,
} from './storage-requests';
import { functionAppSettings, simulatorControl } from './local-stack-fixture';
import {
  cpuSecondsOf,
  directory,
  FIXTURE,
  freePort,
  OTHER,
  percentile,
  RECORDED,
  sleep,
  summarise,
  TENANT,
} from './recorder-answer-support';

const ROOT = resolve(__dirname, '..', '..');
const CONTROL_KEY = `bench-${randomUUID()}`;
// Overridable for exploration and smoke runs (ATTEST_BENCH_RATES, ATTEST_BENCH_SECONDS,
// ATTEST_BENCH_BURST, 0 for none); defaults are the phases.
const STEADY_RATES_PER_S = (process.env.ATTEST_BENCH_RATES ?? '5,10,20')
  .split(',')
  .filter((r) => r.trim() !== '')
  .map(Number);
const STEADY_SECONDS = Number(process.env.ATTEST_BENCH_SECONDS ?? 10);
const BURST = Number(process.env.ATTEST_BENCH_BURST ?? 100);
/** Time after a phase's last invite for its calls (1.5 s each) to finish their lifecycles. */
const DRAIN_IN_MS = Number(process.env.ATTEST_BENCH_DRAIN_MS ?? 12_000);

async function main(): Promise<void> {
  const caDir = join(ROOT, '.data', 'ca');
  ensureLocalCa(caDir);
  const caCert = join(caDir, 'ca-cert.pem');
  if (
    process.env.NODE_EXTRA_CA_CERTS === undefined ||
    resolve(process.env.NODE_EXTRA_CA_CERTS) !== resolve(caCert)
  ) {
    // Node reads extra CAs only at start: run again with the simulator's CA trusted.
    const child = spawnSync(process.execPath, [__filename], {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caCert },
    });
    process.exit(child.status ?? 1);
  }

  // Two storage accounts, as deployed and as `npm start` runs them: recordings (the app's data,
  // the media host's blobs) and host storage (the durable task hub).
  const azurite = await startAzurite({ inMemory: true });
  const hostAzurite = await startAzurite({ inMemory: true });
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // The simulator and the media host run in their own process (recorder-answer-peer.js), so the
  // function app's event loop is measured on its own.
  const peer = spawn(process.execPath, [join(__dirname, 'recorder-answer-peer.js')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      ATTEST_BENCH_PEER: JSON.stringify({
        caDir,
        functionsBaseUrl: baseUrl,
        storageConnection: azurite.connectionString,
        controlKey: CONTROL_KEY,
        directory: directory(`${baseUrl}/api/calling`),
      }),
    },
  });
  const sim = await new Promise<{
    url: string;
    controlToken: string;
    webhookOpenIdConfigurationUrl: string;
  }>((done, fail) => {
    let buffered = '';
    peer.once('exit', (code) => fail(new Error(`bench peer exited with ${code}`)));
    peer.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n') && line !== undefined) {
        const ready = JSON.parse(line) as {
          simUrl: string;
          controlToken: string;
          webhookMetadataUrl: string;
        };
        done({
          url: ready.simUrl,
          controlToken: ready.controlToken,
          webhookOpenIdConfigurationUrl: ready.webhookMetadataUrl,
        });
      }
    });
  });
  // Later lines from the peer answer `loop` requests (its event-loop delay).
  const peerLines: string[] = [];
  let peerBuffer = '';
  peer.stdout.on('data', (chunk: Buffer) => {
    peerBuffer += chunk.toString();
    const lines = peerBuffer.split('\n');
    peerBuffer = lines.pop() ?? '';
    peerLines.push(...lines);
  });
  const peerEventLoopDelay = async (): Promise<unknown> => {
    const before = peerLines.length;
    peer.stdin.write('loop\n');
    for (let i = 0; i < 50 && peerLines.length === before; i += 1) await sleep(100);
    const line = peerLines.slice(before).find((l) => l.includes('eventLoopDelayInMs'));
    return line === undefined
      ? undefined
      : (JSON.parse(line) as { eventLoopDelayInMs: unknown }).eventLoopDelayInMs;
  };
  const work = mkdtempSync(join(tmpdir(), 'attest-bench-rec-'));
  Object.assign(process.env, {
    ...functionAppSettings(FIXTURE, sim, {
      storageConnection: azurite.connectionString,
      baseUrl,
      controlKey: CONTROL_KEY,
    }),
    ATTEST_KEK_PRIVATE_KEY_FILE: join(work, 'kek-private.pem'),
    ATTEST_KEK_PUBLIC_KEY_FILE: join(work, 'kek-public.pem'),
    ATTEST_LEDGER_SIGNING_KEY_FILE: join(work, 'ledger-signing.pem'),
  });
  const hostLines: string[] = [];
  const failedLines: string[] = [];
  // Warnings and errors of the function app, counted by message.
  const problemLines = new Map<string, number>();
  // Every function app log line, for diagnosis (ATTEST_BENCH_LOG_FILE).
  const logFile = process.env.ATTEST_BENCH_LOG_FILE;
  // Function invocations by name (an orchestrator invocation is one durable episode), and the
  // finalized interactions (outcome, stream count) in the order they were finalized.
  const invocations: Record<string, number> = {};
  const host = await startFunctionsHost({
    appPath: join(ROOT, 'functions'),
    port,
    logSink: (record: unknown) => {
      const text = JSON.stringify(record);
      if (logFile !== undefined) appendFileSync(logFile, `${text}\n`);
      const { message, functionName } = record as { message?: unknown; functionName?: unknown };
      if (message === 'function invoked' && typeof functionName === 'string')
        invocations[functionName] = (invocations[functionName] ?? 0) + 1;

      if (text.includes('invite answered')) hostLines.push(text);
      if (text.includes('answer failed')) failedLines.push(text);
      else if (/"level\\?":\\?"(warn|error)/.test(text)) {
        const message = /message\\?":\\?"([a-zA-Z][^"\\]+)/.exec(text)?.[1] ?? 'unknown';
        problemLines.set(message, (problemLines.get(message) ?? 0) + 1);
        if (process.env.ATTEST_BENCH_DEBUG === 'true') process.stderr.write(`${text}\n`);
      }
    },
    appSettings: { ...process.env, AzureWebJobsStorage: hostAzurite.connectionString },
    hostSettings: { taskHubName: `Bench${randomUUID().replace(/-/g, '').slice(0, 10)}` },
  });

  const simControl = simulatorControl(sim);
  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
    (await simControl<T>(method, path, body)).body;
  let startFailures = 0;
  const startCall = (): Promise<unknown> =>
    control('POST', '/_sim/calls', {
      tenantId: TENANT,
      kind: 'p2p',
      durationInMs: 1_500,
      participants: [
        {
          user: RECORDED,
          role: 'caller',
          // Speaks the whole call: a call then ends `noMedia` only when its recording status came
          // after the call ended. (Speech in the first 500 ms only, as before 2026-12-07, ended
          // before most recording starts, so most calls rightly ended `noMedia`: unmixed audio has
          // no buffer for a silent participant.)
          timeline: [{ atInMs: 0, action: 'speak', durationInMs: 1_500 }],
        },
        { user: OTHER, role: 'callee' },
      ],
    }).catch(() => {
      // Counted, not fatal: under CPU starvation the simulator's control API can time out.
      startFailures += 1;
    });

  // The slowest answers, with the part spent inside the webhook handler (the rest is transport
  // and the simulator's and host's event loops).
  const slowest: { callId: string; totalInMs: number; [detail: string]: unknown }[] = [];
  const handlerLatencyOf = (callId: string): number | undefined => {
    const line =
      hostLines.find((l) => l.includes(callId)) ?? failedLines.find((l) => l.includes(callId));
    const match = line === undefined ? null : /answerLatencyInMs\\?":(\d+)/.exec(line);
    return match === null ? undefined : Number(match[1]);
  };
  // Recording start, per call, reported for each measured phase: `established` delivered →
  // `updateRecordingStatus` received, and answer received → `updateRecordingStatus` received. The
  // media host stores media only after the latter; the simulator connects media right after the
  // answer, so the second is the window in which a call's media is not stored. (The simulator
  // delivers a call's notifications one after another: `established` leaves only once the
  // invite's webhook answered, so the first figure leaves out a slow webhook response.)
  interface Distribution {
    calls: number;
    p50: number;
    p99: number;
    max: number;
  }
  interface Measured {
    readonly latencies: number[];
    readonly recordingStart: Distribution & { establishedWithoutRecordingStatus: number };
    readonly answerToRecordingStatus: Distribution;
  }
  const distribution = (values: readonly number[]): Distribution => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      calls: sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? 0,
    };
  };
  const measure = async (since: string): Promise<Measured> => {
    const recordingStartDelays: number[] = [];
    let establishedWithoutRecordingStatus = 0;
    const deliveries = await control<
      { callId: string; kind: string; at: string; status?: number; error?: string }[]
    >('GET', '/_sim/deliveries');
    const requests = await control<{ callId?: string; operation: string; at: string }[]>(
      'GET',
      '/_sim/graph-requests',
    );
    const recordingStatusAt = new Map<string, number>();
    for (const r of requests)
      if (
        r.operation === 'updateRecordingStatus' &&
        r.callId !== undefined &&
        !recordingStatusAt.has(r.callId)
      )
        recordingStatusAt.set(r.callId, Date.parse(r.at));
    for (const d of deliveries) {
      if (d.kind !== 'established' || d.at < since) continue;
      const at = recordingStatusAt.get(d.callId);
      if (at === undefined) establishedWithoutRecordingStatus += 1;
      else recordingStartDelays.push(at - Date.parse(d.at));
    }
    const answers = new Map<string, number>();
    for (const r of requests)
      if (r.operation === 'answer' && r.callId !== undefined && !answers.has(r.callId))
        answers.set(r.callId, Date.parse(r.at));
    const latencies: number[] = [];
    for (const d of deliveries) {
      if (d.kind !== 'invite' || d.at < since) continue;
      const answeredAt = answers.get(d.callId);
      if (answeredAt === undefined) continue;
      latencies.push(answeredAt - Date.parse(d.at));
      slowest.push({
        callId: d.callId,
        totalInMs: answeredAt - Date.parse(d.at),
        insideHandlerInMs: handlerLatencyOf(d.callId) ?? null,
        inviteStatus: d.status ?? null,
        inviteError: d.error ?? null,
        deliveries: deliveries
          .filter((x) => x.callId === d.callId)
          .map((x) => `${x.kind}@${x.at.slice(17, 23)}:${x.status ?? x.error ?? '?'}`),
        graphRequests: requests
          .filter((r) => r.callId === d.callId)
          .map((r) => `${r.operation}@${r.at.slice(17, 23)}`),
      });
    }
    const answerToRecordingStatus: number[] = [];
    for (const d of deliveries) {
      if (d.kind !== 'invite' || d.at < since) continue;
      const answeredAt = answers.get(d.callId);
      const statusAt = recordingStatusAt.get(d.callId);
      if (answeredAt !== undefined && statusAt !== undefined)
        answerToRecordingStatus.push(statusAt - answeredAt);
    }
    return {
      latencies,
      recordingStart: { ...distribution(recordingStartDelays), establishedWithoutRecordingStatus },
      answerToRecordingStatus: distribution(answerToRecordingStatus),
    };
  };

  try {
    // Warm up: first heartbeat, keys, tokens, JIT.
    await sleep(1_500);
    for (let i = 0; i < 5; i += 1) await startCall();
    await sleep(4_000);

    // Where the CPU goes: this process (function app, local Functions host, durable engine), the
    // peer (simulator and media host) and Azurite, over the steady phase and its drain.
    const cpuNow = (): Record<string, number> => ({
      functionApp: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
      simulatorAndMediaHost: cpuSecondsOf(peer.pid),
      azurite: cpuSecondsOf(azurite.pid) + cpuSecondsOf(hostAzurite.pid),
    });
    await peerEventLoopDelay();
    // Idle CPU per second of each process (heartbeats, polling), taken off the per-call figures.
    const idleStart = cpuNow();
    const idleStartedAt = Date.now();
    await sleep(5_000);
    const idleEnd = cpuNow();
    const idlePerSecond = Object.fromEntries(
      Object.keys(idleEnd).map((name) => [
        name,
        ((idleEnd[name] ?? 0) - (idleStart[name] ?? 0)) / ((Date.now() - idleStartedAt) / 1000),
      ]),
    );
    /** CPU seconds per call between two readings, less the idle share of that time. */
    const perCall = (
      before: Record<string, number>,
      after: Record<string, number>,
      seconds: number,
      calls: number,
    ): Record<string, number> =>
      Object.fromEntries(
        Object.keys(after).map((name) => [
          name,
          Number(
            Math.max(
              0,
              ((after[name] ?? 0) - (before[name] ?? 0) - (idlePerSecond[name] ?? 0) * seconds) /
                calls,
            ).toFixed(4),
          ),
        ]),
      );
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const storage = countStorageRequests({
      recordings: azurite.connectionString,
      hostStorage: hostAzurite.connectionString,
    });
    const peerStorage = async (): Promise<StorageCounts> => {
      const before = peerLines.length;
      peer.stdin.write('storage\n');
      for (
        let i = 0;
        i < 50 && !peerLines.slice(before).some((l) => l.includes('storageRequests'));
        i += 1
      )
        await sleep(100);
      const line = peerLines.slice(before).find((l) => l.includes('storageRequests'));
      return line === undefined
        ? {}
        : (JSON.parse(line) as { storageRequests: StorageCounts }).storageRequests;
    };
    const perCallOf = (
      before: Readonly<Record<string, number>>,
      after: Readonly<Record<string, number>>,
      calls: number,
    ): Record<string, number> =>
      Object.fromEntries(
        Object.keys(after)
          .filter((name) => (after[name] ?? 0) > (before[name] ?? 0))
          .sort()
          .map((name) => [
            name,
            Number((((after[name] ?? 0) - (before[name] ?? 0)) / calls).toFixed(2)),
          ]),
      );
    const interactionsTable = TableClient.fromConnectionString(
      azurite.connectionString,
      'interactions',
      { allowInsecureConnection: true },
    );
    const streamsTable = TableClient.fromConnectionString(
      azurite.connectionString,
      'interactionstreams',
      { allowInsecureConnection: true },
    );
    /** The interactions invited since `since`: outcome and how many streams hold media. */
    const storedSince = async (
      since: string,
    ): Promise<{ outcome: string; streamCount: number }[]> => {
      const stored: { outcome: string; streamCount: number }[] = [];
      for await (const row of interactionsTable.listEntities<{ outcome?: string }>({
        queryOptions: { filter: odata`invitedAt ge ${since}` },
      })) {
        let streamCount = 0;
        try {
          for await (const stream of streamsTable.listEntities<{ bytes?: number }>({
            queryOptions: { filter: odata`PartitionKey eq ${row.rowKey ?? ''}` },
          }))
            if ((stream.bytes ?? 0) > 0) streamCount += 1;
        } catch (error) {
          // No stream stored yet in the whole run: the table does not exist.
          if ((error as { statusCode?: number }).statusCode !== 404) throw error;
        }
        stored.push({ outcome: row.outcome ?? 'unknown', streamCount });
      }
      return stored;
    };
    /**
     * One phase: `count` invites (paced at `rate` per second, or all at once), then time for
     * their lifecycles to finish; everything the issue asks for, per call.
     */
    const runPhase = async (name: string, count: number, rate?: number) => {
      const since = new Date().toISOString();
      const cpuStart = cpuNow();
      const startedAt = Date.now();
      const storageStart = storage.snapshot();
      const peerStorageStart = await peerStorage();
      const invocationsStart = { ...invocations };
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < count; i += 1) {
        if (rate !== undefined) {
          const wait = startedAt + (i * 1000) / rate - Date.now();
          if (wait > 0) await sleep(wait);
        }
        pending.push(startCall());
      }
      await Promise.all(pending);
      await sleep(DRAIN_IN_MS);
      const cpuSecondsPerCall = perCall(cpuStart, cpuNow(), (Date.now() - startedAt) / 1000, count);
      const measured = await measure(since);
      const functionApp = storagePerCall(storageStart, storage.snapshot(), count);
      const mediaHost = storagePerCall(peerStorageStart, await peerStorage(), count);
      const byFunction = perCallOf(invocationsStart, invocations, count);
      // After the storage counts: these reads are the bench's own.
      const stored = await storedSince(since);
      const outcomes: Record<string, number> = {};
      for (const call of stored) outcomes[call.outcome] = (outcomes[call.outcome] ?? 0) + 1;
      const summary = summarise(measured.latencies, count);
      const result = {
        phase: name,
        ...(rate === undefined ? { burst: count } : { ratePerS: rate, seconds: count / rate }),
        invites: count,
        inviteToAnswerInMs: {
          answered: summary.answered,
          p50: summary.p50InMs,
          p99: summary.p99InMs,
          max: summary.maxInMs,
          laterThan5sCount: summary.laterThan5sCount,
        },
        establishedToRecordingStatusInMs: measured.recordingStart,
        answerToRecordingStatusInMs: measured.answerToRecordingStatus,
        storageRequestsPerCall: {
          total: Number((totalOf(functionApp) + totalOf(mediaHost)).toFixed(2)),
          functionApp,
          mediaHost,
        },
        durableEpisodesPerCall: Number(
          Object.entries(byFunction)
            .filter(([fn]) => fn.startsWith('callLifecycle'))
            .reduce((sum, [, n]) => sum + n, 0)
            .toFixed(2),
        ),
        functionInvocationsPerCall: byFunction,
        cpuSecondsPerCall: {
          ...cpuSecondsPerCall,
          wholeStack: Number(
            Object.values(cpuSecondsPerCall)
              .reduce((sum, n) => sum + n, 0)
              .toFixed(4),
          ),
        },
        /** Interactions of the phase finished with a final outcome (others still in progress). */
        storedCalls: stored.filter((c) => c.outcome !== 'inProgress').length,
        storedWithNoMedia: stored.filter((c) => c.outcome !== 'inProgress' && c.streamCount === 0)
          .length,
        storedAsRecordedWithoutMedia: stored.filter(
          (c) =>
            (c.outcome === 'recorded' || c.outcome === 'recordedWithGaps') && c.streamCount === 0,
        ).length,
        outcomes,
      };
      process.stderr.write(
        `  recorder-answer ${name}: answer p99 ${summary.p99InMs} ms, recording status p99 ${measured.recordingStart.p99} ms, ${result.storageRequestsPerCall.total} storage requests and ${result.durableEpisodesPerCall} episodes per call\n`,
      );
      return result;
    };
    const phases: Awaited<ReturnType<typeof runPhase>>[] = [];
    for (const rate of STEADY_RATES_PER_S)
      phases.push(await runPhase(`steady${rate}PerS`, rate * STEADY_SECONDS, rate));
    if (BURST > 0) phases.push(await runPhase(`burst${BURST}`, BURST));
    const simulatorAndMediaHostEventLoopDelayInMs = await peerEventLoopDelay();
    loopDelay.disable();
    const functionAppEventLoopDelayInMs = {
      p50: Number((loopDelay.percentile(50) / 1e6).toFixed(1)),
      p99: Number((loopDelay.percentile(99) / 1e6).toFixed(1)),
      max: Number((loopDelay.max / 1e6).toFixed(1)),
    };

    const phase = (name: string): number[] =>
      hostLines
        .map((l) => Number(new RegExp(`${name}\\\\?":(\\d+)`).exec(l)?.[1] ?? NaN))
        .filter((n) => Number.isFinite(n))
        .sort((a, b) => a - b);
    const insideFunctionApp = Object.fromEntries(
      ['answerLatencyInMs', 'insertInMs', 'reserveInMs', 'graphAnswerInMs'].map((name) => {
        const values = phase(name);
        return [
          name,
          { p50: percentile(values, 50), p99: percentile(values, 99), max: values.at(-1) ?? 0 },
        ];
      }),
    );
    const result = {
      name: 'recorder-answer',
      description:
        'policy invite → answer, established → recording status, and what each call costs (local stack)',
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      targets: {
        at20PerS: {
          inviteToAnswerP99InMs: 250,
          inviteToAnswerMaxInMs: 1_000,
          laterThan5sCount: 0,
          establishedToRecordingStatusP99InMs: 300,
          wholeStackCpuSecondsPerCall: 0.06,
        },
        storedAsRecordedWithoutMedia: 0,
      },
      loadAverage1m: loadavg()[0],
      callStartFailures: startFailures,
      phasesInsideFunctionApp: insideFunctionApp,
      idleCpuSecondsPerSecond: Object.fromEntries(
        Object.entries(idlePerSecond).map(([name, value]) => [name, Number(value.toFixed(4))]),
      ),
      functionAppWarningsAndErrors: Object.fromEntries(problemLines),
      slowestAnswers: [...slowest].sort((a, b) => b.totalInMs - a.totalInMs).slice(0, 5),
      functionAppEventLoopDelayInMs,
      simulatorAndMediaHostEventLoopDelayInMs,
      phases,
    };
    // Every conversation's events as the simulator saw them, for diagnosis (ATTEST_BENCH_TRACE_FILE).
    const traceFile = process.env.ATTEST_BENCH_TRACE_FILE;
    if (traceFile !== undefined)
      writeFileSync(
        traceFile,
        `${JSON.stringify({
          conversations: await control<unknown[]>('GET', '/_sim/calls'),
          deliveries: await control<unknown[]>('GET', '/_sim/deliveries'),
          graphRequests: await control<unknown[]>('GET', '/_sim/graph-requests'),
        })}\n`,
      );
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(
      join(ROOT, 'bench', 'results', 'recorder-answer.json'),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    if (peer.exitCode === null) {
      const exited = new Promise((done) => peer.once('exit', done));
      peer.kill('SIGTERM');
      await exited;
    }
    await host.close().catch(() => undefined);
    await azurite.close().catch(() => undefined);
    await hostAzurite.close().catch(() => undefined);
  }
  if (!existsSync(join(ROOT, 'bench', 'results', 'recorder-answer.json'))) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(
      `recorder-answer bench failed: ${String(error)} ${String((error as { cause?: unknown }).cause)}\n`,
    );
    process.exit(1);
  },
);

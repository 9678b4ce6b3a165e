/**
 * Sample orchestrations for the local durable engine's tests and benchmark, registered the way
 * product code registers them (`df.app.orchestration` / `df.app.activity` / `app.http`).
 * Orchestrators follow the house rules: synchronous generators, time from
 * `currentUtcDateTime`, settings in their input.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { app, type HttpRequest, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';

const HOUR_IN_MS = 3600_000;

// ------------------------------------------------------------------ activities

df.app.activity('dHello', { handler: (name: unknown) => `Hello ${String(name)}` });

df.app.activity('dDouble', { handler: (n: unknown) => Number(n) * 2 });

df.app.activity('dFail', {
  handler: () => {
    throw new Error('[ATT_MEDIA_HOST_UNAVAILABLE] no media host on purpose');
  },
});

/** Fails the first `failuresBeforeSuccess` calls per key, then succeeds. */
const flakyCalls = new Map<string, number>();
df.app.activity('dFlaky', {
  handler: (input: unknown) => {
    const { key, failuresBeforeSuccess } = input as { key: string; failuresBeforeSuccess: number };
    const calls = (flakyCalls.get(key) ?? 0) + 1;
    flakyCalls.set(key, calls);
    if (calls <= failuresBeforeSuccess) throw new Error(`flaky failure ${calls}`);
    return { key, calls };
  },
});

/** Counts runs per key (observed by tests through `durableAppProbe`). */
const runs = new Map<string, number>();
df.app.activity('dCount', {
  handler: (key: unknown) => {
    runs.set(String(key), (runs.get(String(key)) ?? 0) + 1);
    return String(key);
  },
});

/**
 * Writes a marker file when it starts; when `ATTEST_DURABLE_TEST_HANG` is set it then never
 * returns, so a test can kill the host while the activity is in flight.
 */
df.app.activity('dMarkAndMaybeHang', {
  handler: async (input: unknown) => {
    const { marker, value } = input as { marker: string; value: string };
    mkdirSync(dirname(marker), { recursive: true });
    writeFileSync(marker, String(process.pid));
    if (process.env.ATTEST_DURABLE_TEST_HANG === '1') await new Promise<never>(() => undefined);
    return `done ${value}`;
  },
});

export const durableAppProbe = {
  runsOf: (key: string): number => runs.get(key) ?? 0,
  reset: (): void => {
    runs.clear();
    flakyCalls.clear();
  },
};

// ------------------------------------------------------------------ orchestrations

df.app.orchestration('dSequence', function* (context: OrchestrationContext) {
  const prefix = String(context.df.getInput() ?? 'x');
  const a: unknown = yield context.df.callActivity('dHello', `${prefix}1`);
  const b: unknown = yield context.df.callActivity('dHello', `${prefix}2`);
  const c: unknown = yield context.df.callActivity('dHello', `${prefix}3`);
  return [a, b, c];
});

df.app.orchestration('dFanOut', function* (context: OrchestrationContext) {
  const n = Number(context.df.getInput());
  const tasks = Array.from({ length: n }, (_, i) => context.df.callActivity('dDouble', i));
  const results = (yield context.df.Task.all(tasks)) as number[];
  return results.reduce((sum, x) => sum + x, 0);
});

// Ends on the first of several results that arrive together (a batch that ends the execution).
df.app.orchestration('dFirstOf', function* (context: OrchestrationContext) {
  const n = Number(context.df.getInput());
  const tasks = Array.from({ length: n }, (_, i) => context.df.callActivity('dDouble', i + 1));
  const winner = (yield context.df.Task.any(tasks)) as { result: unknown };
  return winner.result;
});

const flakyRetry = new df.RetryOptions(1000, 3);
flakyRetry.backoffCoefficient = 2;
df.app.orchestration('dRetry', function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ key: string; failuresBeforeSuccess: number }>();
  try {
    const result: unknown = yield context.df.callActivityWithRetry('dFlaky', flakyRetry, input);
    return { ok: result };
  } catch (error) {
    return { failed: error instanceof Error ? error.message.split('\n')[0] : 'unknown' };
  }
});

df.app.orchestration('dCatch', function* (context: OrchestrationContext) {
  try {
    yield context.df.callActivity('dFail', null);
    return 'not reached';
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    return message.includes('ATT_MEDIA_HOST_UNAVAILABLE')
      ? 'caught ATT_MEDIA_HOST_UNAVAILABLE'
      : `caught other: ${message}`;
  }
});

df.app.orchestration('dFailing', function* (context: OrchestrationContext) {
  yield context.df.callActivity('dHello', 'before');
  throw new Error('orchestrator gave up on purpose');
});

df.app.orchestration('dTimer', function* (context: OrchestrationContext) {
  const delayInMs = Number(context.df.getInput());
  const startedAt = context.df.currentUtcDateTime;
  yield context.df.createTimer(new Date(startedAt.getTime() + delayInMs));
  return {
    startedAt: startedAt.toISOString(),
    resumedAt: context.df.currentUtcDateTime.toISOString(),
  };
});

df.app.orchestration('dEvent', function* (context: OrchestrationContext) {
  const data: unknown = yield context.df.waitForExternalEvent('approval');
  return { approved: data };
});

/** Sleeps an hour first, so an event raised meanwhile arrives before the wait. */
df.app.orchestration('dEventAfterTimer', function* (context: OrchestrationContext) {
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + HOUR_IN_MS));
  const data: unknown = yield context.df.waitForExternalEvent('approval');
  return { approved: data };
});

/** Two events of one name, both raised before the waits (after a one-hour timer). */
df.app.orchestration('dTwoEvents', function* (context: OrchestrationContext) {
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + HOUR_IN_MS));
  const first: unknown = yield context.df.waitForExternalEvent('step');
  const second: unknown = yield context.df.waitForExternalEvent('step');
  return [first, second];
});

df.app.orchestration('dChildNoId', function* (context: OrchestrationContext) {
  const child: unknown = yield context.df.callSubOrchestrator('dSequence', 'anon');
  return child;
});

df.app.orchestration('dRace', function* (context: OrchestrationContext) {
  const event = context.df.waitForExternalEvent('go');
  const timeout = context.df.createTimer(
    new Date(context.df.currentUtcDateTime.getTime() + HOUR_IN_MS),
  );
  const winner: unknown = yield context.df.Task.any([event, timeout]);
  if (winner === event) {
    timeout.cancel();
    return { won: 'event', data: event.result };
  }
  return { won: 'timer' };
});

// Like the call lifecycle: every round races an event against a timer and cancels the timer.
df.app.orchestration('dRaceLoop', function* (context: OrchestrationContext) {
  const rounds = context.df.getInput<number>();
  let total = 0;
  for (let round = 0; round < rounds; round++) {
    const event = context.df.waitForExternalEvent('tick');
    const timeout = context.df.createTimer(
      new Date(context.df.currentUtcDateTime.getTime() + HOUR_IN_MS),
    );
    const winner: unknown = yield context.df.Task.any([event, timeout]);
    if (winner !== event) return { total, timedOut: true };
    timeout.cancel();
    total += event.result as number;
  }
  return { total, timedOut: false };
});

df.app.orchestration('dContinue', function* (context: OrchestrationContext) {
  const state = context.df.getInput<{ round: number; total: number }>();
  const doubled = (yield context.df.callActivity('dDouble', state.round)) as number;
  const next = { round: state.round + 1, total: state.total + doubled };
  if (next.round < 4) {
    context.df.continueAsNew(next);
    return undefined;
  }
  return next;
});

df.app.orchestration('dParent', function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ childId?: string }>();
  const child: unknown = yield context.df.callSubOrchestrator('dSequence', 'sub', input.childId);
  let childError = '';
  try {
    yield context.df.callSubOrchestrator('dFailing', null);
  } catch (error) {
    childError = error instanceof Error ? (error.message.split('\n')[0] ?? '') : 'unknown';
  }
  return { child, childError };
});

df.app.orchestration('dWaitForever', function* (context: OrchestrationContext) {
  context.df.setCustomStatus({ phase: 'waiting' });
  yield context.df.waitForExternalEvent('never');
  return 'not reached';
});

df.app.orchestration('dCounted', function* (context: OrchestrationContext) {
  const key = String(context.df.getInput());
  const first: unknown = yield context.df.callActivity('dCount', `${key}-a`);
  const second: unknown = yield context.df.callActivity('dCount', `${key}-b`);
  return [first, second];
});

df.app.orchestration('dActivityThenEvent', function* (context: OrchestrationContext) {
  const fromActivity: unknown = yield context.df.callActivity(
    'dCount',
    String(context.df.getInput()),
  );
  const fromEvent: unknown = yield context.df.waitForExternalEvent('done');
  return { fromActivity, fromEvent };
});

/** The restart scenarios: an activity, a timer and an event, in that order. */
df.app.orchestration('dRestartable', function* (context: OrchestrationContext) {
  const input = context.df.getInput<{ marker: string }>();
  const fromActivity: unknown = yield context.df.callActivity('dMarkAndMaybeHang', {
    marker: input.marker,
    value: 'a',
  });
  return { fromActivity };
});

df.app.orchestration('dRestartTimer', function* (context: OrchestrationContext) {
  const startedAt = context.df.currentUtcDateTime;
  yield context.df.createTimer(new Date(startedAt.getTime() + HOUR_IN_MS));
  return {
    waitedInMs: context.df.currentUtcDateTime.getTime() - startedAt.getTime() >= HOUR_IN_MS,
  };
});

df.app.orchestration('dRestartEvent', function* (context: OrchestrationContext) {
  const data: unknown = yield context.df.waitForExternalEvent('resume');
  return { resumedWith: data };
});

// ------------------------------------------------------------------ client inside an HTTP trigger

app.http('dStart', {
  route: 'durable/start/{name}/{id?}',
  methods: ['POST'],
  extraInputs: [df.input.durableClient()],
  handler: async (request: HttpRequest, context: InvocationContext) => {
    const client = df.getClient(context);
    const input: unknown = await request.json().catch(() => undefined);
    const instanceId = await client.startNew(request.params.name ?? '', {
      instanceId: request.params.id,
      input,
    });
    return client.createCheckStatusResponse(request, instanceId);
  },
});

app.http('dStatus', {
  route: 'durable/status/{id}',
  methods: ['GET'],
  extraInputs: [df.input.durableClient()],
  handler: async (request: HttpRequest, context: InvocationContext) => {
    const client = df.getClient(context);
    const status = await client.getStatus(request.params.id ?? '', {
      showHistory: true,
      showHistoryOutput: true,
    });
    return { jsonBody: status };
  },
});

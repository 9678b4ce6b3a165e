/**
 * A scripted stand-in for the Durable orchestration context, for fast unit tests and the golden
 * trace of `callLifecycle`. It mimics the SDK where it matters: external-event waiters are served
 * last-in-first-out, timers move the clock, and every yielded task is recorded as a trace step.
 */
import type { OrchestrationContext } from 'durable-functions';

export interface FakeTask {
  readonly kind: 'activity' | 'event' | 'timer' | 'any';
  readonly name?: string;
  readonly input?: unknown;
  readonly fireAt?: Date;
  readonly tasks?: FakeTask[];
  isCompleted: boolean;
  isCanceled?: boolean;
  result?: unknown;
  cancel(): void;
}

export type ScriptStep = { readonly event: unknown } | { readonly tick: true };
export type Responders = Readonly<Record<string, (input: unknown) => unknown>>;

export interface RunResult {
  readonly trace: string[];
  readonly output: unknown;
  readonly isDone: boolean;
  readonly activities: { name: string; input: unknown; result?: unknown }[];
  readonly continuedAsNewWith?: unknown;
  readonly customStatus?: unknown;
  readonly logs: string[];
}

export function runScripted(
  orchestrator: (context: OrchestrationContext) => Generator<unknown, unknown, unknown>,
  input: unknown,
  script: readonly ScriptStep[],
  responders: Responders,
  startAt = new Date('2030-01-01T00:00:00Z'),
): RunResult {
  let now = startAt;
  const waiters: FakeTask[] = [];
  const trace: string[] = [];
  const activities: { name: string; input: unknown; result?: unknown }[] = [];
  const logs: string[] = [];
  let continuedAsNewWith: unknown;
  let customStatus: unknown;
  const task = (init: Omit<FakeTask, 'isCompleted' | 'cancel'>): FakeTask => {
    const t: FakeTask = {
      ...init,
      isCompleted: false,
      cancel: () => {
        t.isCanceled = true;
      },
    };
    return t;
  };
  const df = {
    instanceId: 'call-test',
    isReplaying: false,
    get currentUtcDateTime(): Date {
      return now;
    },
    getInput: () => input,
    callActivity: (name: string, payload?: unknown) =>
      task({ kind: 'activity', name, input: payload }),
    callActivityWithRetry: (name: string, _retry: unknown, payload?: unknown) =>
      task({ kind: 'activity', name, input: payload }),
    waitForExternalEvent: (name: string) => {
      const t = task({ kind: 'event', name });
      waiters.push(t);
      return t;
    },
    createTimer: (fireAt: Date) => task({ kind: 'timer', fireAt }),
    Task: { any: (tasks: FakeTask[]) => task({ kind: 'any', tasks }) },
    continueAsNew: (next: unknown) => {
      continuedAsNewWith = next;
    },
    setCustomStatus: (status: unknown) => {
      customStatus = status;
    },
  };
  const context = {
    df,
    info: (line: string) => logs.push(line),
    warn: (line: string) => logs.push(line),
    error: (line: string) => logs.push(line),
  } as unknown as OrchestrationContext;

  const describe = (t: FakeTask): string => {
    if (t.kind === 'activity') return `activity:${t.name}`;
    if (t.kind === 'timer') return `timer:+${(t.fireAt?.getTime() ?? 0) - now.getTime()}ms`;
    if (t.kind === 'event') return `event:${t.name}`;
    return `any[${(t.tasks ?? []).map(describe).join(',')}]`;
  };

  const generator = orchestrator(context);
  let steps = [...script];
  let next = generator.next();
  while (!next.done) {
    const yielded = next.value as FakeTask;
    trace.push(describe(yielded));
    let value: unknown;
    if (yielded.kind === 'activity') {
      const responder = responders[yielded.name ?? ''];
      value = responder === undefined ? undefined : responder(yielded.input);
      activities.push({ name: yielded.name ?? '', input: yielded.input, result: value });
      yielded.isCompleted = true;
      yielded.result = value;
    } else if (yielded.kind === 'timer') {
      now = yielded.fireAt ?? now;
      yielded.isCompleted = true;
      value = yielded;
    } else if (yielded.kind === 'any') {
      const step = steps[0];
      if (step === undefined)
        return {
          trace,
          output: undefined,
          isDone: false,
          activities,
          continuedAsNewWith,
          customStatus,
          logs,
        };
      steps = steps.slice(1);
      if ('tick' in step) {
        const timer = (yielded.tasks ?? []).find((t) => t.kind === 'timer');
        if (timer === undefined) throw new Error('tick scripted but no timer in the race');
        now = timer.fireAt ?? now;
        timer.isCompleted = true;
        value = timer;
      } else {
        // The SDK serves the newest open waiter first.
        const open = waiters.filter((w) => !w.isCompleted);
        const waiter = open[open.length - 1];
        if (waiter === undefined) throw new Error('event scripted but nobody waits');
        waiter.isCompleted = true;
        waiter.result = step.event;
        value = waiter;
      }
    } else {
      throw new Error(`unexpected bare ${yielded.kind} yield`);
    }
    next = generator.next(value);
  }
  return {
    trace,
    output: next.value,
    isDone: true,
    activities,
    continuedAsNewWith,
    customStatus,
    logs,
  };
}

/** callLifecycleV1 and V2 through the scripted context: golden traces and behaviour. */
import { readFileSync, writeFileSync } from 'node:fs';
import { callLifecycleV1, callLifecycleV2 } from './call-lifecycle.orchestrator';
import { ActivityNames, type CallLifecycleInput } from '../domain/call-lifecycle.contract';
import {
  runScripted,
  type Responders,
  type RunResult,
  type ScriptStep,
} from '../testing/scripted-orchestration';
import {
  at,
  goldenPath,
  lifecycleInput,
  roster,
  sealWith,
  state,
  T0,
} from '../testing/lifecycle-fixtures';

const input = lifecycleInput;
const seal = sealWith([]);
const ok: Responders = {
  [ActivityNames.updateRecordingStatus]: () => ({ kind: 'ok', status: 200 }),
  [ActivityNames.keepAlive]: () => ({ kind: 'ok', status: 200 }),
  [ActivityNames.startPersisting]: () => ({ ok: true }),
  [ActivityNames.forwardParticipants]: () => ({ ok: true }),
  [ActivityNames.checkMediaSession]: () => ({ ok: true, state: 'persisting' }),
  [ActivityNames.abortMediaSession]: () => ({ ok: true }),
  [ActivityNames.sealRecording]: () => ({ ok: true, summary: seal }),
};
/**
 * V2's `startRecording` activity, faked from the same responders as V1's two activities and with
 * the activity's contract: Graph first, persisting only after Graph's 200.
 */
const withStartRecording = (responders: Responders): Responders => ({
  ...responders,
  [ActivityNames.startRecording]: (activityInput: unknown) => {
    const { tenantId, callId, session } = activityInput as {
      tenantId: string;
      callId: string;
      session: unknown;
    };
    const graph = responders[ActivityNames.updateRecordingStatus]?.({
      tenantId,
      callId,
      status: 'recording',
    }) as { kind: string };
    return graph.kind === 'ok'
      ? { graph, persisted: responders[ActivityNames.startPersisting]?.({ session }) }
      : { graph };
  },
});
/**
 * The steps the orchestrator took, with V2's `startRecording` shown as the two steps it performs
 * (the Graph status, then persisting when Graph confirmed), so one set of assertions covers both.
 */
const logicalSteps = (result: RunResult): { name: string; input: unknown }[] =>
  result.activities.flatMap((a) => {
    if (a.name !== ActivityNames.startRecording) return [a];
    const { session } = a.input as { session: unknown };
    const steps = [
      {
        name: ActivityNames.updateRecordingStatus,
        input: { ...(a.input as object), status: 'recording' },
      },
    ];
    const graph = (a.result as { graph?: { kind?: string } } | undefined)?.graph;
    return graph?.kind === 'ok'
      ? [...steps, { name: ActivityNames.startPersisting, input: { session } }]
      : steps;
  });
const finalPatch = (result: RunResult) =>
  (
    result.activities.find((a) => a.name === ActivityNames.finalizeInteraction)?.input as {
      patch: Record<string, unknown>;
    }
  ).patch;

describe.each([
  { name: 'callLifecycleV1', handler: callLifecycleV1, isV2: false },
  { name: 'callLifecycleV2', handler: callLifecycleV2, isV2: true },
])('$name', ({ name, handler, isV2 }) => {
  const run = (
    script: ScriptStep[],
    responders: Responders = ok,
    runInput: CallLifecycleInput = input,
  ): RunResult & { steps: { name: string; input: unknown }[] } => {
    const result = runScripted(
      handler as never,
      runInput,
      script,
      isV2 ? withStartRecording(responders) : responders,
      new Date(T0),
    );
    return { ...result, steps: logicalSteps(result) };
  };
  const names = (result: ReturnType<typeof run>): string[] => result.steps.map((a) => a.name);
  const goldenScript: ScriptStep[] = [
    state('establishing', 1),
    state('established', 2),
    roster(3),
    { tick: true },
    { tick: true },
    state('terminated', 200, 'end', { code: 200, subcode: 5002 }),
  ];

  it('matches the golden trace of its yield sequence', () => {
    if (process.env.ATTEST_WRITE_GOLDEN === '1')
      writeFileSync(goldenPath(name), `${JSON.stringify(run(goldenScript).trace, null, 2)}\n`);
    const golden = JSON.parse(readFileSync(goldenPath(name), 'utf8')) as string[];
    expect(run(goldenScript).trace).toEqual(golden);
  });

  it(
    isV2
      ? 'starts recording in one activity, with no separate persist step'
      : 'starts recording with two activities',
    () => {
      const trace = run(goldenScript).trace;
      expect(trace.includes(`activity:${ActivityNames.startRecording}`)).toBe(isV2);
      expect(trace.includes(`activity:${ActivityNames.startPersisting}`)).toBe(!isV2);
    },
  );

  it('confirms recording with Graph before the media host may persist', () => {
    const result = run(goldenScript);
    const order = names(result);
    expect(order.indexOf(ActivityNames.updateRecordingStatus)).toBeLessThan(
      order.indexOf(ActivityNames.startPersisting),
    );
    expect(
      result.steps.find((a) => a.name === ActivityNames.updateRecordingStatus)?.input,
    ).toMatchObject({ status: 'recording' });
    expect(result.output).toEqual({ outcome: 'recorded', resultCode: 200, resultSubcode: 5002 });
    expect(finalPatch(result)).toMatchObject({
      outcome: 'recorded',
      manifestBlobName: 'm.json',
      callState: 'ended',
    });
  });

  it('forwards the MSI map from a roster update to the media host', () => {
    const result = run(goldenScript);
    expect(
      result.steps.find((a) => a.name === ActivityNames.forwardParticipants)?.input,
    ).toMatchObject({ mappings: [{ msi: '1', participantId: 'p1' }] });
  });

  it('gives a repeated delivery no second effect (the webhook raises every delivery)', () => {
    const result = run([
      state('established', 1, 'same'),
      state('established', 2, 'same'),
      roster(3, 'r'),
      roster(4, 'r'),
      state('terminated', 9, 'end'),
      state('terminated', 10, 'end'),
    ]);
    expect(names(result).filter((n) => n === ActivityNames.updateRecordingStatus)).toHaveLength(1);
    expect(names(result).filter((n) => n === ActivityNames.startPersisting)).toHaveLength(1);
    expect(names(result).filter((n) => n === ActivityNames.forwardParticipants)).toHaveLength(1);
    expect(result.output).toMatchObject({ outcome: 'recorded' });
  });

  it('tolerates established arriving before establishing', () => {
    const result = run([state('established', 1), state('establishing', 2), state('terminated', 9)]);
    expect(result.output).toMatchObject({ outcome: 'recorded' });
    expect(names(result).filter((n) => n === ActivityNames.startPersisting)).toHaveLength(1);
  });

  it('forwards a roster that arrived before established once persistence starts', () => {
    const result = run([roster(1), state('established', 2), state('terminated', 9)]);
    const order = names(result);
    expect(order.indexOf(ActivityNames.forwardParticipants)).toBeGreaterThan(
      order.indexOf(ActivityNames.startPersisting),
    );
  });

  it('honours Retry-After when Graph throttles updateRecordingStatus', () => {
    let calls = 0;
    const result = run([state('established', 1), state('terminated', 60)], {
      ...ok,
      [ActivityNames.updateRecordingStatus]: () =>
        ++calls === 1 ? { kind: 'throttled', retryAfterInMs: 7_000 } : { kind: 'ok', status: 200 },
    });
    expect(result.trace).toContain('timer:+7000ms');
    expect(calls).toBe(2);
    expect(result.output).toMatchObject({ outcome: 'recorded' });
  });

  it('never lets media persist when Graph does not confirm recording', () => {
    const result = run([state('established', 1), state('terminated', 60)], {
      ...ok,
      [ActivityNames.updateRecordingStatus]: () => ({
        kind: 'failed',
        status: 500,
        isRetryable: true,
      }),
    });
    expect(names(result)).not.toContain(ActivityNames.startPersisting);
    expect(names(result)).toContain(ActivityNames.abortMediaSession);
    expect(names(result).filter((n) => n === ActivityNames.updateRecordingStatus)).toHaveLength(4);
    expect(result.output).toMatchObject({
      outcome: 'failed',
      outcomeReason: 'recordingStatusNotConfirmed',
    });
  });

  it('marks the gap and sets failed status when the media host reports persistence failure', () => {
    const result = run([
      state('established', 1),
      {
        event: {
          kind: 'mediaHost',
          deliveryId: 'mh-ev-1',
          at: at(30),
          eventKind: 'persistenceFailed',
          reason: 'spoolFull',
        },
      },
      state('terminated', 60),
    ]);
    const statuses = result.steps
      .filter((a) => a.name === ActivityNames.updateRecordingStatus)
      .map((a) => (a.input as { status: string }).status);
    expect(statuses).toEqual(['recording', 'failed']);
    expect(result.output).toMatchObject({ outcome: 'failed', outcomeReason: 'mediaHostLost' });
    expect(finalPatch(result).gaps).toEqual([expect.objectContaining({ reason: 'mediaHostLost' })]);
    expect(
      result.logs.some((l) => l.includes('"level":"error"') && l.includes('media host lost')),
    ).toBe(true);
  });

  it('sets failed status when the media host cannot start persisting after Graph confirmed recording', () => {
    const result = run([state('established', 1), state('terminated', 60)], {
      ...ok,
      [ActivityNames.startPersisting]: () => ({ ok: false, reason: 'ATT_MEDIA_HOST_UNAVAILABLE' }),
    });
    const statuses = result.steps
      .filter((a) => a.name === ActivityNames.updateRecordingStatus)
      .map((a) => (a.input as { status: string }).status);
    expect(statuses).toEqual(['recording', 'failed']);
    expect(names(result)).not.toContain(ActivityNames.sealRecording);
    expect(result.output).toMatchObject({ outcome: 'failed', outcomeReason: 'mediaHostLost' });
  });

  it('treats repeated failed health checks as media host loss', () => {
    const result = run(
      [state('established', 1), { tick: true }, { tick: true }, state('terminated', 300)],
      {
        ...ok,
        [ActivityNames.checkMediaSession]: () => ({ ok: false, reason: 'unreachable' }),
      },
    );
    expect(result.output).toMatchObject({ outcome: 'failed', outcomeReason: 'mediaHostLost' });
  });

  it('ignores a repeated delivery', () => {
    const result = run([
      state('established', 1),
      roster(3, 'same'),
      roster(4, 'same'),
      state('terminated', 9),
    ]);
    expect(names(result).filter((n) => n === ActivityNames.forwardParticipants)).toHaveLength(1);
  });

  it('ends as failed without persisting when the call ends before it is established', () => {
    const result = run([state('establishing', 1), state('terminated', 2)]);
    expect(names(result)).toEqual([
      ActivityNames.abortMediaSession,
      ActivityNames.finalizeInteraction,
    ]);
    expect(result.output).toMatchObject({
      outcome: 'failed',
      outcomeReason: 'endedBeforeEstablished',
    });
  });

  it('gives up when the call is not established in time', () => {
    const result = run([{ tick: true }]);
    expect(result.trace[0]).toBe('any[event:callEvent,timer:+120000ms]');
    expect(result.output).toMatchObject({ outcome: 'failed', outcomeReason: 'notEstablished' });
  });

  it('sends keepAlive every interval and ends when Graph no longer knows the call', () => {
    const result = run(
      [state('established', 1), ...Array.from({ length: 15 }, () => ({ tick: true as const }))],
      {
        ...ok,
        [ActivityNames.keepAlive]: () => ({ kind: 'notFound' }),
      },
    );
    expect(names(result)).toContain(ActivityNames.keepAlive);
    expect(result.isDone).toBe(true);
    expect(result.output).toMatchObject({ outcome: 'recorded' });
  });

  it('continues as new after the bounded number of events, carrying its state', () => {
    const small = { ...input, settings: { ...input.settings, maxEventsPerExecution: 3 } };
    const result = run([state('established', 1), roster(2), roster(3), roster(4)], ok, small);
    const carried = result.continuedAsNewWith as CallLifecycleInput;
    expect(carried.state).toMatchObject({ phase: 'established', isRecordingConfirmed: true });
    expect(carried.state?.seenDeliveryIds).toContain('r-3');
    const resumed = run([state('terminated', 10)], ok, carried);
    expect(names(resumed)).not.toContain(ActivityNames.updateRecordingStatus);
    expect(resumed.output).toMatchObject({ outcome: 'recorded' });
  });
});

/**
 * callLifecycleV4 through the scripted context (its clock moves only with the timers it wins):
 * when the function app starts (`hostStarted`), the lifecycle asks Graph for its call and ends at
 * once when the call ended while the app was down, instead of at its next keepAlive.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { callLifecycleV3, callLifecycleV4 } from './call-lifecycle.orchestrator';
import { ActivityNames, type CallLifecycleInput } from '../domain/call-lifecycle.contract';
import type { GraphCallLookup } from '../domain/recorder-ports';
import { runScripted, type Responders, type ScriptStep } from '../testing/scripted-orchestration';
import {
  at,
  fastPathResponders,
  goldenPath,
  lifecycleInput,
  roster,
  state,
  T0,
} from '../testing/lifecycle-fixtures';

const goldenFile = goldenPath('callLifecycleV4');
const input: CallLifecycleInput = {
  ...lifecycleInput,
  settings: { ...lifecycleInput.settings, recordingStartWaitInMs: 10_000 },
};
const responders = (lookup: GraphCallLookup): Responders => ({
  ...fastPathResponders,
  [ActivityNames.getCallState]: () => lookup,
});
const gone = responders({ kind: 'notFound' });
const live = responders({ kind: 'found', state: 'established' });
/** The fast path's report: recording confirmed 1.25 s after the start. */
const started = (second: number) => ({
  event: {
    kind: 'recordingStart',
    deliveryId: `rs-${second}`,
    at: at(second),
    establishedAt: at(1),
    graph: { kind: 'ok', status: 200 },
    confirmedAt: at(1.25),
    persisted: { ok: true },
  },
});
/** What the start-up sweep raises; one delivery id per host start. */
const hostStarted = (second: number, id = `host-started-${second}`) => ({
  event: { kind: 'hostStarted', deliveryId: id, at: at(second) },
});
type Lifecycle = typeof callLifecycleV4;
const run = (script: ScriptStep[], using: Responders, lifecycle: Lifecycle = callLifecycleV4) =>
  runScripted(lifecycle as never, input, script, using, new Date(T0));
const names = (result: ReturnType<typeof run>): string[] => result.activities.map((a) => a.name);
const finalPatch = (result: ReturnType<typeof run>) =>
  (
    result.activities.find((a) => a.name === ActivityNames.finalizeInteraction)?.input as {
      patch: Record<string, unknown>;
    }
  ).patch;

/**
 * Recording, a health check a minute in (the last wake before the app went down), then the app
 * starts again after the call ended: its `terminated` never arrived.
 */
const endedWhileDown: ScriptStep[] = [started(1.3), roster(3), { tick: true }, hostStarted(90)];

describe('callLifecycleV4', () => {
  it('matches the golden trace of its yield sequence', () => {
    if (process.env.ATTEST_WRITE_GOLDEN === '1')
      writeFileSync(goldenFile, `${JSON.stringify(run(endedWhileDown, gone).trace, null, 2)}\n`);
    const golden = JSON.parse(readFileSync(goldenFile, 'utf8')) as string[];
    expect(run(endedWhileDown, gone).trace).toEqual(golden);
  });

  it('ends at once, recorded, when its call ended while the function app was down', () => {
    const result = run(endedWhileDown, gone);
    expect(result.isDone).toBe(true);
    expect(names(result)).toEqual([
      ActivityNames.forwardParticipants,
      ActivityNames.checkMediaSession,
      ActivityNames.getCallState,
      ActivityNames.sealRecording,
      ActivityNames.finalizeInteraction,
    ]);
    expect(result.output).toMatchObject({ outcome: 'recorded' });
    // Ended at the health check's time, long before a keepAlive was due (900 s).
    expect(finalPatch(result)).toMatchObject({ outcome: 'recorded', callState: 'ended' });
    expect(Date.parse(finalPatch(result).endedAt as string)).toBeLessThan(Date.parse(at(900)));
  });

  it('keeps the result Graph gives when it still shows the call terminated', () => {
    const result = run(
      endedWhileDown,
      responders({ kind: 'found', state: 'terminated', resultInfo: { code: 200, subcode: 5001 } }),
    );
    expect(result.output).toEqual({ outcome: 'recorded', resultCode: 200, resultSubcode: 5001 });
  });

  it('goes on recording when Graph shows the call still established', () => {
    const result = run([...endedWhileDown, state('terminated', 120)], live);
    expect(names(result).filter((n) => n === ActivityNames.getCallState)).toHaveLength(1);
    expect(names(result).indexOf(ActivityNames.sealRecording)).toBeGreaterThan(
      names(result).indexOf(ActivityNames.getCallState),
    );
    expect(result.output).toMatchObject({ outcome: 'recorded' });
  });

  it('asks Graph once when several instances of the app start within the interval', () => {
    const result = run(
      [...endedWhileDown, hostStarted(91, 'other-instance'), state('terminated', 120)],
      live,
    );
    expect(names(result).filter((n) => n === ActivityNames.getCallState)).toHaveLength(1);
  });

  it('takes an established call for a lost `established` and starts recording itself', () => {
    const result = run([hostStarted(5), { tick: true }, state('terminated', 60)], live);
    expect(names(result).slice(0, 2)).toEqual([
      ActivityNames.getCallState,
      ActivityNames.startRecording,
    ]);
    expect(result.output).toMatchObject({ outcome: 'recorded' });
  });

  it('waits for its keepAlive as before when Graph cannot answer', () => {
    const result = run(endedWhileDown, responders({ kind: 'throttled', retryAfterInMs: 1_000 }));
    expect(result.isDone).toBe(false);
    expect(names(result)).toContain(ActivityNames.getCallState);
  });
});

describe('callLifecycleV3 (the limit V4 removes)', () => {
  it('ignores the host start and waits for its next keepAlive', () => {
    const result = run(endedWhileDown, gone, callLifecycleV3);
    expect(result.isDone).toBe(false);
    expect(names(result)).not.toContain(ActivityNames.getCallState);
  });
});

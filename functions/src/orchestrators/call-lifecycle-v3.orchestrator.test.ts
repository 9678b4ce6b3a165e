/**
 * callLifecycleV3 through the scripted context: the recording start reported by the webhook's
 * fast path, the bounded wait and fallback when no report comes, and honest outcomes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { callLifecycleV3 } from './call-lifecycle.orchestrator';
import { ActivityNames, type CallLifecycleInput } from '../domain/call-lifecycle.contract';
import { runScripted, type Responders, type ScriptStep } from '../testing/scripted-orchestration';
import {
  at,
  fastPathResponders,
  goldenPath,
  lifecycleInput,
  roster,
  sealWith,
  state,
  T0,
} from '../testing/lifecycle-fixtures';

const goldenFile = goldenPath('callLifecycleV3');
const input: CallLifecycleInput = {
  ...lifecycleInput,
  settings: { ...lifecycleInput.settings, recordingStartWaitInMs: 10_000 },
};
const ok: Responders = fastPathResponders;
const report = (second: number, graph: unknown, extra: Record<string, unknown> = {}) => ({
  event: {
    kind: 'recordingStart',
    deliveryId: `rs-${second}`,
    at: at(second),
    establishedAt: at(1),
    graph,
    ...extra,
  },
});
const started = (second: number) =>
  report(second, { kind: 'ok', status: 200 }, { confirmedAt: at(1.25), persisted: { ok: true } });
const run = (script: ScriptStep[], responders: Responders = ok, runInput = input) =>
  runScripted(callLifecycleV3 as never, runInput, script, responders, new Date(T0));
const names = (result: ReturnType<typeof run>): string[] => result.activities.map((a) => a.name);
const finalPatch = (result: ReturnType<typeof run>) =>
  (
    result.activities.find((a) => a.name === ActivityNames.finalizeInteraction)?.input as {
      patch: Record<string, unknown>;
    }
  ).patch;

describe('callLifecycleV3', () => {
  const goldenScript: ScriptStep[] = [
    started(1.3),
    roster(3),
    { tick: true },
    { tick: true },
    { event: { ...state('terminated', 200, 'end').event, resultInfo: { code: 200 } } },
  ];

  it('matches the golden trace of its yield sequence', () => {
    if (process.env.ATTEST_WRITE_GOLDEN === '1')
      writeFileSync(goldenFile, `${JSON.stringify(run(goldenScript).trace, null, 2)}\n`);
    const golden = JSON.parse(readFileSync(goldenFile, 'utf8')) as string[];
    expect(run(goldenScript).trace).toEqual(golden);
  });

  it('records the fast path recording start without asking Graph again', () => {
    const result = run([started(1.3), state('established', 1.4), state('terminated', 60)]);
    expect(names(result)).not.toContain(ActivityNames.startRecording);
    expect(names(result)).not.toContain(ActivityNames.updateRecordingStatus);
    expect(names(result)).toContain(ActivityNames.sealRecording);
    expect(finalPatch(result)).toMatchObject({
      outcome: 'recorded',
      recordingStatusHistory: [{ status: 'recording', at: at(1.25), isConfirmed: true }],
      gaps: [{ startedAt: at(1), endedAt: at(1.25), reason: 'beforeRecordingStatus' }],
    });
  });

  /** The record as the answered invite made it. */
  const invited = {
    tenantId: 'tenant-a',
    interactionId: 'call-1',
    callId: 'call-1',
    type: 'groupCall',
    direction: 'outbound',
    outcome: 'inProgress',
    invitedAt: at(0),
    answeredAt: at(0),
    recordedUserIds: ['oid-1'],
    recordingStatusHistory: [],
    gaps: [],
  } as const;

  it('hands finalizeInteraction the final record: the invite record, the meeting, the outcome', () => {
    const result = run(
      [
        {
          event: {
            kind: 'meeting',
            deliveryId: 'm-1',
            at: at(0.5),
            meeting: { meetingId: '19:meeting_q@thread.v2' },
          },
        },
        started(1.3),
        state('terminated', 60),
      ],
      ok,
      { ...input, interaction: invited },
    );
    const finalize = result.activities.find((a) => a.name === ActivityNames.finalizeInteraction)
      ?.input as { interaction?: Record<string, unknown> };
    expect(finalize.interaction).toMatchObject({
      callId: 'call-1',
      recordedUserIds: ['oid-1'],
      type: 'meeting',
      meetingId: '19:meeting_q@thread.v2',
      outcome: 'recorded',
      endedAt: at(60),
      manifestSha256: 'aa',
    });
    expect(finalize.interaction).not.toHaveProperty('callState');
  });

  it('adds a user who joined under participantCapacity to the final record, with their presence', () => {
    const joined = (deliveryId: string, second: number) => ({
      event: {
        kind: 'recordedUserJoined',
        deliveryId,
        at: at(second),
        userId: 'oid-2',
        participantId: 'p-2',
      },
    });
    const result = run(
      [
        started(1.3),
        joined('j-1', 10),
        joined('j-2', 11),
        { event: { kind: 'participantLeft', deliveryId: 'l-1', at: at(40), participantId: 'p-2' } },
        state('terminated', 60),
      ],
      ok,
      { ...input, interaction: invited },
    );
    const finalize = result.activities.find((a) => a.name === ActivityNames.finalizeInteraction)
      ?.input as { interaction?: Record<string, unknown> };
    expect(finalize.interaction).toMatchObject({
      recordedUserIds: ['oid-1', 'oid-2'],
      joinedRecordedUsers: [
        { userId: 'oid-2', participantId: 'p-2', joinedAt: at(10), leftAt: at(40) },
      ],
    });
  });

  it('hands no record when it was started without one (the activity reads the row)', () => {
    const result = run([started(1.3), state('terminated', 60)]);
    const finalize = result.activities.find((a) => a.name === ActivityNames.finalizeInteraction)
      ?.input as Record<string, unknown>;
    expect(finalize).not.toHaveProperty('interaction');
  });

  it('forwards a roster that came before the report once persisting started', () => {
    const result = run([roster(1), started(2), state('terminated', 60)]);
    expect(names(result)[0]).toBe(ActivityNames.forwardParticipants);
  });

  it('waits a bounded time for the report after established, then starts recording itself', () => {
    const result = run([state('established', 1), { tick: true }, state('terminated', 60)]);
    // The wait runs from when the webhook received `established` (1 s): 10 s after it.
    expect(result.trace[1]).toBe('any[event:callEvent,timer:+11000ms]');
    expect(names(result).slice(0, 2)).toEqual([
      ActivityNames.startRecording,
      ActivityNames.updateInteraction,
    ]);
    expect(result.output).toMatchObject({ outcome: 'recorded' });
  });

  it('ignores a report that arrives after it took over', () => {
    const result = run([
      state('established', 1),
      { tick: true },
      started(12),
      state('terminated', 60),
    ]);
    expect(names(result).filter((n) => n === ActivityNames.startRecording)).toHaveLength(1);
    expect(finalPatch(result).recordingStatusHistory).toHaveLength(1);
  });

  it('honours the Retry-After the fast path could not wait for, then sets the status itself', () => {
    const result = run([
      report(1.2, { kind: 'throttled', retryAfterInMs: 4_000 }),
      state('terminated', 60),
    ]);
    expect(result.trace[1]).toBe('timer:+4000ms');
    expect(names(result)[0]).toBe(ActivityNames.startRecording);
    expect(result.output).toMatchObject({ outcome: 'recorded' });
  });

  it('ends, before the recording status, when Graph no longer knows the call', () => {
    const result = run([report(1.2, { kind: 'notFound' })]);
    expect(result.isDone).toBe(true);
    expect(result.output).toMatchObject({
      outcome: 'failed',
      outcomeReason: 'endedBeforeRecordingStatus',
    });
  });

  it('sets failed status when the media host could not start persisting after the 200', () => {
    const result = run([
      report(
        1.2,
        { kind: 'ok', status: 200 },
        { confirmedAt: at(1.1), persisted: { ok: false, reason: 'ATT_MEDIA_HOST_UNAVAILABLE' } },
      ),
      state('terminated', 60),
    ]);
    const statuses = result.activities
      .filter((a) => a.name === ActivityNames.updateRecordingStatus)
      .map((a) => (a.input as { status: string }).status);
    expect(statuses).toEqual(['failed']);
    expect(result.output).toMatchObject({ outcome: 'failed', outcomeReason: 'mediaHostLost' });
  });

  it('ends noMedia with a gap when the seal holds no media', () => {
    const result = run([started(1.3), state('terminated', 30)], {
      ...ok,
      [ActivityNames.sealRecording]: () => ({ ok: true, summary: sealWith([]) }),
    });
    expect(result.output).toMatchObject({ outcome: 'noMedia', outcomeReason: 'noMediaReceived' });
    expect(finalPatch(result).gaps).toContainEqual({
      startedAt: at(1.25),
      endedAt: at(30),
      reason: 'noMediaReceived',
    });
  });

  it('says the call ended before the recording status when it did', () => {
    const result = run([state('established', 1), state('terminated', 3)]);
    expect(names(result)).toEqual([
      ActivityNames.abortMediaSession,
      ActivityNames.finalizeInteraction,
    ]);
    expect(result.output).toMatchObject({
      outcome: 'failed',
      outcomeReason: 'endedBeforeRecordingStatus',
    });
    expect(finalPatch(result).gaps).toEqual([
      { startedAt: at(1), endedAt: at(3), reason: 'beforeRecordingStatus' },
    ]);
  });

  it('carries a pending wait across continueAsNew', () => {
    const small = { ...input, settings: { ...input.settings, maxEventsPerExecution: 2 } };
    const result = run([state('established', 1), roster(2)], ok, small);
    const carried = result.continuedAsNewWith as CallLifecycleInput;
    expect(carried.state?.recordingStartDueAt).toBe(at(11));
    const resumed = run([started(3), state('terminated', 9)], ok, carried);
    expect(resumed.output).toMatchObject({ outcome: 'recorded' });
  });
});

describe('callLifecycleV3 under a steady stream of events', () => {
  it('still sends keepAlive when events always win the race against the timer', () => {
    // Events only, no tick: the timer never wins. The scripted clock does not move with events,
    // so a keepAlive due at once (interval 0) shows the check after events.
    const due = { ...input, settings: { ...input.settings, keepAliveIntervalInMs: 0 } };
    const result = run([started(1), roster(2), roster(3), state('terminated', 9)], ok, due);
    expect(names(result).filter((n) => n === ActivityNames.keepAlive).length).toBeGreaterThan(0);
  });
});

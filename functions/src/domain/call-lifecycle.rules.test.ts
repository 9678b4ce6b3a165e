import type { RosterParticipant } from '@attest/core';
import {
  applyRoster,
  isCallCheckDue,
  isHealthCheckDue,
  isKeepAliveDue,
  judgeCallLookup,
  keepAliveRetryBase,
  markLeft,
  nextDueAt,
  type ScheduleState,
} from './call-lifecycle.rules';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const person = (id: string, overrides: Partial<RosterParticipant> = {}): RosterParticipant => ({
  participantId: id,
  identityKind: 'user',
  identityId: `u-${id}`,
  isInLobby: false,
  isMuted: false,
  isSharingScreen: false,
  isVideoOn: false,
  msis: [],
  ...overrides,
});
const settings = {
  keepAliveIntervalInMs: 900_000,
  mediaHealthCheckIntervalInMs: 60_000,
  establishTimeoutInMs: 120_000,
};
const established: ScheduleState = {
  phase: 'established',
  lastKeepAliveAt: at(0),
  lastHealthCheckAt: at(0),
  isRecordingConfirmed: true,
  isMediaHostLost: false,
};

describe('applyRoster', () => {
  it('adds a new participant, joined when first seen', () => {
    const next = applyRoster({}, [person('p1', { msis: ['7'] })], at(3));
    expect(next.p1).toMatchObject({ joinedAt: at(3), msis: ['7'], wasInLobby: false });
  });

  it('keeps the join time and accumulates MSIs, lobby and sharing across rosters', () => {
    const first = applyRoster({}, [person('p1', { msis: ['7'], isInLobby: true })], at(1));
    const second = applyRoster(
      first,
      [person('p1', { msis: ['8'], isSharingScreen: true })],
      at(5),
    );
    expect(second.p1).toMatchObject({
      joinedAt: at(1),
      msis: ['7', '8'],
      wasInLobby: true,
      hasShared: true,
    });
  });

  it('marks whoever is missing from a whole roster as left, once', () => {
    const both = applyRoster({}, [person('p1'), person('p2')], at(1));
    const one = applyRoster(both, [person('p1')], at(4));
    const again = applyRoster(one, [person('p1')], at(9));
    expect(one.p2?.leftAt).toBe(at(4));
    expect(again.p2?.leftAt).toBe(at(4));
    expect(again.p1?.leftAt).toBeUndefined();
  });
});

describe('markLeft', () => {
  it('marks a known participant as left and leaves an unknown id alone', () => {
    const known = applyRoster({}, [person('p1')], at(1));
    expect(markLeft(known, 'p1', at(2)).p1?.leftAt).toBe(at(2));
    expect(markLeft(known, 'nobody', at(2))).toBe(known);
  });
});

describe('schedule', () => {
  it('waits for the establish deadline before established', () => {
    const waiting = { ...established, phase: 'awaitingEstablished' as const };
    expect(nextDueAt(waiting, settings, at(0), T0).toISOString()).toBe(at(120));
  });

  it('wakes for the health check before the keepAlive while media is persisted', () => {
    expect(nextDueAt(established, settings, at(0), T0).toISOString()).toBe(at(60));
    expect(isHealthCheckDue(established, settings, T0 + 60_000)).toBe(true);
    expect(isKeepAliveDue(established, settings, T0 + 60_000)).toBe(false);
  });

  it('wakes only for the keepAlive once the media host is lost', () => {
    const lost = { ...established, isMediaHostLost: true };
    expect(nextDueAt(lost, settings, at(0), T0).toISOString()).toBe(at(900));
    expect(isHealthCheckDue(lost, settings, T0 + 600_000)).toBe(false);
    expect(isKeepAliveDue(lost, settings, T0 + 900_000)).toBe(true);
  });

  it('never schedules in the past', () => {
    expect(nextDueAt(established, settings, at(0), T0 + 5_000_000).getTime()).toBe(T0 + 5_000_000);
  });

  it('retries a failed keepAlive after the delay instead of a full interval', () => {
    const retried = { ...established, lastKeepAliveAt: keepAliveRetryBase(settings, T0, 7_000) };
    expect(isKeepAliveDue(retried, settings, T0 + 6_999)).toBe(false);
    expect(isKeepAliveDue(retried, settings, T0 + 7_000)).toBe(true);
  });
});

describe('the call check when the function app starts', () => {
  it('asks at most once per minimum interval', () => {
    expect(isCallCheckDue(undefined, {}, Date.parse(at(0)))).toBe(true);
    expect(isCallCheckDue(at(0), {}, Date.parse(at(59)))).toBe(false);
    expect(isCallCheckDue(at(0), {}, Date.parse(at(60)))).toBe(true);
    expect(isCallCheckDue(at(0), { callCheckMinIntervalInMs: 5_000 }, Date.parse(at(5)))).toBe(
      true,
    );
  });

  it('ends the lifecycle when Graph no longer knows the call, or says it terminated', () => {
    expect(judgeCallLookup({ kind: 'notFound' }, 'established')).toEqual({
      kind: 'ended',
      reason: 'callGone',
    });
    expect(
      judgeCallLookup(
        { kind: 'found', state: 'terminated', resultInfo: { code: 200, subcode: 5001 } },
        'established',
      ),
    ).toEqual({ kind: 'ended', reason: 'terminated', resultInfo: { code: 200, subcode: 5001 } });
  });

  it('takes an established call for a lost `established` only while still waiting for it', () => {
    expect(judgeCallLookup({ kind: 'found', state: 'established' }, 'awaitingEstablished')).toEqual(
      { kind: 'established' },
    );
    expect(judgeCallLookup({ kind: 'found', state: 'established' }, 'established')).toEqual({
      kind: 'unchanged',
    });
  });

  it('changes nothing when Graph could not answer', () => {
    expect(judgeCallLookup({ kind: 'throttled', retryAfterInMs: 1_000 }, 'established')).toEqual({
      kind: 'unchanged',
    });
    expect(
      judgeCallLookup({ kind: 'failed', status: 503, isRetryable: true }, 'established'),
    ).toEqual({ kind: 'unchanged' });
  });
});

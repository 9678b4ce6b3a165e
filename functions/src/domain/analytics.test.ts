import type { InteractionRecord } from '@attest/core';
import {
  analyticsCsv,
  buildAnalytics,
  daysOf,
  percentile,
  recordingStartLatencyInMs,
  type CallUsage,
} from './analytics';

const call = (
  id: string,
  invitedAt: string,
  patch: Partial<InteractionRecord> = {},
  storedBytes = 0,
): CallUsage => ({
  interaction: {
    tenantId: 't-1',
    interactionId: id,
    callId: `c-${id}`,
    type: 'p2p',
    direction: 'inbound',
    outcome: 'recorded',
    invitedAt,
    recordedUserIds: ['u-1'],
    recordingStatusHistory: [],
    gaps: [],
    ...patch,
  },
  storedBytes,
});

const at = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();
const period = { from: '2030-01-01T00:00:00.000Z', to: '2030-01-04T00:00:00.000Z' };

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(values, 50), percentile(values, 99), percentile(values, 100)]).toEqual([
      50, 99, 100,
    ]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });
});

describe('daysOf', () => {
  it('lists every day of the period in the viewer offset', () => {
    expect(daysOf(period.from, period.to, 0)).toEqual(['2030-01-01', '2030-01-02', '2030-01-03']);
    // New York (UTC-5): the period's first instant is still 31 December there.
    expect(daysOf(period.from, period.to, -300)).toEqual([
      '2029-12-31',
      '2030-01-01',
      '2030-01-02',
      '2030-01-03',
    ]);
  });
});

describe('recordingStartLatencyInMs', () => {
  it('uses the gap before the recording status when the recorder measured one', () => {
    const t = '2030-01-01T10:00:00.000Z';
    expect(
      recordingStartLatencyInMs(
        call('a', t, {
          answeredAt: at(t, 300),
          gaps: [{ startedAt: at(t, 500), endedAt: at(t, 620), reason: 'beforeRecordingStatus' }],
          recordingStatusHistory: [{ status: 'recording', at: at(t, 900), isConfirmed: true }],
        }).interaction,
      ),
    ).toBe(120);
  });

  it('falls back to answer → confirmed recording status, ignoring unconfirmed ones', () => {
    const t = '2030-01-01T10:00:00.000Z';
    expect(
      recordingStartLatencyInMs(
        call('a', t, {
          answeredAt: at(t, 300),
          recordingStatusHistory: [
            { status: 'recording', at: at(t, 400), isConfirmed: false },
            { status: 'recording', at: at(t, 1300), isConfirmed: true },
          ],
        }).interaction,
      ),
    ).toBe(1000);
  });
});

describe('buildAnalytics', () => {
  const d1 = '2030-01-01T09:00:00.000Z';
  const d3 = '2030-01-03T23:30:00.000Z';
  const calls = [
    call('a', d1, { answeredAt: at(d1, 200) }, 1000),
    call(
      'b',
      at(d1, 60_000),
      {
        type: 'pstn',
        outcome: 'recordedWithGaps',
        answeredAt: at(d1, 60_400),
        gaps: [{ startedAt: at(d1, 61_000), endedAt: at(d1, 62_500), reason: 'pci' }],
      },
      500,
    ),
    call('c', at(d1, 120_000), { outcome: 'rejectedBusy', outcomeReason: 'noMediaHostCapacity' }),
    call('d', d3, { outcome: 'notRecordable' }),
    call('e', d3, { outcome: 'inProgress', answeredAt: at(d3, 100) }, 250),
    // Outside the period: ignored.
    call('z', '2030-01-04T00:00:00.000Z', {}, 99_999),
  ];
  const analytics = buildAnalytics({ ...period, utcOffsetInMinutes: 0 }, calls);

  it('counts calls per day by type and outcome, quiet days with zeros', () => {
    expect(analytics.days.map((d) => [d.day, d.calls])).toEqual([
      ['2030-01-01', 3],
      ['2030-01-02', 0],
      ['2030-01-03', 2],
    ]);
    expect(analytics.days[0]!.byType).toEqual({ p2p: 2, pstn: 1 });
    expect(analytics.days[0]!.byOutcome).toEqual({
      recorded: 1,
      recordedWithGaps: 1,
      rejectedBusy: 1,
    });
  });

  it('gives answer latency percentiles per day and for the period', () => {
    expect(analytics.days[0]!.answerLatency).toEqual({ count: 2, p50InMs: 200, p99InMs: 400 });
    expect(analytics.days[1]!.answerLatency).toEqual({ count: 0 });
    expect(analytics.totals.answerLatency).toEqual({ count: 3, p50InMs: 200, p99InMs: 400 });
  });

  it('counts failures and gaps by reason, gaps with their length', () => {
    expect(analytics.failures).toEqual([{ reason: 'noMediaHostCapacity', count: 1 }]);
    expect(analytics.gaps).toEqual([{ reason: 'pci', count: 1, totalInMs: 1500 }]);
  });

  it('computes completeness over finished recordable calls only', () => {
    // Day 1: a, b, c are recordable and finished; only a is recorded in full.
    expect(analytics.days[0]!.completenessPercent).toBe(33.3);
    // Day 3: one unrecordable, one in progress: nothing to judge.
    expect(analytics.days[2]!.completenessPercent).toBeUndefined();
    expect(analytics.totals).toMatchObject({
      calls: 5,
      recordable: 3,
      recordedInFull: 1,
      completenessPercent: 33.3,
    });
  });

  it('adds up storage growth day by day', () => {
    expect(analytics.days.map((d) => [d.storedBytes, d.cumulativeStoredBytes])).toEqual([
      [1500, 1500],
      [0, 1500],
      [250, 1750],
    ]);
    expect(analytics.totals.storedBytes).toBe(1750);
  });

  it('puts a late call on the viewer’s next day', () => {
    const tokyo = buildAnalytics({ ...period, utcOffsetInMinutes: 540 }, calls);
    expect(tokyo.days.find((d) => d.day === '2030-01-04')?.calls).toBe(2);
  });

  it('writes one CSV row per day with a column per type and outcome', () => {
    const lines = analyticsCsv(analytics).trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'day,calls,type:p2p,type:pstn,outcome:inProgress,outcome:notRecordable,outcome:recorded,' +
        'outcome:recordedWithGaps,outcome:rejectedBusy,answerP50Ms,answerP99Ms,' +
        'recordingStartP50Ms,recordingStartP99Ms,gaps,storedBytes,cumulativeStoredBytes,' +
        'completenessPercent',
    );
    expect(lines[1]).toBe('2030-01-01,3,2,1,0,0,1,1,1,200,400,,,1,1500,1500,33.3');
    expect(lines).toHaveLength(4);
  });

  it('quotes a header with quotes or commas in it', () => {
    const csv = analyticsCsv(
      buildAnalytics({ ...period, utcOffsetInMinutes: 0 }, [
        call('x', d1, { type: '=HYPERLINK("x")' as 'p2p' }),
      ]),
    );
    expect(csv.split('\r\n')[0]).toContain(',"type:=HYPERLINK(""x"")",');
  });
});

import type { InteractionRecord } from '@attest/core';
import type { ArchiveRecord } from './archive-ports';
import {
  matchesParticipant,
  matchesQuery,
  parseSearchQuery,
  parseSearchView,
  searchCounts,
  sortInteractions,
} from './archive-search';

const interaction = (id: string, patch: Partial<InteractionRecord> = {}): InteractionRecord => ({
  tenantId: 't-1',
  interactionId: id,
  callId: `c-${id}`,
  type: 'pstn',
  direction: 'inbound',
  outcome: 'recorded',
  invitedAt: '2030-01-01T10:00:00.000Z',
  recordedUserIds: ['u-1'],
  recordingStatusHistory: [],
  gaps: [],
  ...patch,
});
const record = (i: InteractionRecord): ArchiveRecord => ({
  interaction: i,
  groupIds: [],
  state: 'active',
});
const query = (params: Record<string, string>) => {
  const parsed = parseSearchQuery(new URLSearchParams(params), 't-1');
  expect(parsed.problems).toEqual([]);
  return parsed.query;
};

describe('search filters', () => {
  const pstn = interaction('a', {
    dialedNumber: '+1 (425) 555-0100',
    originNumber: '+44 20 7946 0018',
    customData: { desk: 'FX Options', ticket: 4711 },
  });

  it('matches direction and outcome exactly', () => {
    expect(matchesQuery(record(pstn), query({ direction: 'inbound', outcome: 'recorded' }))).toBe(
      true,
    );
    expect(matchesQuery(record(pstn), query({ direction: 'outbound' }))).toBe(false);
    expect(matchesQuery(record(pstn), query({ outcome: 'failed' }))).toBe(false);
  });

  it('matches numbers by their digits, whatever the punctuation', () => {
    expect(matchesQuery(record(pstn), query({ dialedNumber: '4255550100' }))).toBe(true);
    expect(matchesQuery(record(pstn), query({ dialedNumber: '555-01' }))).toBe(true);
    expect(matchesQuery(record(pstn), query({ originNumber: '+442079460018' }))).toBe(true);
    expect(matchesQuery(record(pstn), query({ originNumber: '4255550100' }))).toBe(false);
    expect(matchesQuery(record(interaction('b')), query({ dialedNumber: '425' }))).toBe(false);
  });

  it('matches business data by member or by any member, any case', () => {
    expect(matchesQuery(record(pstn), query({ customData: 'desk=fx options' }))).toBe(true);
    expect(matchesQuery(record(pstn), query({ customData: 'ticket=4711' }))).toBe(true);
    expect(matchesQuery(record(pstn), query({ customData: 'options' }))).toBe(true);
    expect(matchesQuery(record(pstn), query({ customData: 'desk=rates' }))).toBe(false);
    expect(matchesQuery(record(pstn), query({ customData: 'toString=x' }))).toBe(false);
    expect(matchesQuery(record(interaction('b')), query({ customData: 'fx' }))).toBe(false);
  });

  it('refuses a number with fewer than 3 digits', () => {
    expect(parseSearchQuery(new URLSearchParams({ dialedNumber: '+1' }), 't').problems).toEqual([
      'dialedNumber must have at least 3 digits',
    ]);
  });
});

describe('participant', () => {
  const people = [
    { identityKind: 'user' as const, identityId: 'OID-1', displayName: 'Trader One' },
    { identityKind: 'phone' as const, identityId: '+14255550199' },
  ];
  it('matches a display name part, an id or a phone number', () => {
    expect(matchesParticipant(people, 'trader')).toBe(true);
    expect(matchesParticipant(people, 'oid-1')).toBe(true);
    expect(matchesParticipant(people, '(425) 555-0199')).toBe(true);
    expect(matchesParticipant(people, 'OID')).toBe(false);
    expect(matchesParticipant(people, 'Someone Else')).toBe(false);
  });
});

describe('order, page and counts', () => {
  const items = [
    interaction('a', { invitedAt: '2030-01-01T10:00:00Z', endedAt: '2030-01-01T10:05:00Z' }),
    interaction('b', {
      invitedAt: '2030-01-02T10:00:00Z',
      endedAt: '2030-01-02T10:00:30Z',
      outcome: 'failed',
      direction: 'outbound',
    }),
    interaction('c', { invitedAt: '2030-01-03T10:00:00Z', type: 'meeting' }),
  ];

  it('sorts newest first by default and by any key either way', () => {
    const ids = (view: Parameters<typeof sortInteractions>[1]) =>
      sortInteractions(items, view).map((i) => i.interactionId);
    const { view } = parseSearchView(new URLSearchParams());
    expect(ids(view)).toEqual(['c', 'b', 'a']);
    expect(ids({ sort: 'duration', order: 'desc' })).toEqual(['a', 'b', 'c']);
    expect(ids({ sort: 'outcome', order: 'asc' })).toEqual(['b', 'c', 'a']);
  });

  it('counts matches by outcome, type and direction', () => {
    expect(searchCounts(items)).toEqual({
      byOutcome: { recorded: 2, failed: 1 },
      byType: { pstn: 2, meeting: 1 },
      byDirection: { inbound: 2, outbound: 1 },
    });
  });

  it('names every bad view parameter', () => {
    const { problems } = parseSearchView(
      new URLSearchParams({ sort: 'name', order: 'up', offset: '-3', holdState: 'x' }),
    );
    expect(problems.map((p) => p.split(':')[0])).toEqual(['holdState', 'sort', 'order', 'offset']);
  });
});

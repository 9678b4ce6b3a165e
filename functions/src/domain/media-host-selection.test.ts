import { rankMediaHosts } from './media-host-selection';
import type { SiblingPlacement } from './paired-leg-placement';
import type { MediaHostRecord } from './recorder-ports';

const NOW = new Date('2030-01-01T00:00:00Z');
const host = (
  hostId: string,
  zone: string | undefined,
  activeSessions = 0,
  region = 'EUNO',
): MediaHostRecord => ({
  hostId,
  controlUrl: `http://${hostId}`,
  region,
  ...(zone === undefined ? {} : { zone }),
  isDraining: false,
  version: '1',
  capacity: { maxSessions: 10, activeSessions },
  spoolBytes: 0,
  spoolLimitInBytes: 1,
  sentAt: NOW.toISOString(),
  receivedAt: NOW.toISOString(),
});
// Every leg of one call has the same pair key. For 'call-2', the rendezvous order of the hosts
// a, b, c is a, c, b (asserted in paired-leg-placement.test.ts).
const rank = (
  hosts: MediaHostRecord[],
  siblings?: Omit<SiblingPlacement, 'pairKey'> & { readonly pairKey?: string },
) =>
  rankMediaHosts(hosts, {
    now: NOW,
    staleAfterInMs: 30_000,
    region: 'EUNO',
    siblings: siblings === undefined ? undefined : { pairKey: 'call-2', ...siblings },
  }).candidates.map((h) => h.hostId);

describe('rankMediaHosts for a paired leg', () => {
  it('puts the sibling leg host last even when it is the least loaded', () => {
    expect(
      rank([host('a', undefined, 0), host('b', undefined, 9)], { hostIds: ['a'], zones: [] }),
    ).toEqual(['b', 'a']);
  });

  it('still offers the sibling host when no other host has room', () => {
    expect(
      rank([host('a', undefined, 0), host('b', undefined, 10)], { hostIds: ['a'], zones: [] }),
    ).toEqual(['a']);
  });

  it('prefers another zone of the same region over a less loaded host in the sibling zone', () => {
    expect(
      rank([host('a', '1', 0), host('b', '1', 1), host('c', '2', 5)], {
        hostIds: ['a'],
        zones: ['1'],
      }),
    ).toEqual(['c', 'b', 'a']);
  });

  it('never trades the call region for another zone', () => {
    expect(
      rank([host('a', '1', 0), host('b', '1', 1), host('far', '2', 0, 'USEA')], {
        hostIds: ['a'],
        zones: ['1'],
      }),
    ).toEqual(['b', 'far', 'a']);
  });

  it('spreads two legs that arrive at once by their leg index, across zones', () => {
    // By the call's rendezvous order (a, c, b), not by load: leg 1 takes c, in the other zone.
    const hosts = [host('a', '1', 0), host('b', '1', 1), host('c', '2', 2)];
    expect(rank(hosts, { hostIds: [], zones: [], legIndex: 0 })[0]).toBe('a');
    expect(rank(hosts, { hostIds: [], zones: [], legIndex: 1 })).toEqual(['c', 'b', 'a']);
  });

  it('leaves the order alone without siblings', () => {
    expect(rank([host('a', '1', 0), host('b', '1', 1)])).toEqual(['a', 'b']);
  });
});

import { rankMediaHosts } from './media-host-selection';
import { azureRegionOf, regionDistanceInKm } from './region-proximity';
import type { MediaHostRecord } from './recorder-ports';

const NOW = new Date('2030-01-01T00:00:00Z');
const host = (
  hostId: string,
  region: string,
  options: { active?: number; max?: number; zone?: string; ageInMs?: number } = {},
): MediaHostRecord => ({
  hostId,
  controlUrl: `http://${hostId}`,
  region,
  ...(options.zone !== undefined ? { zone: options.zone } : {}),
  isDraining: false,
  version: '1',
  capacity: { maxSessions: options.max ?? 10, activeSessions: options.active ?? 0 },
  spoolBytes: 0,
  spoolLimitInBytes: 1,
  sentAt: NOW.toISOString(),
  receivedAt: new Date(NOW.getTime() - (options.ageInMs ?? 0)).toISOString(),
});
const rank = (hosts: MediaHostRecord[], region?: string) =>
  rankMediaHosts(hosts, { now: NOW, staleAfterInMs: 30_000, region });
const ids = (hosts: readonly MediaHostRecord[]): string[] => hosts.map((h) => h.hostId);

describe('region proximity', () => {
  it('resolves Teams media region codes and Azure region names to Azure regions', () => {
    expect(azureRegionOf('EUNO')).toBe('northeurope');
    expect(azureRegionOf('usea')).toBe('eastus');
    expect(azureRegionOf('West Europe')).toBe('westeurope');
    expect(azureRegionOf('XXYY')).toBeUndefined();
  });

  it('measures a Teams code against a host region by the map', () => {
    expect(regionDistanceInKm('EUWE', 'westeurope')).toBe(0);
    const toDublin = regionDistanceInKm('EUWE', 'northeurope');
    const toVirginia = regionDistanceInKm('EUWE', 'eastus');
    expect(toDublin).toBeGreaterThan(500);
    expect(toDublin).toBeLessThan(1000);
    expect(toVirginia).toBeGreaterThan(6000);
  });

  it("treats names of the deployment's own as equal only to themselves", () => {
    expect(regionDistanceInKm('local', 'LOCAL')).toBe(0);
    expect(regionDistanceInKm('EUWE', 'local')).toBe(Infinity);
    expect(regionDistanceInKm(undefined, 'local')).toBe(0);
  });
});

describe('rankMediaHosts', () => {
  it('puts the hosts of the region nearest the media first, then the next nearest', () => {
    const ranked = rank(
      [host('us-1', 'eastus'), host('ne-1', 'northeurope'), host('we-1', 'westeurope')],
      'EUWE',
    );
    expect(ids(ranked.candidates)).toEqual(['we-1', 'ne-1', 'us-1']);
  });

  it('spills over to the next nearest region when the nearest is full', () => {
    const ranked = rank(
      [
        host('we-1', 'westeurope', { active: 2, max: 2 }),
        host('we-2', 'westeurope', { active: 5, max: 5 }),
        host('us-1', 'eastus'),
        host('ne-1', 'northeurope', { active: 9 }),
      ],
      'EUWE',
    );
    expect(ids(ranked.candidates)).toEqual(['ne-1', 'us-1']);
    expect(ranked.skipped.full).toBe(2);
  });

  it('spills over when every host of the nearest region has stopped heartbeating', () => {
    const ranked = rank(
      [host('we-1', 'westeurope', { ageInMs: 31_000 }), host('ne-1', 'northeurope')],
      'EUWE',
    );
    expect(ids(ranked.candidates)).toEqual(['ne-1']);
    expect(ranked.skipped.stale).toBe(1);
  });

  it('never offers a draining host, whatever its region', () => {
    const draining = { ...host('we-1', 'westeurope'), isDraining: true };
    const ranked = rank([draining, host('us-1', 'eastus')], 'EUWE');
    expect(ids(ranked.candidates)).toEqual(['us-1']);
    expect(ranked.skipped.draining).toBe(1);
  });

  it('inside a region prefers the least loaded host, then the emptier zone', () => {
    const ranked = rank(
      [
        host('a', 'westeurope', { zone: '1', active: 3 }),
        host('b', 'westeurope', { zone: '1', active: 1 }),
        host('c', 'westeurope', { zone: '2', active: 1 }),
        host('d', 'westeurope', { zone: '2', active: 0 }),
      ],
      'westeurope',
    );
    // d is emptiest; b and c tie on load, and zone 2 (c, d: 0.1) is emptier than zone 1 (0.4).
    expect(ids(ranked.candidates)).toEqual(['d', 'c', 'b', 'a']);
  });

  it('puts hosts of unknown regions after every host whose distance is known', () => {
    const ranked = rank([host('x', 'somewhere'), host('us-1', 'eastus')], 'EUWE');
    expect(ids(ranked.candidates)).toEqual(['us-1', 'x']);
  });

  it('with no region hint ranks by load alone', () => {
    const ranked = rank([
      host('a', 'eastus', { active: 4 }),
      host('b', 'westeurope', { active: 1 }),
    ]);
    expect(ids(ranked.candidates)).toEqual(['b', 'a']);
  });
});

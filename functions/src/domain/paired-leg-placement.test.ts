import type { CreateMediaSessionRequest } from '@attest/core';
import { MediaHostPool } from './media-host-pool';
import { rankMediaHosts } from './media-host-selection';
import { rendezvousOrder, type SiblingPlacement } from './paired-leg-placement';
import type { MediaHostControl, MediaHostRecord, MediaHostRegistry } from './recorder-ports';

const NOW = new Date('2030-01-01T00:00:00Z');
const host = (
  hostId: string,
  options: { zone?: string; active?: number; max?: number; region?: string } = {},
): MediaHostRecord => ({
  hostId,
  controlUrl: `http://${hostId}`,
  region: options.region ?? 'EUNO',
  ...(options.zone === undefined ? {} : { zone: options.zone }),
  isDraining: false,
  version: '1',
  capacity: { maxSessions: options.max ?? 50, activeSessions: options.active ?? 0 },
  spoolBytes: 0,
  spoolLimitInBytes: 1,
  sentAt: NOW.toISOString(),
  receivedAt: NOW.toISOString(),
});
const withLoads = (hosts: readonly MediaHostRecord[], loads: readonly number[]) =>
  hosts.map((h, i) => ({ ...h, capacity: { ...h.capacity, activeSessions: loads[i] ?? 0 } }));
/** The host a leg takes when no sibling's host is known yet. */
const choose = (
  hosts: readonly MediaHostRecord[],
  pairKey: string,
  legIndex: number,
  region = 'EUNO',
): MediaHostRecord | undefined =>
  rankMediaHosts(hosts, {
    now: NOW,
    staleAfterInMs: 30_000,
    region,
    siblings: { pairKey, hostIds: [], zones: [], legIndex, legCount: 2 },
  }).candidates[0];
/** Deterministic pseudo-random numbers (a linear congruential generator). */
function numbers(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('rendezvousOrder', () => {
  const sameDistance = (): number => 0;

  it('is the same for every leg of a call and differs between calls', () => {
    const hosts = ['a', 'b', 'c'].map((id) => host(id));
    const ids = (key: string) => rendezvousOrder(hosts, key, sameDistance).map((h) => h.hostId);
    expect(ids('call-2')).toEqual(['a', 'c', 'b']);
    expect(ids('call-2')).toEqual(ids('call-2'));
    const orders = new Set(Array.from({ length: 30 }, (_, i) => ids(`call-${i}`).join('')));
    expect(orders.size).toBeGreaterThan(3);
  });

  it('ignores load and the order the hosts are listed in', () => {
    const hosts = ['a', 'b', 'c', 'd'].map((id) => host(id));
    const ids = (list: readonly MediaHostRecord[]) =>
      rendezvousOrder(list, 'call-7', sameDistance).map((h) => h.hostId);
    expect(ids(withLoads([...hosts].reverse(), [9, 0, 4, 1]))).toEqual(ids(hosts));
  });

  it('alternates zones and keeps the nearer distance first', () => {
    const hosts = [
      host('a1', { zone: '1' }),
      host('a2', { zone: '1' }),
      host('b1', { zone: '2' }),
      host('b2', { zone: '2' }),
      host('far', { zone: '1', region: 'USEA' }),
    ];
    for (let call = 0; call < 20; call += 1) {
      const order = rendezvousOrder(hosts, `call-${call}`, (h) => (h.region === 'EUNO' ? 0 : 1));
      expect(order.map((h) => h.zone).slice(0, 4)).toEqual(
        order[0]!.zone === '1' ? ['1', '2', '1', '2'] : ['2', '1', '2', '1'],
      );
      expect(order[4]!.hostId).toBe('far');
    }
  });
});

describe('placing the legs of a paired call that arrive at once', () => {
  it('keeps the legs apart when the load changes between their choices', () => {
    const hosts = [host('a'), host('b'), host('c')];
    for (let call = 0; call < 50; call += 1) {
      // Leg 0 chooses on one view; leg 0 itself and other calls of the burst then load the hosts.
      const first = choose(withLoads(hosts, [0, 1, 5]), `call-${call}`, 0);
      const loads = [2, 1, 5].map((load, i) => load + (hosts[i]!.hostId === first?.hostId ? 1 : 0));
      const second = choose(withLoads(hosts, loads), `call-${call}`, 1);
      expect(first).toBeDefined();
      expect(second?.hostId).not.toBe(first?.hostId);
    }
  });

  it('keeps the legs on different hosts and zones under any load of either view', () => {
    const hosts = [
      host('a1', { zone: '1' }),
      host('a2', { zone: '1' }),
      host('b1', { zone: '2' }),
      host('b2', { zone: '2' }),
    ];
    const random = numbers(19);
    const load = () =>
      withLoads(
        hosts,
        hosts.map(() => Math.floor(random() * 40)),
      );
    for (let call = 0; call < 200; call += 1) {
      const first = choose(load(), `ix-${call}`, 0)!;
      const second = choose(load(), `ix-${call}`, 1)!;
      expect(second.hostId).not.toBe(first.hostId);
      expect(second.zone).not.toBe(first.zone);
    }
  });

  it('moves a leg whose host is full to a host that is not the other leg’s', () => {
    const hosts = [host('a'), host('b'), host('c'), host('d')];
    for (let call = 0; call < 30; call += 1) {
      const key = `call-${call}`;
      const second = choose(hosts, key, 1)!;
      // In leg 0's view, its own first host is full.
      const own = choose(hosts, key, 0)!;
      const full = hosts.map((h) => (h.hostId === own.hostId ? host(h.hostId, { active: 50 }) : h));
      const first = choose(full, key, 0)!;
      expect(first.hostId).not.toBe(own.hostId);
      expect(first.hostId).not.toBe(second.hostId);
    }
  });

  it('takes the least loaded of its own hosts, never one of the other leg’s', () => {
    const hosts = ['a', 'b', 'c', 'd'].map((id) => host(id));
    for (let call = 0; call < 20; call += 1) {
      const key = `call-${call}`;
      const order = rendezvousOrder(hosts, key, () => 0).map((h) => h.hostId);
      // Leg 0 owns positions 0 and 2; its first is busy, the other leg's hosts idle.
      const loads = order.map((id) => (id === order[0] ? 40 : 0));
      const view = withLoads(
        hosts,
        hosts.map((h) => loads[order.indexOf(h.hostId)]!),
      );
      expect(choose(view, key, 0)?.hostId).toBe(order[2]);
      expect([order[1], order[3]]).toContain(choose(view, key, 1)?.hostId);
    }
  });

  it('shares the only host, and spills the second leg to the next region before sharing', () => {
    expect(choose([host('only')], 'call-1', 1)?.hostId).toBe('only');
    const hosts = [host('near'), host('far', { region: 'USEA' })];
    expect(choose(hosts, 'call-1', 0)?.hostId).toBe('near');
    expect(choose(hosts, 'call-1', 1)?.hostId).toBe('far');
  });
});

describe('a burst of paired calls through the pool', () => {
  const request = (callId: string): CreateMediaSessionRequest => ({
    callId,
    tenantId: 't',
    interactionId: callId,
    recordedUserIds: [],
  });
  /** Function instances sharing one registry; each host counts the sessions created on it. */
  function fleet(hostIds: readonly string[]) {
    const sessions = new Map(hostIds.map((id) => [`http://${id}`, 0]));
    const registry = {
      list: () =>
        Promise.resolve(
          hostIds.map((id) => host(id, { active: sessions.get(`http://${id}`) ?? 0 })),
        ),
    } as unknown as MediaHostRegistry;
    const control = {
      createSession: (url: string, r: CreateMediaSessionRequest) => {
        sessions.set(url, (sessions.get(url) ?? 0) + 1);
        return Promise.resolve({ sessionId: `s-${r.callId}`, mediaConfigBlob: '{}' });
      },
    } as unknown as MediaHostControl;
    const instance = () =>
      new MediaHostPool(registry, control, { staleAfterInMs: 30_000, now: () => NOW });
    return { instance, sessions };
  }

  it.each([
    ['one instance', 1],
    ['two instances', 2],
  ])('puts the two legs of each of 20 calls on different hosts (%s)', async (_, count) => {
    const { instance, sessions } = fleet(['chaos-media-1', 'chaos-pair-a', 'chaos-pair-b']);
    const instances = Array.from({ length: count }, instance);
    const legs = Array.from({ length: 20 }, (_, call) =>
      [0, 1].map((legIndex) => ({ call, legIndex })),
    ).flat();
    const placed = await Promise.all(
      legs.map(async ({ call, legIndex }) => {
        const siblings: SiblingPlacement = {
          pairKey: `ix-${call}`,
          hostIds: [],
          zones: [],
          legIndex,
          legCount: 2,
        };
        const pool = instances[legIndex % instances.length]!;
        const reservation = await pool.reserve(request(`${call}/${legIndex}`), 'EUNO', siblings);
        return { call, hostId: reservation.kind === 'reserved' ? reservation.host.hostId : '' };
      }),
    );
    for (let call = 0; call < 20; call += 1) {
      const [first, second] = placed.filter((p) => p.call === call).map((p) => p.hostId);
      expect(first).not.toBe('');
      expect(second).not.toBe(first);
    }
    // Every host carries some of the burst.
    for (const count of sessions.values()) expect(count).toBeGreaterThan(0);
  });
});

import type { CreateMediaSessionRequest } from '@attest/core';
import { MediaHostPool } from './media-host-pool';
import type { MediaHostControl, MediaHostRecord, MediaHostRegistry } from './recorder-ports';

const NOW = new Date('2030-01-01T00:00:00Z');
const host = (hostId: string, activeSessions = 0): MediaHostRecord => ({
  hostId,
  controlUrl: `http://${hostId}`,
  region: 'EUNO',
  isDraining: false,
  version: '1',
  capacity: { maxSessions: 10, activeSessions },
  spoolBytes: 0,
  spoolLimitInBytes: 1,
  sentAt: NOW.toISOString(),
  receivedAt: NOW.toISOString(),
});
const request = (callId: string): CreateMediaSessionRequest => ({
  callId,
  tenantId: 't',
  interactionId: callId,
  recordedUserIds: [],
});

function pool(hosts: MediaHostRecord[], create: (url: string) => Promise<void>) {
  const tried: string[] = [];
  let listCalls = 0;
  const registry = {
    list: () => {
      listCalls += 1;
      return Promise.resolve(hosts);
    },
  } as unknown as MediaHostRegistry;
  const control = {
    createSession: async (url: string, r: CreateMediaSessionRequest) => {
      tried.push(url);
      await create(url);
      return { sessionId: `s-${r.callId}`, mediaHostId: url, mediaConfigBlob: '{}' };
    },
  } as unknown as MediaHostControl;
  return {
    pool: new MediaHostPool(registry, control, { staleAfterInMs: 30_000, now: () => NOW }),
    tried,
    listCalls: () => listCalls,
  };
}

describe('MediaHostPool', () => {
  it('spreads a burst across hosts by counting its own reservations', async () => {
    const { pool: p, tried } = pool([host('a'), host('b')], () => Promise.resolve());
    await Promise.all([
      p.reserve(request('1'), 'EUNO'),
      p.reserve(request('2'), 'EUNO'),
      p.reserve(request('3'), 'EUNO'),
      p.reserve(request('4'), 'EUNO'),
    ]);
    expect(tried.filter((u) => u === 'http://a')).toHaveLength(2);
    expect(tried.filter((u) => u === 'http://b')).toHaveLength(2);
  });

  it('reads the registry once for a burst', async () => {
    const { pool: p, listCalls } = pool([host('a')], () => Promise.resolve());
    await Promise.all([p.reserve(request('1'), undefined), p.reserve(request('2'), undefined)]);
    expect(listCalls()).toBe(1);
  });

  it('falls over to the next host when a create fails', async () => {
    const { pool: p, tried } = pool([host('a'), host('b', 5)], (url) =>
      url === 'http://a' ? Promise.reject(new Error('down')) : Promise.resolve(),
    );
    const result = await p.reserve(request('1'), undefined);
    expect(result).toMatchObject({ kind: 'reserved', host: { hostId: 'b' }, attempts: 2 });
    expect(tried).toEqual(['http://a', 'http://b']);
  });

  it('still tries a host that failed recently rather than rejecting the call', async () => {
    let fail = true;
    const { pool: p } = pool([host('a')], () =>
      fail ? Promise.reject(new Error('slow')) : Promise.resolve(),
    );
    expect(await p.reserve(request('1'), undefined)).toMatchObject({
      kind: 'noCapacity',
      failedHosts: 1,
    });
    fail = false;
    expect(await p.reserve(request('2'), undefined)).toMatchObject({ kind: 'reserved' });
  });

  it('takes a heartbeat into the cached listing without reading the registry again', async () => {
    let listCalls = 0;
    const registry = {
      list: () => {
        listCalls += 1;
        return Promise.resolve([host('a', 10)]);
      },
    } as unknown as MediaHostRegistry;
    const control = {
      createSession: (_url: string, r: CreateMediaSessionRequest) =>
        Promise.resolve({ sessionId: `s-${r.callId}`, mediaHostId: 'a', mediaConfigBlob: '{}' }),
    } as unknown as MediaHostControl;
    const p = new MediaHostPool(registry, control, { staleAfterInMs: 30_000, now: () => NOW });
    expect((await p.reserve(request('1'), undefined)).kind).toBe('noCapacity');
    p.observe({ ...host('a', 3) }, NOW);
    expect((await p.reserve(request('2'), undefined)).kind).toBe('reserved');
    expect(listCalls).toBe(1);
  });

  it('answers from an older listing while a fresh one is read, and waits once it is too old', async () => {
    let nowMs = NOW.getTime();
    let listCalls = 0;
    let finishListing: (hosts: MediaHostRecord[]) => void = () => undefined;
    const registry = {
      list: () => {
        listCalls += 1;
        return listCalls === 1
          ? Promise.resolve([host('a')])
          : new Promise<MediaHostRecord[]>((resolve) => (finishListing = resolve));
      },
    } as unknown as MediaHostRegistry;
    const control = {
      createSession: (url: string, r: CreateMediaSessionRequest) =>
        Promise.resolve({ sessionId: `s-${r.callId}`, mediaHostId: url, mediaConfigBlob: '{}' }),
    } as unknown as MediaHostControl;
    const p = new MediaHostPool(registry, control, {
      staleAfterInMs: 60_000,
      listCacheInMs: 1_000,
      serveStaleForInMs: 10_000,
      now: () => new Date(nowMs),
    });
    await p.reserve(request('1'), undefined);
    nowMs += 5_000;
    // 5 s old: served at once; the refresh is under way.
    const second = await p.reserve(request('2'), undefined);
    expect(second).toMatchObject({ kind: 'reserved', host: { hostId: 'a' } });
    expect(listCalls).toBe(2);
    nowMs += 10_000;
    // 15 s old and the refresh still pending: this one waits for it.
    let isThirdDone = false;
    const third = p.reserve(request('3'), undefined).then((r) => {
      isThirdDone = true;
      return r;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(isThirdDone).toBe(false);
    finishListing([host('b')]);
    expect(await third).toMatchObject({ kind: 'reserved', host: { hostId: 'b' } });
  });
});

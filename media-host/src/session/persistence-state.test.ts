import { MediaSessionState } from '@attest/core';
import { PersistenceState } from './persistence-state';

const T0 = '2026-12-06T09:00:00.000Z';
const T1 = '2026-12-06T09:01:00.000Z';
const T2 = '2026-12-06T09:02:00.000Z';

const fresh = (): PersistenceState =>
  new PersistenceState({ state: MediaSessionState.created, gaps: [] });

describe('PersistenceState', () => {
  it('stores nothing before persistence starts', () => {
    const state = fresh();
    state.connected();
    expect(state.state).toBe('connected');
    expect(state.isStoring).toBe(false);
  });

  it('keeps the first start time when persistence is started again', () => {
    const state = fresh();
    state.startPersisting(T0);
    state.startPersisting(T1);
    expect(state.persistingSince).toBe(T0);
    expect(state.state).toBe('persisting');
    expect(state.isStoring).toBe(true);
  });

  it('turns a pause into a gap with its reason and actor when resumed', () => {
    const state = fresh();
    state.startPersisting(T0);
    expect(state.pausePersistence(T1, 'pci', 'agent-1')).toBe(true);
    expect(state.isStoring).toBe(false);
    expect(state.state).toBe('paused');
    expect(state.resumePersistence(T2)).toEqual({ since: T1, reason: 'pci', actor: 'agent-1' });
    expect(state.gaps).toEqual([{ startedAt: T1, endedAt: T2, reason: 'pci', actor: 'agent-1' }]);
    expect(state.state).toBe('persisting');
  });

  it('keeps the first pause when paused twice', () => {
    const state = fresh();
    state.startPersisting(T0);
    state.pausePersistence(T1, 'pci', 'a');
    expect(state.pausePersistence(T2, 'other', 'b')).toBe(false);
    expect(state.pause).toEqual({ since: T1, reason: 'pci', actor: 'a' });
  });

  it('records no gap for a resume without a pause', () => {
    const state = fresh();
    state.startPersisting(T0);
    expect(state.resumePersistence(T1)).toBeUndefined();
    expect(state.gaps).toEqual([]);
  });

  it('closes an open pause as a gap at seal', () => {
    const state = fresh();
    state.startPersisting(T0);
    state.pausePersistence(T1, 'pci', 'a');
    state.closePause(T2);
    state.finish('sealed');
    expect(state.gaps).toEqual([{ startedAt: T1, endedAt: T2, reason: 'pci', actor: 'a' }]);
    expect(state.isFinished).toBe(true);
    expect(state.isStoring).toBe(false);
  });

  it('restores a paused session with its pause and gaps', () => {
    const gap = { startedAt: T0, endedAt: T1, reason: 'pci', actor: 'a' };
    const state = new PersistenceState({
      state: MediaSessionState.paused,
      persistingSince: T0,
      pause: { since: T2, reason: 'pci', actor: 'a' },
      gaps: [gap],
    });
    expect(state.isStoring).toBe(false);
    expect(state.gaps).toEqual([gap]);
  });
});

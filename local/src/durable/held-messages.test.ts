import { HeldMessages, type HeldRaise } from './held-messages';
import { historyEvents } from './history-events';
import { heldMessage } from './instance-rows';

const at = new Date(Date.UTC(2026, 0, 1));

function result(rowKey: string) {
  return heldMessage({
    rowKey,
    kind: 'event',
    executionId: 'e1',
    enqueuedAt: 1,
    event: historyEvents.taskCompleted(at, 0, 'null'),
  });
}

function raise(applied = jest.fn()): HeldRaise {
  return {
    message: heldMessage({
      rowKey: '',
      kind: 'event',
      executionId: undefined,
      enqueuedAt: 2,
      event: historyEvents.eventRaised(at, 'go', undefined),
    }),
    applied,
  };
}

describe('HeldMessages', () => {
  it('lists results before raised events', () => {
    const held = new HeldMessages();
    const r = raise();
    held.addRaise('i1', r);
    held.addResult('i1', result('w.1'));
    expect(held.of('i1').map((m) => m.rowKey)).toEqual(['w.1', '']);
  });

  it('answers a raise when an episode consumes it, and forgets it', () => {
    const held = new HeldMessages();
    const applied = jest.fn();
    const r = raise(applied);
    held.addRaise('i1', r);
    held.consume('i1', r.message);
    expect(applied).toHaveBeenCalledTimes(1);
    expect(held.of('i1')).toEqual([]);
    expect(held.withdrawRaise('i1', r)).toBe(false);
  });

  it('withdraws a raise no episode took', () => {
    const held = new HeldMessages();
    const r = raise();
    held.addRaise('i1', r);
    expect(held.withdrawRaise('i1', r)).toBe(true);
    expect(held.of('i1')).toEqual([]);
  });

  it('forgets a consumed result and keeps the others', () => {
    const held = new HeldMessages();
    const first = result('w.1');
    held.addResult('i1', first);
    held.addResult('i1', result('w.2'));
    held.consume('i1', first);
    expect(held.holdsResult('i1', first)).toBe(false);
    expect(held.takeResults('i1').map((m) => m.rowKey)).toEqual(['w.2']);
    expect(held.hasResults('i1')).toBe(false);
  });

  it('ignores stored messages', () => {
    const held = new HeldMessages();
    const r = result('w.1');
    held.addResult('i1', r);
    held.consume('i1', { ...r, direct: false });
    expect(held.holdsResult('i1', r)).toBe(true);
  });
});

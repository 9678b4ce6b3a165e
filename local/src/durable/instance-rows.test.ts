import { RowKeys } from './hub-store';
import {
  RuntimeStatus,
  compareMessages,
  heldMessage,
  isAwaitingStart,
  isTerminal,
  pendingStateRow,
  readState,
  stateCommitOps,
  toRow,
  validateInstanceId,
  type InboxMessage,
} from './instance-rows';

const at = new Date(Date.UTC(2026, 0, 1));

function stored(rowKey: string, dueAt: number, enqueuedAt: number): InboxMessage {
  return {
    rowKey,
    kind: 'event',
    executionId: undefined,
    dueAt,
    enqueuedAt,
    event: undefined,
    reason: undefined,
    corrupt: undefined,
  };
}

describe('runtime statuses', () => {
  it('counts completed, failed and terminated as terminal, not continued-as-new', () => {
    expect(
      [RuntimeStatus.Completed, RuntimeStatus.Failed, RuntimeStatus.Terminated].every(isTerminal),
    ).toBe(true);
    expect(isTerminal(RuntimeStatus.ContinuedAsNew)).toBe(false);
  });

  it('awaits a start while pending or continued as new', () => {
    expect(isAwaitingStart(RuntimeStatus.Pending)).toBe(true);
    expect(isAwaitingStart(RuntimeStatus.ContinuedAsNew)).toBe(true);
    expect(isAwaitingStart(RuntimeStatus.Running)).toBe(false);
  });
});

describe('validateInstanceId', () => {
  it.each(['', '@x', 'a/b', 'a\\b', 'a#b', 'a?b', 'a\u0007b', 'x'.repeat(257)])(
    'refuses %j',
    (id) => {
      expect(() => validateInstanceId(id)).toThrow(/instance ids are 1-256 characters/);
    },
  );

  it('accepts an id with colons and dots', () => {
    expect(() => validateInstanceId('call:abc.1')).not.toThrow();
  });
});

describe('state rows', () => {
  it('reads back the pending state row it builds', () => {
    const state = readState(toRow(pendingStateRow('i1', 'orch', 'e1', at), 'W/1'));
    expect(state).toMatchObject({
      instanceId: 'i1',
      name: 'orch',
      status: RuntimeStatus.Pending,
      executionId: 'e1',
      historyLength: 0,
      createdTime: at.getTime(),
      parentInstanceId: undefined,
      etag: 'W/1',
    });
  });

  it('creates a state row not stored yet and updates a stored one with its etag', () => {
    const entity = pendingStateRow('i1', 'orch', 'e1', at);
    const fresh = readState(toRow(entity, ''));
    const storedState = readState(toRow(entity, 'W/2'));
    expect(stateCommitOps(fresh, entity)[0]).toEqual(['create', entity]);
    expect(stateCommitOps(storedState, entity)[0]).toEqual([
      'update',
      entity,
      'Replace',
      { etag: 'W/2' },
    ]);
  });

  it('deletes consumed inbox rows but not held messages', () => {
    const entity = pendingStateRow('i1', 'orch', 'e1', at);
    const state = readState(toRow(entity, 'W/1'));
    const inbox = stored(`${RowKeys.inboxPrefix}1`, 0, 0);
    const held = heldMessage({
      rowKey: '',
      kind: 'event',
      executionId: undefined,
      enqueuedAt: 0,
      event: undefined,
    });
    expect(stateCommitOps(state, entity, inbox, held).slice(1)).toEqual([
      ['delete', { partitionKey: 'i1', rowKey: inbox.rowKey }],
    ]);
  });
});

describe('compareMessages', () => {
  it('orders by when a message became due, then by row key', () => {
    const timer = stored('m.a', 5000, 1000);
    const early = stored('m.b', 0, 2000);
    const sameTime = stored('m.0', 0, 2000);
    expect([timer, early, sameTime].sort(compareMessages).map((m) => m.rowKey)).toEqual([
      'm.0',
      'm.b',
      'm.a',
    ]);
  });
});

import { HistoryEventType, historyEvents, validateHistoryEvent } from './history-events';

const at = new Date(Date.UTC(2026, 0, 1));

describe('history events', () => {
  it('builds PascalCase events with JSON-string payloads', () => {
    expect(historyEvents.taskCompleted(at, 3, '"ok"')).toEqual({
      EventType: HistoryEventType.TaskCompleted,
      EventId: -1,
      IsPlayed: false,
      Timestamp: '2026-01-01T00:00:00.000Z',
      TaskScheduledId: 3,
      Result: '"ok"',
    });
  });

  it('accepts the events it builds', () => {
    expect(
      validateHistoryEvent(historyEvents.taskFailed(at, 1, 'reason', 'details')),
    ).toBeUndefined();
    expect(validateHistoryEvent(historyEvents.eventRaised(at, 'go', undefined))).toBeUndefined();
  });

  it('rejects a completion whose Result is not JSON text', () => {
    expect(
      validateHistoryEvent({ ...historyEvents.taskCompleted(at, 1, 'x'), Result: '{oops' }),
    ).toBe('Result is not valid JSON');
  });

  it('rejects a failure without Reason and Details, which the SDK cannot replay', () => {
    expect(
      validateHistoryEvent({
        EventType: HistoryEventType.TaskFailed,
        EventId: -1,
        Timestamp: at.toISOString(),
        TaskScheduledId: 1,
      }),
    ).toBe('Reason/Details missing');
  });

  it('rejects an unknown event type and a missing timestamp', () => {
    expect(validateHistoryEvent({ EventType: 99, EventId: -1, Timestamp: at.toISOString() })).toBe(
      'unknown EventType',
    );
    expect(validateHistoryEvent({ EventType: 12, EventId: -1 })).toBe('Timestamp is not a date');
  });
});

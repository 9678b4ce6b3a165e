import { historyEvents } from './history-events';
import { toPublicHistory } from './public-history';

const at = new Date(Date.UTC(2026, 0, 1));
const later = new Date(Date.UTC(2026, 0, 1, 0, 0, 5));

const events = [
  historyEvents.executionStarted(at, {
    name: 'orch',
    input: '{"n":1}',
    instanceId: 'i1',
    executionId: 'e1',
  }),
  historyEvents.orchestratorStarted(at),
  { ...historyEvents.taskScheduled(at, 0, 'act', '"x"'), EventId: 0 },
  historyEvents.orchestratorCompleted(at),
  historyEvents.taskCompleted(later, 0, '"done"'),
  historyEvents.executionCompleted(later, '"out"', 'Completed'),
];

describe('toPublicHistory', () => {
  it('folds scheduling into the completion, named after the scheduled function', () => {
    const history = toPublicHistory(events, true, true);
    expect(history.map((e) => e.EventType)).toEqual([
      'ExecutionStarted',
      'TaskCompleted',
      'ExecutionCompleted',
    ]);
    expect(history[1]).toEqual({
      EventType: 'TaskCompleted',
      FunctionName: 'act',
      ScheduledTime: at.toISOString(),
      Timestamp: later.toISOString(),
      Result: 'done',
    });
    expect(history[0]).toMatchObject({ FunctionName: 'orch', Input: { n: 1 } });
  });

  it('leaves inputs and outputs out unless asked', () => {
    const history = toPublicHistory(events, false, false);
    expect(history[0]).not.toHaveProperty('Input');
    expect(history[1]).not.toHaveProperty('Result');
    expect(history[2]).not.toHaveProperty('Result');
  });
});

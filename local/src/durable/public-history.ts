/** An instance's history as the extension's status API shows it (`showHistory=true`). */
import { HistoryEventType, type HistoryEvent } from './history-events';
import { parseJsonOr } from './instance-rows';

/** History in the shape of the extension's status API (scheduling events folded away). */
export function toPublicHistory(
  events: readonly HistoryEvent[],
  showOutput: boolean,
  showInput: boolean,
): Record<string, unknown>[] {
  const scheduled = new Map<number, HistoryEvent>();
  const out: Record<string, unknown>[] = [];
  for (const e of events) {
    switch (e.EventType) {
      case HistoryEventType.TaskScheduled:
      case HistoryEventType.SubOrchestrationInstanceCreated:
      case HistoryEventType.TimerCreated:
        scheduled.set(e.EventId, e);
        break;
      case HistoryEventType.ExecutionStarted:
        out.push({
          EventType: 'ExecutionStarted',
          FunctionName: e.Name,
          Timestamp: e.Timestamp,
          ...(showInput ? { Input: parseJsonOr(e.Input as string | undefined, null) } : {}),
        });
        break;
      case HistoryEventType.TaskCompleted:
      case HistoryEventType.SubOrchestrationInstanceCompleted: {
        const s = scheduled.get(e.TaskScheduledId as number);
        out.push({
          EventType:
            e.EventType === HistoryEventType.TaskCompleted
              ? 'TaskCompleted'
              : 'SubOrchestrationInstanceCompleted',
          FunctionName: s?.Name,
          ScheduledTime: s?.Timestamp,
          Timestamp: e.Timestamp,
          ...(showOutput ? { Result: parseJsonOr(e.Result as string, null) } : {}),
        });
        break;
      }
      case HistoryEventType.TaskFailed:
      case HistoryEventType.SubOrchestrationInstanceFailed: {
        const s = scheduled.get(e.TaskScheduledId as number);
        out.push({
          EventType:
            e.EventType === HistoryEventType.TaskFailed
              ? 'TaskFailed'
              : 'SubOrchestrationInstanceFailed',
          FunctionName: s?.Name,
          ScheduledTime: s?.Timestamp,
          Timestamp: e.Timestamp,
          Reason: e.Reason,
        });
        break;
      }
      case HistoryEventType.TimerFired:
        out.push({ EventType: 'TimerFired', FireAt: e.FireAt, Timestamp: e.Timestamp });
        break;
      case HistoryEventType.EventRaised:
        out.push({
          EventType: 'EventRaised',
          Name: e.Name,
          Timestamp: e.Timestamp,
          ...(showInput ? { Input: parseJsonOr(e.Input as string | undefined, null) } : {}),
        });
        break;
      case HistoryEventType.ExecutionCompleted:
      case HistoryEventType.ExecutionFailed:
        out.push({
          EventType: 'ExecutionCompleted',
          OrchestrationStatus: e.OrchestrationStatus,
          Timestamp: e.Timestamp,
          ...(showOutput ? { Result: parseJsonOr(e.Result as string, null) } : {}),
        });
        break;
      case HistoryEventType.ExecutionTerminated:
        out.push({
          EventType: 'ExecutionTerminated',
          Timestamp: e.Timestamp,
          Reason: parseJsonOr(e.Input as string | undefined, null),
        });
        break;
      case HistoryEventType.ContinueAsNew:
        out.push({ EventType: 'ContinueAsNew', Timestamp: e.Timestamp });
        break;
      default:
        break;
    }
  }
  return out;
}

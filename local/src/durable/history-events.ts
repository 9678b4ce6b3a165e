/**
 * History events as the Durable extension serializes them for the out-of-process worker:
 * PascalCase fields, numeric `EventType`, JSON-string payloads (`Input`, `Result`).
 * Numbers follow DurableTask.Core's `EventType` (and the SDK's `HistoryEventType`).
 */
export const HistoryEventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;
export type HistoryEventType = (typeof HistoryEventType)[keyof typeof HistoryEventType];

const eventTypeNames: ReadonlyMap<number, string> = new Map(
  Object.entries(HistoryEventType).map(([name, value]) => [value, name]),
);

export function eventTypeName(type: number): string {
  return eventTypeNames.get(type) ?? `Unknown${type}`;
}

/** One history event on the wire. `Timestamp` is an ISO string. */
export interface HistoryEvent {
  readonly EventType: number;
  readonly EventId: number;
  readonly IsPlayed: boolean;
  readonly Timestamp: string;
  readonly [field: string]: unknown;
}

function event(
  type: HistoryEventType,
  at: Date,
  fields: Record<string, unknown> = {},
  eventId = -1,
): HistoryEvent {
  return {
    EventType: type,
    EventId: eventId,
    IsPlayed: false,
    Timestamp: at.toISOString(),
    ...fields,
  };
}

export const historyEvents = {
  orchestratorStarted: (at: Date) => event(HistoryEventType.OrchestratorStarted, at),
  orchestratorCompleted: (at: Date) => event(HistoryEventType.OrchestratorCompleted, at),
  executionStarted: (
    at: Date,
    f: {
      name: string;
      input: string | undefined;
      instanceId: string;
      executionId: string;
      parent?: ParentRef;
    },
  ) =>
    event(HistoryEventType.ExecutionStarted, at, {
      Name: f.name,
      Version: '',
      Input: f.input,
      OrchestrationInstance: { InstanceId: f.instanceId, ExecutionId: f.executionId },
      ParentInstance:
        f.parent === undefined
          ? undefined
          : {
              Name: f.parent.name,
              OrchestrationInstance: {
                InstanceId: f.parent.instanceId,
                ExecutionId: f.parent.executionId,
              },
              TaskScheduleId: f.parent.taskId,
            },
    }),
  executionCompleted: (at: Date, result: string, status: 'Completed' | 'Failed') =>
    event(
      status === 'Completed'
        ? HistoryEventType.ExecutionCompleted
        : HistoryEventType.ExecutionFailed,
      at,
      {
        OrchestrationStatus: status,
        Result: result,
      },
    ),
  executionTerminated: (at: Date, reason: string) =>
    event(HistoryEventType.ExecutionTerminated, at, { Input: JSON.stringify(reason) }),
  taskScheduled: (at: Date, id: number, name: string, input: string | undefined) =>
    event(HistoryEventType.TaskScheduled, at, { Name: name, Version: '', Input: input }, id),
  taskCompleted: (at: Date, taskScheduledId: number, result: string) =>
    event(HistoryEventType.TaskCompleted, at, { TaskScheduledId: taskScheduledId, Result: result }),
  taskFailed: (at: Date, taskScheduledId: number, reason: string, details: string) =>
    event(HistoryEventType.TaskFailed, at, {
      TaskScheduledId: taskScheduledId,
      Reason: reason,
      Details: details,
    }),
  timerCreated: (at: Date, id: number, fireAt: Date) =>
    event(HistoryEventType.TimerCreated, at, { FireAt: fireAt.toISOString() }, id),
  timerFired: (at: Date, timerId: number, fireAt: string) =>
    event(HistoryEventType.TimerFired, at, { TimerId: timerId, FireAt: fireAt }),
  eventRaised: (at: Date, name: string, input: string | undefined) =>
    event(HistoryEventType.EventRaised, at, { Name: name, Input: input }),
  subOrchestrationCreated: (
    at: Date,
    id: number,
    name: string,
    instanceId: string,
    input: string | undefined,
  ) =>
    event(
      HistoryEventType.SubOrchestrationInstanceCreated,
      at,
      { Name: name, Version: '', InstanceId: instanceId, Input: input },
      id,
    ),
  subOrchestrationCompleted: (at: Date, taskScheduledId: number, result: string) =>
    event(HistoryEventType.SubOrchestrationInstanceCompleted, at, {
      TaskScheduledId: taskScheduledId,
      Result: result,
    }),
  subOrchestrationFailed: (at: Date, taskScheduledId: number, reason: string, details: string) =>
    event(HistoryEventType.SubOrchestrationInstanceFailed, at, {
      TaskScheduledId: taskScheduledId,
      Reason: reason,
      Details: details,
    }),
  continueAsNew: (at: Date, input: string | undefined) =>
    event(HistoryEventType.ContinueAsNew, at, { Result: input }),
};

export interface ParentRef {
  readonly name: string;
  readonly instanceId: string;
  readonly executionId: string;
  readonly taskId: number;
}

/** Checks the fields the SDK and the engine rely on; returns a reason when the event is unusable. */
export function validateHistoryEvent(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const e = value as Record<string, unknown>;
  if (typeof e.EventType !== 'number' || !eventTypeNames.has(e.EventType))
    return 'unknown EventType';
  if (typeof e.EventId !== 'number') return 'EventId is not a number';
  if (typeof e.Timestamp !== 'string' || Number.isNaN(Date.parse(e.Timestamp)))
    return 'Timestamp is not a date';
  switch (e.EventType) {
    case HistoryEventType.TaskCompleted:
    case HistoryEventType.SubOrchestrationInstanceCompleted:
      if (typeof e.TaskScheduledId !== 'number') return 'TaskScheduledId is not a number';
      if (typeof e.Result !== 'string') return 'Result is not a JSON string';
      return isJsonText(e.Result) ? undefined : 'Result is not valid JSON';
    case HistoryEventType.TaskFailed:
    case HistoryEventType.SubOrchestrationInstanceFailed:
      if (typeof e.TaskScheduledId !== 'number') return 'TaskScheduledId is not a number';
      return typeof e.Reason === 'string' && typeof e.Details === 'string'
        ? undefined
        : 'Reason/Details missing';
    case HistoryEventType.TimerFired:
      return typeof e.TimerId === 'number' ? undefined : 'TimerId is not a number';
    case HistoryEventType.EventRaised:
      if (typeof e.Name !== 'string') return 'Name is not a string';
      return e.Input === undefined ||
        e.Input === null ||
        (typeof e.Input === 'string' && isJsonText(e.Input))
        ? undefined
        : 'Input is not valid JSON';
    case HistoryEventType.ExecutionStarted:
      return typeof e.Name === 'string' ? undefined : 'Name is not a string';
    default:
      return undefined;
  }
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

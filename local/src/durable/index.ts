/** The local durable engine: Durable Functions' task hub on Azurite for the local host and tests. */
export {
  createLocalDurableEngine,
  isTerminal,
  RuntimeStatus,
  validateInstanceId,
  type InstanceFilter,
  type InstanceStatus,
  type LocalDurableEngine,
  type LocalDurableEngineOptions,
  type StartNewResult,
} from './engine';
export { CLOCK_OFFSET_ENV, ManualClock, clockFromEnv, offsetClock, type Clock } from './clock';
export { HistoryEventType, type HistoryEvent } from './history-events';
export { HubStore, RowKeys, validateTaskHubName } from './hub-store';

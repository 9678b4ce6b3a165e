/** The local runtime's public surface (tests, benchmarks, tooling). Never imported by product code. */
export * from './host/contracts';
export { ManualClock, isManualClock } from './host/clock';
export {
  loadFunctionApp,
  resolveAppEntry,
  LoadedFunctionApp,
  type LoadFunctionAppOptions,
  type InvocationOutcome,
  type InvocationRequestInit,
  type InvokeOptions,
} from './host/function-app';
export {
  startFunctionsHost,
  findDurableEngineFactory,
  DEFAULT_MAX_REQUEST_BODY_IN_BYTES,
  type FunctionsHost,
  type FunctionsHostOptions,
  type DurableEngineFactory,
  type LocalDurableEngineOptions as HostDurableEngineOptions,
} from './host/functions-host';
export { readHostJson, parseHostJson, type HostJsonSettings } from './host/host-config';
export { startHttpTriggerServer, type HttpTriggerServer, type HttpRoute } from './host/http-server';
export { compileRoute, type CompiledRoute } from './host/route-template';
export { TimerScheduler, type TimerState } from './host/timer-scheduler';
export { QueuePoller } from './host/queue-poller';
export {
  createHostLogger,
  jsonLineSink,
  memorySink,
  type HostLogger,
  type HostLogLevel,
  type HostLogRecord,
  type LogSink,
} from './host/log-sink';
export { startAzurite, type AzuriteInstance, type AzuriteOptions } from './azurite/azurite-process';
export {
  startServices,
  type ServiceDefinition,
  type RunningService,
  type ServiceContext,
} from './start/services';
export { startImdsStandIn, type ImdsStandIn, type ScheduleEventOptions } from './imds/imds-server';

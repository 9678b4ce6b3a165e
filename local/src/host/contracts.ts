/**
 * Contracts inside the local runtime between the Functions host (registration capture, HTTP,
 * timers, queues) and the local durable engine. Nothing here is product code.
 */

/** A function registration captured from the app through `@azure/functions-core`. */
export interface CapturedFunction {
  readonly name: string;
  /** Trigger binding type: `httpTrigger`, `timerTrigger`, `queueTrigger`, `orchestrationTrigger`, `activityTrigger`, `entityTrigger`, … */
  readonly triggerType: string;
  /** The trigger binding's own settings (route, methods, schedule, queueName, connection, …). */
  readonly trigger: Readonly<Record<string, unknown>>;
  /** Every binding of the function, by name, as registered. */
  readonly bindings: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** Calls captured functions the way the Functions host and the Durable extension do. */
export interface FunctionInvoker {
  list(): readonly CapturedFunction[];
  get(name: string): CapturedFunction | undefined;
  /**
   * Invokes an `orchestrationTrigger` function with the payload the Durable extension sends
   * (`history`, `input`, `instanceId`, `isReplaying`, `upperSchemaVersion`, …). Resolves with
   * the handler's returned `OrchestratorState`; rejects with the handler's error when user code
   * threw (its message carries the `$OutOfProcData$:` suffix).
   */
  invokeOrchestrator(name: string, payload: Readonly<Record<string, unknown>>): Promise<unknown>;
  /** Invokes an `activityTrigger` function; resolves with its return value or rejects with its error. */
  invokeActivity(name: string, input: unknown, options?: { instanceId?: string }): Promise<unknown>;
}

/**
 * What the host puts into a `durableClient` input binding: the JSON the Durable extension
 * gives the worker (`taskHubName`, `creationUrls`, `managementUrls`, `baseUrl`, `rpcBaseUrl`,
 * `requiredQueryStringParameters`, …), so the real `df.getClient()` works unchanged.
 */
export type DurableClientBindingData = Readonly<Record<string, unknown>>;

/** The local durable engine as the host sees it. */
export interface DurableBackend {
  /** Binding data for `df.input.durableClient()`; valid after `start`. */
  clientBindingData(): DurableClientBindingData;
  start(invoker: FunctionInvoker): Promise<void>;
  /** Stops polling and waits for in-flight work; idempotent. */
  close(): Promise<void>;
}

/** A controllable clock: the host and the engine read time only through it. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

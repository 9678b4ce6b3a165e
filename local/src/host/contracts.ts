/**
 * Contracts inside the local runtime between the Functions host (registration capture, HTTP,
 * timers, queues) and the local durable engine. Nothing here is product code.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

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

/**
 * Serves extra paths on the host's HTTP server (e.g. the Durable management API under
 * `/runtime/webhooks/durabletask/`). Tried before the function routes.
 */
export interface HostHttpExtension {
  /** Resolves true when it answered the request, false to let the host route it. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
}

/** What the host tells a durable backend when it starts it. */
export interface DurableBackendStartContext {
  /** The host's HTTP server, e.g. `http://127.0.0.1:7071` (no trailing slash). */
  readonly hostBaseUrl: string;
}

/** The local durable engine as the host sees it. */
export interface DurableBackend {
  /** Binding data for `df.input.durableClient()`; valid after `start`. */
  clientBindingData(): DurableClientBindingData;
  /** `context` is passed by the host; older callers may omit it. */
  start(invoker: FunctionInvoker, context?: DurableBackendStartContext): Promise<void>;
  /** Optional: HTTP paths the backend serves on the host's server. */
  readonly httpExtension?: HostHttpExtension;
  /** Stops polling and waits for in-flight work; idempotent. */
  close(): Promise<void>;
  /**
   * Optional: resolves once this backend runs the task hub's work (at once when it does; later
   * when it joined a hub another host runs and takes it over; never when it closes first). The
   * host starts its timer triggers then, so the instances of a scaled-out app fire each timer
   * once, as Azure's singleton timer listener does.
   */
  whenHubOwner?(): Promise<void>;
  /** Optional: false while this backend is a client of a hub another host runs. */
  readonly isHubOwner?: boolean;
}

/** The host and the engine read time only through core's {@link Clock}. */
export { systemClock, type Clock } from '@attest/core';

/**
 * Loads a function app into this process and invokes its functions through `@azure/functions`'
 * own invocation model, exactly as the Functions Node.js worker does: the host builds the
 * RPC-shaped invocation request, the library turns it into real `HttpRequest` /
 * `InvocationContext` objects, calls the handler and converts the result back to typed data.
 */
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { CapturedFunction, DurableClientBindingData, FunctionInvoker } from './contracts';
import { installFunctionsCoreResolveHook } from './core-resolve-hook';
import {
  localRegistry,
  type CoreBindingInfo,
  type CoreInvocationResponse,
  type CoreParameterBinding,
  type CoreTypedData,
  type RegisteredFunction,
} from './functions-core';
import {
  createHostLogger,
  fromRpcLogLevel,
  jsonLineSink,
  type HostLogger,
  type LogSink,
} from './log-sink';
import { fromTypedData, jsonData, stringData } from './typed-data';

export interface LoadFunctionAppOptions {
  /** Where log lines go (host and function logs). Default: JSON lines on stdout. */
  logSink?: LogSink;
  /** Binding data for `durableClient` inputs; may also be set later with `setDurableClientData`. */
  durableClientData?: () => DurableClientBindingData;
}

/** The RPC invocation request fields the host fills (the invocation id is added by the app). */
export interface InvocationRequestInit {
  readonly inputData?: readonly CoreParameterBinding[];
  readonly triggerMetadata?: Readonly<Record<string, CoreTypedData>>;
  readonly retryContext?: { retryCount: number; maxRetryCount: number };
}

export interface InvocationOutcome {
  readonly invocationId: string;
  readonly returnValue: CoreTypedData | null | undefined;
  readonly outputData: readonly CoreParameterBinding[];
}

export interface InvokeOptions {
  /** Extra fields for every log line of this invocation (e.g. `instanceId`). */
  readonly correlation?: Readonly<Record<string, unknown>>;
}

const DURABLE_CLIENT_TYPES = new Set(['durableClient', 'orchestrationClient']);

function isTriggerType(type: string | null | undefined): boolean {
  return typeof type === 'string' && type.toLowerCase().endsWith('trigger');
}

function capture(
  registered: RegisteredFunction,
): CapturedFunction & { readonly triggerName: string } {
  const entries = Object.entries(registered.metadata.bindings);
  const triggerEntry = entries.find(([, b]) => b.direction === 'in' && isTriggerType(b.type));
  if (triggerEntry === undefined) {
    throw new Error(`Function "${registered.metadata.name}" has no trigger binding`);
  }
  const [triggerName, trigger] = triggerEntry;
  return {
    name: registered.metadata.name,
    triggerType: String(trigger.type),
    trigger,
    triggerName,
    bindings: registered.metadata.bindings,
  };
}

/** Resolves an app path (entry file, or folder with a package.json `main`) to its entry file. */
export function resolveAppEntry(appPath: string): { entry: string; appRoot: string } {
  const absolute = resolve(appPath);
  if (existsSync(absolute) && statSync(absolute).isDirectory()) {
    const packageFile = resolve(absolute, 'package.json');
    if (!existsSync(packageFile)) {
      throw new Error(`App folder ${absolute} has no package.json: pass the entry file instead`);
    }
    const pkg = JSON.parse(readFileSync(packageFile, 'utf8')) as { main?: unknown };
    const main = typeof pkg.main === 'string' ? pkg.main : 'index.js';
    return { entry: require.resolve(resolve(absolute, main)), appRoot: absolute };
  }
  return { entry: require.resolve(absolute), appRoot: dirname(absolute) };
}

/** Captures from previous loads, per entry file: loading the same app twice registers once. */
const loadedEntries = new Map<string, readonly string[]>();

export class LoadedFunctionApp implements FunctionInvoker {
  readonly entry: string;
  readonly appRoot: string;
  readonly #functions: ReadonlyMap<string, CapturedFunction & { readonly triggerName: string }>;
  readonly #logger: HostLogger;
  readonly #appHookData: Record<string, unknown>;
  #durableClientData: (() => DurableClientBindingData) | undefined;

  constructor(
    entry: string,
    appRoot: string,
    names: readonly string[],
    logger: HostLogger,
    appHookData: Record<string, unknown>,
    durableClientData: (() => DurableClientBindingData) | undefined,
  ) {
    this.entry = entry;
    this.appRoot = appRoot;
    const captured = new Map<string, CapturedFunction & { readonly triggerName: string }>();
    for (const name of names) {
      const registered = localRegistry.get(name);
      if (registered !== undefined) captured.set(name, capture(registered));
    }
    this.#functions = captured;
    this.#logger = logger;
    this.#appHookData = appHookData;
    this.#durableClientData = durableClientData;
  }

  list(): readonly CapturedFunction[] {
    return [...this.#functions.values()];
  }

  get(name: string): CapturedFunction | undefined {
    return this.#functions.get(name);
  }

  /** Functions whose trigger type matches (case-insensitive), in registration order. */
  listByTrigger(triggerType: string): readonly CapturedFunction[] {
    const wanted = triggerType.toLowerCase();
    return this.list().filter((f) => f.triggerType.toLowerCase() === wanted);
  }

  setDurableClientData(provider: (() => DurableClientBindingData) | undefined): void {
    this.#durableClientData = provider;
  }

  /** Whether a function declares a `durableClient` input. */
  usesDurableClient(name: string): boolean {
    const fn = this.#functions.get(name);
    return (
      fn !== undefined &&
      Object.values(fn.bindings).some((b) => DURABLE_CLIENT_TYPES.has(String(b.type)))
    );
  }

  /**
   * Invokes a function with trigger data (typed data for its trigger binding). Adds the
   * `durableClient` input when the function declares one. Rejects with the handler's error.
   */
  async invoke(
    name: string,
    triggerData: CoreTypedData | undefined,
    init: InvocationRequestInit = {},
    options: InvokeOptions = {},
  ): Promise<InvocationOutcome> {
    const fn = this.#functions.get(name);
    const registered = localRegistry.get(name);
    if (fn === undefined || registered === undefined) {
      throw new Error(`Function "${name}" is not registered in ${this.entry}`);
    }
    const model = localRegistry.programmingModel();
    if (model === undefined) throw new Error('The app registered no programming model');

    const inputData: CoreParameterBinding[] = [...(init.inputData ?? [])];
    if (triggerData !== undefined) inputData.unshift({ name: fn.triggerName, data: triggerData });
    for (const [bindingName, binding] of Object.entries(fn.bindings)) {
      if (binding.direction === 'in' && DURABLE_CLIENT_TYPES.has(String(binding.type))) {
        const provider = this.#durableClientData;
        if (provider === undefined) {
          throw new Error(
            `Function "${name}" needs a durableClient input but this host runs without a durable engine`,
          );
        }
        // The Durable extension hands the client binding to the worker as a JSON string.
        inputData.push({ name: bindingName, data: stringData(JSON.stringify(provider())) });
      }
    }

    const invocationId = randomUUID();
    const log = this.#logger.child({ functionName: name, invocationId, ...options.correlation });
    const coreContext: {
      invocationId: string;
      request: Record<string, unknown>;
      metadata: Record<string, unknown>;
      state: 'preInvocationHooks' | 'postInvocationHooks' | 'invocation' | undefined;
      log(level: string, category: string, message: string): void;
    } = {
      invocationId,
      request: {
        invocationId,
        functionId: name,
        inputData,
        triggerMetadata: init.triggerMetadata ?? {},
        retryContext: init.retryContext,
      },
      metadata: {
        name,
        functionId: name,
        directory: this.appRoot,
        scriptFile: this.entry,
        bindings: fn.bindings,
      },
      state: undefined,
      log: (level, category, message) => log.log(fromRpcLogLevel(level), message, { category }),
    };

    log.log('debug', 'function invoked', { triggerType: fn.triggerType });
    const invocationModel = model.getInvocationModel(coreContext);
    const { context, inputs } = await invocationModel.getArguments();
    const hookData: Record<string, unknown> = {};
    const pre: Record<string, unknown> & {
      inputs: unknown[];
      functionCallback: (...a: unknown[]) => unknown;
    } = {
      hookData,
      appHookData: this.#appHookData,
      invocationContext: context,
      inputs,
      functionCallback: registered.callback,
    };
    coreContext.state = 'preInvocationHooks';
    for (const hook of localRegistry.hooks('preInvocation')) await hook(pre);

    coreContext.state = 'invocation';
    let result: unknown;
    let error: unknown;
    let failed = false;
    try {
      result = await invocationModel.invokeFunction(context, pre.inputs, pre.functionCallback);
    } catch (thrown) {
      failed = true;
      error = thrown;
    }

    const post: Record<string, unknown> = {
      hookData,
      appHookData: this.#appHookData,
      invocationContext: context,
      inputs: pre.inputs,
      result,
      error,
    };
    coreContext.state = 'postInvocationHooks';
    for (const hook of localRegistry.hooks('postInvocation')) await hook(post);
    coreContext.state = undefined;

    if (failed && post.error !== undefined) {
      log.log('debug', 'function failed', {
        errorName: post.error instanceof Error ? post.error.name : typeof post.error,
      });
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrow exactly what the handler threw
      throw post.error;
    }
    log.log('debug', 'function completed');
    const response: CoreInvocationResponse = await invocationModel.getResponse(
      context,
      post.result,
    );
    return {
      invocationId,
      returnValue: response.returnValue,
      outputData: response.outputData ?? [],
    };
  }

  async invokeOrchestrator(
    name: string,
    payload: Readonly<Record<string, unknown>>,
  ): Promise<unknown> {
    this.#expectTrigger(name, 'orchestrationTrigger');
    const instanceId = typeof payload.instanceId === 'string' ? payload.instanceId : undefined;
    // The Durable extension sends the orchestration payload as a JSON string.
    const outcome = await this.invoke(
      name,
      stringData(JSON.stringify(payload)),
      {},
      {
        correlation: instanceId === undefined ? {} : { instanceId },
      },
    );
    return fromTypedData(outcome.returnValue);
  }

  async invokeActivity(
    name: string,
    input: unknown,
    options: { instanceId?: string } = {},
  ): Promise<unknown> {
    this.#expectTrigger(name, 'activityTrigger');
    const outcome = await this.invoke(
      name,
      jsonData(input),
      {},
      {
        correlation: options.instanceId === undefined ? {} : { instanceId: options.instanceId },
      },
    );
    return fromTypedData(outcome.returnValue);
  }

  /** Runs the app's `appTerminate` hooks; idempotent per call site's discretion. */
  async terminate(): Promise<void> {
    for (const hook of localRegistry.hooks('appTerminate')) {
      await hook({ hookData: {}, appHookData: this.#appHookData });
    }
  }

  #expectTrigger(name: string, triggerType: string): void {
    const fn = this.#functions.get(name);
    if (fn === undefined) throw new Error(`Function "${name}" is not registered in ${this.entry}`);
    if (fn.triggerType !== triggerType) {
      throw new Error(`Function "${name}" has trigger ${fn.triggerType}, not ${triggerType}`);
    }
  }
}

/**
 * Loads the app's entry module with `@azure/functions-core` provided, captures its registrations
 * and runs its `appStart` hooks. Loading the same entry again returns the registrations of the
 * first load without running the module twice.
 */
export async function loadFunctionApp(
  appPath: string,
  options: LoadFunctionAppOptions = {},
): Promise<LoadedFunctionApp> {
  installFunctionsCoreResolveHook();
  const { entry, appRoot } = resolveAppEntry(appPath);
  const logger = createHostLogger(options.logSink ?? jsonLineSink());
  const appHookData: Record<string, unknown> = {};
  let names = loadedEntries.get(entry);
  const firstLoad = names === undefined;
  if (names === undefined) {
    const before = new Set(localRegistry.functions().map((f) => f.metadata.name));
    const added = (): string[] =>
      localRegistry
        .functions()
        .map((f) => f.metadata.name)
        .filter((n) => !before.has(n));
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the app is CommonJS, loaded like the worker does
      require(entry);
    } catch (error) {
      // Forget what the failed load registered, so fixing the app and loading again works.
      added().forEach((name) => localRegistry.remove(name));
      throw error;
    }
    names = added();
    loadedEntries.set(entry, names);
  }
  const app = new LoadedFunctionApp(
    entry,
    appRoot,
    names,
    logger,
    appHookData,
    options.durableClientData,
  );
  if (firstLoad) {
    for (const hook of localRegistry.hooks('appStart')) {
      await hook({ hookData: {}, appHookData, functionAppDirectory: appRoot });
    }
  }
  logger.log('info', 'function app loaded', { functionCount: names.length, firstLoad });
  return app;
}

export type { CoreBindingInfo };

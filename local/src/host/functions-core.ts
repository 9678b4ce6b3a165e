/**
 * The local stand-in for the module `@azure/functions-core`, which the Azure Functions Node.js
 * worker normally provides to `@azure/functions`. It is made resolvable only inside the local
 * host process (see `core-resolve-hook.ts`) and, for jest, through `moduleNameMapper`.
 *
 * It records the programming model, every registered function and every hook, so the host can
 * invoke them the way the worker does. `log` is deliberately absent: `@azure/functions` treats a
 * core API without `log` as a host too old for HTTP streaming, so an app that calls
 * `app.setup({ enableHttpStream: true })` fails at load with the library's own clear message
 * instead of hanging on a proxy this host does not run.
 */

/** Binding settings as `@azure/functions` registers them (type, direction, name, …). */
export type CoreBindingInfo = Readonly<Record<string, unknown>> & {
  readonly type?: string | null;
  readonly direction?: 'in' | 'out' | 'inout' | null;
};

export interface CoreFunctionMetadata {
  readonly name: string;
  readonly functionId?: string;
  readonly bindings: Readonly<Record<string, CoreBindingInfo>>;
  readonly retryOptions?: unknown;
}

export type CoreFunctionCallback = (...args: unknown[]) => unknown;
export type CoreHookCallback = (context: Record<string, unknown>) => unknown;

/** The part of `@azure/functions`' ProgrammingModel the host calls. */
export interface CoreProgrammingModel {
  readonly name: string;
  readonly version: string;
  getInvocationModel(coreContext: unknown): CoreInvocationModel;
}

export interface CoreInvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(
    context: unknown,
    inputs: unknown[],
    callback: CoreFunctionCallback,
  ): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<CoreInvocationResponse>;
}

export interface CoreTypedData {
  string?: string | null;
  json?: string | null;
  bytes?: Uint8Array | null;
  stream?: Uint8Array | null;
  http?: CoreHttpData | null;
  int?: number | null;
  double?: number | null;
}

export interface CoreHttpCookie {
  name?: string | null;
  value?: string | null;
  domain?: { value?: string | null } | null;
  path?: { value?: string | null } | null;
  expires?: { value?: { seconds?: number | null; nanos?: number | null } | null } | null;
  secure?: { value?: boolean | null } | null;
  httpOnly?: { value?: boolean | null } | null;
  sameSite?: string | null;
  maxAge?: { value?: number | null } | null;
}

export interface CoreHttpData {
  method?: string | null;
  url?: string | null;
  headers?: Record<string, string> | null;
  body?: CoreTypedData | null;
  params?: Record<string, string> | null;
  statusCode?: string | null;
  query?: Record<string, string> | null;
  cookies?: CoreHttpCookie[] | null;
}

export interface CoreParameterBinding {
  name?: string | null;
  data?: CoreTypedData | null;
}

export interface CoreInvocationResponse {
  invocationId?: string | null;
  outputData?: CoreParameterBinding[] | null;
  returnValue?: CoreTypedData | null;
}

export interface RegisteredFunction {
  readonly metadata: CoreFunctionMetadata;
  readonly callback: CoreFunctionCallback;
  /** Order of registration in this process, from 0. */
  readonly sequence: number;
}

export class Disposable {
  static from(...disposables: { dispose: () => unknown }[]): Disposable {
    return new Disposable(() => disposables.forEach((d) => d.dispose()));
  }
  #callOnDispose: (() => unknown) | undefined;
  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }
  dispose(): unknown {
    const call = this.#callOnDispose;
    this.#callOnDispose = undefined;
    return call?.();
  }
}

export const version = '3.10.1-attest-local';
export const hostVersion = '4.1040.0';

const functions = new Map<string, RegisteredFunction>();
const hooks = new Map<string, CoreHookCallback[]>();
let programmingModel: CoreProgrammingModel | undefined;
let sequence = 0;

export function setProgrammingModel(model: CoreProgrammingModel): void {
  programmingModel = model;
}

export function getProgrammingModel(): CoreProgrammingModel {
  if (programmingModel === undefined) {
    throw new Error('No programming model was set: the app did not load @azure/functions');
  }
  return programmingModel;
}

export function registerFunction(
  metadata: CoreFunctionMetadata,
  callback: CoreFunctionCallback,
): Disposable {
  if (functions.has(metadata.name)) {
    // The real worker refuses duplicates too; it keeps the first registration.
    throw new Error(`A function named "${metadata.name}" is already registered`);
  }
  functions.set(metadata.name, { metadata, callback, sequence: sequence++ });
  return new Disposable(() => functions.delete(metadata.name));
}

export function registerHook(hookName: string, callback: CoreHookCallback): Disposable {
  const list = hooks.get(hookName) ?? [];
  list.push(callback);
  hooks.set(hookName, list);
  return new Disposable(() => {
    const current = hooks.get(hookName) ?? [];
    const index = current.indexOf(callback);
    if (index >= 0) current.splice(index, 1);
  });
}

/** Host-side view of what was registered; not part of the worker's API. */
export const localRegistry = {
  functions(): readonly RegisteredFunction[] {
    return [...functions.values()].sort((a, b) => a.sequence - b.sequence);
  },
  get(name: string): RegisteredFunction | undefined {
    return functions.get(name);
  },
  hooks(hookName: string): readonly CoreHookCallback[] {
    return [...(hooks.get(hookName) ?? [])];
  },
  programmingModel(): CoreProgrammingModel | undefined {
    return programmingModel;
  },
  /** Forgets a registration (an app whose load failed half-way). */
  remove(name: string): void {
    functions.delete(name);
  },
};

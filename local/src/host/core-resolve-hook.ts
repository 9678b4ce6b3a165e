/**
 * Makes `@azure/functions-core` resolvable inside this process only, the way the Functions
 * worker does, by answering Node's module resolution for that one request. Idempotent.
 */
import Module from 'node:module';

export const CORE_MODULE_NAME = '@azure/functions-core';

type ResolveFilename = (
  request: string,
  parent: unknown,
  isMain: boolean,
  options?: unknown,
) => string;
interface ModuleWithResolve {
  _resolveFilename: ResolveFilename;
}

let installed = false;

/** Installs the resolve hook; returns the file that now answers `@azure/functions-core`. */
export function installFunctionsCoreResolveHook(): string {
  const target = require.resolve('./functions-core');
  if (installed) return target;
  const moduleApi = Module as unknown as ModuleWithResolve;
  const original = moduleApi._resolveFilename;
  moduleApi._resolveFilename = function resolveWithCore(request, parent, isMain, options) {
    if (request === CORE_MODULE_NAME) return target;
    return original.call(this, request, parent, isMain, options);
  };
  installed = true;
  return target;
}

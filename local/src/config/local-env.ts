/**
 * Environment knobs of the local tools that are not app settings (diagnostics and log levels).
 * Read here and in entry points only, so every variable the local tools honour is listed in one
 * place; the modules that use them take the values as options and ask here for the default.
 */
/** `ATTEST_AZURITE_NODE_ARGS`: node options for Azurite's process (diagnostics, e.g. `--cpu-prof`). */
export function azuriteNodeArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.ATTEST_AZURITE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

/** `ATTEST_SIM_LOG_LEVEL`: the simulator's log level when it is not given a logger. Default `info`. */
export function simulatorLogLevel(
  env: NodeJS.ProcessEnv = process.env,
): 'debug' | 'info' | 'warn' | 'error' | 'silent' {
  return (env.ATTEST_SIM_LOG_LEVEL as 'info' | undefined) ?? 'info';
}

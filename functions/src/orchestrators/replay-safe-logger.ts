import type { OrchestrationContext } from 'durable-functions';

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface OrchestrationLogger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Emits each line once: lines produced while the orchestrator replays history are dropped. */
export function replaySafeLogger(
  context: OrchestrationContext,
  base: LogFields,
): OrchestrationLogger {
  const at =
    (level: 'info' | 'warn' | 'error') =>
    (message: string, fields: LogFields = {}): void => {
      if (context.df.isReplaying) return;
      context[level](
        JSON.stringify({ level, message, ...base, ...fields, instanceId: context.df.instanceId }),
      );
    };
  return { info: at('info'), warn: at('warn'), error: at('error') };
}

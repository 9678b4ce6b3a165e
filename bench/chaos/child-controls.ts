/**
 * Kill and stop for a stack process the campaign runs as a child: kill is SIGKILL (no goodbye);
 * stop is SIGTERM, then SIGKILL after 15 s, shared by every caller and a no-op once exited.
 */
import type { ChildProcess } from 'node:child_process';
import { stopChild } from '@attest/local/dist/start/child-stop';

export interface ChildControls {
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export function childControls(child: ChildProcess, exited: Promise<void>): ChildControls {
  let stopping: Promise<void> | undefined;
  return {
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    stop() {
      stopping ??= stopChild(child, exited, 15_000);
      return stopping;
    },
  };
}

/**
 * Stops a child process as its owner would on Ctrl-C: SIGTERM so it drains and flushes, then
 * SIGKILL after `forceAfterInMs` so a stop always ends. A child that already exited is left alone.
 * Used by the `npm start` services and the fault campaign's child processes.
 */
import type { ChildProcess } from 'node:child_process';

export async function stopChild(
  child: ChildProcess,
  exited: Promise<unknown>,
  forceAfterInMs: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), forceAfterInMs);
  await exited;
  clearTimeout(force);
}

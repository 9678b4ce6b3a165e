/**
 * The commit loop: every running session commits its streams (and checkpoints) once per commit
 * interval. Sessions commit in turns: the interval is cut into slots and each session commits in
 * its own, so the Put Block Lists and checkpoint writes of all sessions do not arrive at storage
 * and the disk at once (a burst of hundreds of requests also opened as many new connections).
 */
import type { MediaSession } from '../../session/media-session';
import type { SessionRegistry } from '../session-registry';
import { CommitRota } from './commit-rota';

/** Slots of the commit interval that sessions commit in, in turns. */
export const COMMIT_SLOTS = 10;

export interface CommitLoopOptions {
  readonly registry: SessionRegistry;
  readonly commitIntervalInMs: number;
}

/** Starts the loop (its timer does not hold the process open); returns its stop function. */
export function startCommitLoop(options: CommitLoopOptions): () => void {
  const rota = new CommitRota<MediaSession>(COMMIT_SLOTS);
  const timer = setInterval(
    () => {
      const isDue = rota.nextTick();
      for (const session of options.registry.values()) {
        if (session.isFinished) continue;
        // A failed commit fails its session (reported); the loop goes on with the others.
        if (isDue(session)) session.commit().catch(() => undefined);
      }
    },
    Math.max(1, Math.floor(options.commitIntervalInMs / COMMIT_SLOTS)),
  );
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Restore after a restart: every session record in the sessions folder comes back with its
 * checkpoint log, each unfinished session's blobs are reconciled with its checkpoint, then the
 * spool replays what was accepted after it. A session whose files or blobs cannot be trusted is
 * failed (reported) alone; storage being unreachable stops the start, to be retried by the next.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFrames, ErrorCode, errorCodeOf } from '@attest/core';
import { errorMessage, type Logger } from '../logging/logger';
import { SpoolRecordKind, type Spool } from '../pipeline/spool';
import {
  checkpointLogPath,
  readCheckpointLogSync,
  type CheckpointLine,
} from '../session/checkpoint-log';
import { MediaSession } from '../session/media-session';
import type { SessionEnvironment } from '../session/session-environment';
import type { SessionRecord } from '../session/session-record';
import type { SessionRegistry } from './session-registry';

export interface RestoreOptions {
  readonly env: SessionEnvironment;
  readonly sessionsDir: string;
  readonly spool: Spool;
  readonly registry: SessionRegistry;
  readonly logger: Logger;
}

/** Restores every session into the registry and opens the spool; returns how many still run. */
export async function restoreSessions(options: RestoreOptions): Promise<number> {
  const { registry, spool, logger } = options;
  readSessionRecords(options);
  await reconcileSessions(registry, logger);
  await spool.open((record) => {
    const session = registry.get(record.sessionId);
    if (session === undefined || session.isFinished) return;
    if (record.kind === SpoolRecordKind.sequenceMark) return session.replayMark(record.sequence);
    const { frames, error } = decodeFrames(record.body);
    const isWhole =
      record.kind === SpoolRecordKind.frames
        ? frames.length > 0 && frames.at(-1)!.sequence === record.sequence
        : frames.length === 1;
    if (error !== undefined || !isWhole) {
      logger.error('spool record unreadable', {
        sessionId: record.sessionId,
        sequence: record.sequence,
      });
      return;
    }
    for (const frame of frames) session.replay(frame);
  });
  for (const session of registry.values())
    if (session.isFinished) await spool.forget(session.sessionId);
  const restored = registry.activeCount();
  if (restored > 0) logger.info('sessions restored after restart', { sessionCount: restored });
  return restored;
}

/** Reads each record with its checkpoint log; an unreadable record is logged and skipped. */
function readSessionRecords({ env, sessionsDir, registry, logger }: RestoreOptions): void {
  for (const name of readdirSync(sessionsDir).filter((n) => n.endsWith('.json'))) {
    try {
      const record = JSON.parse(readFileSync(join(sessionsDir, name), 'utf8')) as SessionRecord;
      let lines: CheckpointLine[] = [];
      let isLogCorrupt = false;
      try {
        lines = readCheckpointLogSync(checkpointLogPath(sessionsDir, record.sessionId));
      } catch (error) {
        if (errorCodeOf(error) !== ErrorCode.IntegrityViolation) throw error;
        logger.error('session checkpoint log is corrupt', {
          sessionId: record.sessionId,
          callId: record.request.callId,
          error: errorMessage(error),
        });
        isLogCorrupt = true;
      }
      const session = MediaSession.restore(env, record, lines);
      // Which blocks it committed is unknown: persisting on would store a recording whose
      // manifest cannot list them. Fail it (reported); what is stored stays.
      if (isLogCorrupt) session.fail('checkpointLogCorrupt');
      registry.add(session);
    } catch (error) {
      logger.error('session record unreadable', { file: name, error: errorMessage(error) });
    }
  }
}

async function reconcileSessions(registry: SessionRegistry, logger: Logger): Promise<void> {
  for (const session of registry.values()) {
    if (session.isFinished) continue;
    try {
      await session.reconcile();
    } catch (error) {
      // A stream blob that no longer starts with the session's checkpoint fails that session
      // alone (reported to the function app, which records it); the others are restored. Any
      // other failure (storage unreachable) stops the start, to be retried by the next start.
      if (errorCodeOf(error) !== ErrorCode.IntegrityViolation) throw error;
      logger.error('session could not be restored', {
        sessionId: session.sessionId,
        callId: session.request.callId,
        error: errorMessage(error),
      });
      session.fail('storedBlobDoesNotMatchCheckpoint');
    }
  }
}

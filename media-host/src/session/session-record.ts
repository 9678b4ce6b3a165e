/**
 * The session record: what survives a restart beside the checkpoint log, written atomically to
 * `{sessionsDir}/{sessionId}.json` when the session's state changes (not at every commit).
 *
 * Format 1 carried every stream's blocks in `streams` and was rewritten at every commit; a format
 * 1 record still restores: its streams become the log's first line ({@link foldRecordAndLog}, and
 * `SessionCheckpoints.reconcile` writes that line, after which the record is rewritten as format 2).
 */
import { mkdir, open as openFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  MediaSessionState,
  sha256Hex,
  type CreateMediaSessionRequest,
  type ParticipantMapping,
  type RecordingGap,
  type SealSummary,
} from '@attest/core';
import type { StreamWriterState } from '../pipeline/stream-writer';
import {
  checkpointLogPath,
  foldCheckpoints,
  readCheckpointLog,
  type CheckpointLine,
  type FoldedCheckpoint,
} from './checkpoint-log';

export interface SessionRecord {
  readonly v: 1 | 2;
  readonly sessionId: string;
  readonly request: CreateMediaSessionRequest;
  readonly tokenSha256: string;
  /** Kept so a repeated create for the same call returns the same media config blob. */
  readonly token: string;
  readonly state: MediaSessionState;
  readonly createdAt: string;
  readonly persistingSince?: string;
  readonly pause?: { readonly since: string; readonly reason: string; readonly actor: string };
  readonly participants: readonly ParticipantMapping[];
  readonly gaps: readonly RecordingGap[];
  /**
   * Sequence of the last source gap report (a stream-state frame from the bridge) in `gaps`: a
   * report replayed from the spool after a restart is recorded only past it.
   */
  readonly sourceGapsThrough?: number;
  /** Base64 data key; the spool beside it holds plaintext media, so it is protected the same way. */
  readonly dataKey?: string;
  readonly kekId?: string;
  readonly framesReceived: number;
  readonly framesDroppedBeforePersist: number;
  /** Format 1 only: committed segments with their blocks (format 2 keeps them in the checkpoint log). */
  readonly streams?: readonly StreamWriterState[];
  /**
   * Every frame up to this sequence is in committed blocks or was consumed without storing, so
   * the spool may no longer hold it: a restart resumes the source after it (absent in records
   * written before it existed, which resume from the spool and the streams alone).
   */
  readonly sequenceThrough?: number;
  readonly sealSummary?: SealSummary;
  readonly failureReason?: string;
  /** When the session was sealed, aborted or failed (absent in records written before it existed). */
  readonly finishedAt?: string;
}

/** A new session's first record (format 2). */
export function newSessionRecord(
  init: {
    readonly sessionId: string;
    readonly token: string;
    readonly request: CreateMediaSessionRequest;
    readonly dataKey: Buffer | undefined;
    readonly kekId: string | undefined;
  },
  createdAt: string,
): SessionRecord {
  return {
    v: 2,
    sessionId: init.sessionId,
    request: init.request,
    tokenSha256: sha256Hex(init.token),
    token: init.token,
    state: MediaSessionState.created,
    createdAt,
    participants: [],
    gaps: [],
    ...(init.dataKey !== undefined ? { dataKey: init.dataKey.toString('base64') } : {}),
    ...(init.kekId !== undefined ? { kekId: init.kekId } : {}),
    framesReceived: 0,
    framesDroppedBeforePersist: 0,
  };
}

export function sessionRecordPath(sessionsDir: string, sessionId: string): string {
  return join(sessionsDir, `${sessionId}.json`);
}

/**
 * A record's segments with its log's lines folded on. A format 1 record's streams are the base,
 * unless the log already holds them (its first line, written by a reconcile that stopped before
 * the record was rewritten in format 2).
 */
export function foldRecordAndLog(
  record: Pick<SessionRecord, 'streams'>,
  lines: readonly CheckpointLine[],
): FoldedCheckpoint {
  return foldCheckpoints(lines.length === 0 ? (record.streams ?? []) : [], lines);
}

/**
 * One session's record file: writes are atomic (temp file, fsync, rename) and serialized, each
 * taking the record as it is when the write runs (a burst of changes ends in one current file).
 */
export class SessionRecordFile {
  readonly #path: string;
  readonly #limit: <T>(write: () => Promise<T>) => Promise<T>;
  #saving: Promise<void> = Promise.resolve();

  /** `limit` runs each write; the host limits how many run at once (see `SessionEnvironment`). */
  constructor(
    readonly sessionsDir: string,
    readonly sessionId: string,
    limit: <T>(write: () => Promise<T>) => Promise<T>,
  ) {
    this.#path = sessionRecordPath(sessionsDir, sessionId);
    this.#limit = limit;
  }

  /** Writes `snapshot()` after the writes before it; rejects if this write failed. */
  save(snapshot: () => SessionRecord): Promise<void> {
    const run = this.#saving.then(() => this.#limit(() => this.#write(snapshot())));
    this.#saving = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every write asked for so far has ended (never rejects). */
  settled(): Promise<void> {
    return this.#saving;
  }

  async #write(record: SessionRecord): Promise<void> {
    const temp = `${this.#path}.tmp`;
    await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
    const handle = await openFile(temp, 'r+');
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.#path);
  }

  /**
   * Takes a finished session's files out of the sessions folder, after the writes on their way.
   * With a manifest (`isSealed`) the record and checkpoint log are deleted: the manifest holds
   * what they held. Without one they move to `{sessionsDir}/finished/` and are kept. Idempotent.
   */
  async retire(isSealed: boolean): Promise<void> {
    // A record write still on its way would put the file back.
    await this.#saving;
    const files = [this.#path, checkpointLogPath(this.sessionsDir, this.sessionId)];
    if (isSealed) {
      for (const file of files) await rm(file, { force: true });
      return;
    }
    const keptDir = join(this.sessionsDir, 'finished');
    await mkdir(keptDir, { recursive: true });
    for (const file of files) {
      await rename(file, join(keptDir, basename(file))).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
    }
  }
}

/**
 * What a restart would restore of a session from its files: the record, every segment's committed
 * blocks (record format 1 and the checkpoint log, folded) and how far the checkpoint goes. For
 * tests and offline inspection; the host restores through `MediaSession.restore`.
 */
export async function readSessionCheckpoint(
  sessionsDir: string,
  sessionId: string,
): Promise<{ record: SessionRecord; streams: StreamWriterState[]; through: number }> {
  const record = JSON.parse(
    await readFile(sessionRecordPath(sessionsDir, sessionId), 'utf8'),
  ) as SessionRecord;
  const folded = foldRecordAndLog(
    record,
    await readCheckpointLog(checkpointLogPath(sessionsDir, sessionId)),
  );
  return {
    record,
    streams: folded.streams,
    through: Math.max(record.sequenceThrough ?? 0, folded.through),
  };
}

/**
 * A media session's custody journal: an append blob beside its streams
 * (`recordingBlobNames(...).sessionJournal(sessionId)`), one JSON line per change, so that
 * another media host can seal the committed media when this one is lost (killed, its disk gone).
 * The session record and checkpoint log on the host's disk stay what a restart restores from;
 * the journal mirrors what a manifest needs of them and nothing secret (no session token, no data
 * key: the wrapped key is already in the keys container).
 *
 * Lines: `session` (the request, times, participants, gaps, pause; written when the record
 * changes while persisting) and `checkpoint` (a checkpoint log line, numbered `n` from 1 in the
 * order the local log holds them; written after the local line is on disk). A line lost or
 * appended twice (an append retried after a lost answer) is tolerated by {@link parseJournal}.
 * A write that fails is kept and sent ahead of the next one; it never fails the session.
 */
import type { CreateMediaSessionRequest, ParticipantMapping, RecordingGap } from '@attest/core';
import { errorMessage, type Logger } from '../logging/logger';
import type { BlockStore } from '../sink/block-store';
import type { CheckpointLine } from './checkpoint-log';

export interface JournalSessionLine {
  readonly v: 1;
  readonly kind: 'session';
  readonly sessionId: string;
  readonly hostId: string;
  readonly request: CreateMediaSessionRequest;
  readonly createdAt: string;
  readonly persistingSince?: string;
  readonly pause?: { readonly since: string; readonly reason: string; readonly actor: string };
  /** Without personal data (`pii` is left out). */
  readonly participants: readonly ParticipantMapping[];
  readonly gaps: readonly RecordingGap[];
  readonly kekId?: string;
  readonly softwareVersion: string;
}

export interface JournalCheckpointLine {
  readonly v: 1;
  readonly kind: 'checkpoint';
  /** 1-based position of the line in the session's checkpoint log. */
  readonly n: number;
  readonly checkpoint: CheckpointLine;
}

export type JournalLine = JournalSessionLine | JournalCheckpointLine;

/** What a journal holds: the newest session line and the checkpoint lines in order, once each. */
export interface ParsedJournal {
  readonly session: JournalSessionLine | undefined;
  readonly checkpoints: CheckpointLine[];
}

/** Parses a journal; unreadable lines (a torn append) are skipped, repeated checkpoints kept once. */
export function parseJournal(bytes: Buffer): ParsedJournal {
  let session: JournalSessionLine | undefined;
  const byNumber = new Map<number, CheckpointLine>();
  for (const text of bytes.toString('utf8').split('\n')) {
    if (text.trim() === '') continue;
    let line: Partial<JournalLine> | null;
    try {
      line = JSON.parse(text) as Partial<JournalLine> | null;
    } catch {
      continue;
    }
    if (line?.v !== 1) continue;
    if (line.kind === 'session') session = line as JournalSessionLine;
    else if (line.kind === 'checkpoint' && typeof line.n === 'number' && line.checkpoint)
      if (!byNumber.has(line.n)) byNumber.set(line.n, line.checkpoint);
  }
  const checkpoints = [...byNumber.entries()].sort(([a], [b]) => a - b).map(([, line]) => line);
  return { session, checkpoints };
}

/** The participant mapping as the journal keeps it: no display name. */
export function journalParticipant(p: ParticipantMapping): ParticipantMapping {
  return {
    msi: p.msi,
    participantId: p.participantId,
    kind: p.kind,
    identityKind: p.identityKind,
    ...(p.identityId !== undefined ? { identityId: p.identityId } : {}),
  };
}

export class SessionJournal {
  readonly #pending: Buffer[] = [];
  #writing: Promise<void> = Promise.resolve();
  #lineCount: number;

  /** `checkpointLines`: how many lines the local checkpoint log already holds (after a restart). */
  constructor(
    private readonly store: Pick<BlockStore, 'appendBlock'>,
    private readonly container: string,
    private readonly blobName: string,
    private readonly log: Logger,
    checkpointLines: number,
  ) {
    this.#lineCount = checkpointLines;
  }

  /** Journals the session's state; resolves once written or kept for the next write. */
  writeSession(line: Omit<JournalSessionLine, 'v' | 'kind'>): Promise<void> {
    return this.#write({
      v: 1,
      kind: 'session',
      ...line,
      participants: line.participants.map(journalParticipant),
    });
  }

  /** Journals the checkpoint line just appended to the local log. */
  writeCheckpoint(checkpoint: CheckpointLine): Promise<void> {
    this.#lineCount += 1;
    return this.#write({ v: 1, kind: 'checkpoint', n: this.#lineCount, checkpoint });
  }

  #write(line: JournalLine): Promise<void> {
    this.#pending.push(Buffer.from(`${JSON.stringify(line)}\n`, 'utf8'));
    const run = this.#writing.then(() => this.#flush());
    this.#writing = run;
    return run;
  }

  async #flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const bytes = Buffer.concat(this.#pending);
    const count = this.#pending.length;
    try {
      await this.store.appendBlock(this.container, this.blobName, bytes);
      this.#pending.splice(0, count);
    } catch (error) {
      // Kept for the next write: the journal lags; the local log still holds everything.
      this.log.warn('session journal not written', { error: errorMessage(error) });
    }
  }
}

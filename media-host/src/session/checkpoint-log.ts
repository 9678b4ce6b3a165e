/**
 * A session's checkpoint log: `{sessionsDir}/{sessionId}.checkpoints.jsonl`, one JSON line per
 * commit, appended and fsynced before the spool lets go of the frames the commit stored.
 *
 * Each line holds what changed since the line before: for every stream segment that committed
 * blocks, the blocks committed since (with their hashes) and the segment's counters as they are
 * now. Folding the lines in order gives every segment's committed blocks, which is what a restart
 * reconciles against storage and what the manifest lists at seal. A commit therefore writes only
 * its own blocks, however old the call is; the session record (`{sessionId}.json`) holds the
 * rest of the session's state and is rewritten only when that changes (persist, pause, roster).
 *
 * A crash can leave the last line torn (no newline, or not JSON): that commit never released its
 * frames from the spool, so the line is dropped (the file is cut back to the lines before it)
 * and the restart replays those frames. A bad line followed by more lines is not a torn append:
 * the log is corrupt and the session fails rather than guess.
 */
import { open, truncate } from 'node:fs/promises';
import { readFileSync, truncateSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, RecorderError } from '@attest/core';
import type { StreamWriterState } from '../pipeline/stream-writer';

/**
 * One segment's progress in one checkpoint line: the same fields as {@link StreamWriterState},
 * but `blocks` and `timeline` hold only what was added since the segment's previous line; the
 * counters (bytes, frames, times, `committedThroughSequence`) are the segment's totals.
 */
export type StreamCheckpoint = StreamWriterState;

export interface CheckpointLine {
  readonly v: 1;
  /** Every frame of the session up to this sequence is in committed blocks (or was not stored). */
  readonly through: number;
  readonly framesReceived: number;
  readonly framesDroppedBeforePersist: number;
  readonly streams: readonly StreamCheckpoint[];
}

/** What a session's checkpoint log holds, folded. */
export interface FoldedCheckpoint {
  /** Every segment with its committed blocks, in the order they first appeared. */
  readonly streams: StreamWriterState[];
  /** The last line's `through` (0 with no line). */
  readonly through: number;
  /** The last line, if any (its counters are the newest). */
  readonly last: CheckpointLine | undefined;
  readonly lineCount: number;
}

export function checkpointLogPath(sessionsDir: string, sessionId: string): string {
  return join(sessionsDir, `${sessionId}.checkpoints.jsonl`);
}

interface MutableStream extends Omit<StreamWriterState, 'blocks' | 'timeline'> {
  blocks: StreamWriterState['blocks'][number][];
  timeline: StreamWriterState['timeline'][number][];
}

/**
 * Folds checkpoint lines onto `base` (segments a record of the first format carried whole):
 * blocks and timeline points are appended to their segment, counters replaced.
 */
export function foldCheckpoints(
  base: readonly StreamWriterState[],
  lines: readonly CheckpointLine[],
): FoldedCheckpoint {
  const byId = new Map<string, MutableStream>();
  const add = (delta: StreamWriterState): void => {
    const existing = byId.get(delta.streamId);
    if (existing === undefined) {
      byId.set(delta.streamId, {
        ...delta,
        blocks: [...delta.blocks],
        timeline: [...delta.timeline],
      });
      return;
    }
    const { blocks, timeline } = existing;
    for (const block of delta.blocks) blocks.push(block);
    for (const point of delta.timeline) timeline.push(point);
    byId.set(delta.streamId, { ...delta, blocks, timeline });
  };
  for (const stream of base) add(stream);
  for (const line of lines) for (const stream of line.streams) add(stream);
  const last = lines.at(-1);
  return {
    streams: [...byId.values()],
    through: last?.through ?? 0,
    last,
    lineCount: lines.length,
  };
}

function isCheckpointLine(value: unknown): value is CheckpointLine {
  const line = value as Partial<CheckpointLine> | null;
  return (
    typeof line === 'object' &&
    line !== null &&
    line.v === 1 &&
    typeof line.through === 'number' &&
    Array.isArray(line.streams)
  );
}

/**
 * Parses a log's bytes. Returns the lines and how many bytes they span; a torn last line is left
 * out (`validBytes` ends before it). Throws `ATT_INTEGRITY_VIOLATION` for a bad line that is not
 * the last.
 */
export function parseCheckpointLog(bytes: Buffer): { lines: CheckpointLine[]; validBytes: number } {
  const lines: CheckpointLine[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf(0x0a, at);
    // No newline: the last append was cut short.
    if (end < 0) break;
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8', at, end));
    } catch {
      parsed = undefined;
    }
    if (!isCheckpointLine(parsed)) {
      if (end + 1 >= bytes.length) break;
      throw new RecorderError(
        ErrorCode.IntegrityViolation,
        `session checkpoint log is corrupt at line ${lines.length + 1}`,
        {
          details: { line: lines.length + 1, reason: 'checkpointLogCorrupt' },
        },
      );
    }
    lines.push(parsed);
    at = end + 1;
  }
  return { lines, validBytes: at };
}

/**
 * Reads a session's log (none: no lines), cutting a torn last line off the file so the next
 * append starts on a line of its own. Synchronous: runs once per session at start.
 */
export function readCheckpointLogSync(path: string): CheckpointLine[] {
  if (!existsSync(path)) return [];
  const bytes = readFileSync(path);
  const { lines, validBytes } = parseCheckpointLog(bytes);
  if (validBytes < bytes.length) truncateSync(path, validBytes);
  return lines;
}

/** Reads a session's log as {@link readCheckpointLogSync} does, without blocking. */
export async function readCheckpointLog(path: string): Promise<CheckpointLine[]> {
  let bytes: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const { lines, validBytes } = parseCheckpointLog(bytes);
  if (validBytes < bytes.length) await truncate(path, validBytes);
  return lines;
}

/** Appends one line and waits for it to be on disk (`fdatasync`). */
export async function appendCheckpointLine(path: string, line: CheckpointLine): Promise<void> {
  const handle = await open(path, 'a', 0o600);
  try {
    await handle.write(`${JSON.stringify(line)}\n`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

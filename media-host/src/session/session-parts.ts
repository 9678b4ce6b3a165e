/**
 * A session's rooms, built and wired to each other from the record and the folded checkpoint
 * log it starts with (a new session's first record, or what a restart read back): where each
 * stream resumes, the frame router and the frames' intake in front of it, the checkpoints, the
 * commit path, the record file and the custody journal. `MediaSession` holds them and answers
 * for them; what they ask of it goes through {@link SessionHooks}.
 */
import { recordingBlobNames, type ParticipantMapping } from '@attest/core';
import type { Logger } from '../logging/logger';
import type { FoldedCheckpoint } from './checkpoint-log';
import { FrameIntake } from './frame-intake';
import { FrameRouter } from './frame-router';
import { PersistenceState } from './persistence-state';
import { resumePointOf, SessionCheckpoints } from './session-checkpoints';
import { SessionCommit } from './session-commit';
import { segmentWriterFactory, type SessionEnvironment } from './session-environment';
import { identityOf, outcomeOf, type SessionIdentity, type SessionOutcome } from './session-facts';
import { SessionJournal } from './session-journal';
import { SessionRecordFile, type SessionRecord } from './session-record';

export interface SessionParts {
  /** The session's logger: every line carries its session, call and interaction ids. */
  readonly log: Logger;
  readonly identity: SessionIdentity;
  readonly persistence: PersistenceState;
  /** Participants by MSI. */
  readonly participants: Map<string, ParticipantMapping>;
  /** How the session ended (set as it ends). */
  readonly outcome: SessionOutcome;
  readonly checkpoints: SessionCheckpoints;
  readonly router: FrameRouter;
  readonly intake: FrameIntake;
  readonly commits: SessionCommit;
  readonly recordFile: SessionRecordFile;
  /** The custody journal in storage, from which another host can adopt the session. */
  readonly journal: SessionJournal;
}

/** What the parts ask of the session that holds them. */
export interface SessionHooks {
  /** Writes the session record (and its journal line); see `MediaSession.saveRecord`. */
  readonly saveRecord: () => Promise<void>;
  /** Whether the session takes no more commits (finished, or its seal has begun). */
  readonly isClosed: () => boolean;
  /** Persistence cannot continue (spool full, storage refusing): the session fails. */
  readonly fail: (reason: string) => void;
}

/** Builds a session's parts; `dataKey` is the record's data key, decoded (none: unencrypted). */
export function buildSessionParts(
  env: SessionEnvironment,
  record: SessionRecord,
  dataKey: Buffer | undefined,
  checkpoint: FoldedCheckpoint,
  hooks: SessionHooks,
): SessionParts {
  const { sessionId, request } = record;
  const log = env.logger.child({
    sessionId,
    callId: request.callId,
    interactionId: request.interactionId,
  });
  const persistence = new PersistenceState(record);
  const resume = resumePointOf(checkpoint, record.sequenceThrough ?? 0);
  const checkpoints = new SessionCheckpoints({
    sessionsDir: env.sessionsDir,
    sessionId,
    checkpoint,
    checkpointedThrough: resume.through,
    formatOneStreams: record.streams,
    limitWrite: env.limitRecordWrite,
  });
  const router: FrameRouter = new FrameRouter({
    createWriter: segmentWriterFactory(env, request, dataKey),
    onSegmentEnded: (writer) => checkpoints.segmentEnded(writer),
    skipThrough: resume.skipThrough,
    nextSegment: resume.nextSegment,
    processedThrough: resume.through,
    onReplayedGapReport: (frame, wallTimeOf) => intake.replayedGapReport(frame, wallTimeOf),
    log,
  });
  const intake = new FrameIntake({
    sessionId,
    spool: env.spool,
    router,
    persistence,
    metrics: env.metrics,
    now: env.now,
    log,
    counters: {
      framesReceived: Math.max(record.framesReceived, checkpoint.last?.framesReceived ?? 0),
      framesDroppedBeforePersist: Math.max(
        record.framesDroppedBeforePersist,
        checkpoint.last?.framesDroppedBeforePersist ?? 0,
      ),
    },
    // After a restart the source resumes after the checkpoint even when the spool released
    // every frame up to it (the spool's replay, if any, raises the marks further).
    through: resume.through,
    // The record holding a source gap is saved before the spool may let go of its report.
    onSourceGapRecorded: () => {
      const saved = hooks.saveRecord();
      commits.releaseAfter(saved);
      saved.catch((error: unknown) =>
        log.warn('session record not saved after a source gap', { error: String(error) }),
      );
    },
    fail: hooks.fail,
  });
  const journal = new SessionJournal(
    env.store,
    env.container,
    recordingBlobNames(request.tenantId, request.interactionId).sessionJournal(sessionId),
    log,
    checkpoint.lineCount,
  );
  const commits = new SessionCommit({
    sessionId,
    router,
    checkpoints,
    journal,
    spool: env.spool,
    metrics: env.metrics,
    log,
    bytesCommitted: resume.bytesCommitted,
    counters: () => intake.counters,
    isClosed: hooks.isClosed,
    fail: hooks.fail,
  });
  return {
    log,
    identity: identityOf(record, dataKey),
    persistence,
    participants: new Map(record.participants.map((p) => [p.msi, p])),
    outcome: outcomeOf(record),
    checkpoints,
    router,
    intake,
    commits,
    recordFile: new SessionRecordFile(env.sessionsDir, sessionId, env.limitRecordWrite),
    journal,
  };
}

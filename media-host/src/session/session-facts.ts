/**
 * What a session knows of itself, and the two shapes it is kept in: the session record on the
 * host's disk (`session-record.ts`, what a restart restores from) and the custody journal's
 * session line in storage (`session-journal.ts`, what another host adopts from). Pure.
 */
import type { CreateMediaSessionRequest, ParticipantMapping, SealSummary } from '@attest/core';
import type { PersistenceSnapshot } from './persistence-state';
import type { SessionCounters } from './session-checkpoints';
import type { JournalSessionLine } from './session-journal';
import type { SessionRecord } from './session-record';

/** What never changes in a session: from its first record. */
export interface SessionIdentity {
  readonly sessionId: string;
  readonly request: CreateMediaSessionRequest;
  readonly tokenSha256: string;
  /** Kept in the record only (never in the journal, never logged). */
  readonly token: string;
  readonly createdAt: string;
  /** Kept in the record only while the session runs (the spool beside it holds plaintext). */
  readonly dataKey: Buffer | undefined;
  readonly kekId: string | undefined;
}

/** How a session ended; all absent while it runs. */
export interface SessionOutcome {
  sealSummary?: SealSummary;
  failureReason?: string;
  /** When it was sealed, aborted or failed (ISO 8601). */
  finishedAt?: string;
}

export interface SessionFacts {
  readonly identity: SessionIdentity;
  readonly persistence: PersistenceSnapshot & { readonly isFinished: boolean };
  readonly participants: readonly ParticipantMapping[];
  readonly counters: SessionCounters;
  /** How far the checkpoint log goes (0: no line yet). */
  readonly sequenceThrough: number;
  readonly outcome: Readonly<SessionOutcome>;
}

/** A session's identity from its record (`dataKey`: the record's key, decoded). */
export function identityOf(record: SessionRecord, dataKey: Buffer | undefined): SessionIdentity {
  return {
    sessionId: record.sessionId,
    request: record.request,
    tokenSha256: record.tokenSha256,
    token: record.token,
    createdAt: record.createdAt,
    dataKey,
    kekId: record.kekId,
  };
}

/** How a session ended, from its record (a fresh object: the session sets it as it ends). */
export function outcomeOf(record: SessionRecord): SessionOutcome {
  return {
    ...(record.sealSummary !== undefined ? { sealSummary: record.sealSummary } : {}),
    ...(record.failureReason !== undefined ? { failureReason: record.failureReason } : {}),
    ...(record.finishedAt !== undefined ? { finishedAt: record.finishedAt } : {}),
  };
}

/** The journal's session line, before the journal adds its version and kind. */
export type JournalSession = Omit<JournalSessionLine, 'v' | 'kind'>;

/** The session record (format 2) for `facts`. */
export function sessionRecordOf(facts: SessionFacts): SessionRecord {
  const { identity, persistence, outcome } = facts;
  return {
    v: 2,
    sessionId: identity.sessionId,
    request: identity.request,
    tokenSha256: identity.tokenSha256,
    token: identity.token,
    state: persistence.state,
    createdAt: identity.createdAt,
    ...(persistence.persistingSince !== undefined
      ? { persistingSince: persistence.persistingSince }
      : {}),
    ...(persistence.pause !== undefined ? { pause: persistence.pause } : {}),
    participants: [...facts.participants],
    gaps: [...persistence.gaps],
    ...(persistence.sourceGapsThrough !== undefined && persistence.sourceGapsThrough > 0
      ? { sourceGapsThrough: persistence.sourceGapsThrough }
      : {}),
    ...(identity.dataKey !== undefined && !persistence.isFinished
      ? { dataKey: identity.dataKey.toString('base64') }
      : {}),
    ...(identity.kekId !== undefined ? { kekId: identity.kekId } : {}),
    framesReceived: facts.counters.framesReceived,
    framesDroppedBeforePersist: facts.counters.framesDroppedBeforePersist,
    ...(facts.sequenceThrough > 0 ? { sequenceThrough: facts.sequenceThrough } : {}),
    ...(outcome.sealSummary !== undefined ? { sealSummary: outcome.sealSummary } : {}),
    ...(outcome.failureReason !== undefined ? { failureReason: outcome.failureReason } : {}),
    ...(outcome.finishedAt !== undefined ? { finishedAt: outcome.finishedAt } : {}),
  };
}

/**
 * The journal's session line for `facts`, written by `host`; undefined when there is nothing to
 * journal: persistence has not started (nothing is stored yet) or the session has finished (its
 * manifest, or its end, is the last word). Without the token or the data key.
 */
export function journalSessionOf(
  facts: SessionFacts,
  host: { readonly hostId: string; readonly softwareVersion: string },
): JournalSession | undefined {
  const { identity, persistence } = facts;
  const since = persistence.persistingSince;
  if (since === undefined || persistence.isFinished) return undefined;
  return {
    sessionId: identity.sessionId,
    hostId: host.hostId,
    softwareVersion: host.softwareVersion,
    request: identity.request,
    createdAt: identity.createdAt,
    persistingSince: since,
    ...(persistence.pause !== undefined ? { pause: persistence.pause } : {}),
    participants: [...facts.participants],
    gaps: [...persistence.gaps],
    ...(identity.dataKey !== undefined && identity.kekId !== undefined
      ? { kekId: identity.kekId }
      : {}),
  };
}

import { MediaSessionState, type ParticipantMapping, type SealSummary } from '@attest/core';
import { PersistenceState } from './persistence-state';
import {
  identityOf,
  journalSessionOf,
  outcomeOf,
  sessionRecordOf,
  type SessionFacts,
} from './session-facts';
import { newSessionRecord, type SessionRecord } from './session-record';

const REQUEST = { callId: 'c', tenantId: 't', interactionId: 'i', recordedUserIds: [] };
const HOST = { hostId: 'host-a', softwareVersion: '1.2.3' };
const DATA_KEY = Buffer.alloc(32, 7);
const T0 = '2026-12-07T09:00:00.000Z';
const T1 = '2026-12-07T09:05:00.000Z';
const ALICE: ParticipantMapping = {
  msi: '11',
  participantId: 'p-1',
  kind: 'audio',
  identityKind: 'user',
  identityId: 'u-1',
};

const SEALED: SealSummary = {
  sessionId: 's-1',
  callId: 'c',
  interactionId: 'i',
  manifestBlobName: 't/i/manifest.json',
  manifestSha256: 'ab'.repeat(32),
  merkleRootSha256: 'cd'.repeat(32),
  startedAt: T0,
  endedAt: T1,
  streams: [],
  gaps: [],
};

function firstRecord({ isEncrypted = true } = {}): SessionRecord {
  const dataKey = isEncrypted ? DATA_KEY : undefined;
  return newSessionRecord(
    { sessionId: 's-1', token: 'secret-token', request: REQUEST, dataKey, kekId: 'kek-1' },
    T0,
  );
}

/** Facts as a session holds them: the record's identity, a live state machine, its counters. */
function factsOf(
  record: SessionRecord,
  change: (state: PersistenceState) => void = () => undefined,
  extra: Partial<SessionFacts> = {},
): SessionFacts {
  const persistence = new PersistenceState(record);
  change(persistence);
  return {
    identity: identityOf(
      record,
      record.dataKey === undefined ? undefined : Buffer.from(record.dataKey, 'base64'),
    ),
    persistence,
    participants: record.participants,
    counters: {
      framesReceived: record.framesReceived,
      framesDroppedBeforePersist: record.framesDroppedBeforePersist,
    },
    sequenceThrough: record.sequenceThrough ?? 0,
    outcome: outcomeOf(record),
    ...extra,
  };
}

describe('sessionRecordOf', () => {
  it('gives back a new session record unchanged from the facts read out of it', () => {
    const record = firstRecord();
    expect(sessionRecordOf(factsOf(record))).toEqual(record);
  });

  it('keeps the data key while the session runs and drops it once it has finished', () => {
    const record = firstRecord();
    expect(sessionRecordOf(factsOf(record)).dataKey).toBe(DATA_KEY.toString('base64'));
    const finished = sessionRecordOf(
      factsOf(record, (state) => state.finish(MediaSessionState.sealed), {
        outcome: { sealSummary: SEALED, finishedAt: T1 },
      }),
    );
    expect(finished).not.toHaveProperty('dataKey');
    expect(finished).toMatchObject({
      state: 'sealed',
      kekId: 'kek-1',
      sealSummary: SEALED,
      finishedAt: T1,
    });
  });

  it('writes the checkpoint mark, counters and source gap mark it is given', () => {
    const record = firstRecord();
    const facts = factsOf(
      record,
      (state) => {
        state.startPersisting(T0);
        state.addSourceGap({ startedAt: T0, endedAt: T1, reason: 'sourceQueueOverflow' }, 42);
      },
      {
        counters: { framesReceived: 90, framesDroppedBeforePersist: 3 },
        sequenceThrough: 80,
        participants: [ALICE],
      },
    );
    expect(sessionRecordOf(facts)).toMatchObject({
      state: 'persisting',
      persistingSince: T0,
      sourceGapsThrough: 42,
      framesReceived: 90,
      framesDroppedBeforePersist: 3,
      sequenceThrough: 80,
      participants: [ALICE],
      gaps: [{ startedAt: T0, endedAt: T1, reason: 'sourceQueueOverflow' }],
    });
  });

  it('leaves out the marks that are still zero and the outcome while running', () => {
    const written = sessionRecordOf(factsOf(firstRecord()));
    for (const key of [
      'sequenceThrough',
      'sourceGapsThrough',
      'pause',
      'finishedAt',
      'failureReason',
    ])
      expect(written).not.toHaveProperty(key);
  });

  it('copies the gaps and participants, so a later change does not reach a written record', () => {
    const participants = [ALICE];
    const facts = factsOf(firstRecord(), (state) => state.startPersisting(T0), { participants });
    const written = sessionRecordOf(facts);
    participants.push({ ...ALICE, msi: '12' });
    (facts.persistence as PersistenceState).pausePersistence(T0, 'policy', 'system');
    (facts.persistence as PersistenceState).resumePersistence(T1);
    expect(written.participants).toHaveLength(1);
    expect(written.gaps).toHaveLength(0);
  });
});

describe('journalSessionOf', () => {
  it('journals nothing before persistence starts', () => {
    expect(journalSessionOf(factsOf(firstRecord()), HOST)).toBeUndefined();
  });

  it('journals nothing once the session has finished', () => {
    const facts = factsOf(firstRecord(), (state) => {
      state.startPersisting(T0);
      state.finish(MediaSessionState.failed);
    });
    expect(journalSessionOf(facts, HOST)).toBeUndefined();
  });

  it('names the host and carries the open pause, but neither the token nor the data key', () => {
    const facts = factsOf(
      firstRecord(),
      (state) => {
        state.startPersisting(T0);
        state.pausePersistence(T1, 'policy', 'system');
      },
      { participants: [ALICE] },
    );
    const line = journalSessionOf(facts, HOST);
    expect(line).toEqual({
      sessionId: 's-1',
      hostId: 'host-a',
      softwareVersion: '1.2.3',
      request: REQUEST,
      createdAt: T0,
      persistingSince: T0,
      pause: { since: T1, reason: 'policy', actor: 'system' },
      participants: [ALICE],
      gaps: [],
      kekId: 'kek-1',
    });
    expect(JSON.stringify(line)).not.toContain('secret-token');
    expect(JSON.stringify(line)).not.toContain(DATA_KEY.toString('base64'));
  });

  it('names no key encryption key for an unencrypted session', () => {
    const facts = factsOf(firstRecord({ isEncrypted: false }), (state) =>
      state.startPersisting(T0),
    );
    expect(journalSessionOf(facts, HOST)).not.toHaveProperty('kekId');
  });
});

describe('outcomeOf', () => {
  it('takes how a finished session ended from its record', () => {
    const record: SessionRecord = {
      ...firstRecord(),
      state: MediaSessionState.aborted,
      failureReason: 'call ended',
      finishedAt: T1,
    };
    expect(outcomeOf(record)).toEqual({ failureReason: 'call ended', finishedAt: T1 });
  });

  it('gives a running session an empty outcome of its own', () => {
    const record = firstRecord();
    const first = outcomeOf(record);
    first.finishedAt = T1;
    expect(outcomeOf(record)).toEqual({});
  });
});

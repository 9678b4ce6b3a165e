import {
  MediaSessionState,
  PayloadFormat,
  StreamGapReason,
  StreamStateKind,
  type MediaProtocolFrame,
} from '@attest/core';
import { MetricNames, type MetricName, type MetricsSink } from '../hooks/metrics-sink';
import { silentLogger } from '../logging/logger';
import { SpoolRecordKind } from '../pipeline/spool';
import { FrameIntake } from './frame-intake';
import { PersistenceState } from './persistence-state';
import type { StreamStateFrame } from './source-gap';

const SESSION = '0f8fad5b-d9cb-469f-a165-70867728950e';
const NOW_IN_MS = Date.parse('2026-12-07T09:00:10.000Z');
const T0 = '2026-12-07T09:00:00.000Z';

function audio(sequence: number): MediaProtocolFrame {
  return {
    type: 'audioMixed',
    sessionId: SESSION,
    sequence,
    timestamp100ns: BigInt(sequence) * 200_000n,
    msi: 0,
    format: PayloadFormat.pcm16k,
    payload: Buffer.alloc(640, sequence),
  };
}

function speakers(sequence: number): MediaProtocolFrame {
  return {
    type: 'activeSpeakers',
    sessionId: SESSION,
    sequence,
    timestamp100ns: 0n,
    msi: 0,
    msis: [11],
  };
}

/** A source's report that it dropped 50 frames (980 ms of media) before this one. */
function gapReport(sequence: number): StreamStateFrame {
  return {
    type: 'streamState',
    sessionId: SESSION,
    sequence,
    timestamp100ns: 1_000_000_000n,
    msi: 0,
    streamKind: StreamStateKind.session,
    isActive: true,
    gap: {
      reason: StreamGapReason.sourceQueueOverflow,
      droppedFrames: 50,
      lastTimestamp100ns: 1_000_000_000n + 980n * 10_000n,
    },
  };
}

function harness(options: { isStoring?: boolean; isSpoolFull?: boolean; through?: number } = {}) {
  const spooled: { kind: SpoolRecordKind; sequence: number; bytes: number }[] = [];
  const routed: number[] = [];
  const events: string[] = [];
  const counts = new Map<MetricName, number>();
  const metrics: MetricsSink = {
    increment: (name, by = 1) => counts.set(name, (counts.get(name) ?? 0) + by),
    set: () => undefined,
    observe: () => undefined,
  };
  const persistence = new PersistenceState({ state: MediaSessionState.connected, gaps: [] });
  if (options.isStoring ?? true) persistence.startPersisting(T0);
  const intake = new FrameIntake({
    sessionId: SESSION,
    spool: {
      append: (kind, _sessionId, sequence, body) => {
        if (options.isSpoolFull === true) return false;
        spooled.push({ kind, sequence, bytes: body?.length ?? 0 });
        return true;
      },
    },
    router: {
      route: (frames, start, end) => {
        for (let i = start; i < end; i += 1) routed.push(frames[i]!.sequence);
      },
      replay: (frame) => events.push(`replay ${frame.sequence}`),
      markBreak: () => events.push('break'),
    },
    persistence,
    metrics,
    now: () => new Date(NOW_IN_MS),
    log: silentLogger,
    counters: { framesReceived: 7, framesDroppedBeforePersist: 2 },
    through: options.through ?? 0,
    onSourceGapRecorded: () => events.push('record gap'),
    fail: (reason) => events.push(`fail: ${reason}`),
  });
  return { intake, spooled, routed, events, counts, persistence };
}

describe('FrameIntake', () => {
  it('spools a socket read as one record, moves the accepted mark and routes the frames', () => {
    const { intake, spooled, routed } = harness();
    const wire = Buffer.alloc(123);
    const frames = [audio(1), audio(2), audio(3)];
    expect(intake.accept(frames, 1, 3, wire)).toEqual({ isPersisted: true, isAccepted: true });
    expect(spooled).toEqual([{ kind: SpoolRecordKind.frames, sequence: 3, bytes: 123 }]);
    expect(routed).toEqual([2, 3]);
    expect(intake.marks.accepted).toBe(3);
    expect(intake.counters).toEqual({ framesReceived: 9, framesDroppedBeforePersist: 2 });
  });

  it('before persistence, spools only a mark, counts the stored frames dropped and marks a break', () => {
    const { intake, spooled, routed, events, counts } = harness({ isStoring: false });
    const result = intake.accept([audio(1), speakers(2), audio(3)], 0, 3, Buffer.alloc(9));
    expect(result).toEqual({ isPersisted: false, isAccepted: true });
    expect(spooled).toEqual([{ kind: SpoolRecordKind.sequenceMark, sequence: 3, bytes: 0 }]);
    expect(routed).toEqual([]);
    expect(events).toEqual(['break']);
    expect(intake.marks.accepted).toBe(3);
    expect(intake.counters).toEqual({ framesReceived: 10, framesDroppedBeforePersist: 4 });
    expect(counts.get(MetricNames.framesDroppedNotPersisting)).toBe(2);
  });

  it('refuses frames the spool has no room for and fails the session', () => {
    const { intake, routed, events, counts } = harness({ isSpoolFull: true });
    const result = intake.accept([audio(1)], 0, 1, Buffer.alloc(9));
    expect(result).toEqual({ isPersisted: false, isAccepted: false });
    expect(events).toEqual(['fail: spool full']);
    expect(routed).toEqual([]);
    expect(intake.marks.accepted).toBe(0);
    expect(counts.get(MetricNames.framesDroppedSpoolFull)).toBe(1);
  });

  it('takes an empty range without counting or spooling anything', () => {
    const { intake, spooled } = harness();
    expect(intake.accept([audio(1)], 1, 1, Buffer.alloc(0))).toEqual({
      isPersisted: true,
      isAccepted: true,
    });
    expect(spooled).toEqual([]);
    expect(intake.counters.framesReceived).toBe(7);
  });

  it('records a source gap report as a gap ending at its arrival, and asks for the record', () => {
    const { intake, events, persistence, counts } = harness();
    intake.accept([audio(1), gapReport(2)], 0, 2, Buffer.alloc(9));
    expect(persistence.gaps).toEqual([
      {
        startedAt: '2026-12-07T09:00:09.000Z',
        endedAt: '2026-12-07T09:00:10.000Z',
        reason: 'sourceQueueOverflow',
      },
    ]);
    expect(events).toEqual(['record gap']);
    expect(counts.get(MetricNames.gapsRecorded)).toBe(1);
  });

  it('records a replayed gap report where the dropped frames were in the stream time', () => {
    const { intake, persistence } = harness();
    const wallTimeOfLastDropped = Date.parse('2026-12-07T08:59:59.980Z');
    intake.replayedGapReport(gapReport(5), () => wallTimeOfLastDropped);
    expect(persistence.gaps[0]).toMatchObject({
      startedAt: '2026-12-07T08:59:59.000Z',
      endedAt: '2026-12-07T09:00:00.000Z',
    });
  });

  it('records a replayed gap report at the restart when no stream has started', () => {
    const { intake, persistence } = harness();
    intake.replayedGapReport(gapReport(5), () => undefined);
    expect(persistence.gaps[0]?.endedAt).toBe('2026-12-07T09:00:10.000Z');
  });

  it('records a gap report once when it is replayed after the record that holds it', () => {
    const { intake, events, persistence } = harness();
    intake.accept([gapReport(4)], 0, 1, Buffer.alloc(9));
    intake.replayedGapReport(gapReport(4), () => undefined);
    expect(persistence.gaps).toHaveLength(1);
    expect(events).toEqual(['record gap']);
  });

  it('replays the spool: frames to the router, marks as breaks, both marks durable', () => {
    const { intake, events } = harness({ through: 10 });
    intake.replay(audio(11));
    intake.replayMark(12);
    expect(events).toEqual(['replay 11', 'break']);
    expect(intake.marks.accepted).toBe(12);
    expect(intake.marks.durable).toBe(12);
    expect(intake.marks.next).toBe(13);
  });
});

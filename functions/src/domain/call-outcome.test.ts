import { decideLegacyOutcome, decideOutcome, type OutcomeFacts } from './call-outcome';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const audio = { streamId: 'audio-1', bytes: 6_400 };

const recordedCall: OutcomeFacts = {
  establishedAt: at(1),
  recordingConfirmedAt: at(1.2),
  endReason: 'terminated',
  endedAt: at(60),
  lifecycleGaps: [],
  seal: { streams: [audio], gaps: [] },
};

describe('decideOutcome', () => {
  it('is recorded when media covers the window from the recording status to the end', () => {
    expect(decideOutcome(recordedCall)).toEqual({
      outcome: 'recorded',
      gaps: [{ startedAt: at(1), endedAt: at(1.2), reason: 'beforeRecordingStatus' }],
    });
  });

  it('lists no beforeRecordingStatus gap when the status was confirmed at established', () => {
    expect(decideOutcome({ ...recordedCall, recordingConfirmedAt: at(1) }).gaps).toEqual([]);
  });

  it('is recordedWithGaps when the media host reports a gap inside the window', () => {
    const gap = { streamId: 'audio-1', startedAt: at(10), endedAt: at(12), reason: 'spoolFull' };
    const decided = decideOutcome({ ...recordedCall, seal: { streams: [audio], gaps: [gap] } });
    expect(decided.outcome).toBe('recordedWithGaps');
    expect(decided.gaps).toContainEqual(gap);
  });

  it('gives a stream that stored nothing a noMediaReceived gap of its own', () => {
    const decided = decideOutcome({
      ...recordedCall,
      seal: { streams: [audio, { streamId: 'video-1', bytes: 0 }], gaps: [] },
    });
    expect(decided.outcome).toBe('recordedWithGaps');
    expect(decided.gaps).toContainEqual({
      streamId: 'video-1',
      startedAt: at(1.2),
      endedAt: at(60),
      reason: 'noMediaReceived',
    });
  });

  it('is never recorded when the recording status was set but nothing was stored', () => {
    const decided = decideOutcome({ ...recordedCall, seal: { streams: [], gaps: [] } });
    expect(decided).toEqual({
      outcome: 'noMedia',
      outcomeReason: 'noMediaReceived',
      gaps: [
        { startedAt: at(1), endedAt: at(1.2), reason: 'beforeRecordingStatus' },
        { startedAt: at(1.2), endedAt: at(60), reason: 'noMediaReceived' },
      ],
    });
  });

  it('counts streams of zero bytes as nothing stored', () => {
    const decided = decideOutcome({
      ...recordedCall,
      seal: { streams: [{ streamId: 'audio-1', bytes: 0 }], gaps: [] },
    });
    expect(decided.outcome).toBe('noMedia');
  });

  it('fails with a beforeRecordingStatus gap to the end when the call ends before the status is set', () => {
    const decided = decideOutcome({
      establishedAt: at(1),
      endReason: 'terminated',
      endedAt: at(3),
      lifecycleGaps: [],
    });
    expect(decided).toEqual({
      outcome: 'failed',
      outcomeReason: 'endedBeforeRecordingStatus',
      gaps: [{ startedAt: at(1), endedAt: at(3), reason: 'beforeRecordingStatus' }],
    });
  });

  it('keeps the failure reason when Graph never confirmed the status', () => {
    const decided = decideOutcome({
      establishedAt: at(1),
      endReason: 'terminated',
      failureReason: 'recordingStatusNotConfirmed',
      endedAt: at(9),
      lifecycleGaps: [],
    });
    expect(decided).toMatchObject({
      outcome: 'failed',
      outcomeReason: 'recordingStatusNotConfirmed',
    });
  });

  it('fails a call that ended before it was established', () => {
    expect(decideOutcome({ endReason: 'terminated', endedAt: at(2), lifecycleGaps: [] })).toEqual({
      outcome: 'failed',
      outcomeReason: 'endedBeforeEstablished',
      gaps: [],
    });
    expect(
      decideOutcome({ endReason: 'notEstablished', endedAt: at(2), lifecycleGaps: [] }),
    ).toMatchObject({ outcome: 'failed', outcomeReason: 'notEstablished' });
  });

  it('fails on media host loss and closes the open loss gap at the end of the call', () => {
    const decided = decideOutcome({
      ...recordedCall,
      failureReason: 'mediaHostLost',
      lifecycleGaps: [{ startedAt: at(30), endedAt: at(30), reason: 'mediaHostLost' }],
      seal: undefined,
    });
    expect(decided).toMatchObject({ outcome: 'failed', outcomeReason: 'mediaHostLost' });
    expect(decided.gaps).toContainEqual({
      startedAt: at(30),
      endedAt: at(60),
      reason: 'mediaHostLost',
    });
  });

  it('is recordedWithGaps when another host adopted the lost host media, with one loss span', () => {
    const decided = decideOutcome({
      ...recordedCall,
      failureReason: 'mediaHostLost',
      lifecycleGaps: [{ startedAt: at(30), endedAt: at(30), reason: 'mediaHostLost' }],
      // The adopter's seal: committed media up to 24 s, the loss from there to its seal.
      seal: {
        streams: [audio],
        gaps: [{ startedAt: at(24), endedAt: at(58), reason: 'mediaHostLost' }],
      },
    });
    expect(decided).toEqual({
      outcome: 'recordedWithGaps',
      gaps: [
        { startedAt: at(1), endedAt: at(1.2), reason: 'beforeRecordingStatus' },
        { startedAt: at(24), endedAt: at(60), reason: 'mediaHostLost' },
      ],
    });
  });

  it('still fails a lost host whose adopted seal stored nothing, never recorded', () => {
    const decided = decideOutcome({
      ...recordedCall,
      failureReason: 'mediaHostLost',
      seal: { streams: [], gaps: [{ startedAt: at(2), endedAt: at(60), reason: 'mediaHostLost' }] },
    });
    expect(decided).toMatchObject({ outcome: 'failed', outcomeReason: 'mediaHostLost' });
    expect(decided.gaps).toContainEqual({
      startedAt: at(2),
      endedAt: at(60),
      reason: 'mediaHostLost',
    });
  });

  it('fails when the seal did not succeed', () => {
    expect(decideOutcome({ ...recordedCall, seal: undefined })).toMatchObject({
      outcome: 'failed',
      outcomeReason: 'terminated',
    });
  });
});

describe('decideLegacyOutcome (callLifecycleV1, V2)', () => {
  const legacyCall = {
    isEstablished: true,
    endReason: 'terminated',
    endedAt: at(60),
    lifecycleGaps: [],
    seal: { gaps: [] },
  };

  it('is recorded with no gaps and lists no beforeRecordingStatus gap', () => {
    expect(decideLegacyOutcome(legacyCall)).toEqual({ outcome: 'recorded', gaps: [] });
  });

  it('ends an open mediaHostLost gap when the call ends and fails the call with its reason', () => {
    const lost = { startedAt: at(30), endedAt: at(30), reason: 'mediaHostLost' };
    expect(
      decideLegacyOutcome({
        ...legacyCall,
        failureReason: 'mediaHostLost',
        lifecycleGaps: [lost],
      }),
    ).toEqual({
      outcome: 'failed',
      outcomeReason: 'mediaHostLost',
      gaps: [{ ...lost, endedAt: at(60) }],
    });
  });

  it('puts the media host gaps after its own and is recordedWithGaps', () => {
    const own = { startedAt: at(5), endedAt: at(6), reason: 'mediaHostLost' };
    const hosts = { streamId: 'a', startedAt: at(10), endedAt: at(12), reason: 'spoolFull' };
    expect(
      decideLegacyOutcome({ ...legacyCall, lifecycleGaps: [own], seal: { gaps: [hosts] } }),
    ).toEqual({ outcome: 'recordedWithGaps', gaps: [own, hosts] });
  });

  it('is failed endedBeforeEstablished when terminated before established', () => {
    expect(decideLegacyOutcome({ ...legacyCall, isEstablished: false, seal: undefined })).toEqual({
      outcome: 'failed',
      outcomeReason: 'endedBeforeEstablished',
      gaps: [],
    });
  });

  it('fails with the end reason when there is no seal', () => {
    expect(
      decideLegacyOutcome({ ...legacyCall, endReason: 'callGone', seal: undefined }),
    ).toMatchObject({ outcome: 'failed', outcomeReason: 'callGone' });
  });
});

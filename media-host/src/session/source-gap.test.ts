import { StreamGapReason, StreamStateKind } from '@attest/core';
import { sourceGapOf, type StreamStateFrame } from './source-gap';

const base = {
  type: 'streamState',
  sessionId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  sequence: 9,
  msi: 0,
  streamKind: StreamStateKind.session,
  isActive: false,
} as const;

describe('sourceGapOf', () => {
  it('ends the gap at the report and starts it as far back as the dropped frames span', () => {
    const frame: StreamStateFrame = {
      ...base,
      timestamp100ns: 638_700_000_000_000_000n,
      gap: {
        reason: StreamGapReason.sourceQueueOverflow,
        droppedFrames: 50,
        lastTimestamp100ns: 638_700_000_000_000_000n + 980n * 10_000n,
      },
    };
    expect(sourceGapOf(frame, Date.parse('2026-12-07T01:00:10.000Z'))).toEqual({
      startedAt: '2026-12-07T01:00:09.000Z',
      endedAt: '2026-12-07T01:00:10.000Z',
      reason: 'sourceQueueOverflow',
    });
  });

  it('records nothing for a plain stream state', () => {
    expect(sourceGapOf({ ...base, timestamp100ns: 1n }, 0)).toBeUndefined();
  });
});

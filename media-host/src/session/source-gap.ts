/**
 * A gap a media source reports in a stream-state frame (the bridge's queue overflowed): the
 * report arrives with the first frame the source could queue again, so the gap ends at its
 * arrival and starts as much media time earlier as the dropped frames span (their platform
 * timestamps, 100 ns, plus the last frame's 20 ms).
 */
import type { MediaProtocolFrame, RecordingGap } from '@attest/core';

export type StreamStateFrame = Extract<MediaProtocolFrame, { type: 'streamState' }>;

/** The recording gap for a gap report that arrived at `atInMs`; undefined for a plain state frame. */
export function sourceGapOf(frame: StreamStateFrame, atInMs: number): RecordingGap | undefined {
  const gap = frame.gap;
  if (gap === undefined) return undefined;
  const spanInMs = Number((gap.lastTimestamp100ns - frame.timestamp100ns) / 10_000n) + 20;
  return {
    startedAt: new Date(atInMs - spanInMs).toISOString(),
    endedAt: new Date(atInMs).toISOString(),
    reason: 'sourceQueueOverflow',
  };
}

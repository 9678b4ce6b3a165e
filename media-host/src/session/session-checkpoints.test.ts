import { foldCheckpoints } from './checkpoint-log';
import { resumePointOf } from './session-checkpoints';
import type { StreamWriterState } from '../pipeline/stream-writer';

function segment(
  streamId: string,
  msi: string,
  segmentNo: number,
  committedThroughSequence: number,
  storedBytes: number,
): StreamWriterState {
  return {
    streamId,
    kind: 'audio',
    msi,
    segment: segmentNo,
    blobName: `t/i/streams/${streamId}.wav`,
    contentType: 'audio/wav',
    blocks: [],
    chainHeadSha256: '0',
    plaintextBytes: storedBytes,
    storedBytes,
    committedThroughSequence,
    frameCount: 0,
    mediaEndInMs: 0,
    timeline: [],
  };
}

describe('resumePointOf', () => {
  it('skips per stream what its segments committed and continues in the next segment', () => {
    const folded = foldCheckpoints(
      [],
      [
        {
          v: 1,
          through: 30,
          framesReceived: 40,
          framesDroppedBeforePersist: 0,
          streams: [
            segment('audio-11', '11', 0, 25, 100),
            segment('audio-11.1', '11', 1, 35, 50),
            segment('audio-12', '12', 0, 20, 70),
          ],
        },
      ],
    );
    const resume = resumePointOf(folded, 0);
    expect(Object.fromEntries(resume.skipThrough)).toEqual({ 'audio-11': 35, 'audio-12': 20 });
    expect(Object.fromEntries(resume.nextSegment)).toEqual({ 'audio-11': 2, 'audio-12': 1 });
    expect(resume.bytesCommitted).toBe(220);
    expect(resume.through).toBe(35);
  });

  it('resumes after the record mark when it is past the log', () => {
    expect(resumePointOf(foldCheckpoints([], []), 90).through).toBe(90);
  });
});

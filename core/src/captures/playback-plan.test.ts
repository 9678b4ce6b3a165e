import type { ManifestStream, RecordingManifest } from '../manifest/manifest';
import type { InteractionManifest } from './interaction-manifest';
import {
  planCapturePlayback,
  planRecordingPlayback,
  streamMediaPositionInMs,
} from './playback-plan';

const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);
const at = (second: number): string => new Date(T0 + second * 1000).toISOString();
const TS0 = 638_000_000_000_000_000n;
const ts = (second: number): string => String(TS0 + BigInt(Math.round(second * 10_000_000)));

const stream = (
  streamId: string,
  from: number,
  to: number,
  overrides: Partial<ManifestStream> = {},
): ManifestStream => ({
  streamId,
  kind: 'audio',
  msi: '11',
  participantId: 'p-trader',
  blobName: `t/x/${streamId}`,
  contentType: 'audio/ogg; codecs=opus',
  firstTimestamp100ns: ts(from),
  lastTimestamp100ns: ts(to),
  startedAt: at(from),
  endedAt: at(to),
  durationInMs: (to - from) * 1000,
  frameCount: (to - from) * 50,
  plaintextBytes: 1,
  storedBytes: 1,
  blocks: [],
  chainHeadSha256: '00',
  ...overrides,
});

const recording = (interactionId: string, streams: ManifestStream[]): RecordingManifest => ({
  formatVersion: 1,
  tenantId: 't',
  interactionId,
  callId: `call-${interactionId}`,
  sessionId: 's',
  mediaHostId: 'h',
  softwareVersion: '1',
  signingKeyId: 'k',
  startedAt: at(1),
  endedAt: at(60),
  sealedAt: at(60),
  participants: [],
  streams,
  gaps: [],
  merkleRootSha256: '00',
});

const interaction = (timeline: InteractionManifest['timeline']): InteractionManifest => ({
  formatVersion: 1,
  kind: 'interaction',
  tenantId: 't',
  interactionId: 'ix-1',
  outcome: 'recorded',
  startedAt: at(1),
  endedAt: at(60),
  sealedAt: at(60),
  signingKeyId: 'k',
  captures: [
    { captureId: 'a', callId: 'ca', legIndex: 0, outcome: 'recordedWithGaps', manifestSha256: 'x' },
    { captureId: 'b', callId: 'cb', legIndex: 1, outcome: 'recorded', manifestSha256: 'y' },
  ],
  timeline,
  gaps: [],
});

describe('planCapturePlayback', () => {
  it('plays each speaker from the covering capture and switches capture at the boundary', () => {
    const plan = planCapturePlayback(
      interaction([
        { startedAt: at(1), endedAt: at(20), captureId: 'a' },
        { startedAt: at(20), endedAt: at(60), captureId: 'b' },
      ]),
      new Map([
        [
          'a',
          recording('a', [
            stream('a-trader', 1, 20),
            stream('a-colleague', 2, 20, { msi: '12', participantId: 'p-colleague' }),
          ]),
        ],
        [
          'b',
          recording('b', [
            stream('b-trader', 1, 60),
            stream('b-colleague', 2, 59, { msi: '12', participantId: 'p-colleague' }),
          ]),
        ],
      ]),
    );
    expect(plan.kind).toBe('captures');
    expect(plan.captureIds).toEqual(['a', 'b']);
    expect(plan.lanes).toEqual([
      {
        laneId: 'audio:p-colleague',
        kind: 'audio',
        msi: '12',
        participantId: 'p-colleague',
        segments: [
          { captureId: 'a', streamId: 'a-colleague', startedAt: at(2), endedAt: at(20) },
          { captureId: 'b', streamId: 'b-colleague', startedAt: at(20), endedAt: at(59) },
        ],
      },
      {
        laneId: 'audio:p-trader',
        kind: 'audio',
        msi: '11',
        participantId: 'p-trader',
        segments: [
          { captureId: 'a', streamId: 'a-trader', startedAt: at(1), endedAt: at(20) },
          { captureId: 'b', streamId: 'b-trader', startedAt: at(20), endedAt: at(60) },
        ],
      },
    ]);
  });

  it("plays a speaker the covering capture has no stream for from the other capture's stream", () => {
    const plan = planCapturePlayback(
      interaction([{ startedAt: at(1), endedAt: at(60), captureId: 'a' }]),
      new Map([
        ['a', recording('a', [stream('a-trader', 1, 60)])],
        ['b', recording('b', [stream('b-screen', 5, 50, { kind: 'vbss', msi: '40' })])],
      ]),
    );
    expect(plan.lanes.map((l) => [l.laneId, l.segments.map((s) => s.streamId)])).toEqual([
      ['audio:p-trader', ['a-trader']],
      ['vbss:p-trader', ['b-screen']],
    ]);
  });

  it("fills the covering capture's late start and early end from the other capture's media", () => {
    // Capture b covers the whole call, but its first frame came 3 s after the call began and its
    // host died at second 40; capture a recorded the speaker from second 1 to 50.
    const plan = planCapturePlayback(
      interaction([{ startedAt: at(1), endedAt: at(60), captureId: 'b' }]),
      new Map([
        ['a', recording('a', [stream('a-trader', 1, 50)])],
        ['b', recording('b', [stream('b-trader', 4, 40)])],
      ]),
    );
    expect(plan.lanes[0]?.segments).toEqual([
      { captureId: 'a', streamId: 'a-trader', startedAt: at(1), endedAt: at(4) },
      { captureId: 'b', streamId: 'b-trader', startedAt: at(4), endedAt: at(40) },
      { captureId: 'a', streamId: 'a-trader', startedAt: at(40), endedAt: at(50) },
    ]);
  });

  it('plays a stream to the end of its media even when its frames all arrived earlier', () => {
    // Frames can arrive faster than they play: the last one came at second 5, 59 s of media.
    const plan = planCapturePlayback(
      interaction([{ startedAt: at(1), endedAt: at(60), captureId: 'a' }]),
      new Map([['a', recording('a', [stream('a-trader', 1, 60, { endedAt: at(5) })])]]),
    );
    expect(plan.lanes[0]?.segments).toEqual([
      { captureId: 'a', streamId: 'a-trader', startedAt: at(1), endedAt: at(60) },
    ]);
  });

  it('leaves a hole only where no capture holds media for the lane', () => {
    const plan = planCapturePlayback(
      interaction([{ startedAt: at(1), endedAt: at(60), captureId: 'a' }]),
      new Map([
        ['a', recording('a', [stream('a-trader', 1, 10), stream('a-trader-2', 30, 60)])],
        ['b', recording('b', [stream('b-trader', 20, 35)])],
      ]),
    );
    expect(plan.lanes[0]?.segments).toEqual([
      { captureId: 'a', streamId: 'a-trader', startedAt: at(1), endedAt: at(10) },
      { captureId: 'b', streamId: 'b-trader', startedAt: at(20), endedAt: at(30) },
      { captureId: 'a', streamId: 'a-trader-2', startedAt: at(30), endedAt: at(60) },
    ]);
  });

  it('joins consecutive intervals of one capture into one segment and skips unsealed captures', () => {
    const plan = planCapturePlayback(
      interaction([
        { startedAt: at(1), endedAt: at(10), captureId: 'b' },
        { startedAt: at(10), endedAt: at(30), captureId: 'b', isPartial: true },
        { startedAt: at(30), endedAt: at(40), reason: 'mediaHostLost' },
        { startedAt: at(40), endedAt: at(60), captureId: 'b' },
      ]),
      new Map([['b', recording('b', [stream('b-trader', 1, 60)])]]),
    );
    expect(plan.captureIds).toEqual(['b']);
    expect(plan.lanes[0]?.segments).toEqual([
      { captureId: 'b', streamId: 'b-trader', startedAt: at(1), endedAt: at(30) },
      { captureId: 'b', streamId: 'b-trader', startedAt: at(40), endedAt: at(60) },
    ]);
  });
});

describe('planRecordingPlayback', () => {
  it('gives every stream of one recording its own lane over the whole recording', () => {
    const plan = planRecordingPlayback(recording('r', [stream('s1', 1, 60)]));
    expect(plan).toMatchObject({ kind: 'recording', captureIds: ['r'] });
    expect(plan.lanes[0]?.segments).toEqual([
      { captureId: 'r', streamId: 's1', startedAt: at(1), endedAt: at(60) },
    ]);
  });
});

describe('streamMediaPositionInMs', () => {
  // 10 s of media from second 1, with a 5 s silence after 4 s of speech.
  const spoken = stream('s', 1, 16, {
    durationInMs: 10_000,
    timeline: [
      { mediaInMs: 0, timestamp100ns: ts(1) },
      { mediaInMs: 4000, timestamp100ns: ts(10) },
    ],
  });

  it('maps wall-clock time to media time across a jump, and is undefined in the silence', () => {
    expect(streamMediaPositionInMs(spoken, T0 + 2000)).toBe(1000);
    expect(streamMediaPositionInMs(spoken, T0 + 7000)).toBeUndefined();
    expect(streamMediaPositionInMs(spoken, T0 + 12_000)).toBe(6000);
  });

  it('is undefined before the first frame and after the last', () => {
    expect(streamMediaPositionInMs(spoken, T0 + 500)).toBeUndefined();
    expect(streamMediaPositionInMs(spoken, T0 + 17_000)).toBeUndefined();
  });
});

import { mixPcm16 } from './audio-mixer';
import { forwardAudio } from './live-monitor';

function frameOf(...samples: number[]): Buffer {
  const b = Buffer.alloc(640);
  samples.forEach((s, i) => b.writeInt16LE(s, i * 2));
  return b;
}

describe('mixPcm16', () => {
  it('sums speakers sample by sample and clips to the int16 range', () => {
    const mixed = mixPcm16([frameOf(100, 30000, -30000), frameOf(-50, 5000, -5000)]);
    expect([mixed.readInt16LE(0), mixed.readInt16LE(2), mixed.readInt16LE(4)]).toEqual([
      50, 32767, -32768,
    ]);
  });

  it('gives silence for no speakers and treats a short buffer as silence past its end', () => {
    expect(mixPcm16([]).equals(Buffer.alloc(640))).toBe(true);
    const mixed = mixPcm16([frameOf(7, 7), Buffer.from([1, 0])]);
    expect([mixed.readInt16LE(0), mixed.readInt16LE(2)]).toEqual([8, 7]);
  });

  it('returns a copy, so later reuse of the socket buffer cannot change what was mixed', () => {
    const input = frameOf(42);
    const mixed = mixPcm16([input]);
    input.writeInt16LE(0, 0);
    expect(mixed.readInt16LE(0)).toBe(42);
  });
});

describe('forwardAudio', () => {
  const SESSION = '0b7c6a4e-1d2f-4a3b-9c8d-7e6f5a4b3c2d';
  const frame = {
    sessionId: SESSION,
    isPersisted: true,
    frame: {
      type: 'audioMixed',
      sessionId: SESSION,
      sequence: 1,
      timestamp100ns: 5n,
      msi: 0,
      format: 1,
      payload: frameOf(9),
    },
  } as const;

  it('skips a frame while the listener is more than the backlog limit behind', () => {
    const sent: Buffer[] = [];
    const target = { bufferedBytes: 20_000, sendBinary: (b: Buffer) => sent.push(b) };
    expect(forwardAudio(target, frame, 16_384)).toBe('skipped');
    target.bufferedBytes = 0;
    expect(forwardAudio(target, frame, 16_384)).toBe('sent');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.readBigUInt64LE(0)).toBe(5n);
    expect(sent[0]!.readInt16LE(8)).toBe(9);
  });

  it('ignores frames that carry no 16 kHz audio', () => {
    const target = { bufferedBytes: 0, sendBinary: () => undefined };
    const video = {
      sessionId: SESSION,
      isPersisted: true,
      frame: {
        type: 'dominantSpeaker',
        sessionId: SESSION,
        sequence: 2,
        timestamp100ns: 1n,
        msi: 0,
        dominantMsi: 7,
      },
    } as const;
    expect(forwardAudio(target, video, 0)).toBe('noAudio');
  });
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeFrames, encodeFrame, type MediaProtocolFrame } from '@attest/core';

/**
 * Golden frames shared with the .NET bridge's tests (media-host/bridge/test): both encoders must
 * write exactly these bytes and both decoders must read them back to the same frame.
 * `UPDATE_GOLDEN=1` writes a missing .bin from this encoder (review the diff before committing).
 */
const folder = path.resolve(__dirname, '../fixtures/media-protocol-golden');

interface GoldenCase {
  readonly name: string;
  readonly frame: Record<string, unknown>;
}

function toFrame(json: Record<string, unknown>): MediaProtocolFrame {
  const frame: Record<string, unknown> = {
    ...json,
    timestamp100ns: BigInt(json.timestamp100ns as string),
  };
  if (typeof json.payloadHex === 'string') {
    frame.payload = Buffer.from(json.payloadHex, 'hex');
    delete frame.payloadHex;
  }
  if (Array.isArray(json.buffers)) {
    frame.buffers = (json.buffers as Record<string, string | number>[]).map((b) => ({
      msi: b.msi,
      originalSenderTimestamp100ns: BigInt(b.originalSenderTimestamp100ns as string),
      payload: Buffer.from(b.payloadHex as string, 'hex'),
    }));
  }
  if (typeof json.gap === 'object' && json.gap !== null) {
    const gap = json.gap as Record<string, unknown>;
    frame.gap = { ...gap, lastTimestamp100ns: BigInt(gap.lastTimestamp100ns as string) };
  }
  return frame as unknown as MediaProtocolFrame;
}

const cases = (
  JSON.parse(readFileSync(path.join(folder, 'cases.json'), 'utf8')) as {
    cases: GoldenCase[];
  }
).cases;

describe('media protocol golden frames', () => {
  it('has a case for every frame type', () => {
    const types = new Set(cases.map((c) => c.frame.type));
    expect([...types].sort()).toEqual(
      [
        'ack',
        'activeSpeakers',
        'audioMixed',
        'audioUnmixed',
        'dominantSpeaker',
        'end',
        'error',
        'hello',
        'streamState',
        'vbss',
        'video',
      ].sort(),
    );
  });

  describe.each(cases.map((c) => [c.name, c] as const))('%s', (name, golden) => {
    const file = path.join(folder, `${name}.bin`);
    if (!existsSync(file) && process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(file, encodeFrame(toFrame(golden.frame)));
    }

    it('encodes to the golden bytes', () => {
      expect(encodeFrame(toFrame(golden.frame)).toString('hex')).toBe(
        readFileSync(file).toString('hex'),
      );
    });

    it('decodes the golden bytes to the frame', () => {
      const result = decodeFrames(readFileSync(file));
      expect(result.error).toBeUndefined();
      expect(result.frames).toEqual([toFrame(golden.frame)]);
    });
  });
});

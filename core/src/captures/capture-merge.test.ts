import { generateKeyPairSync } from 'node:crypto';
import { sha256Hex } from '../crypto/hash';
import { signWithPrivateKey } from '../crypto/signing';
import { mergeCaptures, pairedInteractionId, type InteractionCapture } from './capture-merge';
import {
  serializeInteractionManifest,
  verifyInteractionManifest,
  type InteractionManifest,
} from './interaction-manifest';

const at = (second: number): string => new Date(Date.UTC(2030, 0, 1, 0, 0, second)).toISOString();
const capture = (
  captureId: string,
  legIndex: number,
  overrides: Partial<InteractionCapture> = {},
): InteractionCapture => ({
  captureId,
  callId: `call-${captureId}`,
  legIndex,
  outcome: 'recorded',
  recordingConfirmedAt: at(1),
  endedAt: at(60),
  gaps: [{ startedAt: at(0), endedAt: at(1), reason: 'beforeRecordingStatus' }],
  manifestBlobName: `t/${captureId}/manifest.json`,
  manifestSha256: sha256Hex(captureId),
  ...overrides,
});
/** A capture whose media host was lost at `second` and later sealed what it had. */
const lostAt = (second: number, legIndex = 0): InteractionCapture =>
  capture(`lost-${legIndex}`, legIndex, {
    outcome: 'recordedWithGaps',
    gaps: [
      { startedAt: at(0), endedAt: at(1), reason: 'beforeRecordingStatus' },
      { startedAt: at(second), endedAt: at(60), reason: 'mediaHostLost' },
    ],
  });

describe('pairedInteractionId', () => {
  it('is the same for both legs and differs for another observed participant', () => {
    expect(pairedInteractionId('T', 'chain', 'p1')).toBe(pairedInteractionId('t', 'chain', 'p1'));
    expect(pairedInteractionId('t', 'chain', 'p1')).not.toBe(
      pairedInteractionId('t', 'chain', 'p2'),
    );
    expect(pairedInteractionId('t', 'chain', 'p1')).toMatch(/^ix-[0-9a-f]{40}$/);
  });
});

describe('mergeCaptures', () => {
  it('has no gap when the other capture covers the span a lost media host missed', () => {
    const merged = mergeCaptures([lostAt(20, 0), capture('b', 1)]);
    expect(merged.outcome).toBe('recorded');
    expect(merged.gaps).toEqual([
      { startedAt: at(0), endedAt: at(1), reason: 'beforeRecordingStatus' },
    ]);
    expect(merged.coverage).toEqual([
      { startedAt: at(1), endedAt: at(20), captureId: 'lost-0' },
      { startedAt: at(20), endedAt: at(60), captureId: 'b' },
    ]);
  });

  it("ends with the capture that recorded to the end, not with a lost capture's later end", () => {
    // The lost leg's lifecycle found its host gone at second 70, after the call ended at 60.
    const lost = {
      ...lostAt(20, 0),
      endedAt: at(70),
      gaps: [
        { startedAt: at(0), endedAt: at(1), reason: 'beforeRecordingStatus' },
        { startedAt: at(20), endedAt: at(70), reason: 'mediaHostLost' },
      ],
    };
    const merged = mergeCaptures([lost, capture('b', 1)]);
    expect(merged).toMatchObject({ outcome: 'recorded', endedAt: at(60) });
    expect(merged.coverage.at(-1)).toEqual({ startedAt: at(20), endedAt: at(60), captureId: 'b' });
    // With every capture lost, the window runs to the last one's end, the loss a gap.
    expect(mergeCaptures([lost]).endedAt).toBe(at(70));
  });

  it('keeps as gaps only the spans neither capture covered, with the reason', () => {
    const b = capture('b', 1, {
      gaps: [{ startedAt: at(30), endedAt: at(40), reason: 'spoolFull' }],
    });
    const merged = mergeCaptures([lostAt(20, 0), b]);
    expect(merged.outcome).toBe('recordedWithGaps');
    expect(merged.gaps.filter((g) => g.reason !== 'beforeRecordingStatus')).toEqual([
      { startedAt: at(30), endedAt: at(40), reason: 'mediaHostLost' },
    ]);
    expect(merged.coverage.map((c) => c.captureId ?? c.reason)).toEqual([
      'lost-0',
      'b',
      'mediaHostLost',
      'b',
    ]);
  });

  it('counts nothing of a capture that was never sealed', () => {
    const unsealed = capture('a', 0, {
      outcome: 'failed',
      outcomeReason: 'mediaHostLost',
      manifestBlobName: undefined,
      manifestSha256: undefined,
    });
    const b = capture('b', 1, { recordingConfirmedAt: at(2) });
    const merged = mergeCaptures([unsealed, b]);
    expect(merged).toMatchObject({ outcome: 'recorded', startedAt: at(2) });
    expect(merged.coverage).toEqual([{ startedAt: at(2), endedAt: at(60), captureId: 'b' }]);
    expect(mergeCaptures([unsealed])).toMatchObject({
      outcome: 'failed',
      outcomeReason: 'mediaHostLost',
    });
  });

  it('records the gap of a single capture whose media host was lost', () => {
    const merged = mergeCaptures([lostAt(20)]);
    expect(merged.outcome).toBe('recordedWithGaps');
    expect(merged.gaps).toContainEqual({
      startedAt: at(20),
      endedAt: at(60),
      reason: 'mediaHostLost',
    });
  });

  it('takes a capture that holds all streams over one that misses a stream', () => {
    const a = capture('a', 0, {
      gaps: [{ streamId: 's1', startedAt: at(10), endedAt: at(20), reason: 'framesMissing' }],
    });
    const merged = mergeCaptures([a, capture('b', 1)]);
    expect(merged.outcome).toBe('recorded');
    expect(merged.coverage.map((c) => c.captureId)).toEqual(['a', 'b', 'a']);
  });

  it('lists a stream gap both captures share as the interaction gap of that stream', () => {
    const gap = { streamId: 's1', startedAt: at(10), endedAt: at(20), reason: 'framesMissing' };
    const merged = mergeCaptures([
      capture('a', 0, { gaps: [gap] }),
      capture('b', 1, { gaps: [gap] }),
    ]);
    expect(merged.outcome).toBe('recordedWithGaps');
    expect(merged.gaps).toEqual([gap]);
    expect(merged.coverage).toContainEqual({
      startedAt: at(10),
      endedAt: at(20),
      captureId: 'a',
      isPartial: true,
    });
  });

  it('says no media when no capture started recording', () => {
    const merged = mergeCaptures([
      capture('a', 0, { outcome: 'failed', outcomeReason: 'x', recordingConfirmedAt: undefined }),
    ]);
    expect(merged).toMatchObject({ outcome: 'failed', outcomeReason: 'x', coverage: [] });
  });
});

describe('verifyInteractionManifest', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const captureBytes = Buffer.from('capture manifest');
  const manifest: InteractionManifest = {
    formatVersion: 1,
    kind: 'interaction',
    tenantId: 't',
    interactionId: 'ix-1',
    outcome: 'recorded',
    sealedAt: at(60),
    signingKeyId: 'k',
    captures: [
      {
        captureId: 'a',
        callId: 'ca',
        legIndex: 0,
        outcome: 'recorded',
        manifestBlobName: 'x',
        manifestSha256: sha256Hex(captureBytes),
      },
    ],
    timeline: [{ startedAt: at(1), endedAt: at(60), captureId: 'a' }],
    gaps: [],
  };
  const bytes = serializeInteractionManifest(manifest);
  const { alg, signature } = signWithPrivateKey(bytes, privateKey);
  const sig = JSON.stringify({ v: 1, alg, keyId: 'k', signature: signature.toString('base64') });

  it('passes when the signature and the captures match', () => {
    expect(
      verifyInteractionManifest(bytes, sig, publicKey, () => sha256Hex(captureBytes)).problems,
    ).toEqual([]);
  });

  it('names the capture whose manifest changed', () => {
    expect(
      verifyInteractionManifest(bytes, sig, publicKey, () => sha256Hex('other')).problems,
    ).toEqual(["capture a: manifest hash differs from the interaction's"]);
  });

  it('fails the signature when one byte of the manifest changed', () => {
    const changed = Buffer.from(bytes);
    changed.writeUInt8(changed.readUInt8(10) ^ 1, 10);
    expect(
      verifyInteractionManifest(changed, sig, publicKey, () => sha256Hex(captureBytes)).problems[0],
    ).toMatch(/^manifest.sig: /);
  });
});

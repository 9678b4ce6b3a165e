import { manifestParticipantsOf, streamsMerkleRoot, type ParticipantMapping } from '@attest/core';
import type { StreamWriterState } from '../pipeline/stream-writer';
import {
  buildManifest,
  manifestStream,
  sealSummaryOf,
  type ManifestInput,
} from './manifest-builder';

const CREATED = '2026-12-06T09:00:00.000Z';
const PERSISTING = '2026-12-06T09:00:05.000Z';
const SEALED = '2026-12-06T09:30:00.000Z';

const block = (index: number): StreamWriterState['blocks'][number] => ({
  index,
  blockId: `b${index}`,
  offset: index * 10,
  length: 10,
  sha256: 'a'.repeat(64),
  storedOffset: index * 38,
  storedLength: 38,
  storedSha256: 'b'.repeat(64),
  chainSha256: 'c'.repeat(64),
});

function segment(overrides: Partial<StreamWriterState> = {}): StreamWriterState {
  return {
    streamId: 'audio-11',
    kind: 'audio',
    msi: '11',
    segment: 0,
    blobName: 't/i/streams/audio-11.wav',
    contentType: 'audio/wav',
    blocks: [block(0), block(1)],
    chainHeadSha256: 'c'.repeat(64),
    plaintextBytes: 20,
    storedBytes: 76,
    committedThroughSequence: 40,
    frameCount: 40,
    firstTimestamp100ns: '1000000',
    lastTimestamp100ns: '9000000',
    firstFrameAt: '2026-12-06T09:00:06.000Z',
    lastFrameAt: '2026-12-06T09:00:07.000Z',
    mediaEndInMs: 800,
    timeline: [],
    ...overrides,
  };
}

const alice: ParticipantMapping = {
  msi: '11',
  participantId: 'p-alice',
  kind: 'audio',
  identityKind: 'user',
  identityId: 'oid-alice',
};

function input(overrides: Partial<ManifestInput> = {}): ManifestInput {
  return {
    request: { callId: 'c-1', tenantId: 't', interactionId: 'i', recordedUserIds: [] },
    sessionId: 's-1',
    mediaHostId: 'host-1',
    softwareVersion: '1.2.3',
    signingKeyId: 'ed25519:abc',
    kekId: undefined,
    createdAt: CREATED,
    persistingSince: PERSISTING,
    sealedAt: SEALED,
    participants: new Map([[alice.msi, alice]]),
    gaps: [],
    segments: [segment()],
    ...overrides,
  };
}

describe('manifestStream', () => {
  it('names the participant mapped to the stream MSI', () => {
    const stream = manifestStream(segment(), new Map([[alice.msi, alice]]), CREATED);
    expect(stream.participantId).toBe('p-alice');
  });

  it('takes an audio stream duration from its media end', () => {
    expect(manifestStream(segment(), new Map(), CREATED).durationInMs).toBe(800);
  });

  it('takes a video stream duration from its first and last timestamps', () => {
    const video = segment({ kind: 'video', streamId: 'video-11', mediaEndInMs: 0 });
    expect(manifestStream(video, new Map(), CREATED).durationInMs).toBe(800);
  });

  it('stands in the creation time for a segment without frame times', () => {
    const stream = manifestStream(
      segment({ firstFrameAt: undefined, lastFrameAt: undefined }),
      new Map(),
      CREATED,
    );
    expect([stream.startedAt, stream.endedAt]).toEqual([CREATED, CREATED]);
  });
});

describe('manifestParticipantsOf', () => {
  it('gives one entry per participant with every MSI mapped to them', () => {
    const video: ParticipantMapping = { ...alice, msi: '12', kind: 'video' };
    expect(manifestParticipantsOf([alice, video])).toEqual([
      {
        participantId: 'p-alice',
        identityKind: 'user',
        identityId: 'oid-alice',
        msis: ['11', '12'],
      },
    ]);
  });
});

describe('buildManifest', () => {
  it('starts at persistence and ends at the seal', () => {
    const manifest = buildManifest(input());
    expect([manifest.startedAt, manifest.endedAt, manifest.sealedAt]).toEqual([
      PERSISTING,
      SEALED,
      SEALED,
    ]);
  });

  it('starts at the first stream when persistence never started', () => {
    expect(buildManifest(input({ persistingSince: undefined })).startedAt).toBe(
      '2026-12-06T09:00:06.000Z',
    );
  });

  it('leaves out segments that committed no block', () => {
    const empty = segment({ streamId: 'audio-12', msi: '12', blocks: [] });
    const manifest = buildManifest(input({ segments: [segment(), empty] }));
    expect(manifest.streams.map((s) => s.streamId)).toEqual(['audio-11']);
  });

  it('roots the Merkle tree over the listed streams', () => {
    const manifest = buildManifest(input());
    expect(manifest.merkleRootSha256).toBe(streamsMerkleRoot(manifest.streams));
  });

  it('names the wrapped key with the key-encryption key when encrypted', () => {
    expect(buildManifest(input({ kekId: 'kek-1' })).encryption).toEqual({
      alg: 'A256GCM',
      kekId: 'kek-1',
      wrappedKeyBlobName: 't/i.json',
    });
    expect(buildManifest(input()).encryption).toBeUndefined();
  });
});

describe('sealSummaryOf', () => {
  it('points at the manifest blob and summarises each stream', () => {
    const manifest = buildManifest(input());
    const summary = sealSummaryOf(manifest, 'f'.repeat(64));
    expect(summary).toMatchObject({
      sessionId: 's-1',
      callId: 'c-1',
      interactionId: 'i',
      manifestBlobName: 't/i/manifest.json',
      manifestSha256: 'f'.repeat(64),
      startedAt: PERSISTING,
      endedAt: SEALED,
    });
    expect(summary.streams).toEqual([
      {
        streamId: 'audio-11',
        kind: 'audio',
        msi: '11',
        participantId: 'p-alice',
        blobName: 't/i/streams/audio-11.wav',
        contentType: 'audio/wav',
        bytes: 76,
        durationInMs: 800,
        blockCount: 2,
        chainHeadSha256: 'c'.repeat(64),
      },
    ]);
  });
});

import {
  interactionParticipantOf,
  interactionStreamOf,
  streamSummaryOf,
  type ParticipantHistory,
} from './call-mappers';
import type { ManifestStream } from './manifest';

const alice: ParticipantHistory = {
  participantId: 'p-alice',
  identityKind: 'user',
  identityId: 'oid-alice',
  displayName: 'Alice',
  joinedAt: '2030-01-01T00:00:01.000Z',
  msis: ['11', '12'],
  wasInLobby: true,
  hasShared: false,
};

describe('interactionParticipantOf', () => {
  it('keeps the participant and the lobby, and gives no role to someone who never shared', () => {
    expect(interactionParticipantOf('i-1', alice)).toEqual({
      interactionId: 'i-1',
      participantId: 'p-alice',
      identityKind: 'user',
      identityId: 'oid-alice',
      displayName: 'Alice',
      joinedAt: '2030-01-01T00:00:01.000Z',
      leftAt: undefined,
      msis: ['11', '12'],
      isInLobby: true,
      role: undefined,
    });
  });

  it('makes someone who shared their screen a presenter', () => {
    expect(interactionParticipantOf('i-1', { ...alice, hasShared: true }).role).toBe('presenter');
  });
});

const stream: ManifestStream = {
  streamId: 'audio-11',
  kind: 'audio',
  msi: '11',
  participantId: 'p-alice',
  blobName: 't/i/audio-11.ogg',
  contentType: 'audio/ogg',
  firstTimestamp100ns: '0',
  lastTimestamp100ns: '10000000',
  startedAt: '2030-01-01T00:00:01.000Z',
  endedAt: '2030-01-01T00:00:02.000Z',
  durationInMs: 1_000,
  frameCount: 50,
  plaintextBytes: 4_000,
  storedBytes: 4_096,
  blocks: [
    {
      index: 0,
      blockId: 'AAAAAA==',
      offset: 0,
      length: 4_000,
      sha256: 'aa',
      storedOffset: 0,
      storedLength: 4_096,
      storedSha256: 'cc',
      chainSha256: 'bb',
    },
  ],
  chainHeadSha256: 'bb',
};

describe('streamSummaryOf', () => {
  it('reports the stored bytes and the block count of a manifest stream', () => {
    expect(streamSummaryOf(stream)).toEqual({
      streamId: 'audio-11',
      kind: 'audio',
      msi: '11',
      participantId: 'p-alice',
      blobName: 't/i/audio-11.ogg',
      contentType: 'audio/ogg',
      bytes: 4_096,
      durationInMs: 1_000,
      blockCount: 1,
      chainHeadSha256: 'bb',
    });
  });

  it('leaves participantId out for a stream nobody was mapped to', () => {
    expect('participantId' in streamSummaryOf({ ...stream, participantId: undefined })).toBe(false);
  });
});

describe('interactionStreamOf', () => {
  it('keeps what the listings need of the summary', () => {
    expect(interactionStreamOf('i-1', streamSummaryOf(stream))).toEqual({
      interactionId: 'i-1',
      streamId: 'audio-11',
      kind: 'audio',
      msi: '11',
      participantId: 'p-alice',
      blobName: 't/i/audio-11.ogg',
      bytes: 4_096,
      durationInMs: 1_000,
    });
  });
});

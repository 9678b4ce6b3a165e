import { generateKeyPairSync } from 'node:crypto';
import { sha256Hex } from '../crypto/hash';
import { createLocalSigner } from '../crypto/signing';
import {
  blockIdFor,
  chainGenesis,
  chainNext,
  merkleRoot,
  serializeManifest,
  signManifest,
  signManifestWith,
  signingKeyId,
  streamsMerkleRoot,
  verifyManifest,
  type ManifestBlock,
  type ManifestStream,
  type RecordingManifest,
} from './manifest';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const interactionId = 'call-0001';

function blockBytes(streamNo: number, index: number): Buffer {
  return Buffer.alloc(100 + index, (streamNo * 16 + index) & 0xff);
}

function buildStream(
  streamId: string,
  streamNo: number,
  count: number,
): { stream: ManifestStream; blob: Buffer } {
  let chain = chainGenesis(interactionId, streamId);
  let offset = 0;
  const blocks: ManifestBlock[] = [];
  const parts: Buffer[] = [];
  for (let index = 0; index < count; index += 1) {
    const bytes = blockBytes(streamNo, index);
    const sha = sha256Hex(bytes);
    chain = chainNext(chain, sha, sha);
    blocks.push({
      index,
      blockId: blockIdFor(index),
      offset,
      length: bytes.length,
      sha256: sha,
      storedOffset: offset,
      storedLength: bytes.length,
      storedSha256: sha,
      chainSha256: chain,
    });
    offset += bytes.length;
    parts.push(bytes);
  }
  const stream: ManifestStream = {
    streamId,
    kind: 'audio',
    msi: String(10 + streamNo),
    blobName: `t/${interactionId}/streams/${streamId}.wav`,
    contentType: 'audio/wav',
    firstTimestamp100ns: '0',
    lastTimestamp100ns: '10000000',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:01.000Z',
    durationInMs: 1000,
    frameCount: 50,
    plaintextBytes: offset,
    storedBytes: offset,
    blocks,
    chainHeadSha256: chain,
  };
  return { stream, blob: Buffer.concat(parts) };
}

function buildManifest(): { manifest: RecordingManifest; blobs: Map<string, Buffer> } {
  const a = buildStream('audio-11', 1, 4);
  const b = buildStream('audio-12', 2, 3);
  const streams = [a.stream, b.stream];
  const manifest: RecordingManifest = {
    formatVersion: 1,
    tenantId: 't',
    interactionId,
    callId: 'call-0001',
    sessionId: '0f8fad5b-d9cb-469f-a165-70867728950e',
    mediaHostId: 'host-1',
    softwareVersion: '0.1.0',
    signingKeyId: signingKeyId(publicKey),
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:01.000Z',
    sealedAt: '2026-01-01T00:00:02.000Z',
    participants: [{ participantId: 'p1', identityKind: 'user', msis: ['11'] }],
    streams,
    gaps: [],
    merkleRootSha256: streamsMerkleRoot(streams),
  };
  return {
    manifest,
    blobs: new Map([
      [a.stream.blobName, a.blob],
      [b.stream.blobName, b.blob],
    ]),
  };
}

function reader(blobs: Map<string, Buffer>) {
  return (stream: ManifestStream, block: ManifestBlock): Promise<Buffer | undefined> => {
    const blob = blobs.get(stream.blobName);
    if (blob === undefined || block.storedOffset + block.storedLength > blob.length)
      return Promise.resolve(undefined);
    return Promise.resolve(
      blob.subarray(block.storedOffset, block.storedOffset + block.storedLength),
    );
  };
}

describe('recording manifest', () => {
  it('verifies a signed manifest and every stored block', async () => {
    const { manifest, blobs } = buildManifest();
    const bytes = serializeManifest(manifest);
    const result = await verifyManifest(bytes, signManifest(bytes, privateKey, 'k'), publicKey, {
      readStoredBlock: reader(blobs),
    });
    expect(result).toMatchObject({ isValid: true, blocksChecked: 7 });
  });

  it('fails when one byte of the manifest is flipped', async () => {
    const { manifest } = buildManifest();
    const bytes = serializeManifest(manifest);
    const sig = signManifest(bytes, privateKey, 'k');
    const flipped = Buffer.from(bytes);
    const at = flipped.indexOf('"msi"') + 8;
    flipped[at] = (flipped[at] ?? 0) ^ 0x01;
    const result = await verifyManifest(flipped, sig, publicKey);
    expect(result.isValid).toBe(false);
  });

  it('fails when a stored byte is flipped', async () => {
    const { manifest, blobs } = buildManifest();
    const bytes = serializeManifest(manifest);
    const blob = blobs.get(manifest.streams[0]!.blobName)!;
    blob[150] = (blob[150] ?? 0) ^ 0xff;
    const result = await verifyManifest(bytes, signManifest(bytes, privateKey, 'k'), publicKey, {
      readStoredBlock: reader(blobs),
    });
    expect(result.isValid).toBe(false);
    if (!result.isValid)
      expect(result.problems).toContain(
        'stream audio-11 block 1: stored bytes do not match their hash',
      );
  });

  it('fails when a block is removed from storage', async () => {
    const { manifest, blobs } = buildManifest();
    const bytes = serializeManifest(manifest);
    const stream = manifest.streams[0]!;
    const blob = blobs.get(stream.blobName)!;
    const second = stream.blocks[1]!;
    blobs.set(
      stream.blobName,
      Buffer.concat([
        blob.subarray(0, second.storedOffset),
        blob.subarray(second.storedOffset + second.storedLength),
      ]),
    );
    const result = await verifyManifest(bytes, signManifest(bytes, privateKey, 'k'), publicKey, {
      readStoredBlock: reader(blobs),
    });
    expect(result.isValid).toBe(false);
  });

  it('fails when blocks are reordered in storage', async () => {
    const { manifest, blobs } = buildManifest();
    const bytes = serializeManifest(manifest);
    const stream = manifest.streams[1]!;
    const parts = stream.blocks.map((_, i) => blockBytes(2, i));
    blobs.set(stream.blobName, Buffer.concat([parts[1]!, parts[0]!, parts[2]!]));
    const result = await verifyManifest(bytes, signManifest(bytes, privateKey, 'k'), publicKey, {
      readStoredBlock: reader(blobs),
    });
    expect(result.isValid).toBe(false);
  });

  it('fails when a block entry is removed from a manifest re-signed with the right key', async () => {
    const { manifest } = buildManifest();
    const stream = manifest.streams[0]!;
    const tampered: RecordingManifest = {
      ...manifest,
      streams: [
        { ...stream, blocks: [stream.blocks[0]!, ...stream.blocks.slice(2)] },
        manifest.streams[1]!,
      ],
    };
    const bytes = serializeManifest(tampered);
    const result = await verifyManifest(bytes, signManifest(bytes, privateKey, 'k'), publicKey);
    expect(result.isValid).toBe(false);
    if (!result.isValid)
      expect(result.problems.some((p) => p.includes('hash chain broken'))).toBe(true);
  });

  it('fails when block entries are swapped in a manifest re-signed with the right key', async () => {
    const { manifest } = buildManifest();
    const stream = manifest.streams[0]!;
    const swapped = [stream.blocks[1]!, stream.blocks[0]!, ...stream.blocks.slice(2)];
    const tampered: RecordingManifest = {
      ...manifest,
      streams: [{ ...stream, blocks: swapped }, manifest.streams[1]!],
    };
    const bytes = serializeManifest(tampered);
    const result = await verifyManifest(bytes, signManifest(bytes, privateKey, 'k'), publicKey);
    expect(result.isValid).toBe(false);
  });

  it('fails with another key and with an unreadable signature', async () => {
    const { manifest } = buildManifest();
    const bytes = serializeManifest(manifest);
    expect(
      (await verifyManifest(bytes, signManifest(bytes, other.privateKey, 'k'), publicKey)).isValid,
    ).toBe(false);
    expect((await verifyManifest(bytes, 'not json', publicKey)).isValid).toBe(false);
    expect(
      (
        await verifyManifest(
          Buffer.from('{'),
          signManifest(Buffer.from('{'), privateKey, 'k'),
          publicKey,
        )
      ).isValid,
    ).toBe(false);
  });

  it('computes a Merkle root that depends on every leaf and their order', () => {
    const leaves = ['a', 'b', 'c'].map((x) => sha256Hex(x));
    const root = merkleRoot(leaves);
    expect(merkleRoot([leaves[1]!, leaves[0]!, leaves[2]!])).not.toBe(root);
    expect(merkleRoot(leaves.slice(0, 2))).not.toBe(root);
    expect(merkleRoot([])).toBe(sha256Hex(''));
  });

  it('makes block ids of equal length', () => {
    expect(Buffer.from(blockIdFor(0), 'base64').length).toBe(
      Buffer.from(blockIdFor(49_999), 'base64').length,
    );
  });
});

describe('ES256 manifest signatures', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('verifies a manifest signed through an ES256 signer, recording alg and key id', async () => {
    const bytes = serializeManifest(buildManifest().manifest);
    const signature = await signManifestWith(
      bytes,
      createLocalSigner(ec.privateKey, ec.publicKey, signingKeyId(ec.publicKey)),
    );
    expect(signature).toMatchObject({
      v: 1,
      alg: 'ES256',
      keyId: expect.stringMatching(/^es256:[0-9a-f]{16}$/) as unknown,
    });
    expect((await verifyManifest(bytes, signature, ec.publicKey)).isValid).toBe(true);
  });

  it('fails an ES256 signature with one flipped byte', async () => {
    const bytes = serializeManifest(buildManifest().manifest);
    const signature = await signManifestWith(
      bytes,
      createLocalSigner(ec.privateKey, ec.publicKey, 'k'),
    );
    const raw = Buffer.from(signature.signature, 'base64');
    raw[10] = (raw[10] ?? 0) ^ 1;
    const result = await verifyManifest(
      bytes,
      { ...signature, signature: raw.toString('base64') },
      ec.publicKey,
    );
    expect(result.isValid ? [] : result.problems).toEqual([
      'signature: ES256 signature does not match the manifest bytes and key',
    ]);
  });

  it('reports an unknown algorithm as a problem instead of throwing', async () => {
    const bytes = serializeManifest(buildManifest().manifest);
    const signature = JSON.stringify({ ...signManifest(bytes, privateKey, 'k'), alg: 'RS256' });
    const result = await verifyManifest(bytes, signature, publicKey);
    expect(result.isValid ? [] : result.problems).toEqual(['signature: unknown algorithm "RS256"']);
  });
});

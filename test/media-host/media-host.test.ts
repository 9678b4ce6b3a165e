import { createPublicKey, createPrivateKey } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  blockAad,
  decryptBlock,
  PayloadFormat,
  unwrapDataKey,
  verifyManifest,
  wrappedKeyBlobName,
  type CreateMediaSessionResponse,
  type MediaSessionStatus,
  type ProblemBody,
  type RecordingManifest,
  type SealSummary,
  type WrappedKeyRecord,
} from '@attest/core';
import { startMediaHost, type MediaHost } from '../../media-host/src';
import {
  control,
  hostFiles,
  MediaTestClient,
  pcmFrame,
  type HostFiles,
  TS0,
  STEP,
  TEST_CONNECTION,
  downloadBlob,
} from './media-host-fixtures';

const connection = TEST_CONNECTION;

const download = downloadBlob;

async function createSession(host: MediaHost, callId: string): Promise<CreateMediaSessionResponse> {
  const created = await control<CreateMediaSessionResponse>(
    host.controlUrl,
    'POST',
    '/v1/sessions',
    {
      callId,
      tenantId: 'tenant-a',
      interactionId: `int-${callId}`,
      recordedUserIds: ['user-1'],
    },
  );
  expect(created.status).toBe(201);
  return created.body;
}

/** Decrypts a stored stream blob block by block using the manifest. */
function plaintextOf(
  manifest: RecordingManifest,
  streamId: string,
  blob: Buffer,
  dataKey: Buffer,
): Buffer {
  const stream = manifest.streams.find((s) => s.streamId === streamId)!;
  return Buffer.concat(
    stream.blocks.map((b) =>
      decryptBlock(
        dataKey,
        blockAad(manifest.interactionId, streamId, b.index),
        blob.subarray(b.storedOffset, b.storedOffset + b.storedLength),
      ),
    ),
  );
}

describe('media host', () => {
  let files: HostFiles;
  let host: MediaHost;

  beforeAll(async () => {
    files = hostFiles(connection);
    host = await startMediaHost(files.config);
  });

  afterAll(async () => {
    await host.close();
    rmSync(files.dir, { recursive: true, force: true });
  });

  describe('control API', () => {
    it('is served over HTTPS with the media certificate, and not over plain HTTP', async () => {
      expect(host.controlUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const plain = host.controlUrl.replace(/^https:/, 'http:');
      await expect(fetch(`${plain}/health`)).rejects.toThrow();
    });

    it('answers health without a key', async () => {
      const res = await control<{ hostId: string; isDraining: boolean }>(
        host.controlUrl,
        'GET',
        '/health',
        undefined,
        null,
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ hostId: 'media-test', isDraining: false });
    });

    it('refuses a request without a key with 401 and a problem body', async () => {
      const res = await control<ProblemBody>(host.controlUrl, 'POST', '/v1/sessions', {}, null);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'ATT_UNAUTHORIZED', status: 401 });
    });

    it('refuses a wrong key with 401', async () => {
      const res = await control<ProblemBody>(
        host.controlUrl,
        'GET',
        '/v1/sessions/x',
        undefined,
        'wrong-key-wrong-key-wrong',
      );
      expect(res.status).toBe(401);
    });

    it('refuses a body that is not JSON with 400', async () => {
      const res = await control<ProblemBody>(host.controlUrl, 'POST', '/v1/sessions', '{not json');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('ATT_INVALID_REQUEST');
    });

    it('refuses a create without callId and a tenant id with a slash with 400', async () => {
      expect(
        (
          await control(host.controlUrl, 'POST', '/v1/sessions', {
            tenantId: 't',
            interactionId: 'i',
            recordedUserIds: [],
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await control(host.controlUrl, 'POST', '/v1/sessions', {
            callId: 'c',
            tenantId: 't/x',
            interactionId: 'i',
            recordedUserIds: [],
          })
        ).status,
      ).toBe(400);
    });

    it('answers 404 for an unknown session and 400 for a bad pause body', async () => {
      expect(
        (await control(host.controlUrl, 'GET', '/v1/sessions/00000000-0000-0000-0000-000000000000'))
          .status,
      ).toBe(404);
      const { sessionId } = await createSession(host, 'call-badpause');
      expect(
        (
          await control(host.controlUrl, 'POST', `/v1/sessions/${sessionId}/pause`, {
            reason: 'pci',
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await control(host.controlUrl, 'PUT', `/v1/sessions/${sessionId}/participants`, {
            participants: [{ msi: 'abc' }],
          })
        ).status,
      ).toBe(400);
    });

    it('returns the same session for a repeated create of the same call', async () => {
      const a = await createSession(host, 'call-twice');
      const b = await createSession(host, 'call-twice');
      // The repeat says it found the call's live session (a duplicate invite must not abort it).
      expect(b).toEqual({ ...a, isExisting: true });
      expect(a.isExisting).toBeUndefined();
      expect(JSON.parse(a.mediaConfigBlob)).toMatchObject({
        v: 1,
        sessionId: a.sessionId,
        endpoint: expect.stringMatching(/^tls:\/\/127\.0\.0\.1:\d+$/),
      });
    });

    it('refuses new sessions while draining and takes them again after', async () => {
      expect(
        (await control(host.controlUrl, 'POST', '/v1/drain', { isDraining: true })).status,
      ).toBe(200);
      const refused = await control<ProblemBody>(host.controlUrl, 'POST', '/v1/sessions', {
        callId: 'call-drain',
        tenantId: 't',
        interactionId: 'i-drain',
        recordedUserIds: [],
      });
      expect(refused.status).toBe(503);
      expect(
        (await control(host.controlUrl, 'POST', '/v1/drain', { isDraining: false })).status,
      ).toBe(200);
    });
  });

  describe('a recorded call', () => {
    it('stores exactly the persisted frames per speaker, encrypted, with a verifiable manifest, nothing before persist or while paused', async () => {
      const created = await createSession(host, 'call-full');
      const { sessionId } = created;
      await control(host.controlUrl, 'PUT', `/v1/sessions/${sessionId}/participants`, {
        participants: [
          {
            msi: '11',
            participantId: 'p-11',
            kind: 'audio',
            identityKind: 'user',
            identityId: 'u-11',
            pii: { displayName: 'Test Person' },
          },
          { msi: '12', participantId: 'p-12', kind: 'audio', identityKind: 'guest' },
        ],
      });
      const client = await MediaTestClient.connect(created.mediaConfigBlob);
      await client.until(() => client.acks.length > 0);
      expect(client.lastAck).toEqual({ ackedSequence: 0, nextSequence: 1 });

      const expected = new Map<number, Buffer[]>([
        [11, []],
        [12, []],
        [13, []],
      ]);
      let seq = 0;
      let frameNo = 0;
      const sendAudio = (count: number, isStored: boolean): void => {
        for (let i = 0; i < count; i += 1) {
          seq += 1;
          frameNo += 1;
          // Speaker 13 only talks on every third frame: silence is not a gap.
          const speakers = [11, 12, 13]
            .filter((msi) => msi !== 13 || frameNo % 3 === 0)
            .map((msi) => ({ msi, payload: pcmFrame(msi, frameNo) }));
          client.unmixed(seq, TS0 + BigInt(frameNo) * STEP, speakers);
          if (isStored) for (const s of speakers) expected.get(s.msi)!.push(s.payload);
        }
      };
      const acked = (): Promise<void> =>
        client.until(() => (client.lastAck?.ackedSequence ?? 0) >= seq);

      sendAudio(25, false); // before persistence: dropped and counted
      await acked();
      await control(host.controlUrl, 'POST', `/v1/sessions/${sessionId}/persist`, {
        recordingConfirmedAt: new Date().toISOString(),
      });
      sendAudio(60, true);
      seq += 1;
      client.send({
        type: 'video',
        sessionId,
        sequence: seq,
        timestamp100ns: TS0,
        msi: 21,
        format: PayloadFormat.h264,
        isKeyFrame: true,
        width: 640,
        height: 360,
        payload: Buffer.from('00000001674d', 'hex'),
      });
      await acked();
      await control(host.controlUrl, 'POST', `/v1/sessions/${sessionId}/pause`, {
        reason: 'pci',
        actor: 'user-1',
      });
      sendAudio(30, false); // card details: never stored
      await acked();
      await control(host.controlUrl, 'POST', `/v1/sessions/${sessionId}/resume`, {
        actor: 'user-1',
      });
      sendAudio(40, true);
      await acked();

      const sealed = await control<SealSummary>(
        host.controlUrl,
        'POST',
        `/v1/sessions/${sessionId}/seal`,
      );
      expect(sealed.status).toBe(200);
      const summary = sealed.body;
      expect(summary.gaps).toEqual([expect.objectContaining({ reason: 'pci', actor: 'user-1' })]);
      expect(summary.streams.map((s) => s.streamId).sort()).toEqual([
        'audio-11',
        'audio-12',
        'audio-13',
        'video-21',
      ]);

      const status = await control<MediaSessionStatus>(
        host.controlUrl,
        'GET',
        `/v1/sessions/${sessionId}`,
      );
      expect(status.body).toMatchObject({ state: 'sealed', framesDroppedBeforePersist: 55 });

      const container = files.config.recordingsContainer;
      const manifestBytes = await download(container, summary.manifestBlobName);
      const signature = await download(
        container,
        summary.manifestBlobName.replace('manifest.json', 'manifest.sig'),
      );
      const manifest = JSON.parse(manifestBytes.toString()) as RecordingManifest;
      const keyRecord = JSON.parse(
        (
          await download('recordingkeys', wrappedKeyBlobName('tenant-a', 'int-call-full'))
        ).toString(),
      ) as WrappedKeyRecord;
      const dataKey = unwrapDataKey(createPrivateKey(files.kekPrivateKeyPem), keyRecord);
      expect(manifest.participants).toEqual(
        expect.arrayContaining([
          { participantId: 'p-11', identityKind: 'user', identityId: 'u-11', msis: ['11'] },
        ]),
      );
      expect(manifestBytes.toString()).not.toContain('Test Person');

      for (const msi of [11, 12, 13]) {
        const stream = summary.streams.find((s) => s.streamId === `audio-${msi}`)!;
        const blob = await download(container, stream.blobName);
        expect(
          plaintextOf(manifest, `audio-${msi}`, blob, dataKey).equals(
            Buffer.concat(expected.get(msi)!),
          ),
        ).toBe(true);
        // Stored bytes are not the plaintext.
        expect(blob.includes(expected.get(msi)![0]!)).toBe(false);
      }

      const publicKey = createPublicKey(
        await import('node:fs').then((fs) => fs.readFileSync(`${files.config.signingKeyFile}.pub`)),
      );
      const blobs = new Map<string, Buffer>();
      for (const s of manifest.streams)
        blobs.set(s.blobName, await download(container, s.blobName));
      const verification = await verifyManifest(manifestBytes, signature, publicKey, {
        readStoredBlock: (s, b) =>
          Promise.resolve(
            blobs.get(s.blobName)?.subarray(b.storedOffset, b.storedOffset + b.storedLength),
          ),
        toPlaintext: (s, b, stored) =>
          decryptBlock(dataKey, blockAad(manifest.interactionId, s.streamId, b.index), stored),
      });
      expect(verification.isValid).toBe(true);

      // Seal is idempotent.
      const again = await control<SealSummary>(
        host.controlUrl,
        'POST',
        `/v1/sessions/${sessionId}/seal`,
      );
      expect(again.body.manifestSha256).toBe(summary.manifestSha256);
      await client.close();
    });

    it('ends only the offending connection on a malformed frame', async () => {
      const a = await createSession(host, 'call-bad');
      const b = await createSession(host, 'call-good');
      const bad = await MediaTestClient.connect(a.mediaConfigBlob);
      const good = await MediaTestClient.connect(b.mediaConfigBlob);
      await control(host.controlUrl, 'POST', `/v1/sessions/${b.sessionId}/persist`, {
        recordingConfirmedAt: new Date().toISOString(),
      });
      await bad.until(() => bad.acks.length > 0);
      bad.sendRaw(Buffer.alloc(100, 0x42));
      await bad.waitClosed();
      expect(bad.errors[0]?.message).toMatch(/badMagic/);
      good.unmixed(1, TS0, [{ msi: 5, payload: pcmFrame(5, 1) }]);
      await good.until(() => (good.lastAck?.ackedSequence ?? 0) >= 1);
      expect(good.isClosed).toBe(false);
      await good.close();
    });

    it('ends a connection whose sequence skips, and resumes on reconnect where the host says', async () => {
      const created = await createSession(host, 'call-resume');
      await control(host.controlUrl, 'POST', `/v1/sessions/${created.sessionId}/persist`, {
        recordingConfirmedAt: new Date().toISOString(),
      });
      const first = await MediaTestClient.connect(created.mediaConfigBlob);
      for (let i = 1; i <= 10; i += 1)
        first.unmixed(i, TS0 + BigInt(i) * STEP, [{ msi: 7, payload: pcmFrame(7, i) }]);
      await first.until(() => (first.lastAck?.ackedSequence ?? 0) >= 10);
      first.unmixed(12, TS0 + 12n * STEP, [{ msi: 7, payload: pcmFrame(7, 12) }]);
      await first.waitClosed();
      expect(first.errors[0]?.message).toMatch(/outOfOrder/);

      const second = await MediaTestClient.connect(created.mediaConfigBlob);
      await second.until(() => second.acks.length > 0);
      expect(second.lastAck).toEqual({ ackedSequence: 10, nextSequence: 11 });
      for (let i = 11; i <= 20; i += 1)
        second.unmixed(i, TS0 + BigInt(i) * STEP, [{ msi: 7, payload: pcmFrame(7, i) }]);
      await second.until(() => (second.lastAck?.ackedSequence ?? 0) >= 20);
      const summary = (
        await control<SealSummary>(
          host.controlUrl,
          'POST',
          `/v1/sessions/${created.sessionId}/seal`,
        )
      ).body;
      const [stream] = summary.streams;
      // 20 frames of 640 bytes; each stored block adds a 12-byte nonce and a 16-byte tag.
      expect(stream).toMatchObject({
        streamId: 'audio-7',
        durationInMs: 400,
        bytes: 20 * 640 + 28 * stream!.blockCount,
      });
      expect(summary.streams).toHaveLength(1);
      await second.close();
    });

    it('refuses a hello with the wrong token', async () => {
      const created = await createSession(host, 'call-token');
      const client = await MediaTestClient.connect(created.mediaConfigBlob, 'not-the-token');
      await client.waitClosed();
      expect(client.errors[0]?.errorCode).toBe(2);
    });
  });
});

/**
 * A session's commits write only what they add (the checkpoint log), streams are cut into
 * bounded segments, and a restart restores from the log, from a record of the first format, and
 * fails only the session whose log is corrupt.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blockAad,
  decryptBlock,
  unwrapDataKey,
  verifyManifest,
  wrappedKeyBlobName,
  type MediaSessionStatus,
  type RecordingManifest,
  type SealSummary,
  type WrappedKeyRecord,
} from '@attest/core';
import { startMediaHost, type MediaHost, type MediaHostDependencies } from '../../media-host/src';
import {
  createStreamFormatterFactory,
  decodeOggOpusToPcm,
  OpusEncoderPool,
} from '../../media-host/src/pipeline/formats';
import { bestAlignment, pcmToSamples, sineFrames } from '../../media-host/testing/test-signals';
import {
  checkpointLogPath,
  readCheckpointLogSync,
} from '../../media-host/src/session/checkpoint-log';
import {
  readSessionCheckpoint,
  type SessionRecord,
} from '../../media-host/src/session/session-record';
import { getFreePort } from '../../local/src/azurite/azurite-process';
import {
  control,
  downloadBlob,
  hostFiles,
  MediaTestClient,
  pcmFrame,
  recordingEventsFetch,
  STEP,
  TEST_CONNECTION,
  TS0,
  type HostFiles,
  persistedSession,
} from './media-host-fixtures';

const noEvents: typeof fetch = () => Promise.resolve(new Response(null, { status: 204 }));

/** Sends frames `from..to` of speaker `msi` and waits until the host acknowledged them. */
async function sendFrames(
  client: MediaTestClient,
  msi: number,
  from: number,
  to: number,
): Promise<Buffer[]> {
  const sent: Buffer[] = [];
  for (let i = from; i <= to; i += 1) {
    const payload = pcmFrame(msi, i);
    client.unmixed(i, TS0 + BigInt(i) * STEP, [{ msi, payload }]);
    sent.push(payload);
  }
  await client.until(() => (client.lastAck?.ackedSequence ?? 0) >= to);
  return sent;
}

/** Waits (polling the files, at most 15 s) until the session's checkpoint covers `sequence`. */
async function checkpointThrough(
  files: HostFiles,
  sessionId: string,
  sequence: number,
): ReturnType<typeof readSessionCheckpoint> {
  const sessionsDir = join(files.config.spoolDir, 'sessions');
  for (let i = 0; i < 300; i += 1) {
    const checkpoint = await readSessionCheckpoint(sessionsDir, sessionId);
    if (checkpoint.streams.some((s) => s.committedThroughSequence >= sequence)) return checkpoint;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no checkpoint through ${sequence}`);
}

/** Every audio segment of `msi` in the manifest, in order, decrypted and joined; and the manifest verified. */
async function storedAudio(
  files: HostFiles,
  summary: SealSummary,
  msi: number,
): Promise<{
  plaintext: Buffer;
  segmentPlaintexts: Buffer[];
  segments: string[];
  isValid: boolean;
}> {
  const container = files.config.recordingsContainer;
  const manifestBytes = await downloadBlob(container, summary.manifestBlobName);
  const signature = await downloadBlob(
    container,
    summary.manifestBlobName.replace('manifest.json', 'manifest.sig'),
  );
  const manifest = JSON.parse(manifestBytes.toString()) as RecordingManifest;
  const keyRecord = JSON.parse(
    (
      await downloadBlob(
        'recordingkeys',
        wrappedKeyBlobName(manifest.tenantId, manifest.interactionId),
      )
    ).toString(),
  ) as WrappedKeyRecord;
  const dataKey = unwrapDataKey(createPrivateKey(files.kekPrivateKeyPem), keyRecord);
  const blobs = new Map<string, Buffer>();
  for (const s of manifest.streams)
    blobs.set(s.blobName, await downloadBlob(container, s.blobName));
  const segments = manifest.streams
    .filter((s) => s.kind === 'audio' && s.msi === String(msi))
    .sort((a, b) => (BigInt(a.firstTimestamp100ns) < BigInt(b.firstTimestamp100ns) ? -1 : 1));
  const segmentPlaintexts = segments.map((s) =>
    Buffer.concat(
      s.blocks.map((b) =>
        decryptBlock(
          dataKey,
          blockAad(manifest.interactionId, s.streamId, b.index),
          blobs.get(s.blobName)!.subarray(b.storedOffset, b.storedOffset + b.storedLength),
        ),
      ),
    ),
  );
  const plaintext = Buffer.concat(segmentPlaintexts);
  const publicKey = createPublicKey(readFileSync(`${files.config.signingKeyFile}.pub`));
  const verification = await verifyManifest(manifestBytes, signature, publicKey, {
    readStoredBlock: (s, b) =>
      Promise.resolve(
        blobs.get(s.blobName)?.subarray(b.storedOffset, b.storedOffset + b.storedLength),
      ),
    toPlaintext: (s, b, stored) =>
      decryptBlock(dataKey, blockAad(manifest.interactionId, s.streamId, b.index), stored),
  });
  return {
    plaintext,
    segmentPlaintexts,
    segments: segments.map((s) => s.streamId),
    isValid: verification.isValid,
  };
}

/** Seals a session through the control API and returns its summary. */
async function seal(host: MediaHost, sessionId: string): Promise<SealSummary> {
  return (await control<SealSummary>(host.controlUrl, 'POST', `/v1/sessions/${sessionId}/seal`))
    .body;
}

/** Runs `test` against a fresh host (files of its own), then closes the host and removes its files. */
async function withHost(
  overrides: Partial<HostFiles['config']>,
  deps: MediaHostDependencies,
  test: (host: MediaHost, files: HostFiles) => Promise<void>,
): Promise<void> {
  const files = hostFiles(TEST_CONNECTION, overrides);
  const host = await startMediaHost(files.config, { fetch: noEvents, ...deps });
  try {
    await test(host, files);
  } finally {
    await host.close();
    rmSync(files.dir, { recursive: true, force: true });
  }
}

describe('media host checkpoints and segments', () => {
  it('cuts a stream into segments of the maximum media that together hold exactly the frames sent', async () => {
    await withHost({ segmentMaxDurationInMs: 1000 }, {}, async (host, files) => {
      const session = await persistedSession(host.controlUrl, { callId: 'call-segments' });
      const client = await MediaTestClient.connect(session.mediaConfigBlob);
      // 3.2 s of one speaker: segments of 1 s (50 frames) and the rest.
      const sent = await sendFrames(client, 11, 1, 160);
      const summary = await seal(host, session.sessionId);
      await client.close();
      const stored = await storedAudio(files, summary, 11);
      expect(stored.segments).toEqual(['audio-11', 'audio-11.1', 'audio-11.2', 'audio-11.3']);
      expect(summary.streams.filter((s) => s.msi === '11').map((s) => s.durationInMs)).toEqual([
        1000, 1000, 1000, 200,
      ]);
      expect(stored.plaintext.equals(Buffer.concat(sent))).toBe(true);
      expect(stored.isValid).toBe(true);
    });
  });

  it('cuts Opus audio into segments that each play exactly their share of the frames', async () => {
    const pool = new OpusEncoderPool({ workerCount: 1 });
    try {
      await withHost(
        { segmentMaxDurationInMs: 1000, isAudioLossless: false },
        { formatterFactory: createStreamFormatterFactory({ opusPool: pool }) },
        async (host, files) => {
          const session = await persistedSession(host.controlUrl, { callId: 'call-opus-segments' });
          const client = await MediaTestClient.connect(session.mediaConfigBlob);
          const frames = sineFrames(440, 130);
          frames.forEach((payload, i) =>
            client.unmixed(i + 1, TS0 + BigInt(i + 1) * STEP, [{ msi: 11, payload }]),
          );
          await client.until(() => (client.lastAck?.ackedSequence ?? 0) >= 130);
          const summary = await seal(host, session.sessionId);
          await client.close();
          const stored = await storedAudio(files, summary, 11);
          expect(stored.segments).toEqual(['audio-11', 'audio-11.1', 'audio-11.2']);
          expect(stored.isValid).toBe(true);
          // Each segment is an Ogg Opus stream of its own: decoded, 50, 50 and 30 frames of 20 ms.
          const decoded = stored.segmentPlaintexts.map((bytes) => decodeOggOpusToPcm(bytes));
          expect(decoded.map((pcm) => pcm.length / 640)).toEqual([50, 50, 30]);
          const { correlation } = bestAlignment(
            pcmToSamples(Buffer.concat(frames.slice(50, 100))).subarray(1600),
            pcmToSamples(decoded[1]!).subarray(1600),
            2,
          );
          expect(correlation).toBeGreaterThan(0.98);
        },
      );
    } finally {
      await pool.close();
    }
  });

  it('writes each commit as one checkpoint line of new blocks, and never rewrites the record for it', async () => {
    await withHost({}, {}, async (host, files) => {
      const session = await persistedSession(host.controlUrl, { callId: 'call-log' });
      const recordPath = join(files.config.spoolDir, 'sessions', `${session.sessionId}.json`);
      const recordAfterPersist = readFileSync(recordPath);
      const client = await MediaTestClient.connect(session.mediaConfigBlob);
      for (let round = 0; round < 3; round += 1) {
        await sendFrames(client, 7, round * 25 + 1, round * 25 + 25);
        await checkpointThrough(files, session.sessionId, round * 25 + 25);
      }
      // Commits went to the log; the record is the one written when persistence started.
      expect(readFileSync(recordPath).equals(recordAfterPersist)).toBe(true);
      const lines = readCheckpointLogSync(
        checkpointLogPath(join(files.config.spoolDir, 'sessions'), session.sessionId),
      );
      expect(lines.length).toBeGreaterThanOrEqual(3);
      // Every block is in exactly one line, in order.
      const indices = lines.flatMap((l) => l.streams.flatMap((s) => s.blocks.map((b) => b.index)));
      expect(indices).toEqual([...indices.keys()]);
      await client.close();
    });
  });

  it('lists every block in the manifest when a seal is tried again after its checkpoint could not be written', async () => {
    await withHost({}, {}, async (host, files) => {
      const sessionsDir = join(files.config.spoolDir, 'sessions');
      const session = await persistedSession(host.controlUrl, { callId: 'call-seal-again' });
      const client = await MediaTestClient.connect(session.mediaConfigBlob);
      const sent = await sendFrames(client, 7, 1, 60);
      await checkpointThrough(files, session.sessionId, 20);
      // The log cannot be appended to (a folder stands where it was) when the seal writes its last line.
      const logPath = checkpointLogPath(sessionsDir, session.sessionId);
      renameSync(logPath, `${logPath}.aside`);
      mkdirSync(logPath);
      expect(
        (await control(host.controlUrl, 'POST', `/v1/sessions/${session.sessionId}/seal`)).status,
      ).toBe(500);
      rmSync(logPath, { recursive: true });
      renameSync(`${logPath}.aside`, logPath);
      const sealed = await control<SealSummary>(
        host.controlUrl,
        'POST',
        `/v1/sessions/${session.sessionId}/seal`,
      );
      expect(sealed.status).toBe(200);
      await client.close();
      const stored = await storedAudio(files, sealed.body, 7);
      expect(stored.plaintext.equals(Buffer.concat(sent))).toBe(true);
      expect(stored.isValid).toBe(true);
    });
  });

  it('restores a session whose record carries its blocks in the first format, and seals with them', async () => {
    const files = hostFiles(TEST_CONNECTION, {
      controlPort: await getFreePort(),
      protocolPort: await getFreePort(),
    });
    const sessionsDir = join(files.config.spoolDir, 'sessions');
    const first = await startMediaHost(files.config, { fetch: noEvents });
    const session = await persistedSession(first.controlUrl, { callId: 'call-format-1' });
    const client = await MediaTestClient.connect(session.mediaConfigBlob);
    const before = await sendFrames(client, 7, 1, 40);
    const checkpoint = await checkpointThrough(files, session.sessionId, 40);
    await client.close();
    await first.close();
    // What a host of the first format left: the blocks in the record, no log.
    const legacy: SessionRecord = {
      ...checkpoint.record,
      v: 1,
      streams: checkpoint.streams,
      sequenceThrough: checkpoint.through,
    };
    writeFileSync(join(sessionsDir, `${session.sessionId}.json`), JSON.stringify(legacy));
    rmSync(checkpointLogPath(sessionsDir, session.sessionId));

    const second = await startMediaHost(files.config, { fetch: noEvents });
    try {
      // The first format's blocks are now the log's first line, and the record is of format 2.
      expect(
        readCheckpointLogSync(checkpointLogPath(sessionsDir, session.sessionId))[0]?.streams.map(
          (s) => s.streamId,
        ),
      ).toEqual(['audio-7']);
      expect(
        (
          JSON.parse(
            readFileSync(join(sessionsDir, `${session.sessionId}.json`), 'utf8'),
          ) as SessionRecord
        ).v,
      ).toBe(2);
      const resumed = await MediaTestClient.connect(session.mediaConfigBlob);
      await resumed.until(() => resumed.acks.length > 0);
      expect(resumed.lastAck).toEqual({ ackedSequence: 40, nextSequence: 41 });
      const after = await sendFrames(resumed, 7, 41, 60);
      const summary = await seal(second, session.sessionId);
      await resumed.close();
      const stored = await storedAudio(files, summary, 7);
      expect(stored.segments).toEqual(['audio-7', 'audio-7.1']);
      expect(stored.plaintext.equals(Buffer.concat([...before, ...after]))).toBe(true);
      expect(stored.isValid).toBe(true);
    } finally {
      await second.close();
      rmSync(files.dir, { recursive: true, force: true });
    }
  });

  it('fails the session whose checkpoint log is corrupt and restores the others', async () => {
    const files = hostFiles(TEST_CONNECTION, {
      controlPort: await getFreePort(),
      protocolPort: await getFreePort(),
    });
    const sessionsDir = join(files.config.spoolDir, 'sessions');
    const { fetch: fetchSpy, events } = recordingEventsFetch();
    const config = { ...files.config, functionsUrl: 'http://127.0.0.1:9' };
    const first = await startMediaHost(config, { fetch: fetchSpy });
    const sessions = [
      await persistedSession(first.controlUrl, { callId: 'call-corrupt' }),
      await persistedSession(first.controlUrl, { callId: 'call-sound' }),
    ];
    for (const session of sessions) {
      const client = await MediaTestClient.connect(session.mediaConfigBlob);
      await sendFrames(client, 7, 1, 20);
      await checkpointThrough(files, session.sessionId, 20);
      await client.close();
    }
    await first.close();
    // A bad first line with a good one after it: not a torn append.
    const corruptPath = checkpointLogPath(sessionsDir, sessions[0]!.sessionId);
    writeFileSync(corruptPath, `{"v":1,"through":"garbled"}\n${readFileSync(corruptPath, 'utf8')}`);
    const corruptBytes = statSync(corruptPath).size;

    const second = await startMediaHost(config, { fetch: fetchSpy });
    try {
      const status = async (sessionId: string): Promise<MediaSessionStatus> =>
        (await control<MediaSessionStatus>(second.controlUrl, 'GET', `/v1/sessions/${sessionId}`))
          .body;
      expect(await status(sessions[0]!.sessionId)).toMatchObject({ state: 'failed' });
      expect(events).toContainEqual(
        expect.objectContaining({
          kind: 'persistenceFailed',
          sessionId: sessions[0]!.sessionId,
          reason: 'checkpointLogCorrupt',
        }),
      );
      expect((await status(sessions[1]!.sessionId)).state).not.toBe('failed');
      // The corrupt log is kept as it was, for inspection.
      expect(statSync(corruptPath).size).toBe(corruptBytes);
    } finally {
      await second.close();
      rmSync(files.dir, { recursive: true, force: true });
    }
  });
});

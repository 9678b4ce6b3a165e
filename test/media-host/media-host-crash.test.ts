/**
 * Crash safety: the media host is killed with SIGKILL mid-call and started again on the same
 * spool. Every frame acknowledged before the kill must be in storage, nothing twice.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import {
  blockAad,
  decryptBlock,
  unwrapDataKey,
  verifyManifest,
  wrappedKeyBlobName,
  type MediaConfigBlob,
  type RecordingManifest,
  type SealSummary,
  type WrappedKeyRecord,
} from '@attest/core';
import { getFreePort } from '../../local/src/azurite/azurite-process';
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
  startMediaHostChild as startChild,
  type MediaHostChild as Child,
  persistedSession,
} from './media-host-fixtures';

const connection = TEST_CONNECTION;
const download = downloadBlob;

describe('media host crash safety', () => {
  let files: HostFiles;
  let child: Child | undefined;

  beforeAll(async () => {
    files = hostFiles(connection, {
      controlPort: await getFreePort(),
      protocolPort: await getFreePort(),
    });
  });

  afterAll(() => {
    child?.process.kill('SIGKILL');
    rmSync(files.dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged frame and duplicates none after kill -9 and restart', async () => {
    child = await startChild(files);
    const created = await persistedSession(child.controlUrl, {
      callId: 'call-crash',
      tenantId: 'tenant-c',
      interactionId: 'int-crash',
    });
    const blob = JSON.parse(created.mediaConfigBlob) as MediaConfigBlob;

    // The source keeps every frame until it is acknowledged, as the bridge does.
    const total = 600;
    const speakersOf = (n: number) => [11, 12].map((msi) => ({ msi, payload: pcmFrame(msi, n) }));
    const client = await MediaTestClient.connect(created.mediaConfigBlob);
    await client.until(() => client.acks.length > 0);
    for (let n = 1; n <= 200; n += 1) client.unmixed(n, TS0 + BigInt(n) * STEP, speakersOf(n));
    await client.until(() => (client.lastAck?.ackedSequence ?? 0) >= 200);
    // Let at least one commit land, then keep streaming and kill the host mid-stream.
    await new Promise((resolve) => setTimeout(resolve, 600));
    for (let n = 201; n <= 400; n += 1) client.unmixed(n, TS0 + BigInt(n) * STEP, speakersOf(n));
    await client.until(() => (client.lastAck?.ackedSequence ?? 0) >= 250);
    child.process.kill('SIGKILL');
    await client.waitClosed();
    const ackedBeforeKill = client.lastAck!.ackedSequence;

    child = await startChild(files);
    const resumed = await MediaTestClient.connect(JSON.stringify(blob));
    await resumed.until(() => resumed.acks.length > 0);
    const { ackedSequence, nextSequence } = resumed.lastAck!;
    // Everything acknowledged before the kill survived it.
    expect(ackedSequence).toBeGreaterThanOrEqual(ackedBeforeKill);
    expect(nextSequence).toBe(ackedSequence + 1);
    for (let n = nextSequence; n <= total; n += 1)
      resumed.unmixed(n, TS0 + BigInt(n) * STEP, speakersOf(n));
    await resumed.until(() => (resumed.lastAck?.ackedSequence ?? 0) >= total);
    const sealed = await control<SealSummary>(
      child.controlUrl,
      'POST',
      `/v1/sessions/${created.sessionId}/seal`,
    );
    expect(sealed.status).toBe(200);
    await resumed.close();

    const container = files.config.recordingsContainer;
    const manifestBytes = await download(container, sealed.body.manifestBlobName);
    const manifest = JSON.parse(manifestBytes.toString()) as RecordingManifest;
    const keyRecord = JSON.parse(
      (await download('recordingkeys', wrappedKeyBlobName('tenant-c', 'int-crash'))).toString(),
    ) as WrappedKeyRecord;
    const dataKey = unwrapDataKey(createPrivateKey(files.kekPrivateKeyPem), keyRecord);
    const blobs = new Map<string, Buffer>();
    for (const s of manifest.streams) blobs.set(s.blobName, await download(container, s.blobName));

    for (const msi of [11, 12]) {
      // The stream's segments in order: audio-11, then audio-11.1 after the restart.
      const segments = manifest.streams
        .filter((s) => s.msi === String(msi))
        .sort(
          (a, b) => a.streamId.length - b.streamId.length || a.streamId.localeCompare(b.streamId),
        );
      expect(segments.length).toBeGreaterThanOrEqual(1);
      const plaintext = Buffer.concat(
        segments.flatMap((s) =>
          s.blocks.map((b) =>
            decryptBlock(
              dataKey,
              blockAad(manifest.interactionId, s.streamId, b.index),
              blobs.get(s.blobName)!.subarray(b.storedOffset, b.storedOffset + b.storedLength),
            ),
          ),
        ),
      );
      const expected = Buffer.concat(Array.from({ length: total }, (_, i) => pcmFrame(msi, i + 1)));
      expect(plaintext.length).toBe(expected.length);
      expect(plaintext.equals(expected)).toBe(true);
    }
    const verification = await verifyManifest(
      manifestBytes,
      await download(container, sealed.body.manifestBlobName.replace('.json', '.sig')),
      createPublicKey(readFileSync(`${files.config.signingKeyFile}.pub`)),
      {
        readStoredBlock: (s, b) =>
          Promise.resolve(
            blobs.get(s.blobName)?.subarray(b.storedOffset, b.storedOffset + b.storedLength),
          ),
      },
    );
    expect(verification.isValid).toBe(true);
  });
});

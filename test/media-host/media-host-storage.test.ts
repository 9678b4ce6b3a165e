/**
 * Storage trouble: an outage of the storage service mid-call (Azurite stopped, then a new one
 * started on the same port and data folder) loses nothing and keeps order; a spool that fills up
 * because storage stays away makes the session report failure instead of dropping silently.
 */
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import {
  blockAad,
  decryptBlock,
  unwrapDataKey,
  wrappedKeyBlobName,
  type MediaHostEvent,
  type MediaSessionStatus,
  type RecordingManifest,
  type SealSummary,
  type WrappedKeyRecord,
} from '@attest/core';
import {
  getFreePort,
  startAzurite,
  type AzuriteInstance,
} from '../../local/src/azurite/azurite-process';
import { silentLogger, startMediaHost } from '../../media-host/src';
import { MemoryBlockStore } from '../../media-host/testing';
import {
  control,
  hostFiles,
  MediaTestClient,
  pcmFrame,
  type HostFiles,
  TS0,
  STEP,
  persistedSession,
} from './media-host-fixtures';

describe('media host under storage trouble', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('loses nothing and keeps order through a storage outage covering 30 s of media', async () => {
    const location = mkdtempSync(join(tmpdir(), 'attest-azurite-'));
    cleanup.push(() => rmSync(location, { recursive: true, force: true }));
    const ports = {
      blobPort: await getFreePort(),
      queuePort: await getFreePort(),
      tablePort: await getFreePort(),
    };
    let azurite: AzuriteInstance = await startAzurite({ location, ...ports });
    cleanup.push(() => azurite.close());
    const files: HostFiles = hostFiles(azurite.connectionString, {
      blockMinDurationInMs: 1000,
      commitIntervalInMs: 500,
    });
    cleanup.push(() => rmSync(files.dir, { recursive: true, force: true }));
    // Short backoff so the test does not wait out real production delays.
    const host = await startMediaHost(files.config, {
      logger: silentLogger,
      retryBaseDelayInMs: 20,
      retryMaxDelayInMs: 200,
    });
    cleanup.push(() => host.close());

    const created = await persistedSession(host.controlUrl, {
      callId: 'call-outage',
      tenantId: 'tenant-s',
      interactionId: 'int-call-outage',
    });
    const client = await MediaTestClient.connect(created.mediaConfigBlob);
    cleanup.push(() => client.close());
    const speakers = (n: number) => [21, 22].map((msi) => ({ msi, payload: pcmFrame(msi, n) }));
    let n = 0;
    const sendUntil = async (last: number): Promise<void> => {
      while (n < last) {
        n += 1;
        client.unmixed(n, TS0 + BigInt(n) * STEP, speakers(n));
      }
      await client.until(() => (client.lastAck?.ackedSequence ?? 0) >= last, 30_000);
    };

    await sendUntil(100);
    await azurite.close();
    // 1 500 frames of 20 ms = 30 s of media arrive while storage is away; the spool takes them.
    await sendUntil(1600);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    azurite = await startAzurite({ location, ...ports });
    await sendUntil(1700);
    const sealed = await control<SealSummary>(
      host.controlUrl,
      'POST',
      `/v1/sessions/${created.sessionId}/seal`,
    );
    expect(sealed.status).toBe(200);

    const container = BlobServiceClient.fromConnectionString(
      azurite.connectionString,
    ).getContainerClient(files.config.recordingsContainer);
    const manifest = JSON.parse(
      (
        await container.getBlockBlobClient(sealed.body.manifestBlobName).downloadToBuffer()
      ).toString(),
    ) as RecordingManifest;
    const keyRecord = JSON.parse(
      (
        await BlobServiceClient.fromConnectionString(azurite.connectionString)
          .getContainerClient('recordingkeys')
          .getBlockBlobClient(wrappedKeyBlobName('tenant-s', 'int-call-outage'))
          .downloadToBuffer()
      ).toString(),
    ) as WrappedKeyRecord;
    const dataKey = unwrapDataKey(createPrivateKey(files.kekPrivateKeyPem), keyRecord);
    for (const msi of [21, 22]) {
      const stream = manifest.streams.find((s) => s.streamId === `audio-${msi}`)!;
      const blob = await container.getBlockBlobClient(stream.blobName).downloadToBuffer();
      const plaintext = Buffer.concat(
        stream.blocks.map((b) =>
          decryptBlock(
            dataKey,
            blockAad(manifest.interactionId, stream.streamId, b.index),
            blob.subarray(b.storedOffset, b.storedOffset + b.storedLength),
          ),
        ),
      );
      const expected = Buffer.concat(Array.from({ length: 1700 }, (_, i) => pcmFrame(msi, i + 1)));
      expect(plaintext.equals(expected)).toBe(true);
    }
    expect(manifest.streams).toHaveLength(2);
  });

  it('reports persistence failure to the function app when the spool bound is reached', async () => {
    const store = new MemoryBlockStore();
    const events: MediaHostEvent[] = [];
    const fakeFetch = ((url: string, init?: { body?: string }) => {
      if (url.endsWith('/api/mediahosts/events'))
        events.push(JSON.parse(init?.body ?? '{}') as MediaHostEvent);
      return Promise.resolve(new Response(null, { status: 202 }));
    }) as unknown as typeof fetch;
    const dir = mkdtempSync(join(tmpdir(), 'attest-spool-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const files = hostFiles('unused', {
      spoolLimitInBytes: 64 * 1024,
      functionsUrl: 'http://functions.test',
      spoolDir: join(dir, 'spool'),
    });
    const host = await startMediaHost(files.config, {
      store,
      fetch: fakeFetch,
      logger: silentLogger,
      retryBaseDelayInMs: 10,
      retryMaxDelayInMs: 50,
    });
    cleanup.push(() => host.close());
    const created = await persistedSession(host.controlUrl, {
      callId: 'call-full-spool',
      tenantId: 'tenant-s',
      interactionId: 'int-call-full-spool',
    });
    store.isUnavailable = true;

    const client = await MediaTestClient.connect(created.mediaConfigBlob);
    await client.until(() => client.acks.length > 0);
    // ~100 KB of audio against a 64 KB spool with storage away.
    for (let n = 1; n <= 150; n += 1)
      client.unmixed(n, TS0 + BigInt(n) * STEP, [{ msi: 31, payload: pcmFrame(31, n) }]);
    await client.waitClosed();
    expect(client.errors[0]).toMatchObject({ errorCode: 4 });
    await client.until(() => events.some((e) => e.kind === 'persistenceFailed'));
    expect(events.find((e) => e.kind === 'persistenceFailed')).toMatchObject({
      kind: 'persistenceFailed',
      sessionId: created.sessionId,
      callId: 'call-full-spool',
      reason: 'spool full',
    });
    const status = await control<MediaSessionStatus>(
      host.controlUrl,
      'GET',
      `/v1/sessions/${created.sessionId}`,
    );
    expect(status.body.state).toBe('failed');
    // Another session is refused nothing it can still take: health reports the spool at its bound.
    const health = await control<{ spoolBytes: number; spoolLimitInBytes: number }>(
      host.controlUrl,
      'GET',
      '/health',
      undefined,
      null,
    );
    expect(health.body.spoolLimitInBytes).toBe(64 * 1024);
  });
});

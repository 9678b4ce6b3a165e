/**
 * The .NET bridge in `npm test`. First its xunit suite (media-host/bridge/test: codec and golden
 * frames, queue and gap reports, buffer disposal, the link's resend, subscriptions, configuration
 * errors), then end to end on Linux: the .NET bridge, fed by its fake media platform (three speakers' tones and
 * an H.264 test stream), streams over the loopback listener (no TLS, session token) into the real
 * media host, which stores into Azurite. The session's blob comes from the bridge; the stored
 * streams decrypt to exactly the bytes the platform delivered; the bridge disposed every buffer
 * once; the roster drives the bridge's video subscriptions; the bridge's health shows in the host's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import {
  blockAad,
  decryptBlock,
  unwrapDataKey,
  wrappedKeyBlobName,
  type CreateMediaSessionResponse,
  type MediaHostHealth,
  type RecordingManifest,
  type SealSummary,
  type WrappedKeyRecord,
} from '@attest/core';
import { getFreePort } from '../../local/src/azurite/azurite-process';
import { silentLogger, startMediaHost, type MediaHost } from '../../media-host/src';
import { control, hostFiles, type HostFiles } from '../media-host/media-host-fixtures';

const root = path.resolve(__dirname, '../..');
// One file, so the two `dotnet` builds of the same projects never run at the same time.
const solution = path.join(root, 'media-host/bridge/Attest.MediaBridge.sln');
const fakeHostProject = path.join(root, 'media-host/bridge/test/Attest.MediaBridge.FakeHost');
const h264File = path.join(
  root,
  'test/media-host/formats-fixtures/x264-baseline-320x180-15fps.h264',
);
const BRIDGE_KEY = 'bridge-control-key-0123456789-abcdefgh';

interface PlayedStream {
  readonly kind: 'audio' | 'video';
  readonly msi: number;
  readonly frames: number;
  readonly sha256: string;
  readonly bytes: number;
}

interface PlayAnswer {
  readonly played: PlayedStream[];
  readonly buffersCreated: number;
  readonly buffersDisposed: number;
  readonly buffersDisposedTwice: number;
}

async function waitForHealth(url: string, bridge: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if (bridge.exitCode !== null) throw new Error(`bridge exited ${bridge.exitCode}: ${log()}`);
    const ok = await fetch(`${url}/v1/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`bridge did not start: ${log()}`);
}

describe('media bridge (.NET)', () => {
  it('passes its xunit tests', () => {
    const run = spawnSync(
      'dotnet',
      ['test', solution, '--nologo', '-v', 'q', '--logger', 'console;verbosity=minimal'],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, DOTNET_NOLOGO: '1' },
      },
    );
    const output = `${run.stdout}\n${run.stderr}`;
    if (run.status !== 0)
      throw new Error(`dotnet test failed (exit ${run.status}):\n${output.slice(-6000)}`);
    const summary = /Failed:\s+(\d+), Passed:\s+(\d+)/.exec(output);
    expect(summary).not.toBeNull();
    expect(Number(summary?.[1])).toBe(0);
    expect(Number(summary?.[2])).toBeGreaterThanOrEqual(60);
  }, 900_000);
});

describe('bridge to media host over loopback', () => {
  let bridge: ChildProcess;
  let bridgeLog = '';
  let bridgeUrl: string;
  let host: MediaHost;
  let files: HostFiles;
  const connection = process.env.ATTEST_TEST_STORAGE_CONNECTION!;

  beforeAll(async () => {
    const build = spawnSync('dotnet', ['build', fakeHostProject, '--nologo', '-v', 'q'], {
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new Error(`dotnet build failed:\n${build.stdout}${build.stderr}`);
    const controlPort = await getFreePort();
    bridgeUrl = `http://127.0.0.1:${controlPort}`;
    bridge = spawn(
      'dotnet',
      [path.join(fakeHostProject, 'bin/Debug/net8.0/Attest.MediaBridge.FakeHost.dll'), 'serve'],
      {
        env: {
          ...process.env,
          ATTEST_BRIDGE_APP_ID: '8f2c9a52-4f5e-4d6b-9a51-2b7d0c6e1f30',
          ATTEST_BRIDGE_CERTIFICATE_THUMBPRINT: 'ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12',
          ATTEST_BRIDGE_MEDIA_INTERNAL_PORT: '8445',
          ATTEST_BRIDGE_MEDIA_PUBLIC_PORT: '20445',
          ATTEST_BRIDGE_PUBLIC_IP: '127.0.0.1',
          ATTEST_BRIDGE_SERVICE_FQDN: 'media.attest.test',
          ATTEST_BRIDGE_CONTROL_PORT: String(controlPort),
          ATTEST_BRIDGE_CONTROL_KEY: BRIDGE_KEY,
          ATTEST_BRIDGE_VIDEO_SOCKETS: '2',
          Logging__LogLevel__Default: 'Warning',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    bridge.stdout?.on('data', (d: Buffer) => (bridgeLog = (bridgeLog + d.toString()).slice(-8000)));
    bridge.stderr?.on('data', (d: Buffer) => (bridgeLog = (bridgeLog + d.toString()).slice(-8000)));
    await waitForHealth(bridgeUrl, bridge, () => bridgeLog);
    files = hostFiles(connection, {
      loopbackProtocolPort: 0,
      bridge: { url: bridgeUrl, controlKey: BRIDGE_KEY },
    });
    host = await startMediaHost(files.config, { logger: silentLogger });
  }, 600_000);

  afterAll(async () => {
    await host?.close();
    bridge?.kill('SIGTERM');
  });

  it('stores exactly the frames the media platform delivered', async () => {
    const created = await control<CreateMediaSessionResponse>(
      host.controlUrl,
      'POST',
      '/v1/sessions',
      {
        callId: 'call-bridge-e2e',
        tenantId: 'tenant-b',
        interactionId: 'int-bridge-e2e',
        recordedUserIds: [],
      },
    );
    expect(created.status).toBe(201);
    // The blob is the media platform's configuration from the bridge, not the host's own.
    expect(JSON.parse(created.body.mediaConfigBlob)).toEqual({
      fake: true,
      callId: created.body.sessionId,
      videoSockets: 2,
    });
    const sessionId = created.body.sessionId;
    await control(host.controlUrl, 'POST', `/v1/sessions/${sessionId}/persist`, {
      recordingConfirmedAt: new Date().toISOString(),
    });
    const roster = [101, 102, 103].flatMap((msi, i) => [
      { msi: String(msi), participantId: `p${i}`, kind: 'audio', identityKind: 'user' },
      { msi: String(201 + i), participantId: `p${i}`, kind: 'video', identityKind: 'user' },
    ]);
    expect(
      (
        await control(host.controlUrl, 'PUT', `/v1/sessions/${sessionId}/participants`, {
          participants: roster,
        })
      ).status,
    ).toBe(200);

    const play = await fetch(`${bridgeUrl}/_fake/calls/${sessionId}/play`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ speakers: 3, ticks: 150, h264File, videoMsi: 201 }),
    });
    expect(play.status).toBe(200);
    const played = (await play.json()) as PlayAnswer;
    expect(played.buffersDisposedTwice).toBe(0);
    expect(played.buffersDisposed).toBe(played.buffersCreated);

    // Wait until the host has taken every frame (the bridge's queue and unacked window are empty).
    for (let i = 0; i < 200; i += 1) {
      const health = (await (await fetch(`${bridgeUrl}/v1/health`)).json()) as {
        queueDepth: number;
        unackedFrames: number;
      };
      if (health.queueDepth === 0 && health.unackedFrames === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const sealed = await control<SealSummary>(
      host.controlUrl,
      'POST',
      `/v1/sessions/${sessionId}/seal`,
    );
    expect(sealed.status).toBe(200);

    const service = BlobServiceClient.fromConnectionString(connection);
    const container = service.getContainerClient(files.config.recordingsContainer);
    const manifest = JSON.parse(
      (
        await container.getBlockBlobClient(sealed.body.manifestBlobName).downloadToBuffer()
      ).toString(),
    ) as RecordingManifest;
    const keyRecord = JSON.parse(
      (
        await service
          .getContainerClient('recordingkeys')
          .getBlockBlobClient(wrappedKeyBlobName('tenant-b', 'int-bridge-e2e'))
          .downloadToBuffer()
      ).toString(),
    ) as WrappedKeyRecord;
    const dataKey = unwrapDataKey(createPrivateKey(files.kekPrivateKeyPem), keyRecord);
    const stored = async (streamId: string): Promise<Buffer> => {
      const stream = manifest.streams.find((s) => s.streamId === streamId);
      if (stream === undefined) throw new Error(`no stream ${streamId}`);
      const blob = await container.getBlockBlobClient(stream.blobName).downloadToBuffer();
      return Buffer.concat(
        stream.blocks.map((b) =>
          decryptBlock(
            dataKey,
            blockAad(manifest.interactionId, stream.streamId, b.index),
            blob.subarray(b.storedOffset, b.storedOffset + b.storedLength),
          ),
        ),
      );
    };
    expect(played.played.map((p) => `${p.kind}-${p.msi}`).sort()).toEqual(
      manifest.streams.map((s) => s.streamId).sort(),
    );
    for (const stream of played.played) {
      const bytes = await stored(`${stream.kind}-${stream.msi}`);
      expect({ stream: `${stream.kind}-${stream.msi}`, bytes: bytes.length }).toEqual({
        stream: `${stream.kind}-${stream.msi}`,
        bytes: stream.bytes,
      });
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(stream.sha256);
    }
    expect(played.played.find((p) => p.kind === 'video')?.frames).toBeGreaterThan(10);
  }, 120_000);

  it('lets the roster drive the video subscriptions and shows the bridge in the host health', async () => {
    const created = await control<CreateMediaSessionResponse>(
      host.controlUrl,
      'POST',
      '/v1/sessions',
      {
        callId: 'call-bridge-roster',
        tenantId: 'tenant-b',
        interactionId: 'int-bridge-roster',
        recordedUserIds: [],
      },
    );
    const sessionId = created.body.sessionId;
    const roster = [
      { msi: '11', participantId: 'a', kind: 'audio', identityKind: 'user' },
      { msi: '21', participantId: 'a', kind: 'video', identityKind: 'user' },
      { msi: '31', participantId: 'a', kind: 'vbss', identityKind: 'user' },
    ];
    await control(host.controlUrl, 'PUT', `/v1/sessions/${sessionId}/participants`, {
      participants: roster,
    });
    // The fake's sockets become able to receive when media plays; a one-tick play makes them active.
    await fetch(`${bridgeUrl}/_fake/calls/${sessionId}/play`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ speakers: 1, ticks: 1, h264File: null, videoMsi: 21 }),
    });
    let operations: string[] = [];
    for (let i = 0; i < 100 && !operations.includes('video[0]=21'); i += 1) {
      operations = (
        (await (await fetch(`${bridgeUrl}/_fake/calls/${sessionId}`)).json()) as {
          operations: string[];
        }
      ).operations;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(operations).toContain('video[0]=21');

    await control(host.controlUrl, 'POST', `/v1/sessions/${sessionId}/abort`, { reason: 'test' });
    let isDisposed = false;
    for (let i = 0; i < 100 && !isDisposed; i += 1) {
      isDisposed = (
        (await (await fetch(`${bridgeUrl}/_fake/calls/${sessionId}`)).json()) as {
          isDisposed: boolean;
        }
      ).isDisposed;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(isDisposed).toBe(true);

    const health = (await control<MediaHostHealth>(host.controlUrl, 'GET', '/health')).body;
    expect(health.bridge?.isReachable).toBe(true);
    expect(health.bridge?.sdkVersion).toBe('fake-1.0');
    expect(health.bridge?.isPlatformInitialized).toBe(true);
  }, 60_000);

  it("follows the media platform's health event into the host health", async () => {
    // The fake plays the SDK's MediaPlatformHealthChanged; the host reads the bridge every 5 s.
    const hostSees = async (state: string): Promise<MediaHostHealth['bridge']> => {
      let bridgeHealth: MediaHostHealth['bridge'];
      for (let i = 0; i < 300; i += 1) {
        bridgeHealth = (await control<MediaHostHealth>(host.controlUrl, 'GET', '/health')).body
          .bridge;
        if (bridgeHealth?.platformHealth === state) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return bridgeHealth;
    };
    const changeTo = async (status: string): Promise<void> => {
      const response = await fetch(`${bridgeUrl}/_fake/platform/health`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status }),
      });
      expect(response.status).toBe(204);
    };
    const changesBefore = (await hostSees('normal'))?.platformHealthChanges ?? 0;
    await changeTo('heavilyLoaded');
    const loaded = await hostSees('heavilyLoaded');
    expect(loaded).toMatchObject({
      platformHealth: 'heavilyLoaded',
      platformHealthChanges: changesBefore + 1,
    });
    expect(Number.isNaN(Date.parse(loaded?.platformHealthChangedAt ?? ''))).toBe(false);
    await changeTo('normal');
    expect(await hostSees('normal')).toMatchObject({
      platformHealth: 'normal',
      platformHealthChanges: changesBefore + 2,
    });
  }, 60_000);
});

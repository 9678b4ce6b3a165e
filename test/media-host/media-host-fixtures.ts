/**
 * Shared fixtures for the media host suites: key material, configuration, a media protocol
 * client and a control API client. Synthetic media only.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect, type TLSSocket } from 'node:tls';
import {
  encodeFrame,
  MediaFrameDecoder,
  PayloadFormat,
  type CreateMediaSessionResponse,
  type MediaConfigBlob,
  type MediaProtocolFrame,
} from '@attest/core';
import { ensureLocalCa } from '../../local/src/simulator/ca/ensure-ca';
import type { MediaHost } from '../../media-host/src';
import type { MediaHostConfig } from '../../media-host/src/config/media-host.config';

export const CONTROL_KEY = 'test-control-key-0123456789';

/**
 * The simulator CA's server certificate for 127.0.0.1 and localhost: the control API and live
 * listen-in are HTTPS, and the suites trust that CA through NODE_EXTRA_CA_CERTS.
 */
export function localCaTls(): { cert: string; key: string } {
  const ca = ensureLocalCa(join(process.cwd(), '.data', 'ca'));
  return { cert: ca.serverCertPem, key: ca.serverKeyPem };
}

export interface HostFiles {
  readonly dir: string;
  readonly kekPrivateKeyPem: string;
  readonly config: MediaHostConfig;
}

/** A fresh folder with TLS files, a KEK pair and a configuration pointing at `connection`. */
export function hostFiles(connection: string, overrides: Partial<MediaHostConfig> = {}): HostFiles {
  const dir = mkdtempSync(join(tmpdir(), 'attest-media-'));
  const tls = localCaTls();
  writeFileSync(join(dir, 'tls.crt'), tls.cert);
  writeFileSync(join(dir, 'tls.key'), tls.key);
  const kek = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'kek.pub.pem'), kek.publicKey.export({ type: 'spki', format: 'pem' }));
  const config: MediaHostConfig = {
    hostId: 'media-test',
    region: 'local',
    version: '0.1.0',
    controlHost: '127.0.0.1',
    controlPort: 0,
    controlKey: CONTROL_KEY,
    publicHost: '127.0.0.1',
    protocolHost: '127.0.0.1',
    protocolPort: 0,
    tlsCertFile: join(dir, 'tls.crt'),
    tlsKeyFile: join(dir, 'tls.key'),
    storageConnectionString: connection,
    recordingsContainer: `rec${randomUUID().replace(/-/g, '').slice(0, 20)}`,
    spoolDir: join(dir, 'spool'),
    spoolLimitInBytes: 256 * 1024 * 1024,
    spoolFlushIntervalInMs: 20,
    commitIntervalInMs: 200,
    blockMinDurationInMs: 100,
    segmentMaxDurationInMs: 30 * 60_000,
    finishedSessionRetentionInMs: 3_600_000,
    maxSessions: 50,
    maxFramePayloadBytes: 1024 * 1024,
    heartbeatIntervalInMs: 60_000,
    isEncryptionEnabled: true,
    kekPublicKeyFile: join(dir, 'kek.pub.pem'),
    signingKeyFile: join(dir, 'signing.pem'),
    isAudioLossless: true,
    logLevel: 'error',
    helloTimeoutInMs: 5000,
    listenHost: '127.0.0.1',
    listenPort: 0,
    ...overrides,
  };
  return {
    dir,
    kekPrivateKeyPem: kek.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    config,
  };
}

export interface MediaHostChild {
  readonly process: ChildProcess;
  readonly controlUrl: string;
}

/** A media host in a process of its own (`media-host-child.js`), so a test can SIGKILL it. */
export async function startMediaHostChild(files: HostFiles): Promise<MediaHostChild> {
  const child = spawn(process.execPath, [join(__dirname, 'media-host-child.js')], {
    env: { ...process.env, ATTEST_TEST_MEDIA_HOST_CONFIG: JSON.stringify(files.config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise<{ controlUrl: string }>((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line) as { controlUrl: string }));
    child.once('exit', (code) =>
      reject(new Error(`media host child exited with ${code}: ${stderr}`)),
    );
  });
  return { process: child, controlUrl: ready.controlUrl };
}

export async function control<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = CONTROL_KEY,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

export function pcmFrame(msi: number, index: number): Buffer {
  const out = Buffer.alloc(640);
  for (let i = 0; i < 640; i += 2)
    out.writeInt16LE(((msi * 7919 + index * 131 + i) % 20000) - 10000, i);
  return out;
}

/** A minimal media protocol client for tests: hello, frames, acks. */
export class MediaTestClient {
  readonly acks: { ackedSequence: number; nextSequence: number }[] = [];
  readonly errors: { errorCode: number; message: string }[] = [];
  private readonly decoder = new MediaFrameDecoder();
  private closed = false;
  private readonly closedPromise: Promise<void>;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly socket: TLSSocket,
    readonly sessionId: string,
  ) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk).frames) {
        if (frame.type === 'ack')
          this.acks.push({ ackedSequence: frame.ackedSequence, nextSequence: frame.nextSequence });
        if (frame.type === 'error')
          this.errors.push({ errorCode: frame.errorCode, message: frame.message });
      }
      this.notify();
    });
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        this.notify();
        resolve();
      }),
    );
  }

  static async connect(blobText: string, token?: string): Promise<MediaTestClient> {
    const blob = JSON.parse(blobText) as MediaConfigBlob;
    const [host, port] = blob.endpoint.replace('tls://', '').split(':');
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = connect({ host, port: Number(port), rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    const client = new MediaTestClient(socket, blob.sessionId);
    client.send({
      type: 'hello',
      sessionId: blob.sessionId,
      sequence: 0,
      timestamp100ns: 0n,
      msi: 0,
      token: token ?? blob.token,
    });
    return client;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get lastAck(): { ackedSequence: number; nextSequence: number } | undefined {
    return this.acks.at(-1);
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when `predicate` holds (checked on every received frame), or rejects after `timeoutInMs`. */
  async until(predicate: () => boolean, timeoutInMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutInMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  send(frame: MediaProtocolFrame): void {
    this.socket.write(encodeFrame(frame));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  unmixed(
    sequence: number,
    timestamp100ns: bigint,
    speakers: readonly { msi: number; payload: Buffer }[],
  ): void {
    this.send({
      type: 'audioUnmixed',
      sessionId: this.sessionId,
      sequence,
      timestamp100ns,
      msi: 0,
      format: PayloadFormat.pcm16k,
      buffers: speakers.map((s) => ({
        msi: s.msi,
        originalSenderTimestamp100ns: timestamp100ns,
        payload: s.payload,
      })),
    });
  }

  async close(): Promise<void> {
    this.socket.end();
    this.socket.destroy();
    await this.closedPromise;
  }

  waitClosed(): Promise<void> {
    return this.closedPromise;
  }
}

/** Azurite of the integration run (its global setup). */
export const TEST_CONNECTION = process.env.ATTEST_TEST_STORAGE_CONNECTION ?? '';
/** A call's first media timestamp (100 ns ticks) and one 20 ms frame's step. */
export const TS0 = 638_700_000_000_000_000n;
export const STEP = 200_000n;

/** A blob's bytes from the test storage. */
/** A media host event as the host posts it to the function app. */
export interface PostedMediaHostEvent {
  readonly kind: string;
  readonly sessionId: string;
  readonly reason?: string;
}

/** A `fetch` for the host that answers every request 204 and keeps the media host events it posts. */
export function recordingEventsFetch(): { fetch: typeof fetch; events: PostedMediaHostEvent[] } {
  const events: PostedMediaHostEvent[] = [];
  const fetchSpy: typeof fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.endsWith('/api/mediahosts/events') && typeof init?.body === 'string')
      events.push(JSON.parse(init.body) as PostedMediaHostEvent);
    return Promise.resolve(new Response(null, { status: 204 }));
  };
  return { fetch: fetchSpy, events };
}

export async function downloadBlob(container: string, name: string): Promise<Buffer> {
  return BlobServiceClient.fromConnectionString(TEST_CONNECTION)
    .getContainerClient(container)
    .getBlockBlobClient(name)
    .downloadToBuffer();
}

/**
 * A session created for `request.callId` (tenant `t` and interaction `i-{callId}` unless given)
 * and persisting since `recordingConfirmedAt` (default now).
 */
export async function persistedSession(
  controlUrl: string,
  request: { readonly callId: string; readonly tenantId?: string; readonly interactionId?: string },
  recordingConfirmedAt = new Date().toISOString(),
): Promise<CreateMediaSessionResponse> {
  const { callId, tenantId = 't', interactionId = `i-${callId}` } = request;
  const created = (
    await control<CreateMediaSessionResponse>(controlUrl, 'POST', '/v1/sessions', {
      callId,
      tenantId,
      interactionId,
      recordedUserIds: [],
    })
  ).body;
  await control(controlUrl, 'POST', `/v1/sessions/${created.sessionId}/persist`, {
    recordingConfirmedAt,
  });
  return created;
}

/**
 * A session created for `callId` (tenant `t`, interaction `i-{callId}`), persisting since
 * `recordingConfirmedAt`, with 20 acknowledged frames of one speaker; its media connection is
 * closed again.
 */
export async function recordedSession(
  host: MediaHost,
  callId: string,
  recordingConfirmedAt = '2026-12-06T09:00:00.000Z',
): Promise<CreateMediaSessionResponse> {
  const created = await persistedSession(host.controlUrl, { callId }, recordingConfirmedAt);
  const client = await MediaTestClient.connect(created.mediaConfigBlob);
  for (let i = 1; i <= 20; i += 1)
    client.unmixed(i, TS0 + BigInt(i) * STEP, [{ msi: 7, payload: pcmFrame(7, i) }]);
  await client.until(() => (client.lastAck?.ackedSequence ?? 0) >= 20);
  await client.close();
  return created;
}

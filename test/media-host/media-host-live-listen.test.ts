import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import {
  createListenToken,
  LISTEN_SUBPROTOCOL,
  listenSubprotocols,
  type CreateMediaSessionResponse,
} from '@attest/core';
import { silentLogger, startMediaHost, type MediaHost } from '../../media-host/src';
import { mixPcm16, type ListenAuditEvent } from '../../media-host/src/live';
import { MemoryBlockStore, WsFrameParser, WsOpcode } from '../../media-host/testing';
import {
  control,
  hostFiles,
  MediaTestClient,
  pcmFrame,
  type HostFiles,
  TS0,
  STEP,
} from './media-host-fixtures';

const LISTEN_KEY = 'live-listen-key-for-tests-0123456789abcdef';

interface WsClient {
  readonly socket: TLSSocket;
  head: string;
  status: number;
  readonly messages: { opcode: number; payload: Buffer }[];
  readonly closed: Promise<void>;
  until(count: number): Promise<void>;
}

/**
 * A bare RFC 6455 client over TLS (the local CA, trusted through NODE_EXTRA_CA_CERTS), offering
 * the token as a browser does: resolves after the response head (101 or a refusal).
 */
function openWs(
  port: number,
  path: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const parser = new WsFrameParser(false, 1 << 20);
    let head = Buffer.alloc(0);
    let isUpgraded = false;
    const waiters: { count: number; resolve: () => void }[] = [];
    const client: WsClient = {
      socket,
      status: 0,
      head: '',
      messages: [],
      closed: new Promise((r) => socket.once('close', () => r())),
      until: (count) =>
        new Promise<void>((r) =>
          client.messages.length >= count ? r() : waiters.push({ count, resolve: r }),
        ),
    };
    const deliver = (frames: { opcode: number; payload: Buffer }[]): void => {
      client.messages.push(...frames);
      for (const w of [...waiters]) {
        if (client.messages.length < w.count) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    };
    socket.on('error', reject);
    // A server that drops the connection without an answer: status 0.
    socket.once('close', () => resolve(client));
    socket.on('data', (chunk: Buffer) => {
      if (isUpgraded) return deliver(parser.push(chunk).frames);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.head = head.subarray(0, end).toString('latin1');
      client.status = Number(client.head.split(' ')[1]);
      isUpgraded = client.status === 101;
      if (isUpgraded) deliver(parser.push(head.subarray(end + 4)).frames);
      resolve(client);
    });
    const key = randomBytes(16).toString('base64');
    socket.write(
      [
        `GET ${path} HTTP/1.1`,
        'Host: 127.0.0.1',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
        '',
        '',
      ].join('\r\n'),
    );
  });
}

describe('media host live listen-in', () => {
  let files: HostFiles;
  let host: MediaHost;
  let listenPort: number;
  const audits: ListenAuditEvent[] = [];

  beforeAll(async () => {
    files = hostFiles('', { liveListenKey: LISTEN_KEY });
    host = await startMediaHost(files.config, {
      store: new MemoryBlockStore(),
      logger: silentLogger,
      onListenAudit: (event) => void audits.push(event),
    });
    expect(host.listenUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    listenPort = Number(new URL(host.listenUrl!).port);
  });

  afterAll(async () => {
    await host.close();
    rmSync(files.dir, { recursive: true, force: true });
  });

  async function livePersistingSession(
    callId: string,
  ): Promise<{ sessionId: string; media: MediaTestClient }> {
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
    const media = await MediaTestClient.connect(created.body.mediaConfigBlob);
    await control(host.controlUrl, 'POST', `/v1/sessions/${created.body.sessionId}/persist`, {
      recordingConfirmedAt: new Date().toISOString(),
    });
    return { sessionId: created.body.sessionId, media };
  }

  it('streams the mixed speakers of a persisting session to a token issued with the configured key, and ends it on seal', async () => {
    const { sessionId, media } = await livePersistingSession('call-live-1');
    const token = createListenToken(
      { sessionId, userId: 'supervisor-object-1', nowMs: Date.now(), tokenId: 'token-1' },
      Buffer.from(LISTEN_KEY, 'utf8'),
    );
    const listener = await openWs(listenPort, `/v1/live/${sessionId}`, {
      'Sec-WebSocket-Protocol': listenSubprotocols(token).join(', '),
    });
    expect(listener.status).toBe(101);
    expect(listener.head).toContain(`Sec-WebSocket-Protocol: ${LISTEN_SUBPROTOCOL}`);
    await listener.until(1);
    expect(JSON.parse(listener.messages[0]!.payload.toString('utf8'))).toMatchObject({
      type: 'start',
      sessionId,
      sampleRateInHz: 16_000,
    });

    for (let i = 1; i <= 3; i += 1)
      media.unmixed(i, TS0 + BigInt(i) * STEP, [
        { msi: 5, payload: pcmFrame(5, i) },
        { msi: 6, payload: pcmFrame(6, i) },
      ]);
    await listener.until(4);
    const audio = listener.messages.slice(1, 4);
    expect(audio.every((m) => m.opcode === WsOpcode.binary)).toBe(true);
    audio.forEach((m, n) => {
      expect(m.payload.readBigUInt64LE(0)).toBe(TS0 + BigInt(n + 1) * STEP);
      expect(m.payload.subarray(8).equals(mixPcm16([pcmFrame(5, n + 1), pcmFrame(6, n + 1)]))).toBe(
        true,
      );
    });

    await control(host.controlUrl, 'POST', `/v1/sessions/${sessionId}/seal`);
    await listener.closed;
    expect(
      audits.filter((a) => a.sessionId === sessionId).map((a) => [a.type, a.tokenId, a.reason]),
    ).toEqual([
      ['listenStarted', 'token-1', undefined],
      ['listenStopped', 'token-1', 'sessionEnded'],
    ]);
    await media.close();
  });

  it('refuses a token signed with another key with 401 and streams nothing', async () => {
    const { sessionId, media } = await livePersistingSession('call-live-2');
    const forged = createListenToken(
      { sessionId, userId: 'supervisor-object-1', nowMs: Date.now() },
      Buffer.alloc(32, 1),
    );
    const listener = await openWs(listenPort, `/v1/live/${sessionId}`, {
      'Sec-WebSocket-Protocol': listenSubprotocols(forged).join(', '),
    });
    expect(listener.status).toBe(401);
    expect(audits.filter((a) => a.sessionId === sessionId)).toEqual([]);
    listener.socket.destroy();
    await media.close();
  });

  it('serves listen-in only over TLS: a plain connection to the listen port gets no WebSocket', async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = connectTcp(listenPort, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
      socket.write(
        `GET /v1/live/x HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
      );
    });
    expect(reply).not.toContain('101 Switching Protocols');
  });

  it('serves no listen-in on the control port', async () => {
    const controlPort = Number(new URL(host.controlUrl).port);
    const listener = await openWs(controlPort, `/v1/live/00000000-0000-4000-8000-000000000000`);
    expect(listener.status).not.toBe(101);
  });
});

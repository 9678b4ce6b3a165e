import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import {
  LISTEN_SUBPROTOCOL,
  PayloadFormat,
  createListenToken,
  listenSubprotocols,
  verifyListenToken,
  type MediaProtocolFrame,
} from '@attest/core';
import {
  attachLiveMonitor,
  type ListenAuditEvent,
  type LiveMonitor,
  type LiveTappedFrame,
} from '../../media-host/src/live';
import { WsFrameParser, WsOpcode, encodeWsFrame } from '../../media-host/testing';

const SESSION = '0b7c6a4e-1d2f-4a3b-9c8d-7e6f5a4b3c2d';
const OTHER = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const KEY = Buffer.alloc(32, 0x5a);
const NOW = Date.UTC(2030, 5, 1, 12, 0, 0);

/** The header a browser sends for `new WebSocket(url, listenSubprotocols(token))`. */
const offer = (token: string): Record<string, string> => ({
  'Sec-WebSocket-Protocol': listenSubprotocols(token).join(', '),
});

class FakeTap {
  readonly listeners = new Map<string, Set<(t: LiveTappedFrame) => void>>();
  subscribe(sessionId: string, listener: (t: LiveTappedFrame) => void): () => void {
    const set = this.listeners.get(sessionId) ?? new Set();
    this.listeners.set(sessionId, set);
    set.add(listener);
    return () => set.delete(listener);
  }
  emit(tapped: LiveTappedFrame): void {
    for (const listener of this.listeners.get(tapped.sessionId) ?? []) listener(tapped);
  }
  count(sessionId: string): number {
    return this.listeners.get(sessionId)?.size ?? 0;
  }
}

interface Client {
  socket: Socket;
  status: number;
  head: string;
  body: string;
  messages: { opcode: number; payload: Buffer }[];
  closed: Promise<void>;
  next(count: number): Promise<void>;
}

/** A bare RFC 6455 client over a TCP socket, so the test does not depend on the server's own accept path. */
function openClient(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const key = randomBytes(16).toString('base64');
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    const parser = new WsFrameParser(false, 1 << 20);
    const waiters: { count: number; resolve: () => void }[] = [];
    const client: Client = {
      socket,
      status: 0,
      head: '',
      body: '',
      messages: [],
      closed: new Promise((r) => socket.on('close', () => r())),
      next: (count) =>
        new Promise<void>((r) => {
          if (client.messages.length >= count) r();
          else waiters.push({ count, resolve: r });
        }),
    };
    const deliver = (): void => {
      for (const w of [...waiters])
        if (client.messages.length >= w.count) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
    };
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) {
        client.messages.push(...parser.push(chunk).frames);
        deliver();
        return;
      }
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.head = buffer.subarray(0, end).toString('latin1');
      client.status = Number(client.head.split(' ')[1]);
      const rest = buffer.subarray(end + 4);
      if (client.status === 101) {
        upgraded = true;
        client.messages.push(...parser.push(rest).frames);
        resolve(client);
        deliver();
      } else {
        socket.on('end', () => resolve(client));
        client.body = rest.toString('utf8');
        socket.on('data', (more: Buffer) => (client.body += more.toString('utf8')));
      }
    });
    socket.write(
      [
        `GET ${path} HTTP/1.1`,
        'Host: 127.0.0.1',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        '',
        '',
      ].join('\r\n'),
    );
  });
}

function pcm(samples: number[]): Buffer {
  const b = Buffer.alloc(640);
  for (let i = 0; i < 320; i += 1) b.writeInt16LE(samples[i % samples.length]!, i * 2);
  return b;
}

function unmixed(timestamp100ns: bigint, payloads: Buffer[]): MediaProtocolFrame {
  return {
    type: 'audioUnmixed',
    sessionId: SESSION,
    sequence: 1,
    timestamp100ns,
    msi: 0,
    format: PayloadFormat.pcm16k,
    buffers: payloads.map((payload, i) => ({
      msi: 100 + i,
      originalSenderTimestamp100ns: timestamp100ns,
      payload,
    })),
  };
}

describe('live monitor (listen-in over WebSocket)', () => {
  let server: Server;
  let port: number;
  let monitor: LiveMonitor;
  let tap: FakeTap;
  let audits: ListenAuditEvent[];
  let now: number;
  let auditFails: boolean;
  let ids: number;
  const token = (sessionId = SESSION, userId = 'supervisor-1') =>
    createListenToken({ sessionId, userId, nowMs: now, tokenId: 'tok-1' }, KEY);

  beforeEach(async () => {
    tap = new FakeTap();
    audits = [];
    now = NOW;
    auditFails = false;
    ids = 0;
    server = createServer((_req, res) => res.writeHead(404).end());
    monitor = attachLiveMonitor(server, {
      frames: tap,
      isSessionLive: (id) => id === SESSION || id === OTHER,
      verifyListenToken: (t, nowMs) => verifyListenToken(t, KEY, nowMs),
      onListenAudit: (event) => {
        if (auditFails && event.type === 'listenStarted')
          return Promise.reject(new Error('ledger down'));
        audits.push(event);
        return undefined;
      },
      clock: { nowMs: () => now },
      createListenId: () => `listen-${(ids += 1)}`,
      maxListenersPerSession: 2,
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    monitor.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('answers 401 with a problem body when no token is given', async () => {
    const client = await openClient(port, `/v1/live/${SESSION}`);
    expect(client.status).toBe(401);
    expect(JSON.parse(client.body)).toEqual({
      code: 'ATT_UNAUTHORIZED',
      message: 'A listen token is required.',
      status: 401,
    });
    expect(audits).toEqual([]);
  });

  it('refuses a token in the URL with 400 and does not use it', async () => {
    const client = await openClient(port, `/v1/live/${SESSION}?token=${token()}`);
    expect(client.status).toBe(400);
    expect(JSON.parse(client.body)).toMatchObject({ code: 'ATT_INVALID_REQUEST', status: 400 });
    expect(client.body).toContain(LISTEN_SUBPROTOCOL);
    expect(audits).toEqual([]);
  });

  it('refuses subprotocol offers without the listen protocol with 400', async () => {
    const client = await openClient(port, `/v1/live/${SESSION}`, {
      'Sec-WebSocket-Protocol': `attest.token.${token()}`,
    });
    expect(client.status).toBe(400);
    expect(audits).toEqual([]);
  });

  it('accepts the token offered as a subprotocol and answers with the listen protocol only', async () => {
    const client = await openClient(port, `/v1/live/${SESSION}`, offer(token()));
    expect(client.status).toBe(101);
    const selected = /^sec-websocket-protocol: (.*)$/im.exec(client.head)?.[1];
    expect(selected).toBe(LISTEN_SUBPROTOCOL);
    expect(client.head).not.toContain('attest.token.');
  });

  it('answers 401 to a token signed with another key', async () => {
    const forged = createListenToken(
      { sessionId: SESSION, userId: 'x', nowMs: now },
      Buffer.alloc(32, 1),
    );
    const client = await openClient(port, `/v1/live/${SESSION}`, offer(forged));
    expect(client.status).toBe(401);
    expect(JSON.parse(client.body).message).toContain('badSignature');
  });

  it('answers 401 to an expired token', async () => {
    const t = token();
    now += 61_000;
    const client = await openClient(port, `/v1/live/${SESSION}`, offer(t));
    expect(client.status).toBe(401);
    expect(JSON.parse(client.body).message).toContain('expired');
  });

  it('answers 403 and audits the refusal when the token names another session', async () => {
    const client = await openClient(port, `/v1/live/${SESSION}`, offer(token(OTHER)));
    expect(client.status).toBe(403);
    expect(audits).toEqual([
      expect.objectContaining({
        type: 'listenRefused',
        sessionId: SESSION,
        userId: 'supervisor-1',
        reason: 'tokenForOtherSession',
      }),
    ]);
  });

  it('answers 404 for a session that is not live here', async () => {
    const gone = '11111111-2222-4333-8444-555555555555';
    const client = await openClient(port, `/v1/live/${gone}`, offer(token(gone)));
    expect(client.status).toBe(404);
    expect(JSON.parse(client.body).code).toBe('ATT_NOT_FOUND');
  });

  it('answers 400 to a request that is not a WebSocket handshake', async () => {
    const client = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (c) => (text += c.toString()));
      socket.on('end', () => resolve(text));
      socket.write(
        `GET /v1/live/${SESSION} HTTP/1.1\r\nSec-WebSocket-Protocol: ${listenSubprotocols(token()).join(', ')}\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n\r\n`,
      );
    });
    expect(client.startsWith('HTTP/1.1 400')).toBe(true);
    expect(client).toContain('Sec-WebSocket-Version must be 13');
  });

  it('streams the speakers mixed (summed, clipped) with the platform timestamp, starting with a description', async () => {
    const client = await openClient(port, `/v1/live/${SESSION}`, {
      authorization: `Bearer ${token()}`,
    });
    expect(client.status).toBe(101);
    await client.next(1);
    expect(JSON.parse(client.messages[0]!.payload.toString())).toEqual({
      type: 'start',
      v: 1,
      sessionId: SESSION,
      listenId: 'listen-1',
      format: 'pcm_s16le',
      sampleRateInHz: 16000,
      channels: 1,
      frameDurationInMs: 20,
      headerBytes: 8,
    });
    tap.emit({
      sessionId: SESSION,
      isPersisted: true,
      frame: unmixed(123_456_789n, [
        pcm([1000, -1000, 30000]),
        pcm([234, 20000, 30000]),
        pcm([1, -30000, -1]),
      ]),
    });
    await client.next(2);
    const message = client.messages[1]!;
    expect(message.opcode).toBe(WsOpcode.binary);
    expect(message.payload.readBigUInt64LE(0)).toBe(123_456_789n);
    const mixed = message.payload.subarray(8);
    expect(mixed).toHaveLength(640);
    expect([mixed.readInt16LE(0), mixed.readInt16LE(2), mixed.readInt16LE(4)]).toEqual([
      1235, -11000, 32767,
    ]);
  });

  it('sends silence while the session is not persisting (before recording, PCI pause)', async () => {
    const client = await openClient(port, `/v1/live/${SESSION}`, offer(token()));
    tap.emit({ sessionId: SESSION, isPersisted: false, frame: unmixed(1n, [pcm([5000])]) });
    await client.next(2);
    expect(client.messages[1]!.payload.subarray(8).equals(Buffer.alloc(640))).toBe(true);
  });

  it('audits the start, and the stop with its duration when the supervisor hangs up', async () => {
    const client = await openClient(port, `/v1/live/${SESSION}`, offer(token()));
    await client.next(1);
    tap.emit({ sessionId: SESSION, isPersisted: true, frame: unmixed(1n, [pcm([1])]) });
    await client.next(2);
    now += 42_000;
    client.socket.write(encodeWsFrame(WsOpcode.close, Buffer.from([0x03, 0xe8]), randomBytes(4)));
    await client.closed;
    await new Promise((r) => setImmediate(r));
    expect(audits).toEqual([
      {
        type: 'listenStarted',
        listenId: 'listen-1',
        sessionId: SESSION,
        userId: 'supervisor-1',
        tokenId: 'tok-1',
        at: new Date(NOW).toISOString(),
      },
      {
        type: 'listenStopped',
        listenId: 'listen-1',
        sessionId: SESSION,
        userId: 'supervisor-1',
        tokenId: 'tok-1',
        at: new Date(NOW + 42_000).toISOString(),
        reason: 'clientClosed',
        durationInMs: 42_000,
        framesSent: 1,
        framesSkipped: 0,
      },
    ]);
    expect(tap.count(SESSION)).toBe(0);
    expect(monitor.listenerCount(SESSION)).toBe(0);
  });

  it('closes listeners with reason sessionEnded when the session ends', async () => {
    const client = await openClient(port, `/v1/live/${SESSION}`, offer(token()));
    await client.next(1);
    tap.emit({
      sessionId: SESSION,
      isPersisted: true,
      frame: { type: 'end', sessionId: SESSION, sequence: 9, timestamp100ns: 0n, msi: 0 },
    });
    await client.closed;
    const close = client.messages.find((m) => m.opcode === WsOpcode.close)!;
    expect(close.payload.readUInt16BE(0)).toBe(1000);
    expect(audits.map((a) => [a.type, a.reason])).toEqual([
      ['listenStarted', undefined],
      ['listenStopped', 'sessionEnded'],
    ]);
  });

  it('refuses the listen with 503 when its start cannot be audited', async () => {
    auditFails = true;
    const client = await openClient(port, `/v1/live/${SESSION}`, offer(token()));
    expect(client.status).toBe(503);
    expect(tap.count(SESSION)).toBe(0);
  });

  it('refuses a listener beyond the per-session limit with 429', async () => {
    await openClient(port, `/v1/live/${SESSION}`, offer(token()));
    await openClient(port, `/v1/live/${SESSION}`, offer(token()));
    const third = await openClient(port, `/v1/live/${SESSION}`, offer(token()));
    expect(third.status).toBe(429);
    expect(monitor.listenerCount(SESSION)).toBe(2);
  });

  it('ends the connection of a listener that sends an unmasked frame', async () => {
    const client = await openClient(port, `/v1/live/${SESSION}`, offer(token()));
    client.socket.write(encodeWsFrame(WsOpcode.text, Buffer.from('hi')));
    await client.closed;
    const close = client.messages.find((m) => m.opcode === WsOpcode.close)!;
    expect(close.payload.readUInt16BE(0)).toBe(1002);
    expect(audits.at(-1)).toMatchObject({ type: 'listenStopped', reason: 'protocolError' });
  });

  it('answers a ping with a pong carrying the same payload', async () => {
    const client = await openClient(port, `/v1/live/${SESSION}`, offer(token()));
    await client.next(1);
    client.socket.write(encodeWsFrame(WsOpcode.ping, Buffer.from('are you there'), randomBytes(4)));
    await client.next(2);
    expect(client.messages[1]).toMatchObject({
      opcode: WsOpcode.pong,
      payload: Buffer.from('are you there'),
    });
  });
});

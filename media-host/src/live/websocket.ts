/**
 * A minimal WebSocket (RFC 6455) for the live listen-in endpoint: the server side of the opening
 * handshake, and a frame codec used by the server (and by tests as a client). Supports text,
 * binary, ping/pong and close; client frames must be masked (§5.1); messages above a size limit
 * end the connection with 1009. No extensions, no subprotocols.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const WsOpcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

export const WsCloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
} as const;

/** `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key` (RFC 6455 §4.2.2). */
export function websocketAccept(key: string): string {
  return createHash('sha1').update(`${key}${HANDSHAKE_GUID}`).digest('base64');
}

/** Why an upgrade request is not a valid WebSocket opening handshake, or undefined when it is. */
export function handshakeProblem(request: IncomingMessage): string | undefined {
  if (request.method !== 'GET') return 'the opening handshake must be a GET';
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') return 'Upgrade must be websocket';
  const connection = (request.headers.connection ?? '')
    .toLowerCase()
    .split(',')
    .map((s) => s.trim());
  if (!connection.includes('upgrade')) return 'Connection must include Upgrade';
  if (request.headers['sec-websocket-version'] !== '13') return 'Sec-WebSocket-Version must be 13';
  const key = request.headers['sec-websocket-key'];
  if (typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16)
    return 'Sec-WebSocket-Key must be 16 bytes in base64';
  return undefined;
}

export interface WsFrame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
}

/** Encodes one frame; `maskKey` (4 bytes) masks it, as clients must. */
export function encodeWsFrame(
  opcode: number,
  payload: Buffer,
  maskKey?: Buffer,
  fin = true,
): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (maskKey ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = (maskKey ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(length, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!maskKey) return Buffer.concat([head, payload]);
  maskKey.copy(head, 2 + lengthBytes);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) masked[i] = (payload[i] ?? 0) ^ (maskKey[i & 3] ?? 0);
  return Buffer.concat([head, masked]);
}

export type WsParseResult = {
  readonly frames: WsFrame[];
  readonly error?: { readonly closeCode: number; readonly reason: string };
};

/**
 * Incremental frame parser. `requireMask` is true on the server (client frames are masked) and
 * false on a client. Returns an error (and accepts nothing more) on a protocol violation or a
 * frame above `maxPayloadBytes`.
 */
export class WsFrameParser {
  #pending: Buffer = Buffer.alloc(0);
  #failed = false;

  constructor(
    private readonly requireMask: boolean,
    private readonly maxPayloadBytes: number,
  ) {}

  push(chunk: Buffer): WsParseResult {
    if (this.#failed) return { frames: [] };
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: WsFrame[] = [];
    const fail = (closeCode: number, reason: string): WsParseResult => {
      this.#failed = true;
      return { frames, error: { closeCode, reason } };
    };
    for (;;) {
      const p = this.#pending;
      if (p.length < 2) break;
      const b0 = p[0] ?? 0;
      const b1 = p[1] ?? 0;
      if ((b0 & 0x70) !== 0) return fail(WsCloseCode.protocolError, 'reserved bits set');
      const isMasked = (b1 & 0x80) !== 0;
      if (isMasked !== this.requireMask)
        return fail(
          WsCloseCode.protocolError,
          this.requireMask ? 'client frames must be masked' : 'server frames must not be masked',
        );
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (p.length < 4) break;
        length = p.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (p.length < 10) break;
        const big = p.readBigUInt64BE(2);
        if (big > BigInt(this.maxPayloadBytes))
          return fail(WsCloseCode.messageTooBig, 'frame too large');
        length = Number(big);
        offset = 10;
      }
      const opcode = b0 & 0x0f;
      const isControl = (opcode & 0x08) !== 0;
      if (isControl && (length > 125 || (b0 & 0x80) === 0))
        return fail(WsCloseCode.protocolError, 'bad control frame');
      if (length > this.maxPayloadBytes) return fail(WsCloseCode.messageTooBig, 'frame too large');
      const maskAt = offset;
      if (isMasked) offset += 4;
      if (p.length < offset + length) break;
      const payload = Buffer.from(p.subarray(offset, offset + length));
      if (isMasked)
        for (let i = 0; i < length; i += 1)
          payload[i] = (payload[i] ?? 0) ^ (p[maskAt + (i & 3)] ?? 0);
      frames.push({ fin: (b0 & 0x80) !== 0, opcode, payload });
      this.#pending = p.subarray(offset + length);
    }
    return { frames };
  }
}

export interface WebSocketConnectionOptions {
  /** Largest message accepted from the peer. Default 4 KiB (listeners send only control frames). */
  readonly maxMessageBytes?: number;
}

/** The server end of an accepted WebSocket. `close()` is idempotent. */
export class WebSocketConnection {
  readonly #socket: Duplex;
  readonly #parser: WsFrameParser;
  readonly #closeHandlers: ((code: number, reason: string) => void)[] = [];
  #isClosed = false;
  #sentClose = false;

  constructor(socket: Duplex, options: WebSocketConnectionOptions = {}) {
    this.#socket = socket;
    this.#parser = new WsFrameParser(true, options.maxMessageBytes ?? 4096);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('close', () => this.#finish(WsCloseCode.goingAway, 'connection closed'));
    socket.on('error', () => this.#finish(WsCloseCode.goingAway, 'connection error'));
  }

  /** Bytes queued in the socket and not yet sent: the listener's backlog. */
  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  get isOpen(): boolean {
    return !this.#isClosed && !this.#sentClose;
  }

  onClose(handler: (code: number, reason: string) => void): void {
    this.#closeHandlers.push(handler);
  }

  sendBinary(payload: Buffer): void {
    if (this.isOpen) this.#socket.write(encodeWsFrame(WsOpcode.binary, payload));
  }

  sendText(text: string): void {
    if (this.isOpen) this.#socket.write(encodeWsFrame(WsOpcode.text, Buffer.from(text, 'utf8')));
  }

  /** Sends a close frame and ends the connection. */
  close(code: number = WsCloseCode.normal, reason = ''): void {
    if (this.#isClosed) return;
    if (!this.#sentClose) {
      this.#sentClose = true;
      const body = Buffer.alloc(2);
      body.writeUInt16BE(code, 0);
      this.#socket.write(
        encodeWsFrame(
          WsOpcode.close,
          Buffer.concat([body, Buffer.from(reason, 'utf8').subarray(0, 120)]),
        ),
      );
    }
    this.#socket.end();
    this.#finish(code, reason);
  }

  #onData(chunk: Buffer): void {
    const { frames, error } = this.#parser.push(chunk);
    for (const frame of frames) {
      if (frame.opcode === WsOpcode.ping)
        this.#socket.write(encodeWsFrame(WsOpcode.pong, frame.payload));
      else if (frame.opcode === WsOpcode.close) {
        // Echo a normal close whatever code the listener sent (RFC 6455 §5.5.1).
        this.close(WsCloseCode.normal, 'client closed');
        return;
      }
      // Text, binary and pong frames from a listener carry nothing we act on.
    }
    if (error !== undefined) this.close(error.closeCode, error.reason);
  }

  #finish(code: number, reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const handler of this.#closeHandlers) handler(code, reason);
  }
}

/** Completes the opening handshake on an upgrade socket (after the caller authorised it). */
export function acceptWebSocket(
  request: IncomingMessage,
  socket: Duplex,
  options?: WebSocketConnectionOptions,
): WebSocketConnection {
  const key = String(request.headers['sec-websocket-key']);
  socket.write(
    [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${websocketAccept(key)}`,
      '',
      '',
    ].join('\r\n'),
  );
  return new WebSocketConnection(socket, options);
}

/** Answers an upgrade request with an HTTP error and a JSON problem body, then ends the socket. */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  body: { code: string; message: string; status: number },
): void {
  const text = JSON.stringify(body);
  const reason =
    {
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      426: 'Upgrade Required',
      429: 'Too Many Requests',
      503: 'Service Unavailable',
    }[status] ?? 'Error';
  socket.end(
    [
      `HTTP/1.1 ${status} ${reason}`,
      'Content-Type: application/problem+json',
      `Content-Length: ${Buffer.byteLength(text)}`,
      'Connection: close',
      '',
      text,
    ].join('\r\n'),
  );
}

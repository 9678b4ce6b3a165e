/**
 * The live listen-in endpoint's WebSocket (RFC 6455), on the `ws` library: our own checks of the
 * opening handshake (so a bad one gets a JSON problem body), the upgrade through `ws`, and a small
 * connection API for the monitor. Client frames must be masked; a message above the size limit
 * ends the connection with 1009, a protocol error with 1002. No extensions; the one subprotocol
 * the caller selected (listen-in: `attest.listen.v1`) is echoed.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

export const WsCloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
} as const;

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

export interface WebSocketConnectionOptions {
  /** Largest message accepted from the peer. Default 4 KiB (listeners send only control frames). */
  readonly maxMessageBytes?: number;
  /** The subprotocol to answer with (one the client offered); default none. */
  readonly protocol?: string;
}

/** The close code for a `ws` receiver error: too big is 1009, anything else a protocol error. */
function closeCodeOf(error: Error & { code?: string }): number {
  return error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
    ? WsCloseCode.messageTooBig
    : WsCloseCode.protocolError;
}

/**
 * `ws`'s socket with a hook on `close()`, which `ws` itself calls, synchronously in the socket's
 * read, when the peer's close frame or a protocol error arrives (`WebSocketServer`'s documented
 * `WebSocket` option). The monitor hears of the end there, before the socket goes away, as the
 * listener would expect of its audit trail.
 */
class ListenerWebSocket extends WebSocket {
  onClosing: (() => void) | undefined;

  override close(code?: number, data?: string | Buffer): void {
    this.onClosing?.();
    super.close(code, data);
  }
}

/** The server end of an accepted WebSocket. `close()` is idempotent. */
export class WebSocketConnection {
  readonly #socket: Duplex;
  readonly #ws: ListenerWebSocket;
  readonly #closeHandlers: ((code: number, reason: string) => void)[] = [];
  #isClosed = false;
  #sentClose = false;
  #error: { readonly code: number; readonly reason: string } | undefined;

  constructor(ws: ListenerWebSocket, socket: Duplex) {
    this.#ws = ws;
    this.#socket = socket;
    // `ws` closes on the listener's close frame (echoing it, RFC 6455 §5.5.1) or on a protocol
    // violation or an oversized message (sending 1002 or 1009, then 'error' in the same turn),
    // and ends the socket itself. Which of them it was is known once that turn is over.
    ws.onClosing = () => {
      if (this.#sentClose) return;
      this.#sentClose = true;
      queueMicrotask(() => {
        const error = this.#error;
        if (error !== undefined) this.#finish(error.code, error.reason);
        else this.#finish(WsCloseCode.normal, 'client closed');
      });
    };
    ws.on('error', (error: Error & { code?: string }) => {
      this.#error = { code: closeCodeOf(error), reason: error.message };
    });
    socket.on('close', () => this.#finish(WsCloseCode.goingAway, 'connection closed'));
    // Text, binary and pong frames from a listener carry nothing we act on; pings are answered
    // by `ws`.
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
    if (this.isOpen) this.#ws.send(payload, { binary: true });
  }

  sendText(text: string): void {
    if (this.isOpen) this.#ws.send(text, { binary: false });
  }

  /** Sends a close frame and ends the connection (without waiting for the listener's reply). */
  close(code: number = WsCloseCode.normal, reason = ''): void {
    if (this.#isClosed) return;
    if (!this.#sentClose) {
      this.#sentClose = true;
      this.#ws.close(code, Buffer.from(reason, 'utf8').subarray(0, 120).toString('utf8'));
    }
    this.#socket.end();
    this.#finish(code, reason);
  }

  #finish(code: number, reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const handler of this.#closeHandlers) handler(code, reason);
  }
}

/**
 * Completes the opening handshake on an upgrade socket (after the caller authorised it and
 * checked it with {@link handshakeProblem}).
 */
export function acceptWebSocket(
  request: IncomingMessage,
  socket: Duplex,
  options: WebSocketConnectionOptions = {},
): WebSocketConnection {
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes ?? 4096,
    perMessageDeflate: false,
    clientTracking: false,
    WebSocket: ListenerWebSocket,
    handleProtocols: () => options.protocol ?? false,
  });
  let accepted: ListenerWebSocket | undefined;
  // Without `verifyClient`, `ws` completes the upgrade synchronously.
  server.handleUpgrade(request, socket, Buffer.alloc(0), (ws) => {
    accepted = ws;
  });
  if (accepted === undefined) throw new Error('WebSocket upgrade did not complete');
  return new WebSocketConnection(accepted, socket);
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

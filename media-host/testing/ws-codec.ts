/**
 * A WebSocket (RFC 6455) frame codec for tests: the client side of the live listen-in endpoint
 * (the product's server is the `ws` library). Encodes frames (masked, as clients must, or not, to
 * test refusals) and parses the server's frames incrementally.
 */
import { createHash } from 'node:crypto';
import { WsCloseCode } from '../src/live/websocket';

const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const WsOpcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key` (RFC 6455 §4.2.2). */
export function websocketAccept(key: string): string {
  return createHash('sha1').update(`${key}${HANDSHAKE_GUID}`).digest('base64');
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

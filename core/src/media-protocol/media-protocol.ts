/**
 * The Attest media protocol, version 1: binary frames between a media source (the .NET bridge or
 * the Teams simulator) and the media host, one TLS connection per media session.
 * Byte layouts and an example: `docs/media-protocol.md`. Pure functions over `Buffer`; no I/O.
 *
 * Every frame is a fixed 44-byte header followed by `payloadLength` bytes of payload. All integers
 * are little-endian (the .NET bridge's native order).
 */

import type {
  FrameHeaderFields,
  FrameTypeName,
  MediaProtocolDecodeError,
  MediaProtocolFrame,
  StreamGap,
  UnmixedAudioBuffer,
} from './frame-types';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  FRAME_HEADER_BYTES,
  FrameFlags,
  FrameType,
  MAX_TOKEN_BYTES,
  MAX_UNMIXED_BUFFERS,
  MEDIA_PROTOCOL_MAGIC,
  MEDIA_PROTOCOL_VERSION,
  MediaProtocolEncodeError,
  MediaProtocolErrorKind,
  PayloadFormat,
  StreamGapReason,
  StreamStateKind,
  isSequencedFrame,
  isMediaSessionId,
} from './frame-types';

export * from './frame-types';

const MAX_ERROR_MESSAGE_BYTES = 1024;
const frameTypeNames = new Map<number, FrameTypeName>(
  (Object.entries(FrameType) as [FrameTypeName, number][]).map(([name, value]) => [value, name]),
);
const knownPayloadFormats: ReadonlySet<number> = new Set(Object.values(PayloadFormat));
const knownGapReasons: ReadonlySet<number> = new Set(Object.values(StreamGapReason));
const STREAM_STATE_BYTES = 2;
const STREAM_GAP_BYTES = 16;

function writeSessionId(target: Buffer, offset: number, sessionId: string): void {
  if (!isMediaSessionId(sessionId)) throw new MediaProtocolEncodeError('sessionId must be a UUID');
  target.write(sessionId.replace(/-/g, ''), offset, 16, 'hex');
}

function readSessionId(source: Buffer, offset: number): string {
  const hex = source.toString('hex', offset, offset + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The session id of the last frame, as text: a connection carries one session, so decoding
 * compares four words instead of building the same string for every frame.
 */
class SessionIdCache {
  private w0 = -1;
  private w1 = -1;
  private w2 = -1;
  private w3 = -1;
  private text = '';

  read(source: Buffer, offset: number): string {
    const w0 = source.readUInt32LE(offset);
    const w1 = source.readUInt32LE(offset + 4);
    const w2 = source.readUInt32LE(offset + 8);
    const w3 = source.readUInt32LE(offset + 12);
    if (w0 !== this.w0 || w1 !== this.w1 || w2 !== this.w2 || w3 !== this.w3) {
      this.text = readSessionId(source, offset);
      this.w0 = w0;
      this.w1 = w1;
      this.w2 = w2;
      this.w3 = w3;
    }
    return this.text;
  }
}

function checkUint32(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new MediaProtocolEncodeError(`${name} must be a uint32`);
  }
}

function checkUint16(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new MediaProtocolEncodeError(`${name} must be a uint16`);
  }
}

function payloadOf(frame: MediaProtocolFrame): { format: number; flags: number; parts: Buffer[] } {
  switch (frame.type) {
    case 'hello': {
      const token = Buffer.from(frame.token, 'utf8');
      if (token.length === 0 || token.length > MAX_TOKEN_BYTES) {
        throw new MediaProtocolEncodeError('token must be 1 to 1024 bytes');
      }
      return { format: PayloadFormat.none, flags: 0, parts: [token] };
    }
    case 'audioMixed':
      return { format: frame.format, flags: 0, parts: [frame.payload] };
    case 'audioUnmixed': {
      if (frame.buffers.length > MAX_UNMIXED_BUFFERS) {
        throw new MediaProtocolEncodeError('unmixed audio carries at most 4 buffers');
      }
      const parts: Buffer[] = [Buffer.from([frame.buffers.length, 0, 0, 0])];
      for (const buffer of frame.buffers) {
        checkUint32(buffer.msi, 'buffer msi');
        const head = Buffer.allocUnsafe(16);
        head.writeUInt32LE(buffer.msi, 0);
        head.writeBigUInt64LE(buffer.originalSenderTimestamp100ns, 4);
        head.writeUInt32LE(buffer.payload.length, 12);
        parts.push(head, buffer.payload);
      }
      return { format: frame.format, flags: 0, parts };
    }
    case 'video':
    case 'vbss': {
      checkUint16(frame.width, 'width');
      checkUint16(frame.height, 'height');
      const head = Buffer.allocUnsafe(4);
      head.writeUInt16LE(frame.width, 0);
      head.writeUInt16LE(frame.height, 2);
      return {
        format: frame.format,
        flags: frame.isKeyFrame ? FrameFlags.keyFrame : 0,
        parts: [head, frame.payload],
      };
    }
    case 'dominantSpeaker': {
      checkUint32(frame.dominantMsi, 'dominantMsi');
      const body = Buffer.allocUnsafe(4);
      body.writeUInt32LE(frame.dominantMsi, 0);
      return { format: PayloadFormat.none, flags: 0, parts: [body] };
    }
    case 'activeSpeakers': {
      if (frame.msis.length > 255)
        throw new MediaProtocolEncodeError('at most 255 active speakers');
      const body = Buffer.allocUnsafe(1 + 4 * frame.msis.length);
      body.writeUInt8(frame.msis.length, 0);
      frame.msis.forEach((msi, i) => {
        checkUint32(msi, 'active speaker msi');
        body.writeUInt32LE(msi, 1 + 4 * i);
      });
      return { format: PayloadFormat.none, flags: 0, parts: [body] };
    }
    case 'streamState': {
      const { gap } = frame;
      if (gap === undefined) {
        if (frame.streamKind === StreamStateKind.session)
          throw new MediaProtocolEncodeError('a session-wide stream state must report a gap');
        return {
          format: PayloadFormat.none,
          flags: 0,
          parts: [Buffer.from([frame.streamKind, frame.isActive ? 1 : 0])],
        };
      }
      if (frame.isActive) throw new MediaProtocolEncodeError('a gap report is never active');
      checkUint32(gap.droppedFrames, 'droppedFrames');
      const body = Buffer.alloc(STREAM_GAP_BYTES);
      body.writeUInt8(frame.streamKind, 0);
      body.writeUInt8(gap.reason, 2);
      body.writeUInt32LE(gap.droppedFrames, 4);
      body.writeBigUInt64LE(gap.lastTimestamp100ns, 8);
      return { format: PayloadFormat.none, flags: 0, parts: [body] };
    }
    case 'end':
      return { format: PayloadFormat.none, flags: 0, parts: [] };
    case 'ack': {
      checkUint32(frame.ackedSequence, 'ackedSequence');
      checkUint32(frame.nextSequence, 'nextSequence');
      const body = Buffer.allocUnsafe(8);
      body.writeUInt32LE(frame.ackedSequence, 0);
      body.writeUInt32LE(frame.nextSequence, 4);
      return { format: PayloadFormat.none, flags: 0, parts: [body] };
    }
    case 'error': {
      checkUint16(frame.errorCode, 'errorCode');
      const text = Buffer.from(frame.message, 'utf8').subarray(0, MAX_ERROR_MESSAGE_BYTES);
      const head = Buffer.allocUnsafe(2);
      head.writeUInt16LE(frame.errorCode, 0);
      return { format: PayloadFormat.none, flags: 0, parts: [head, text] };
    }
  }
}

/** Encodes one frame. Throws {@link MediaProtocolEncodeError} on values that do not fit the format. */
export function encodeFrame(
  frame: MediaProtocolFrame,
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): Buffer {
  const { format, flags, parts } = payloadOf(frame);
  const payloadLength = parts.reduce((sum, part) => sum + part.length, 0);
  if (payloadLength > maxPayloadBytes)
    throw new MediaProtocolEncodeError('payload exceeds the maximum frame size');
  checkUint32(frame.sequence, 'sequence');
  checkUint32(frame.msi, 'msi');
  if (frame.timestamp100ns < 0n || frame.timestamp100ns > 0xffffffffffffffffn) {
    throw new MediaProtocolEncodeError('timestamp100ns must be a uint64');
  }
  if (!knownPayloadFormats.has(format))
    throw new MediaProtocolEncodeError('unknown payload format');
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadLength);
  out.writeUInt16LE(MEDIA_PROTOCOL_MAGIC, 0);
  out.writeUInt8(MEDIA_PROTOCOL_VERSION, 2);
  out.writeUInt8(FrameType[frame.type], 3);
  out.writeUInt16LE(flags, 4);
  out.writeUInt16LE(format, 6);
  writeSessionId(out, 8, frame.sessionId);
  out.writeUInt32LE(frame.msi, 24);
  out.writeUInt32LE(frame.sequence, 28);
  out.writeBigUInt64LE(frame.timestamp100ns, 32);
  out.writeUInt32LE(payloadLength, 40);
  let offset = FRAME_HEADER_BYTES;
  for (const part of parts) {
    part.copy(out, offset);
    offset += part.length;
  }
  return out;
}

export interface MediaFrameDecoderOptions {
  /** Largest accepted payload; a bigger declared length is `oversized`. Default 4 MiB. */
  readonly maxPayloadBytes?: number;
  /**
   * When set, sequenced frames must carry exactly this number and then the next ones; anything
   * else is `outOfOrder`. Leave unset to skip the check (the server sets it after hello).
   */
  readonly expectedSequence?: number;
}

export interface DecodeResult {
  readonly frames: MediaProtocolFrame[];
  /**
   * The bytes of `frames` exactly as received, contiguous (a view, not a copy): what a journal
   * can store without encoding the frames again.
   */
  readonly wire: Buffer;
  /**
   * Where each frame starts in `wire`, plus `wire.length` at the end (`frames.length + 1`
   * entries): frame `i` is `wire.subarray(frameOffsets[i], frameOffsets[i + 1])`.
   */
  readonly frameOffsets: readonly number[];
  /** Set once input was bad; the decoder accepts nothing more after that. */
  readonly error?: MediaProtocolDecodeError;
}

const EMPTY = Buffer.alloc(0);

type BodyResult = { ok: true; frame: MediaProtocolFrame } | { ok: false; message: string };

function decodeBody(
  type: FrameTypeName,
  header: FrameHeaderFields,
  flags: number,
  format: number,
  body: Buffer,
): BodyResult {
  const bad = (message: string): BodyResult => ({ ok: false, message });
  switch (type) {
    case 'hello':
      if (body.length === 0 || body.length > MAX_TOKEN_BYTES)
        return bad('hello token must be 1 to 1024 bytes');
      return { ok: true, frame: { ...header, type, token: body.toString('utf8') } };
    case 'audioMixed':
      return {
        ok: true,
        frame: { ...header, type, format: format as PayloadFormat, payload: body },
      };
    case 'audioUnmixed': {
      if (body.length < 4) return bad('unmixed audio payload shorter than its count');
      const count = body.readUInt8(0);
      if (count > MAX_UNMIXED_BUFFERS) return bad('unmixed audio declares more than 4 buffers');
      const buffers: UnmixedAudioBuffer[] = [];
      let offset = 4;
      for (let i = 0; i < count; i += 1) {
        if (offset + 16 > body.length) return bad('unmixed audio buffer header truncated');
        const msi = body.readUInt32LE(offset);
        const originalSenderTimestamp100ns = body.readBigUInt64LE(offset + 4);
        const length = body.readUInt32LE(offset + 12);
        offset += 16;
        if (offset + length > body.length)
          return bad('unmixed audio buffer longer than the payload');
        buffers.push({
          msi,
          originalSenderTimestamp100ns,
          payload: body.subarray(offset, offset + length),
        });
        offset += length;
      }
      if (offset !== body.length) return bad('unmixed audio payload has trailing bytes');
      return { ok: true, frame: { ...header, type, format: format as PayloadFormat, buffers } };
    }
    case 'video':
    case 'vbss':
      if (body.length < 4) return bad('video payload shorter than its size header');
      return {
        ok: true,
        frame: {
          ...header,
          type,
          format: format as PayloadFormat,
          isKeyFrame: (flags & FrameFlags.keyFrame) !== 0,
          width: body.readUInt16LE(0),
          height: body.readUInt16LE(2),
          payload: body.subarray(4),
        },
      };
    case 'dominantSpeaker':
      if (body.length !== 4) return bad('dominant speaker payload must be 4 bytes');
      return { ok: true, frame: { ...header, type, dominantMsi: body.readUInt32LE(0) } };
    case 'activeSpeakers': {
      if (body.length < 1) return bad('active speakers payload is empty');
      const count = body.readUInt8(0);
      if (body.length !== 1 + 4 * count)
        return bad('active speakers payload length does not match its count');
      const msis: number[] = [];
      for (let i = 0; i < count; i += 1) msis.push(body.readUInt32LE(1 + 4 * i));
      return { ok: true, frame: { ...header, type, msis } };
    }
    case 'streamState': {
      if (body.length !== STREAM_STATE_BYTES && body.length !== STREAM_GAP_BYTES)
        return bad('stream state payload must be 2 or 16 bytes');
      const kind = body.readUInt8(0);
      const state = body.readUInt8(1);
      if (body.length === STREAM_STATE_BYTES) {
        if (kind > 2 || state > 1) return bad('stream state payload has unknown values');
        return {
          ok: true,
          frame: { ...header, type, streamKind: kind as StreamStateKind, isActive: state === 1 },
        };
      }
      const reason = body.readUInt8(2);
      if (kind > 3 || state !== 0 || !knownGapReasons.has(reason) || body.readUInt8(3) !== 0)
        return bad('stream gap payload has unknown values');
      const gap: StreamGap = {
        reason: reason as StreamGapReason,
        droppedFrames: body.readUInt32LE(4),
        lastTimestamp100ns: body.readBigUInt64LE(8),
      };
      return {
        ok: true,
        frame: { ...header, type, streamKind: kind as StreamStateKind, isActive: false, gap },
      };
    }
    case 'end':
      if (body.length !== 0) return bad('end frame carries no payload');
      return { ok: true, frame: { ...header, type } };
    case 'ack':
      if (body.length !== 8) return bad('ack payload must be 8 bytes');
      return {
        ok: true,
        frame: {
          ...header,
          type,
          ackedSequence: body.readUInt32LE(0),
          nextSequence: body.readUInt32LE(4),
        },
      };
    case 'error':
      if (body.length < 2 || body.length > 2 + MAX_ERROR_MESSAGE_BYTES)
        return bad('error payload length out of range');
      return {
        ok: true,
        frame: {
          ...header,
          type,
          errorCode: body.readUInt16LE(0),
          message: body.subarray(2).toString('utf8'),
        },
      };
  }
}

/**
 * Incremental decoder for one connection: feed it chunks with any boundaries; it returns whole
 * frames and, on bad input, a typed error. It never throws. After an error it is spent: the
 * connection must be closed. Decoded payloads are views on the input chunks (copy to keep them
 * beyond the next read if the caller reuses buffers).
 */
export class MediaFrameDecoder {
  private pending: Buffer = EMPTY;
  private consumedBytes = 0;
  private failure: MediaProtocolDecodeError | undefined;
  private readonly maxPayloadBytes: number;
  private expectedSequence: number | undefined;
  private readonly sessionIds = new SessionIdCache();

  constructor(options: MediaFrameDecoderOptions = {}) {
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.expectedSequence = options.expectedSequence;
  }

  /** The error that spent this decoder, if any. */
  get error(): MediaProtocolDecodeError | undefined {
    return this.failure;
  }

  /** Bytes received but not yet part of a whole frame. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** Starts (or moves) the sequence check: the next sequenced frame must carry `sequence`. */
  expectSequence(sequence: number): void {
    this.expectedSequence = sequence;
  }

  push(chunk: Buffer): DecodeResult {
    const frames: MediaProtocolFrame[] = [];
    const frameOffsets: number[] = [0];
    if (this.failure !== undefined)
      return { frames, wire: EMPTY, frameOffsets, error: this.failure };
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    while (data.length - offset >= FRAME_HEADER_BYTES) {
      const result = this.decodeAt(data, offset);
      if (result === 'incomplete') break;
      if ('kind' in result) {
        this.failure = result;
        this.pending = EMPTY;
        return { frames, wire: data.subarray(0, offset), frameOffsets, error: result };
      }
      frames.push(result.frame);
      offset = result.next;
      frameOffsets.push(offset);
    }
    this.consumedBytes += offset;
    // Copy the tail so a retained frame payload never pins a huge chunk, and vice versa.
    this.pending = offset === data.length ? EMPTY : Buffer.from(data.subarray(offset));
    return { frames, wire: data.subarray(0, offset), frameOffsets };
  }

  /** Call when the connection ends: a partial frame left over is `truncated`. */
  end(): MediaProtocolDecodeError | undefined {
    if (this.failure === undefined && this.pending.length > 0) {
      this.failure = {
        kind: MediaProtocolErrorKind.truncated,
        message: `connection ended inside a frame (${this.pending.length} bytes pending)`,
        offset: this.consumedBytes,
      };
    }
    return this.failure;
  }

  private decodeAt(
    data: Buffer,
    offset: number,
  ): 'incomplete' | MediaProtocolDecodeError | { frame: MediaProtocolFrame; next: number } {
    const at = this.consumedBytes + offset;
    const fail = (kind: MediaProtocolErrorKind, message: string): MediaProtocolDecodeError => ({
      kind,
      message,
      offset: at,
    });
    if (data.readUInt16LE(offset) !== MEDIA_PROTOCOL_MAGIC)
      return fail('badMagic', 'frame does not start with the magic bytes');
    const version = data.readUInt8(offset + 2);
    if (version !== MEDIA_PROTOCOL_VERSION)
      return fail('unsupportedVersion', `protocol version ${version} is not supported`);
    const typeCode = data.readUInt8(offset + 3);
    const type = frameTypeNames.get(typeCode);
    if (type === undefined)
      return fail('unknownFrameType', `frame type 0x${typeCode.toString(16)} is unknown`);
    const flags = data.readUInt16LE(offset + 4);
    const format = data.readUInt16LE(offset + 6);
    if (!knownPayloadFormats.has(format))
      return fail('malformed', `payload format ${format} is unknown`);
    const payloadLength = data.readUInt32LE(offset + 40);
    if (payloadLength > this.maxPayloadBytes) {
      return fail(
        'oversized',
        `payload of ${payloadLength} bytes exceeds the limit of ${this.maxPayloadBytes}`,
      );
    }
    const end = offset + FRAME_HEADER_BYTES + payloadLength;
    if (end > data.length) return 'incomplete';
    const header: FrameHeaderFields = {
      sessionId: this.sessionIds.read(data, offset + 8),
      msi: data.readUInt32LE(offset + 24),
      sequence: data.readUInt32LE(offset + 28),
      timestamp100ns: data.readBigUInt64LE(offset + 32),
    };
    const body = decodeBody(
      type,
      header,
      flags,
      format,
      data.subarray(offset + FRAME_HEADER_BYTES, end),
    );
    if (!body.ok) return fail('malformed', body.message);
    if (isSequencedFrame(body.frame)) {
      if (this.expectedSequence !== undefined) {
        if (header.sequence !== this.expectedSequence) {
          return fail(
            'outOfOrder',
            `frame sequence ${header.sequence} where ${this.expectedSequence} was expected`,
          );
        }
        this.expectedSequence += 1;
      }
    } else if (header.sequence !== 0) {
      return fail('malformed', `${type} frame must carry sequence 0`);
    }
    return { frame: body.frame, next: end };
  }
}

/** Decodes a buffer that holds exactly whole frames (tests, tools). */
export function decodeFrames(bytes: Buffer, options: MediaFrameDecoderOptions = {}): DecodeResult {
  const decoder = new MediaFrameDecoder(options);
  const result = decoder.push(bytes);
  if (result.error !== undefined) return result;
  const error = decoder.end();
  return error === undefined ? result : { ...result, error };
}

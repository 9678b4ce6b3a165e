/**
 * The Attest media protocol, version 1: its constants, frame shapes and error kinds. The codec is
 * `media-protocol.ts`; byte layouts in `docs/media-protocol.md`. Pure; no I/O.
 */

export const MEDIA_PROTOCOL_VERSION = 1 as const;
/** `A`, `M`: the first two bytes of every frame. */
export const MEDIA_PROTOCOL_MAGIC = 0x4d41;
export const FRAME_HEADER_BYTES = 44;
/** Default upper bound of one frame's payload (a 1080p H.264 key frame fits easily). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
/** Unmixed audio carries at most this many per-speaker buffers per frame (Teams' limit). */
export const MAX_UNMIXED_BUFFERS = 4;
/** Dominant speaker value meaning "nobody" (Teams' `0xFFFFFFFF`). */
export const NO_DOMINANT_SPEAKER = 0xffffffff;
/** Longest session token accepted in a hello frame, in bytes. */
export const MAX_TOKEN_BYTES = 1024;

export const FrameType = {
  hello: 0x01,
  audioMixed: 0x02,
  audioUnmixed: 0x03,
  video: 0x04,
  vbss: 0x05,
  dominantSpeaker: 0x06,
  activeSpeakers: 0x07,
  streamState: 0x08,
  end: 0x09,
  /** Server → client: what the host has made durable and where the client resumes. */
  ack: 0x81,
  /** Server → client: why the host is ending the connection. */
  error: 0x82,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];
export type FrameTypeName = keyof typeof FrameType;

export const PayloadFormat = {
  none: 0,
  /** PCM 16 kHz, 16-bit signed little-endian, mono; 20 ms = 640 bytes. */
  pcm16k: 1,
  /** PCM 44.1 kHz, 16-bit, stereo. */
  pcm44kStereo: 2,
  /** H.264 Annex-B, one whole access unit per frame. */
  h264: 3,
  nv12: 4,
} as const;
export type PayloadFormat = (typeof PayloadFormat)[keyof typeof PayloadFormat];

/** Header flag bits. */
export const FrameFlags = { keyFrame: 0x0001 } as const;

/** `session` (every stream of the session) appears only in a gap report. */
export const StreamStateKind = { audio: 0, video: 1, vbss: 2, session: 3 } as const;
export type StreamStateKind = (typeof StreamStateKind)[keyof typeof StreamStateKind];

/** Why a source reports a gap in a stream-state frame. */
export const StreamGapReason = {
  /** The source's bounded queue was full: the host did not take frames fast enough. */
  sourceQueueOverflow: 1,
} as const;
export type StreamGapReason = (typeof StreamGapReason)[keyof typeof StreamGapReason];

/**
 * Frames a source dropped: from the frame header's timestamp (the first dropped frame) to
 * `lastTimestamp100ns` (the last one). One report per dropped interval.
 */
export interface StreamGap {
  readonly reason: StreamGapReason;
  readonly droppedFrames: number;
  readonly lastTimestamp100ns: bigint;
}

/** Fields every frame carries in its header. */
export interface FrameHeaderFields {
  /** Session id from the media config blob, a UUID in canonical text form. */
  readonly sessionId: string;
  /**
   * Media frames (every client frame except hello) are numbered 1, 2, 3, … per session, across
   * reconnects; after a reconnect the client continues at the host's `nextSequence`. Hello, ack and
   * error frames carry 0 (ack carries its numbers in the payload).
   */
  readonly sequence: number;
  /** Platform timestamp in 100 ns units; 0 when not applicable. */
  readonly timestamp100ns: bigint;
  /** Source MSI (uint32); 0 when not applicable. */
  readonly msi: number;
}

export interface UnmixedAudioBuffer {
  readonly msi: number;
  /** Teams' `OriginalSenderTimestamp` (100 ns); may be 0 early in a call. */
  readonly originalSenderTimestamp100ns: bigint;
  readonly payload: Buffer;
}

export type MediaProtocolFrame =
  | (FrameHeaderFields & { readonly type: 'hello'; readonly token: string })
  | (FrameHeaderFields & {
      readonly type: 'audioMixed';
      readonly format: PayloadFormat;
      readonly payload: Buffer;
    })
  | (FrameHeaderFields & {
      readonly type: 'audioUnmixed';
      readonly format: PayloadFormat;
      readonly buffers: readonly UnmixedAudioBuffer[];
    })
  | (FrameHeaderFields & {
      readonly type: 'video' | 'vbss';
      readonly format: PayloadFormat;
      readonly isKeyFrame: boolean;
      readonly width: number;
      readonly height: number;
      readonly payload: Buffer;
    })
  | (FrameHeaderFields & { readonly type: 'dominantSpeaker'; readonly dominantMsi: number })
  | (FrameHeaderFields & { readonly type: 'activeSpeakers'; readonly msis: readonly number[] })
  | (FrameHeaderFields & {
      readonly type: 'streamState';
      readonly streamKind: StreamStateKind;
      readonly isActive: boolean;
      /** Set when the frame reports dropped frames instead of a source's state. */
      readonly gap?: StreamGap;
    })
  | (FrameHeaderFields & { readonly type: 'end' })
  | (FrameHeaderFields & {
      readonly type: 'ack';
      /** Highest sequence the host has made durable (0 = none). */
      readonly ackedSequence: number;
      /** The sequence the host expects next; the client resends from here after a reconnect. */
      readonly nextSequence: number;
    })
  | (FrameHeaderFields & {
      readonly type: 'error';
      readonly errorCode: number;
      readonly message: string;
    });

/** Frames that carry media and take a sequence number. */
export function isSequencedFrame(frame: MediaProtocolFrame): boolean {
  return frame.type !== 'hello' && frame.type !== 'ack' && frame.type !== 'error';
}

export const MediaProtocolErrorKind = {
  badMagic: 'badMagic',
  unsupportedVersion: 'unsupportedVersion',
  unknownFrameType: 'unknownFrameType',
  oversized: 'oversized',
  malformed: 'malformed',
  outOfOrder: 'outOfOrder',
  truncated: 'truncated',
} as const;
export type MediaProtocolErrorKind =
  (typeof MediaProtocolErrorKind)[keyof typeof MediaProtocolErrorKind];

/** Error codes carried by an `error` frame. */
export const MediaProtocolErrorCode = {
  protocolViolation: 1,
  unauthorized: 2,
  sessionClosed: 3,
  overloaded: 4,
  internal: 5,
} as const;

/** A decoding failure; returned, never thrown, by {@link MediaFrameDecoder}. */
export interface MediaProtocolDecodeError {
  readonly kind: MediaProtocolErrorKind;
  /** Log-safe description (no payload bytes, no token). */
  readonly message: string;
  /** Byte offset in the connection's stream where the bad frame starts. */
  readonly offset: number;
}

/** Thrown by the encoder on arguments that cannot be encoded (a programming error). */
export class MediaProtocolEncodeError extends Error {
  constructor(message: string) {
    super(`[ATT_PROTOCOL_VIOLATION] ${message}`);
    this.name = 'MediaProtocolEncodeError';
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isMediaSessionId(value: string): boolean {
  return uuidPattern.test(value);
}

/**
 * Turns the frames of one stream into the bytes of a browser-playable container, in order.
 * The writer pipeline stages whatever bytes a formatter emits as blocks; formatters never do
 * I/O. Audio formatters may encode off the event loop (worker threads), hence async.
 */
import type { StreamKind } from '@attest/core';
import type { FormatterResumeState } from './resume-state';
import type { StreamTimingIndex } from './timing-index';

/** One media frame of one stream, as decoded from the media protocol. */
export interface MediaFrame {
  /** Platform timestamp in 100 ns units (Teams' media timestamps). */
  readonly timestamp100ns: bigint;
  /** Raw payload: PCM 16 kHz 16-bit mono little-endian for audio, H.264 Annex-B access unit for video/vbss. */
  readonly payload: Buffer;
  /** For video: whether this access unit is a key frame (IDR). */
  readonly isKeyFrame?: boolean;
  /** For video: pixel size when known. */
  readonly width?: number;
  readonly height?: number;
  /**
   * For video: frames of the source were not stored just before this one (persistence paused,
   * or the source reported frames it dropped), so a picture it refers to may be missing.
   */
  readonly followsBreak?: boolean;
}

export interface FormattedChunk {
  readonly bytes: Buffer;
  /** Media time covered up to the end of these bytes, in ms from the stream's first frame. */
  readonly mediaEndInMs: number;
}

export interface StreamFormatter {
  readonly kind: StreamKind;
  /** MIME type of the whole stream, for example `audio/ogg; codecs=opus` or `video/mp4; codecs="avc1.42E01E"`. */
  readonly contentType: string;
  /** File extension of the blob, without dot: `ogg`, `webm`, `wav`, `mp4`. */
  readonly extension: string;
  /** Accepts frames in timestamp order; returns the container bytes ready so far (may be empty). */
  push(frame: MediaFrame): Promise<FormattedChunk[]>;
  /**
   * The same as {@link push}, synchronously, for formatters that do no work off the event loop
   * (raw, WAV): the pipeline then writes a frame in the socket's turn without a promise per frame.
   * Throws where `push` rejects. Formatters that encode in workers leave it undefined.
   */
  pushSync?(frame: MediaFrame): FormattedChunk[];
  /** Emits everything still buffered and the container's trailer, if any. Idempotent. */
  end(): Promise<FormattedChunk[]>;
  /** Releases workers; idempotent. */
  close(): Promise<void>;
  /**
   * The stream's timing index (chunk byte offsets, platform timestamps, gaps), complete after
   * `end()`; the pipeline stores it as the blob's JSON sidecar. See `docs/media-formats.md`.
   */
  getTimingIndex?(): StreamTimingIndex;
  /**
   * Where the stream stands after the bytes returned so far, to continue it after a restart;
   * undefined before the first chunk. See `resume-state.ts`.
   */
  getResumeState?(): FormatterResumeState | undefined;
}

export interface StreamFormatterOptions {
  readonly kind: StreamKind;
  /** Store audio losslessly (PCM in WAV/raw) instead of Opus. */
  readonly isLossless: boolean;
  /** Continue a stream already partly stored (after a restart) instead of starting a new one. */
  readonly resumeState?: FormatterResumeState;
}

/** Creates the formatter for a stream; chosen by kind and configuration. */
export type StreamFormatterFactory = (options: StreamFormatterOptions) => StreamFormatter;

/** A synchronous formatter step as a promise: its result, or its error as the rejection. */
export function settled<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

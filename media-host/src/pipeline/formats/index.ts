/**
 * Stream formats: the container bytes of every stored stream. `createStreamFormatter` picks one by
 * stream kind and the lossless switch. Formats and the timing index: `docs/media-formats.md`.
 */
import { StreamKind } from '@attest/core';
import { H264Fmp4Formatter } from './h264-fmp4.format';
import {
  getDefaultOpusEncoderPool,
  type OpusEncoderPool,
  type OpusEncoderSettings,
} from './opus-encoder-pool';
import { OpusOggFormatter } from './opus-ogg.format';
import type {
  StreamFormatter,
  StreamFormatterFactory,
  StreamFormatterOptions,
} from './stream-format';
import { WavFormatter } from './wav.format';

export * from './stream-format';
export * from './timing-index';
export * from './ogg';
export * from './opus-encoder-pool';
export * from './opus-ogg.format';
export * from './opus-decode';
export * from './wav.format';
export * from './h264-fmp4.format';
export * from './annex-b';
export * from './mp4-boxes';
export * from './resume-state';

export interface StreamFormatterFactoryOptions {
  /** Pool for Opus; default: the host-wide pool ({@link getDefaultOpusEncoderPool}). */
  readonly opusPool?: OpusEncoderPool;
  readonly opus?: OpusEncoderSettings;
  /** Media per chunk the formatters return. Default 1000 ms (the pipeline's minimum block). */
  readonly chunkDurationInMs?: number;
}

/** Builds a factory with explicit dependencies (tests, benchmarks, a host with its own pool). */
export function createStreamFormatterFactory(
  options: StreamFormatterFactoryOptions = {},
): StreamFormatterFactory {
  return (stream: StreamFormatterOptions): StreamFormatter => {
    const chunkDurationInMs = options.chunkDurationInMs ?? 1000;
    switch (stream.kind) {
      case StreamKind.audio:
        return stream.isLossless
          ? new WavFormatter({ chunkDurationInMs, resumeState: stream.resumeState })
          : new OpusOggFormatter({
              ...options.opus,
              pool: options.opusPool ?? getDefaultOpusEncoderPool(),
              chunkDurationInMs,
              resumeState: stream.resumeState,
            });
      case StreamKind.video:
      case StreamKind.vbss:
        return new H264Fmp4Formatter({
          kind: stream.kind,
          fragmentDurationInMs: chunkDurationInMs,
          resumeState: stream.resumeState,
        });
    }
  };
}

/**
 * The host's formatter factory: Opus in Ogg (or WAV when lossless) for audio, H.264 in fragmented
 * MP4 for video and screen share. Audio formatters share the host-wide Opus worker pool; close it
 * with `closeDefaultOpusEncoderPool()` at shutdown.
 */
export const createStreamFormatter: StreamFormatterFactory = (stream) =>
  createStreamFormatterFactory()(stream);

/**
 * The simplest lossless formatter: audio is stored as the raw PCM received (16 kHz, 16-bit, mono,
 * little-endian, `audio/L16`), video and screen share as the H.264 Annex-B access units received.
 * Every frame's bytes come out immediately, so stored bytes equal the frames byte for byte. Used
 * by tests and benchmarks, and as the fallback when the browser-playable formats are not wanted.
 */
import {
  settled,
  type FormattedChunk,
  type MediaFrame,
  type StreamFormatter,
  type StreamFormatterFactory,
  type StreamFormatterOptions,
} from './formats/stream-format';

const AUDIO_FRAME_MS = 20;

export class RawPassthroughFormatter implements StreamFormatter {
  readonly kind: StreamFormatterOptions['kind'];
  readonly contentType: string;
  readonly extension: string;
  private firstTimestamp: bigint | undefined;
  private frames = 0;
  private isEnded = false;

  constructor(options: StreamFormatterOptions) {
    this.kind = options.kind;
    this.contentType =
      options.kind === 'audio' ? 'audio/L16; rate=16000; channels=1' : 'video/h264';
    this.extension = options.kind === 'audio' ? 'pcm' : 'h264';
  }

  push(frame: MediaFrame): Promise<FormattedChunk[]> {
    return settled(() => this.pushSync(frame));
  }

  pushSync(frame: MediaFrame): FormattedChunk[] {
    if (this.isEnded) throw new Error('frame pushed after end');
    this.firstTimestamp ??= frame.timestamp100ns;
    this.frames += 1;
    // Audio time counts frames (silence-suppressed streams have no holes); video time follows timestamps.
    const mediaEndInMs =
      this.kind === 'audio'
        ? this.frames * AUDIO_FRAME_MS
        : Number((frame.timestamp100ns - this.firstTimestamp) / 10_000n) + 1;
    return frame.payload.length === 0 ? [] : [{ bytes: frame.payload, mediaEndInMs }];
  }

  end(): Promise<FormattedChunk[]> {
    this.isEnded = true;
    return Promise.resolve([]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export const createRawPassthroughFormatter: StreamFormatterFactory = (options) =>
  new RawPassthroughFormatter(options);

/**
 * Audio stored losslessly: the PCM exactly as received, in a streamable WAV (RIFF) file.
 *
 * A WAV header states its sizes up front, which a stream being written does not know. The header
 * therefore carries the largest sizes RIFF allows (`0xFFFFFFFF`), the convention for WAV of
 * unknown length that media players (and browsers' demuxers) read as "play to the end of the
 * file". At seal the pipeline may swap in {@link WavFormatter.getFinalHeader} (same 44 bytes, so
 * no offset moves) to give the file exact sizes; the media bytes are untouched either way.
 */
import { ErrorCode, RecorderError, StreamKind } from '@attest/core';
import { AudioTimeline } from './audio-timeline';
import {
  FormatterResumeFormat,
  checkResumeState,
  positionNumber,
  type FormatterResumeState,
} from './resume-state';
import {
  settled,
  type FormattedChunk,
  type MediaFrame,
  type StreamFormatter,
} from './stream-format';
import { TimingIndexBuilder, type StreamTimingIndex } from './timing-index';

export const WAV_HEADER_BYTES = 44;
const UNKNOWN_SIZE = 0xffffffff;

/** A 44-byte canonical WAV header for 16 kHz 16-bit mono PCM; `dataBytes` undefined = unknown. */
export function buildWavHeader(dataBytes?: number): Buffer {
  const header = Buffer.alloc(WAV_HEADER_BYTES);
  const sampleRateInHz = 16_000;
  const bytesPerSample = 2;
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(
    dataBytes === undefined ? UNKNOWN_SIZE : Math.min(UNKNOWN_SIZE, 36 + dataBytes),
    4,
  );
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRateInHz, 24);
  header.writeUInt32LE(sampleRateInHz * bytesPerSample, 28); // byte rate
  header.writeUInt16LE(bytesPerSample, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(
    dataBytes === undefined ? UNKNOWN_SIZE - 36 : Math.min(UNKNOWN_SIZE - 36, dataBytes),
    40,
  );
  return header;
}

export interface WavFormatterOptions {
  /** Media per returned chunk. Default 1000 ms. */
  readonly chunkDurationInMs?: number;
  /** A timestamp step this much longer than 20 ms counts as a gap. Default 40 ms. */
  readonly gapThresholdInMs?: number;
  /** Continue a stored stream after a restart (no new header). */
  readonly resumeState?: FormatterResumeState;
}

export class WavFormatter implements StreamFormatter {
  readonly kind = StreamKind.audio;
  readonly contentType = 'audio/wav';
  readonly extension = 'wav';
  readonly #index = new TimingIndexBuilder(StreamKind.audio, this.contentType);
  readonly #timeline: AudioTimeline;
  readonly #framesPerChunk: number;
  #pending: Buffer[] = [];
  #pendingFirstTimestamp: bigint | undefined;
  #framesStored = 0n;
  #hasHeader = false;
  #isEnded = false;
  #lastEmittedTimestamp: bigint | undefined;

  constructor(options: WavFormatterOptions = {}) {
    this.#timeline = new AudioTimeline(this.#index, options.gapThresholdInMs ?? 40);
    this.#framesPerChunk = Math.max(1, Math.round((options.chunkDurationInMs ?? 1000) / 20));
    if (options.resumeState !== undefined) {
      const state = checkResumeState(options.resumeState, FormatterResumeFormat.wav);
      this.#framesStored = BigInt(positionNumber(state, 'framesStored'));
      this.#hasHeader = true;
      this.#lastEmittedTimestamp = BigInt(state.lastFrameTimestamp100ns);
      this.#index.resumeAt(state.byteLength, BigInt(state.firstTimestamp100ns));
      this.#timeline.resumeAfter(this.#lastEmittedTimestamp);
    }
  }

  getResumeState(): FormatterResumeState | undefined {
    const first = this.#index.firstTimestamp100ns;
    if (this.#lastEmittedTimestamp === undefined || first === undefined) return undefined;
    return {
      v: 1,
      format: FormatterResumeFormat.wav,
      byteLength: this.#index.bytesSoFar,
      mediaEndInMs: Number(this.#framesStored) * 20,
      firstTimestamp100ns: first.toString(),
      lastFrameTimestamp100ns: this.#lastEmittedTimestamp.toString(),
      position: { framesStored: Number(this.#framesStored) },
    };
  }

  push(frame: MediaFrame): Promise<FormattedChunk[]> {
    return settled(() => this.pushSync(frame));
  }

  pushSync(frame: MediaFrame): FormattedChunk[] {
    if (this.#isEnded) throw new RecorderError(ErrorCode.Internal, 'audio frame pushed after end');
    this.#timeline.accept(
      frame.payload,
      frame.timestamp100ns,
      this.#framesStored + BigInt(this.#pending.length),
    );
    this.#pendingFirstTimestamp ??= frame.timestamp100ns;
    this.#pending.push(frame.payload);
    return this.#pending.length >= this.#framesPerChunk ? [this.#flush()] : [];
  }

  end(): Promise<FormattedChunk[]> {
    if (this.#isEnded) return Promise.resolve([]);
    this.#isEnded = true;
    return Promise.resolve(this.#pending.length > 0 ? [this.#flush()] : []);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  getTimingIndex(): StreamTimingIndex {
    return this.#index.build();
  }

  /** The header with exact sizes for the PCM stored so far (swap it in at seal if wanted). */
  getFinalHeader(): Buffer {
    return buildWavHeader(Number(this.#framesStored) * 640);
  }

  #flush(): FormattedChunk {
    const parts: Buffer[] = [];
    if (!this.#hasHeader) {
      this.#hasHeader = true;
      parts.push(buildWavHeader());
      this.#index.addBytes(WAV_HEADER_BYTES);
    }
    const pcm = Buffer.concat(this.#pending);
    parts.push(pcm);
    const start = this.#framesStored;
    this.#framesStored += BigInt(this.#pending.length);
    const mediaEndInMs = Number(this.#framesStored) * 20;
    this.#index.addChunk(
      {
        mediaStartInMs: Number(start) * 20,
        mediaEndInMs,
        timestamp100ns: (this.#pendingFirstTimestamp ?? 0n).toString(),
        isSyncPoint: true,
      },
      pcm.length,
    );
    this.#pending = [];
    this.#pendingFirstTimestamp = undefined;
    this.#lastEmittedTimestamp = this.#timeline.lastTimestamp100ns;
    return { bytes: Buffer.concat(parts), mediaEndInMs };
  }
}

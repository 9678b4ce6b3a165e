/**
 * Audio stored compressed: 16 kHz mono PCM frames → Opus (worker pool) → Ogg pages (RFC 7845).
 *
 * Chunking: frames are buffered until they cover `chunkDurationInMs` (default 1 s), then encoded
 * in one worker job and returned as one chunk of whole Ogg pages. The first chunk also carries the
 * two header pages. `end()` encodes the rest plus one silent flush frame (to drain the encoder's
 * look-ahead) and trims it with the end-of-stream page's granule position, as RFC 7845 §4.5 allows.
 *
 * Gaps: missing frames are never filled with invented audio; the Ogg stream continues seamlessly
 * and the gap is written to the timing index with its platform timestamps.
 */
import { ErrorCode, RecorderError, StreamKind } from '@attest/core';
import type { FormattedChunk, MediaFrame, StreamFormatter } from './stream-format';
import { OggHeaderType, buildOggPage, paginate } from './ogg';
import type { OpusEncoderPool, OpusEncoderSettings, OpusStreamEncoder } from './opus-encoder-pool';
import { OPUS_INPUT_SAMPLE_RATE_IN_HZ, PCM_BYTES_PER_FRAME } from './opus-encoder-pool';
import { AudioTimeline } from './audio-timeline';
import {
  FormatterResumeFormat,
  checkResumeState,
  positionNumber,
  type FormatterResumeState,
} from './resume-state';
import { TimingIndexBuilder, type StreamTimingIndex } from './timing-index';

/** libopus look-ahead at 48 kHz for the VOIP/audio applications (2.5 ms + 4 ms). */
export const OPUS_PRE_SKIP_48K = 312;
const SAMPLES_48K_PER_FRAME = 960n;
export const OPUS_VENDOR = 'Attest media host (libopus 1.4 via opusscript)';

export interface OpusOggFormatterOptions extends OpusEncoderSettings {
  readonly pool: OpusEncoderPool;
  /** Media per returned chunk. Default 1000 ms. 20 emits every frame (for tests / low latency). */
  readonly chunkDurationInMs?: number;
  /** A timestamp step this much longer than 20 ms counts as a gap. Default 40 ms (two frames). */
  readonly gapThresholdInMs?: number;
  /** Ogg logical stream serial number. Default 1 (one stream per blob). */
  readonly serialNumber?: number;
  /** Continue a stored stream after a restart (no new headers; page numbers and granules go on). */
  readonly resumeState?: FormatterResumeState;
}

export function buildOpusHead(preSkip48k: number, inputSampleRateInHz: number): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head.writeUInt8(1, 8); // version
  head.writeUInt8(1, 9); // channel count: mono
  head.writeUInt16LE(preSkip48k, 10);
  head.writeUInt32LE(inputSampleRateInHz, 12);
  head.writeInt16LE(0, 16); // output gain
  head.writeUInt8(0, 18); // channel mapping family 0: mono/stereo, no table
  return head;
}

export function buildOpusTags(vendor: string, comments: readonly string[] = []): Buffer {
  const vendorBytes = Buffer.from(vendor, 'utf8');
  const parts: Buffer[] = [
    Buffer.from('OpusTags', 'latin1'),
    u32(vendorBytes.length),
    vendorBytes,
    u32(comments.length),
  ];
  for (const comment of comments) {
    const bytes = Buffer.from(comment, 'utf8');
    parts.push(u32(bytes.length), bytes);
  }
  return Buffer.concat(parts);
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value, 0);
  return b;
}

export class OpusOggFormatter implements StreamFormatter {
  readonly kind = StreamKind.audio;
  readonly contentType = 'audio/ogg; codecs=opus';
  readonly extension = 'ogg';
  readonly #encoder: OpusStreamEncoder;
  readonly #framesPerChunk: number;
  #serialNumber: number;
  readonly #index = new TimingIndexBuilder(StreamKind.audio, this.contentType);
  readonly #timeline: AudioTimeline;
  #pending: Buffer[] = [];
  #pendingFirstTimestamp: bigint | undefined;
  #framesEncoded = 0n;
  #pageSequence = 0;
  #hasHeaders = false;
  #ending: Promise<FormattedChunk[]> | undefined;
  #isClosed = false;
  #lastEmittedTimestamp: bigint | undefined;

  constructor(options: OpusOggFormatterOptions) {
    this.#encoder = options.pool.openStream(options);
    this.#framesPerChunk = Math.max(1, Math.round((options.chunkDurationInMs ?? 1000) / 20));
    this.#timeline = new AudioTimeline(this.#index, options.gapThresholdInMs ?? 40);
    this.#serialNumber = options.serialNumber ?? 1;
    if (options.resumeState !== undefined) {
      // NOTE: a fresh encoder starts with its own look-ahead, so audio after a restart sits
      // 6.5 ms later than its granule says; far below what a listener or a sync check notices.
      const state = checkResumeState(options.resumeState, FormatterResumeFormat.opusOgg);
      this.#serialNumber = positionNumber(state, 'serialNumber');
      this.#pageSequence = positionNumber(state, 'pageSequence');
      this.#framesEncoded = BigInt(positionNumber(state, 'framesEncoded'));
      this.#hasHeaders = true;
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
      format: FormatterResumeFormat.opusOgg,
      byteLength: this.#index.bytesSoFar,
      mediaEndInMs: this.#mediaMs(this.#framesEncoded),
      firstTimestamp100ns: first.toString(),
      lastFrameTimestamp100ns: this.#lastEmittedTimestamp.toString(),
      position: {
        serialNumber: this.#serialNumber,
        pageSequence: this.#pageSequence,
        framesEncoded: Number(this.#framesEncoded),
      },
    };
  }

  async push(frame: MediaFrame): Promise<FormattedChunk[]> {
    if (this.#ending !== undefined || this.#isClosed) {
      throw new RecorderError(ErrorCode.Internal, 'audio frame pushed after end');
    }
    this.#timeline.accept(
      frame.payload,
      frame.timestamp100ns,
      this.#framesEncoded + BigInt(this.#pending.length),
    );
    this.#pendingFirstTimestamp ??= frame.timestamp100ns;
    this.#pending.push(frame.payload);
    if (this.#pending.length < this.#framesPerChunk) return [];
    return [await this.#encodePending(false)];
  }

  end(): Promise<FormattedChunk[]> {
    this.#ending ??= (async () => {
      if (this.#framesEncoded === 0n && this.#pending.length === 0) return [];
      return [await this.#encodePending(true)];
    })();
    return this.#ending;
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    await this.#encoder.close();
  }

  /** The stream's timing index so far (complete after `end()`). */
  getTimingIndex(): StreamTimingIndex {
    return this.#index.build();
  }

  #mediaMs(frames: bigint): number {
    return Number(frames) * 20;
  }

  async #encodePending(isEnd: boolean): Promise<FormattedChunk> {
    const frames = this.#pending;
    const firstTimestamp = this.#pendingFirstTimestamp;
    this.#pending = [];
    this.#pendingFirstTimestamp = undefined;
    // The flush frame drains libopus' look-ahead; the EOS granule trims it away again.
    const input = isEnd ? [...frames, Buffer.alloc(PCM_BYTES_PER_FRAME)] : frames;
    const packets = await this.#encoder.encode(Buffer.concat(input));
    const startFrames = this.#framesEncoded;
    const realFrames = BigInt(frames.length);
    const parts: Buffer[] = [];
    let headerBytes = 0;
    if (!this.#hasHeaders) {
      this.#hasHeaders = true;
      for (const [packet, headerType] of [
        [
          buildOpusHead(OPUS_PRE_SKIP_48K, OPUS_INPUT_SAMPLE_RATE_IN_HZ),
          OggHeaderType.beginOfStream,
        ],
        [buildOpusTags(OPUS_VENDOR), 0],
      ] as const) {
        const page = buildOggPage({
          serialNumber: this.#serialNumber,
          sequenceNumber: this.#pageSequence,
          granulePosition: 0n,
          headerType,
          packets: [packet],
        });
        this.#pageSequence += 1;
        headerBytes += page.length;
        parts.push(page);
      }
    }
    const totalRealFrames = startFrames + realFrames;
    const pages = paginate(packets, {
      serialNumber: this.#serialNumber,
      firstSequenceNumber: this.#pageSequence,
      granuleAfter: (i) => {
        const afterPacket = (startFrames + BigInt(i) + 1n) * SAMPLES_48K_PER_FRAME;
        // End trimming: the last page's granule counts only real input samples plus the pre-skip.
        const limit = totalRealFrames * SAMPLES_48K_PER_FRAME + BigInt(OPUS_PRE_SKIP_48K);
        return isEnd && afterPacket > limit ? limit : afterPacket;
      },
      isEndOfStream: isEnd,
    });
    this.#pageSequence += pages.length;
    parts.push(...pages);
    this.#framesEncoded = totalRealFrames;
    this.#lastEmittedTimestamp = this.#timeline.lastTimestamp100ns ?? this.#lastEmittedTimestamp;
    const bytes = Buffer.concat(parts);
    this.#index.addBytes(headerBytes);
    const mediaEndInMs = this.#mediaMs(totalRealFrames);
    this.#index.addChunk(
      {
        mediaStartInMs: this.#mediaMs(startFrames),
        mediaEndInMs,
        timestamp100ns: (firstTimestamp ?? this.#timeline.lastTimestamp100ns ?? 0n).toString(),
        isSyncPoint: true,
      },
      bytes.length - headerBytes,
    );
    return { bytes, mediaEndInMs };
  }
}

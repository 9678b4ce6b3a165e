/**
 * Video and screen share stored as received: H.264 access units (Annex-B) repackaged without
 * transcoding into fragmented MP4 (ISO/IEC 14496-12, -15), which browsers play.
 *
 * - Frames before the first key frame that carries SPS and PPS cannot be decoded; they are
 *   dropped, counted and recorded as a gap in the timing index.
 * - So are the frames after a break (`followsBreak`: earlier frames were not stored) until the
 *   next key frame: a picture they refer to may be missing, and browsers then refuse the whole
 *   rest of the stream. The picture before the break stays on screen until that key frame.
 * - The first chunk holds the init segment (`ftyp` + `moov`), built from that key frame's SPS/PPS
 *   (picture size from the SPS, else from the frame's metadata).
 * - Each later chunk is one fragment (`moof` + `mdat`) of at least `fragmentDurationInMs` of
 *   media, cut when the next frame arrives (its timestamp gives the last sample's duration).
 * - Sample times are the platform's 100 ns timestamps, unchanged (track timescale 10 MHz), so
 *   `tfdt` of a fragment = its first frame's timestamp minus the stream's first timestamp.
 * - SPS/PPS repeated inside later access units stay in the samples (in-band), which is how a
 *   mid-call resolution change stays decodable.
 */
import { ErrorCode, RecorderError, type StreamKind } from '@attest/core';
import { NalType, avcCodecString, nalTypeOf, parseSps, splitAnnexB, type SpsInfo } from './annex-b';
import {
  VIDEO_TIMESCALE,
  buildFragment,
  buildInitSegment,
  toLengthPrefixed,
  type FragmentSample,
} from './mp4-boxes';
import {
  settled,
  type FormattedChunk,
  type MediaFrame,
  type StreamFormatter,
} from './stream-format';
import {
  FormatterResumeFormat,
  checkResumeState,
  positionNumber,
  type FormatterResumeState,
} from './resume-state';
import { TimingIndexBuilder, type StreamTimingIndex } from './timing-index';

export interface H264Fmp4FormatterOptions {
  readonly kind: Extract<StreamKind, 'video' | 'vbss'>;
  /** Least media per fragment. Default 1000 ms. */
  readonly fragmentDurationInMs?: number;
  /** A step between frames longer than this is recorded as a gap. Default 2000 ms (Teams may send 1.875 fps). */
  readonly gapThresholdInMs?: number;
  /** Duration given to the very last sample when no later frame tells it. Default 1/30 s. */
  readonly lastSampleDurationInMs?: number;
  /** Continue a stored stream after a restart (no new init segment; fragments and times go on). */
  readonly resumeState?: FormatterResumeState;
}

interface PendingSample {
  readonly timestamp100ns: bigint;
  readonly data: Buffer;
  readonly isSync: boolean;
}

export class H264Fmp4Formatter implements StreamFormatter {
  readonly kind: Extract<StreamKind, 'video' | 'vbss'>;
  readonly extension = 'mp4';
  #contentType = 'video/mp4';
  readonly #fragmentTicks: bigint;
  readonly #gapThreshold100ns: bigint;
  readonly #lastSampleTicks: number;
  readonly #index: TimingIndexBuilder;
  #firstTimestamp: bigint | undefined;
  #lastTimestamp: bigint | undefined;
  #lastDurationTicks: number | undefined;
  #pending: PendingSample[] = [];
  #fragmentSequence = 1;
  #droppedBeforeKeyFrame = 0;
  #firstDroppedTimestamp: bigint | undefined;
  #isAwaitingKeyFrame = false;
  #spsInfo: SpsInfo | undefined;
  #isEnded = false;
  #lastEmittedTimestamp: bigint | undefined;
  #lastEmittedEndInMs = 0;

  constructor(options: H264Fmp4FormatterOptions) {
    this.kind = options.kind;
    this.#fragmentTicks = BigInt(Math.round((options.fragmentDurationInMs ?? 1000) * 10_000));
    this.#gapThreshold100ns = BigInt(Math.round((options.gapThresholdInMs ?? 2000) * 10_000));
    this.#lastSampleTicks = Math.round((options.lastSampleDurationInMs ?? 1000 / 30) * 10_000);
    this.#index = new TimingIndexBuilder(options.kind, 'video/mp4');
    if (options.resumeState !== undefined) {
      const state = checkResumeState(options.resumeState, FormatterResumeFormat.h264Fmp4);
      const n = (key: string): number => positionNumber(state, key);
      this.#spsInfo = {
        profileIdc: n('profileIdc'),
        constraintFlags: n('constraintFlags'),
        levelIdc: n('levelIdc'),
        chromaFormatIdc: 1,
        bitDepthLumaMinus8: 0,
        bitDepthChromaMinus8: 0,
        width: n('width'),
        height: n('height'),
      };
      this.#contentType = `video/mp4; codecs="${avcCodecString(this.#spsInfo)}"`;
      this.#fragmentSequence = n('fragmentSequence');
      this.#lastDurationTicks = n('lastDurationTicks');
      // Absent from states saved before breaks were tracked.
      this.#isAwaitingKeyFrame = state.position.isAwaitingKeyFrame === 1;
      this.#firstTimestamp = BigInt(state.firstTimestamp100ns);
      this.#lastEmittedTimestamp = BigInt(state.lastFrameTimestamp100ns);
      this.#lastTimestamp = this.#lastEmittedTimestamp;
      this.#index.resumeAt(state.byteLength, this.#firstTimestamp);
    }
  }

  getResumeState(): FormatterResumeState | undefined {
    const info = this.#spsInfo;
    if (
      this.#lastEmittedTimestamp === undefined ||
      this.#firstTimestamp === undefined ||
      info === undefined
    )
      return undefined;
    return {
      v: 1,
      format: FormatterResumeFormat.h264Fmp4,
      byteLength: this.#index.bytesSoFar,
      mediaEndInMs: this.#lastEmittedEndInMs,
      firstTimestamp100ns: this.#firstTimestamp.toString(),
      lastFrameTimestamp100ns: this.#lastEmittedTimestamp.toString(),
      position: {
        fragmentSequence: this.#fragmentSequence,
        lastDurationTicks: this.#lastDurationTicks ?? this.#lastSampleTicks,
        profileIdc: info.profileIdc,
        constraintFlags: info.constraintFlags,
        levelIdc: info.levelIdc,
        width: info.width,
        height: info.height,
        isAwaitingKeyFrame: this.#isAwaitingKeyFrame ? 1 : 0,
      },
    };
  }

  /** `video/mp4; codecs="avc1.PPCCLL"` once the first key frame's SPS is known, else `video/mp4`. */
  get contentType(): string {
    return this.#contentType;
  }

  /** Access units dropped because no key frame with SPS/PPS had arrived yet, or none since a break. */
  get framesDroppedBeforeKeyFrame(): number {
    return this.#droppedBeforeKeyFrame;
  }

  /** Picture size from the SPS (or the first key frame's metadata), once known. */
  get pictureSize(): { width: number; height: number } | undefined {
    return this.#spsInfo === undefined
      ? undefined
      : { width: this.#spsInfo.width, height: this.#spsInfo.height };
  }

  push(frame: MediaFrame): Promise<FormattedChunk[]> {
    return settled(() => this.pushSync(frame));
  }

  end(): Promise<FormattedChunk[]> {
    if (this.#isEnded) return Promise.resolve([]);
    this.#isEnded = true;
    if (this.#pending.length === 0) return Promise.resolve([]);
    return Promise.resolve([this.#flush(undefined)]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  getTimingIndex(): StreamTimingIndex {
    return { ...this.#index.build(), contentType: this.#contentType };
  }

  pushSync(frame: MediaFrame): FormattedChunk[] {
    if (this.#isEnded) throw new RecorderError(ErrorCode.Internal, 'video frame pushed after end');
    if (this.#lastTimestamp !== undefined && frame.timestamp100ns <= this.#lastTimestamp) {
      throw new RecorderError(
        ErrorCode.ProtocolViolation,
        'video frames must arrive in timestamp order',
      );
    }
    const nals = splitAnnexB(frame.payload);
    if (nals.length === 0) {
      throw new RecorderError(
        ErrorCode.ProtocolViolation,
        'video frame holds no Annex-B NAL unit',
        {
          details: { byteLength: frame.payload.length },
        },
      );
    }
    const isKey =
      frame.isKeyFrame === true || nals.some((nal) => nalTypeOf(nal) === NalType.idrSlice);
    const chunks: FormattedChunk[] = [];
    if (this.#firstTimestamp === undefined) {
      const sps = nals.find((nal) => nalTypeOf(nal) === NalType.sps);
      const pps = nals.find((nal) => nalTypeOf(nal) === NalType.pps);
      if (!isKey || sps === undefined || pps === undefined) {
        this.#droppedBeforeKeyFrame += 1;
        this.#firstDroppedTimestamp ??= frame.timestamp100ns;
        this.#lastTimestamp = frame.timestamp100ns;
        return [];
      }
      chunks.push(this.#start(frame, sps, pps));
    } else if (frame.followsBreak === true || this.#isAwaitingKeyFrame) {
      this.#isAwaitingKeyFrame = !isKey;
      if (!isKey) {
        this.#droppedBeforeKeyFrame += 1;
        return [];
      }
    }
    if (
      chunks.length === 0 &&
      this.#lastTimestamp !== undefined &&
      frame.timestamp100ns - this.#lastTimestamp > this.#gapThreshold100ns
    ) {
      this.#index.addGap({
        mediaAtInMs: this.#mediaMs(frame.timestamp100ns),
        fromTimestamp100ns: this.#lastTimestamp.toString(),
        toTimestamp100ns: frame.timestamp100ns.toString(),
        durationInMs: Number(frame.timestamp100ns - this.#lastTimestamp) / 10_000,
      });
    }
    const first = this.#pending[0];
    // 1 ms of slack: 30 frames of 333,333 ticks are a second of 30 fps video.
    if (
      first !== undefined &&
      frame.timestamp100ns - first.timestamp100ns + 10_000n >= this.#fragmentTicks
    ) {
      chunks.push(this.#flush(frame.timestamp100ns));
    }
    this.#pending.push({
      timestamp100ns: frame.timestamp100ns,
      data: toLengthPrefixed(nals),
      isSync: isKey,
    });
    this.#lastTimestamp = frame.timestamp100ns;
    return chunks;
  }

  #start(frame: MediaFrame, sps: Buffer, pps: Buffer): FormattedChunk {
    let info: SpsInfo;
    try {
      info = parseSps(sps);
    } catch (error) {
      throw new RecorderError(
        ErrorCode.ProtocolViolation,
        'key frame carries an SPS that cannot be parsed',
        { cause: error },
      );
    }
    if (info.width <= 0 || info.height <= 0)
      info = { ...info, width: frame.width ?? 0, height: frame.height ?? 0 };
    this.#spsInfo = info;
    this.#contentType = `video/mp4; codecs="${avcCodecString(info)}"`;
    this.#firstTimestamp = frame.timestamp100ns;
    this.#index.noteFirstTimestamp(frame.timestamp100ns);
    if (this.#firstDroppedTimestamp !== undefined) {
      this.#index.addGap({
        mediaAtInMs: 0,
        fromTimestamp100ns: this.#firstDroppedTimestamp.toString(),
        toTimestamp100ns: frame.timestamp100ns.toString(),
        durationInMs: Number(frame.timestamp100ns - this.#firstDroppedTimestamp) / 10_000,
      });
    }
    const init = buildInitSegment({
      width: info.width,
      height: info.height,
      sps,
      pps,
      spsInfo: info,
    });
    this.#index.addBytes(init.length);
    return { bytes: init, mediaEndInMs: 0 };
  }

  #mediaMs(timestamp100ns: bigint): number {
    return Number(timestamp100ns - (this.#firstTimestamp ?? timestamp100ns)) / 10_000;
  }

  /** Emits the pending samples as one fragment; `nextTimestamp` gives the last sample's duration. */
  #flush(nextTimestamp: bigint | undefined): FormattedChunk {
    const samples = this.#pending;
    this.#pending = [];
    const fragmentSamples: FragmentSample[] = samples.map((sample, i) => {
      const next = samples[i + 1]?.timestamp100ns ?? nextTimestamp;
      const durationInTicks =
        next !== undefined
          ? Number(next - sample.timestamp100ns)
          : (this.#lastDurationTicks ?? this.#lastSampleTicks);
      this.#lastDurationTicks = durationInTicks;
      return { data: sample.data, durationInTicks, isSync: sample.isSync };
    });
    const first = samples[0]!;
    const firstTimestamp = this.#firstTimestamp ?? first.timestamp100ns;
    const bytes = buildFragment(
      this.#fragmentSequence,
      first.timestamp100ns - firstTimestamp,
      fragmentSamples,
    );
    this.#fragmentSequence += 1;
    const endTicks =
      first.timestamp100ns -
      firstTimestamp +
      BigInt(fragmentSamples.reduce((sum, s) => sum + s.durationInTicks, 0));
    const mediaEndInMs = (Number(endTicks) * 1000) / VIDEO_TIMESCALE;
    this.#lastEmittedTimestamp = samples[samples.length - 1]?.timestamp100ns;
    this.#lastEmittedEndInMs = mediaEndInMs;
    this.#index.addChunk(
      {
        mediaStartInMs: this.#mediaMs(first.timestamp100ns),
        mediaEndInMs,
        timestamp100ns: first.timestamp100ns.toString(),
        isSyncPoint: first.isSync,
      },
      bytes.length,
    );
    return { bytes, mediaEndInMs };
  }
}

import { ErrorCode, RecorderError } from '@attest/core';
import { PCM_BYTES_PER_FRAME } from './opus-encoder-pool';
import { gapBetween, type TimingIndexBuilder } from './timing-index';

const FRAME_STEP_100NS = 200_000n;

/** Checks audio frames (size, order) and writes gaps to the timing index. Shared by audio formats. */
export class AudioTimeline {
  #lastTimestamp: bigint | undefined;

  constructor(
    private readonly index: TimingIndexBuilder,
    private readonly gapThresholdInMs: number,
  ) {}

  /** Continues after a restart: the next frame is checked against this one (gaps across the restart count). */
  resumeAfter(timestamp100ns: bigint): void {
    this.#lastTimestamp = timestamp100ns;
  }

  get lastTimestamp100ns(): bigint | undefined {
    return this.#lastTimestamp;
  }

  /** Throws `ATT_PROTOCOL_VIOLATION` on a frame that is not 640 bytes or not after the previous one. */
  accept(payload: Buffer, timestamp100ns: bigint, storedFrames: bigint): void {
    if (payload.length !== PCM_BYTES_PER_FRAME) {
      throw new RecorderError(
        ErrorCode.ProtocolViolation,
        'audio frame must be 640 bytes of 16 kHz mono PCM',
        {
          details: { byteLength: payload.length },
        },
      );
    }
    const last = this.#lastTimestamp;
    if (last !== undefined) {
      if (timestamp100ns <= last) {
        throw new RecorderError(
          ErrorCode.ProtocolViolation,
          'audio frames must arrive in timestamp order',
        );
      }
      const gapInMs = gapBetween(last, timestamp100ns, FRAME_STEP_100NS, this.gapThresholdInMs);
      if (gapInMs !== undefined) {
        this.index.addGap({
          mediaAtInMs: Number(storedFrames) * 20,
          fromTimestamp100ns: (last + FRAME_STEP_100NS).toString(),
          toTimestamp100ns: timestamp100ns.toString(),
          durationInMs: gapInMs,
        });
      }
    }
    this.index.noteFirstTimestamp(timestamp100ns);
    this.#lastTimestamp = timestamp100ns;
  }
}

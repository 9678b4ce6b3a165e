/**
 * The timing index: a JSON sidecar written next to each stream blob (`<blob>.index.json`) that
 * ties the stored media to the call's clock, so a player can seek inside one stream and line up
 * every stream of a call. Format documented in `docs/media-formats.md`.
 */
import type { StreamKind } from '@attest/core';

export const TIMING_INDEX_VERSION = 1 as const;

/** One emitted chunk: where its bytes sit in the blob and which media it covers. */
export interface TimingIndexEntry {
  /** Offset of the chunk's first byte in the blob. */
  readonly byteOffset: number;
  readonly byteLength: number;
  /** Stored media time at the chunk's first sample / frame, ms from the stream's start (gaps excluded). */
  readonly mediaStartInMs: number;
  readonly mediaEndInMs: number;
  /** Platform timestamp (100 ns, decimal string: it exceeds 2^53) of the chunk's first frame. */
  readonly timestamp100ns: string;
  /** Video: the chunk's first sample is a key frame, so playback may start here. */
  readonly isSyncPoint: boolean;
}

/** Frames missing from the platform's timeline: the stored media goes on without them. */
export interface TimingIndexGap {
  /** Stored media time at which the gap sits. */
  readonly mediaAtInMs: number;
  /** Platform timestamp where media was next expected. */
  readonly fromTimestamp100ns: string;
  /** Platform timestamp of the frame that ended the gap. */
  readonly toTimestamp100ns: string;
  readonly durationInMs: number;
}

export interface StreamTimingIndex {
  readonly v: typeof TIMING_INDEX_VERSION;
  readonly kind: StreamKind;
  readonly contentType: string;
  /** Platform timestamp of the stream's first frame (100 ns, decimal string). */
  readonly firstTimestamp100ns: string | undefined;
  readonly entries: readonly TimingIndexEntry[];
  readonly gaps: readonly TimingIndexGap[];
}

/** Accumulates a stream's index as its formatter emits chunks. */
export class TimingIndexBuilder {
  readonly #entries: TimingIndexEntry[] = [];
  readonly #gaps: TimingIndexGap[] = [];
  #bytesSoFar = 0;
  #firstTimestamp100ns: bigint | undefined;

  constructor(
    private readonly kind: StreamKind,
    private readonly contentType: string,
  ) {}

  /** Continues a stream whose first `byteLength` bytes are already stored (after a restart). */
  resumeAt(byteLength: number, firstTimestamp100ns: bigint): void {
    this.#bytesSoFar = byteLength;
    this.#firstTimestamp100ns = firstTimestamp100ns;
  }

  get firstTimestamp100ns(): bigint | undefined {
    return this.#firstTimestamp100ns;
  }

  noteFirstTimestamp(timestamp100ns: bigint): void {
    this.#firstTimestamp100ns ??= timestamp100ns;
  }

  addChunk(entry: Omit<TimingIndexEntry, 'byteOffset' | 'byteLength'>, byteLength: number): void {
    this.#entries.push({ ...entry, byteOffset: this.#bytesSoFar, byteLength });
    this.#bytesSoFar += byteLength;
  }

  /** Bytes that belong to no entry's media (container headers, trailers). */
  addBytes(byteLength: number): void {
    this.#bytesSoFar += byteLength;
  }

  addGap(gap: TimingIndexGap): void {
    this.#gaps.push(gap);
  }

  get bytesSoFar(): number {
    return this.#bytesSoFar;
  }

  build(): StreamTimingIndex {
    return {
      v: TIMING_INDEX_VERSION,
      kind: this.kind,
      contentType: this.contentType,
      firstTimestamp100ns: this.#firstTimestamp100ns?.toString(),
      entries: [...this.#entries],
      gaps: [...this.#gaps],
    };
  }
}

/** Decides whether the step between two frames' timestamps hides missing frames. */
export function gapBetween(
  previous100ns: bigint,
  next100ns: bigint,
  expectedStep100ns: bigint,
  thresholdInMs: number,
): number | undefined {
  const delta = next100ns - previous100ns;
  const missing100ns = delta - expectedStep100ns;
  if (missing100ns < BigInt(Math.round(thresholdInMs * 10_000))) return undefined;
  return Number(missing100ns) / 10_000;
}

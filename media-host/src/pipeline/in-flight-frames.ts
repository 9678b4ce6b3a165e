/**
 * A stream writer's frames whose bytes are not yet in a cut block, in arrival order, and where the
 * stream's media stands through the blocks cut so far: which sequence a block ends with (what the
 * spool may drop once it is committed) and the counters a checkpoint may claim once it is (frame
 * count, last timestamp, last arrival, media end). Numbers only, in parallel arrays: this runs for
 * every frame.
 */

/** Where a stream's media stands through one block: what its state says once the block is committed. */
export interface MediaMarks {
  readonly frameCount: number;
  readonly lastTimestamp: bigint | undefined;
  readonly lastFrameAtInMs: number | undefined;
  readonly mediaEndInMs: number;
}

export const NO_MEDIA: MediaMarks = {
  frameCount: 0,
  lastTimestamp: undefined,
  lastFrameAtInMs: undefined,
  mediaEndInMs: 0,
};

export class InFlightFrames {
  /** From `head`: sequence, media start, timestamp (100 ns after the first frame's), arrival (ms since the epoch). */
  private sequences: number[] = [];
  private starts: number[] = [];
  private timestamps: number[] = [];
  private arrivals: number[] = [];
  private head = 0;
  private lastCutSequence = 0;
  private marks: MediaMarks = NO_MEDIA;

  push(
    sequence: number,
    mediaStartInMs: number,
    timestampSinceFirst100ns: number,
    arrivedAtInMs: number,
  ): void {
    this.sequences.push(sequence);
    this.starts.push(mediaStartInMs);
    this.timestamps.push(timestampSinceFirst100ns);
    this.arrivals.push(arrivedAtInMs);
  }

  /** Whether frames were pushed that no cut block holds yet. */
  get isEmpty(): boolean {
    return this.head >= this.sequences.length;
  }

  /**
   * A block was cut holding media up to `mediaEndInMs`: the frames whose media starts before it
   * are inside it. Returns the last sequence in it and the media marks through it.
   */
  cut(
    mediaEndInMs: number,
    firstTimestamp: bigint | undefined,
  ): { throughSequence: number; marks: MediaMarks } {
    const from = this.head;
    let head = from;
    let through = this.lastCutSequence;
    while (head < this.sequences.length && this.starts[head]! < mediaEndInMs) {
      through = this.sequences[head]!;
      head += 1;
    }
    const isAny = head > from && firstTimestamp !== undefined;
    this.marks = {
      frameCount: this.marks.frameCount + (head - from),
      lastTimestamp: isAny
        ? firstTimestamp + BigInt(this.timestamps[head - 1]!)
        : this.marks.lastTimestamp,
      lastFrameAtInMs: isAny ? this.arrivals[head - 1]! : this.marks.lastFrameAtInMs,
      mediaEndInMs,
    };
    if (head === this.sequences.length || head > 1024) {
      this.sequences = this.sequences.slice(head);
      this.starts = this.starts.slice(head);
      this.timestamps = this.timestamps.slice(head);
      this.arrivals = this.arrivals.slice(head);
      head = 0;
    }
    this.head = head;
    this.lastCutSequence = through;
    return { throughSequence: through, marks: this.marks };
  }
}

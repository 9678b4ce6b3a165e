/**
 * A session's state machine, pure: created → connected → persisting ⇄ paused → sealed, or
 * aborted / failed from any running state. Persistence starts once (its time is the recording's
 * start) and every pause becomes a gap when it ends (resumed, or closed at seal).
 */
import { MediaSessionState, type RecordingGap } from '@attest/core';

export interface Pause {
  readonly since: string;
  readonly reason: string;
  readonly actor: string;
}

export interface PersistenceSnapshot {
  readonly state: MediaSessionState;
  readonly persistingSince?: string | undefined;
  readonly pause?: Pause | undefined;
  readonly gaps: readonly RecordingGap[];
  /** Sequence of the last source gap report in `gaps` (a replay records later ones only). */
  readonly sourceGapsThrough?: number | undefined;
}

export class PersistenceState {
  #state: MediaSessionState;
  #persistingSince: string | undefined;
  #pause: Pause | undefined;
  readonly #gaps: RecordingGap[];
  #sourceGapsThrough: number;

  constructor(snapshot: PersistenceSnapshot) {
    this.#sourceGapsThrough = snapshot.sourceGapsThrough ?? 0;
    this.#state = snapshot.state;
    this.#persistingSince = snapshot.persistingSince;
    this.#pause = snapshot.pause === undefined ? undefined : { ...snapshot.pause };
    this.#gaps = [...snapshot.gaps];
  }

  get state(): MediaSessionState {
    return this.#state;
  }

  get persistingSince(): string | undefined {
    return this.#persistingSince;
  }

  get pause(): Pause | undefined {
    return this.#pause;
  }

  get gaps(): readonly RecordingGap[] {
    return this.#gaps;
  }

  get isFinished(): boolean {
    return (
      this.#state === MediaSessionState.sealed ||
      this.#state === MediaSessionState.aborted ||
      this.#state === MediaSessionState.failed
    );
  }

  /** Whether media may be stored now: persistence started, not paused, not finished. */
  get isStoring(): boolean {
    return this.#persistingSince !== undefined && this.#pause === undefined && !this.isFinished;
  }

  /** A media connection attached. */
  connected(): void {
    if (this.#state === MediaSessionState.created) this.#state = MediaSessionState.connected;
  }

  /** Persistence may start (Graph confirmed the recording status); the first time counts. */
  startPersisting(at: string): void {
    this.#persistingSince ??= at;
    if (this.#state === MediaSessionState.created || this.#state === MediaSessionState.connected)
      this.#state = MediaSessionState.persisting;
  }

  /** Pauses persistence; returns false when it already was paused (the first pause stands). */
  pausePersistence(at: string, reason: string, actor: string): boolean {
    if (this.#pause !== undefined) return false;
    this.#pause = { since: at, reason, actor };
    if (this.#state === MediaSessionState.persisting) this.#state = MediaSessionState.paused;
    return true;
  }

  /** Resumes persistence; returns the pause that ended (now a gap), if there was one. */
  resumePersistence(at: string): Pause | undefined {
    const pause = this.#closePause(at);
    if (pause !== undefined && this.#state === MediaSessionState.paused)
      this.#state = MediaSessionState.persisting;
    return pause;
  }

  get sourceGapsThrough(): number {
    return this.#sourceGapsThrough;
  }

  /**
   * A gap the media source reported (frames it had to drop) in the frame numbered `sequence`;
   * false (nothing added) when that report is already among the gaps (read back from the spool
   * after a restart that came after the record was written).
   */
  addSourceGap(gap: RecordingGap, sequence: number): boolean {
    if (sequence <= this.#sourceGapsThrough) return false;
    this.#gaps.push(gap);
    this.#sourceGapsThrough = sequence;
    return true;
  }

  /** At seal: a pause still open becomes a gap ending at `at`. */
  closePause(at: string): void {
    this.#closePause(at);
  }

  /** The session ended: sealed, aborted or failed. */
  finish(state: 'sealed' | 'aborted' | 'failed'): void {
    this.#state = state;
  }

  #closePause(at: string): Pause | undefined {
    const pause = this.#pause;
    if (pause === undefined) return undefined;
    this.#gaps.push({
      startedAt: pause.since,
      endedAt: at,
      reason: pause.reason,
      actor: pause.actor,
    });
    this.#pause = undefined;
    return pause;
  }
}

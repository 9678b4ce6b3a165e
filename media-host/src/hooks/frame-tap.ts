/**
 * Per-session frame taps, for live monitoring (listen-in). A listener sees every media frame a
 * session accepts, decoded, synchronously on the socket's event loop turn: it must not block
 * (copy what it keeps; `payload`s are views of the socket's buffers). A listener that throws is
 * removed and never affects the recording.
 */
import type { MediaProtocolFrame } from '@attest/core';

export interface TappedFrame {
  readonly sessionId: string;
  readonly frame: MediaProtocolFrame;
  /** Whether the frame is being stored (false before persistence starts and while paused). */
  readonly isPersisted: boolean;
}

export type FrameListener = (tapped: TappedFrame) => void;

export class FrameTaps {
  private readonly listeners = new Map<string, Set<FrameListener>>();

  /** Subscribes to one session's frames; returns the unsubscribe function (idempotent). */
  subscribe(sessionId: string, listener: FrameListener): () => void {
    let set = this.listeners.get(sessionId);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(sessionId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(sessionId);
      current?.delete(listener);
      if (current?.size === 0) this.listeners.delete(sessionId);
    };
  }

  hasListeners(sessionId: string): boolean {
    return this.listeners.has(sessionId);
  }

  emit(tapped: TappedFrame): void {
    const set = this.listeners.get(tapped.sessionId);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        listener(tapped);
      } catch {
        set.delete(listener);
      }
    }
  }

  /** Drops every listener of a session (it ended). */
  clear(sessionId: string): void {
    this.listeners.delete(sessionId);
  }
}

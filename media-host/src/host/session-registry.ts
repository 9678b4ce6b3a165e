/**
 * The host's sessions: by id, by call (a repeated create for a call finds its session) and the
 * media connection each one has attached, if any. The only owner of those three maps; the loops,
 * restore and the servers all go through it.
 */
import type { MediaConnection } from '../ingest/media-protocol.server';
import type { MediaSession } from '../session/media-session';

export class SessionRegistry {
  readonly #byId = new Map<string, MediaSession>();
  readonly #idByCall = new Map<string, string>();
  readonly #connections = new Map<string, MediaConnection>();

  /** Adds a session (created or restored); the call's latest session wins. */
  add(session: MediaSession): void {
    this.#byId.set(session.sessionId, session);
    this.#idByCall.set(session.request.callId, session.sessionId);
  }

  get(sessionId: string): MediaSession | undefined {
    return this.#byId.get(sessionId);
  }

  /** The latest session created for a call, finished or not. */
  getByCall(callId: string): MediaSession | undefined {
    const sessionId = this.#idByCall.get(callId);
    return sessionId === undefined ? undefined : this.#byId.get(sessionId);
  }

  /** Every session, in the order added. */
  values(): IterableIterator<MediaSession> {
    return this.#byId.values();
  }

  /** Sessions not yet sealed, aborted or failed. */
  activeCount(): number {
    let count = 0;
    for (const session of this.#byId.values()) if (!session.isFinished) count += 1;
    return count;
  }

  /** Forgets a session (retired); its call maps to nothing unless a later session took it. */
  delete(session: MediaSession): void {
    this.#byId.delete(session.sessionId);
    if (this.#idByCall.get(session.request.callId) === session.sessionId)
      this.#idByCall.delete(session.request.callId);
  }

  getConnection(sessionId: string): MediaConnection | undefined {
    return this.#connections.get(sessionId);
  }

  /** Ids of the sessions that have a media connection attached now. */
  connectedSessionIds(): IterableIterator<string> {
    return this.#connections.keys();
  }

  /** Records `connection` as the session's (close any previous one first). */
  setConnection(sessionId: string, connection: MediaConnection): void {
    this.#connections.set(sessionId, connection);
  }

  /** Forgets `connection` if it is still the session's; returns whether it was. */
  detach(sessionId: string, connection: MediaConnection): boolean {
    if (this.#connections.get(sessionId) !== connection) return false;
    this.#connections.delete(sessionId);
    return true;
  }
}

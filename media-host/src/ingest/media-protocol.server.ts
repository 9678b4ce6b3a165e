/**
 * The media protocol listener: TLS over TCP, one connection per media session, authenticated by
 * the session token in the first (hello) frame. Bad input (malformed, oversized, out-of-order,
 * wrong session) ends that connection with an error frame and a logged reason; other sessions and
 * the process are never affected. The socket reader never awaits: frames are handed to the
 * session synchronously (which spools them) and acknowledged after the spool's fsync.
 */
import { createServer, type Server, type TLSSocket } from 'node:tls';
import {
  encodeFrame,
  MediaFrameDecoder,
  MediaProtocolErrorCode,
  type MediaProtocolFrame,
} from '@attest/core';
import type { FrameTaps } from '../hooks/frame-tap';
import { MetricNames, type MetricsSink } from '../hooks/metrics-sink';
import type { Logger } from '../logging/logger';
import type { MediaSession } from '../session/media-session';
import { listenOn } from '../net/listen';

export interface MediaConnection {
  readonly sessionId: string;
  /** Sends an ack frame (what is durable, what comes next). */
  sendAck(ackedSequence: number, nextSequence: number): void;
  /** Ends the connection with an error frame; idempotent. */
  close(code: number, reason: string): void;
}

export interface MediaProtocolServerOptions {
  readonly host: string;
  readonly port: number;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly maxPayloadBytes: number;
  readonly helloTimeoutInMs: number;
  readonly getSession: (sessionId: string) => MediaSession | undefined;
  /** A connection authenticated for a session (replacing any previous one). */
  readonly onAttach: (session: MediaSession, connection: MediaConnection) => void;
  /** The session's connection went away. */
  readonly onDetach: (session: MediaSession, connection: MediaConnection) => void;
  readonly taps: FrameTaps;
  readonly metrics: MetricsSink;
  readonly logger: Logger;
}

export interface MediaProtocolServer {
  readonly port: number;
  /** Stops listening and ends every connection; idempotent. */
  close(): Promise<void>;
}

export async function startMediaProtocolServer(options: MediaProtocolServerOptions): Promise<MediaProtocolServer> {
  const sockets = new Set<TLSSocket>();
  const server: Server = createServer({ cert: options.cert, key: options.key, minVersion: 'TLSv1.2' }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    handleConnection(socket, options);
  });
  // Handshake failures and resets before a session is known: log and carry on.
  server.on('tlsClientError', (error) => options.logger.debug('media connection failed during TLS handshake', { error: error.message }));
  const port = await listenOn(server, options.port, options.host);
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

function handleConnection(socket: TLSSocket, options: MediaProtocolServerOptions): void {
  const decoder = new MediaFrameDecoder({ maxPayloadBytes: options.maxPayloadBytes });
  let session: MediaSession | undefined;
  /** The session id a hello claimed, for the error frame when it is refused. */
  let claimedSessionId: string | undefined;
  let log = options.logger.child({ remotePort: socket.remotePort ?? 0 });
  let isClosed = false;

  const connection: MediaConnection = {
    get sessionId() {
      return session?.sessionId ?? '';
    },
    sendAck(ackedSequence, nextSequence) {
      if (isClosed || session === undefined) return;
      socket.write(encodeFrame({ type: 'ack', sessionId: session.sessionId, sequence: 0, timestamp100ns: 0n, msi: 0, ackedSequence, nextSequence }));
    },
    close(code, reason) {
      if (isClosed) return;
      isClosed = true;
      clearTimeout(helloTimer);
      const errorSessionId = session?.sessionId ?? claimedSessionId;
      if (errorSessionId !== undefined) {
        socket.end(encodeFrame({ type: 'error', sessionId: errorSessionId, sequence: 0, timestamp100ns: 0n, msi: 0, errorCode: code, message: reason }));
      } else {
        socket.end();
      }
      // A peer that never reads must not keep the socket open.
      setTimeout(() => socket.destroy(), 2000).unref();
    },
  };

  const reject = (code: number, reason: string, kind: 'violation' | 'auth' | 'closed' | 'overload'): void => {
    if (kind === 'violation') options.metrics.increment(MetricNames.protocolViolations);
    log.warn('media connection ended', { reason, kind });
    connection.close(code, reason);
  };

  const helloTimer = setTimeout(() => reject(MediaProtocolErrorCode.protocolViolation, 'no hello in time', 'violation'), options.helloTimeoutInMs);
  helloTimer.unref();

  const onFrame = (frame: MediaProtocolFrame): boolean => {
    if (session === undefined) {
      if (frame.type !== 'hello') {
        reject(MediaProtocolErrorCode.protocolViolation, 'first frame must be hello', 'violation');
        return false;
      }
      claimedSessionId = frame.sessionId;
      const candidate = options.getSession(frame.sessionId);
      if (candidate === undefined || !candidate.isTokenValid(frame.token)) {
        reject(MediaProtocolErrorCode.unauthorized, 'unknown session or wrong token', 'auth');
        return false;
      }
      session = candidate;
      log = log.child({ sessionId: candidate.sessionId, callId: candidate.request.callId });
      if (!candidate.isAcceptingFrames) {
        reject(MediaProtocolErrorCode.sessionClosed, `session is ${candidate.state}`, 'closed');
        return false;
      }
      clearTimeout(helloTimer);
      decoder.expectSequence(candidate.nextSequence);
      options.onAttach(candidate, connection);
      connection.sendAck(candidate.durableThrough, candidate.nextSequence);
      log.info('media connection attached', { nextSequence: candidate.nextSequence });
      return true;
    }
    if (frame.sessionId !== session.sessionId) {
      reject(MediaProtocolErrorCode.protocolViolation, 'frame for another session', 'violation');
      return false;
    }
    if (frame.type === 'hello' || frame.type === 'ack' || frame.type === 'error') {
      reject(MediaProtocolErrorCode.protocolViolation, `unexpected ${frame.type} frame`, 'violation');
      return false;
    }
    if (!session.isAcceptingFrames) {
      reject(MediaProtocolErrorCode.sessionClosed, `session is ${session.state}`, 'closed');
      return false;
    }
    const { isAccepted, isPersisted } = session.accept(frame);
    if (!isAccepted) {
      reject(MediaProtocolErrorCode.overloaded, 'media host cannot store more', 'overload');
      return false;
    }
    if (options.taps.hasListeners(session.sessionId)) options.taps.emit({ sessionId: session.sessionId, frame, isPersisted });
    return true;
  };

  socket.on('data', (chunk: Buffer) => {
    if (isClosed) return;
    try {
      const { frames, error } = decoder.push(chunk);
      for (const frame of frames) if (!onFrame(frame)) return;
      if (error !== undefined) reject(MediaProtocolErrorCode.protocolViolation, `${error.kind}: ${error.message}`, 'violation');
    } catch (error) {
      // Defensive: nothing above should throw, but one connection must never take the host down.
      log.error('media connection handler failed', { error: error instanceof Error ? error.message : String(error) });
      connection.close(MediaProtocolErrorCode.internal, 'internal error');
    }
  });
  socket.on('error', (error: Error) => log.debug('media connection error', { error: error.message }));
  socket.on('close', () => {
    isClosed = true;
    clearTimeout(helloTimer);
    if (session !== undefined) options.onDetach(session, connection);
  });
}

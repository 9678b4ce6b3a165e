/**
 * The media protocol listener: TLS over TCP (remote sources such as the simulator) or plain TCP
 * on loopback (the .NET bridge on the same machine), one connection per media session,
 * authenticated by the session token in the first (hello) frame. Bad input (malformed, oversized, out-of-order,
 * wrong session) ends that connection with an error frame and a logged reason; other sessions and
 * the process are never affected. The socket reader never awaits: frames are handed to the
 * session synchronously (which spools them) and acknowledged after the spool's fsync.
 */
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer } from 'node:tls';
import {
  encodeFrame,
  FRAME_HEADER_BYTES,
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
  /**
   * The listener's certificate and key. Omitted: plain TCP, accepted only on a loopback address
   * (both processes on one machine; the session token still authenticates each connection).
   */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
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

export async function startMediaProtocolServer(
  options: MediaProtocolServerOptions,
): Promise<MediaProtocolServer> {
  const sockets = new Set<Socket>();
  const onConnection = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    handleConnection(socket, options);
  };
  let server: TcpServer;
  if (options.tls !== undefined) {
    const tlsServer = createServer(
      { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' },
      onConnection,
    );
    // Handshake failures and resets before a session is known: log and carry on.
    tlsServer.on('tlsClientError', (error) =>
      options.logger.debug('media connection failed during TLS handshake', {
        error: error.message,
      }),
    );
    server = tlsServer;
  } else {
    if (!isLoopbackHost(options.host))
      throw new Error('the plain-TCP media listener binds only to a loopback address');
    server = createTcpServer({ noDelay: true }, onConnection);
  }
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

/** Whether `host` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function handleConnection(socket: Socket, options: MediaProtocolServerOptions): void {
  const decoder = new MediaFrameDecoder({ maxPayloadBytes: options.maxPayloadBytes });
  let session: MediaSession | undefined;
  /** The session id a hello claimed, for the error frame when it is refused. */
  let claimedSessionId: string | undefined;
  let log = options.logger.child({ remotePort: socket.remotePort ?? 0 });
  let isClosed = false;
  let ackTemplate: Buffer | undefined;

  const connection: MediaConnection = {
    get sessionId() {
      return session?.sessionId ?? '';
    },
    sendAck(ackedSequence, nextSequence) {
      if (isClosed || session === undefined) return;
      // Encoded once per connection; each ack copies it and sets its two numbers (payload offsets 0 and 4).
      ackTemplate ??= encodeFrame({
        type: 'ack',
        sessionId: session.sessionId,
        sequence: 0,
        timestamp100ns: 0n,
        msi: 0,
        ackedSequence: 0,
        nextSequence: 0,
      });
      const ack = Buffer.from(ackTemplate);
      ack.writeUInt32LE(ackedSequence, FRAME_HEADER_BYTES);
      ack.writeUInt32LE(nextSequence, FRAME_HEADER_BYTES + 4);
      socket.write(ack);
    },
    close(code, reason) {
      if (isClosed) return;
      isClosed = true;
      clearTimeout(helloTimer);
      const errorSessionId = session?.sessionId ?? claimedSessionId;
      if (errorSessionId !== undefined) {
        socket.end(
          encodeFrame({
            type: 'error',
            sessionId: errorSessionId,
            sequence: 0,
            timestamp100ns: 0n,
            msi: 0,
            errorCode: code,
            message: reason,
          }),
        );
      } else {
        socket.end();
      }
      // A peer that never reads must not keep the socket open.
      setTimeout(() => socket.destroy(), 2000).unref();
    },
  };

  const reject = (
    code: number,
    reason: string,
    kind: 'violation' | 'auth' | 'closed' | 'overload',
  ): void => {
    if (kind === 'violation') options.metrics.increment(MetricNames.protocolViolations);
    log.warn('media connection ended', { reason, kind });
    connection.close(code, reason);
  };

  const helloTimer = setTimeout(
    () => reject(MediaProtocolErrorCode.protocolViolation, 'no hello in time', 'violation'),
    options.helloTimeoutInMs,
  );
  helloTimer.unref();

  /** The hello frame: authenticates and attaches; false when the connection was ended. */
  const onHello = (frame: MediaProtocolFrame): boolean => {
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
  };

  /** Why a frame after hello is refused, or undefined when it is a media frame of this session. */
  const refusal = (frame: MediaProtocolFrame, current: MediaSession): string | undefined => {
    if (frame.sessionId !== current.sessionId) return 'frame for another session';
    if (frame.type === 'hello' || frame.type === 'ack' || frame.type === 'error')
      return `unexpected ${frame.type} frame`;
    return undefined;
  };

  /**
   * Hands `frames[start..end)` (consecutive media frames of this read) to the session in one
   * call: one spool record, one metrics update. False when the connection was ended.
   */
  const acceptRun = (
    current: MediaSession,
    frames: readonly MediaProtocolFrame[],
    offsets: readonly number[],
    wire: Buffer,
    start: number,
    end: number,
  ): boolean => {
    if (start === end) return true;
    if (!current.isAcceptingFrames) {
      reject(MediaProtocolErrorCode.sessionClosed, `session is ${current.state}`, 'closed');
      return false;
    }
    const { isAccepted, isPersisted } = current.acceptFrames(
      frames,
      start,
      end,
      wire.subarray(offsets[start], offsets[end]),
    );
    if (!isAccepted) {
      reject(MediaProtocolErrorCode.overloaded, 'media host cannot store more', 'overload');
      return false;
    }
    if (options.taps.hasListeners(current.sessionId)) {
      for (let i = start; i < end; i += 1)
        options.taps.emit({ sessionId: current.sessionId, frame: frames[i]!, isPersisted });
    }
    return true;
  };

  socket.on('data', (chunk: Buffer) => {
    if (isClosed) return;
    try {
      const { frames, wire, frameOffsets, error } = decoder.push(chunk);
      let i = 0;
      if (session === undefined && frames.length > 0) {
        if (!onHello(frames[0]!)) return;
        i = 1;
      }
      const current = session;
      if (current !== undefined) {
        // Frames before a bad one are taken, as if they had arrived alone.
        const start = i;
        for (; i < frames.length; i += 1) {
          const reason = refusal(frames[i]!, current);
          if (reason === undefined) continue;
          if (!acceptRun(current, frames, frameOffsets, wire, start, i)) return;
          reject(MediaProtocolErrorCode.protocolViolation, reason, 'violation');
          return;
        }
        if (!acceptRun(current, frames, frameOffsets, wire, start, frames.length)) return;
      }
      if (error !== undefined)
        reject(
          MediaProtocolErrorCode.protocolViolation,
          `${error.kind}: ${error.message}`,
          'violation',
        );
    } catch (error) {
      // Defensive: nothing above should throw, but one connection must never take the host down.
      log.error('media connection handler failed', {
        error: error instanceof Error ? error.message : String(error),
      });
      connection.close(MediaProtocolErrorCode.internal, 'internal error');
    }
  });
  socket.on('error', (error: Error) =>
    log.debug('media connection error', { error: error.message }),
  );
  socket.on('close', () => {
    isClosed = true;
    clearTimeout(helloTimer);
    if (session !== undefined) options.onDetach(session, connection);
  });
}

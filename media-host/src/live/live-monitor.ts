/**
 * Live monitoring: a supervisor listens in to a session in progress over a WebSocket.
 *
 *   GET /v1/live/{sessionId}                            (Upgrade: websocket, over TLS)
 *   Sec-WebSocket-Protocol: attest.listen.v1, attest.token.<listen token>      (browsers)
 *   or `Authorization: Bearer <listen token>` for clients that can set headers.
 *
 * A token in the URL (`?token=`) is refused (400): URLs end up in logs and histories. With
 * subprotocols the server selects `attest.listen.v1`, so the token is never echoed.
 *
 * The server sends one text message `{"type":"start",...}` describing the audio, then one binary
 * message per 20 ms: 8 bytes platform timestamp (uint64 LE, 100 ns) + 640 bytes PCM (16 kHz,
 * 16-bit LE, mono), the speakers mixed by summing with clipping. A listener whose backlog exceeds
 * `maxBacklogBytes` misses frames rather than falling behind, so the delay stays under a second.
 * While the session is not persisting (before recording is confirmed, PCI pause) the listener
 * hears silence. Protocol details: `docs/media-formats.md`.
 *
 * Every listen start and stop (and every authenticated but refused attempt) goes to
 * `onListenAudit` for the ledger; a start is accepted only after its audit event is taken.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { ListenTokenVerification, MediaProtocolFrame } from '@attest/core';
import {
  ErrorCode,
  LISTEN_SUBPROTOCOL,
  parseListenSubprotocols,
  PayloadFormat,
} from '@attest/core';
import { MIX_FRAME_BYTES, mixPcm16 } from './audio-mixer';
import {
  WsCloseCode,
  acceptWebSocket,
  handshakeProblem,
  rejectUpgrade,
  type WebSocketConnection,
} from './websocket';

/** A frame of a live session as the pipeline's tap hands it over (same shape as `TappedFrame`). */
export interface LiveTappedFrame {
  readonly sessionId: string;
  readonly frame: MediaProtocolFrame;
  /** False before persistence starts and while paused: the listener then hears silence. */
  readonly isPersisted: boolean;
}

/** The pipeline's per-session frame tap (`FrameTaps` in `../hooks/frame-tap.ts` fits). */
export interface SessionFrameTap {
  /** Subscribes to one session's frames; returns an idempotent unsubscribe function. */
  subscribe(sessionId: string, listener: (tapped: LiveTappedFrame) => void): () => void;
}

export const ListenAuditType = {
  started: 'listenStarted',
  stopped: 'listenStopped',
  refused: 'listenRefused',
} as const;
export type ListenAuditType = (typeof ListenAuditType)[keyof typeof ListenAuditType];

export const ListenStopReason = {
  clientClosed: 'clientClosed',
  sessionEnded: 'sessionEnded',
  hostClosing: 'hostClosing',
  protocolError: 'protocolError',
} as const;
export type ListenStopReason = (typeof ListenStopReason)[keyof typeof ListenStopReason];

export interface ListenAuditEvent {
  readonly type: ListenAuditType;
  readonly listenId: string;
  readonly sessionId: string;
  /** The supervisor's user object id from the listen token (opaque). */
  readonly userId: string;
  readonly tokenId: string;
  /** ISO 8601, from the injected clock. */
  readonly at: string;
  readonly reason?:
    ListenStopReason | 'sessionNotLive' | 'tokenForOtherSession' | 'tooManyListeners';
  readonly durationInMs?: number;
  readonly framesSent?: number;
  readonly framesSkipped?: number;
}

/** Structured logger (the host's `Logger` fits). Tokens are never passed to it. */
export interface LiveLogger {
  info(
    message: string,
    fields?: Readonly<Record<string, string | number | boolean | undefined>>,
  ): void;
  warn(
    message: string,
    fields?: Readonly<Record<string, string | number | boolean | undefined>>,
  ): void;
}

export interface LiveMonitorOptions {
  readonly frames: SessionFrameTap;
  /** Whether a session is open on this host (the endpoint answers 404 otherwise). */
  readonly isSessionLive: (sessionId: string) => boolean;
  /** Checks a listen token, for example `(t, now) => verifyListenToken(t, key, now)` from core. */
  readonly verifyListenToken: (token: string, nowMs: number) => ListenTokenVerification;
  /** Takes audit events; a rejected promise on a start refuses the listen (503). */
  readonly onListenAudit: (event: ListenAuditEvent) => void | Promise<void>;
  readonly clock?: { nowMs(): number };
  readonly logger?: LiveLogger;
  /** Default `/v1/live/`. */
  readonly pathPrefix?: string;
  /** Default 4. */
  readonly maxListenersPerSession?: number;
  /** A listener's unsent bytes beyond which frames are skipped. Default 16,384 (~0.5 s). */
  readonly maxBacklogBytes?: number;
  /** Reports listener counts per session (the host's metrics port fits). */
  readonly metrics?: {
    set(name: string, value: number, labels?: Readonly<Record<string, string>>): void;
  };
  /** Default: random UUIDs. */
  readonly createListenId?: () => string;
}

export interface LiveMonitor {
  listenerCount(sessionId: string): number;
  /** Closes every listener of a session (it ended). */
  endSession(sessionId: string): void;
  /** Detaches from the server and closes every listener. Idempotent. */
  close(): void;
}

interface Listener {
  readonly listenId: string;
  readonly sessionId: string;
  readonly userId: string;
  readonly tokenId: string;
  readonly startedAtMs: number;
  readonly connection: WebSocketConnection;
  unsubscribe: () => void;
  framesSent: number;
  framesSkipped: number;
  stopReason: ListenStopReason | undefined;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const silence = Buffer.alloc(MIX_FRAME_BYTES);

/** The PCM to play for one tapped frame, or undefined when the frame carries no audio. */
export function audioOfFrame(tapped: LiveTappedFrame): Buffer | undefined {
  const { frame } = tapped;
  if (frame.type === 'audioUnmixed') {
    if (frame.format !== PayloadFormat.pcm16k) return undefined;
    return tapped.isPersisted ? mixPcm16(frame.buffers.map((b) => b.payload)) : silence;
  }
  if (frame.type === 'audioMixed') {
    if (frame.format !== PayloadFormat.pcm16k) return undefined;
    return tapped.isPersisted ? mixPcm16([frame.payload]) : silence;
  }
  return undefined;
}

/**
 * Sends one frame's audio to a listener as `timestamp (8 bytes) + PCM`, unless the listener's
 * backlog is above `maxBacklogBytes`: then the frame is skipped, so a slow listener loses audio
 * instead of drifting behind real time.
 */
export function forwardAudio(
  target: { readonly bufferedBytes: number; sendBinary(payload: Buffer): void },
  tapped: LiveTappedFrame,
  maxBacklogBytes: number,
): 'sent' | 'skipped' | 'noAudio' {
  const pcm = audioOfFrame(tapped);
  if (pcm === undefined) return 'noAudio';
  if (target.bufferedBytes > maxBacklogBytes) return 'skipped';
  const message = Buffer.allocUnsafe(8 + pcm.length);
  message.writeBigUInt64LE(tapped.frame.timestamp100ns, 0);
  pcm.copy(message, 8);
  target.sendBinary(message);
  return 'sent';
}

/** Adds the listen-in endpoint to the host's HTTP(S) server (handles only upgrades under `pathPrefix`). */
export function attachLiveMonitor(
  server: Server | HttpsServer,
  options: LiveMonitorOptions,
): LiveMonitor {
  const clock = options.clock ?? { nowMs: () => Date.now() };
  const prefix = options.pathPrefix ?? '/v1/live/';
  const maxListeners = options.maxListenersPerSession ?? 4;
  const maxBacklog = options.maxBacklogBytes ?? 16_384;
  const createListenId = options.createListenId ?? randomUUID;
  const bySession = new Map<string, Set<Listener>>();
  let isClosed = false;

  const at = (): string => new Date(clock.nowMs()).toISOString();
  const audit = (event: ListenAuditEvent): Promise<void> =>
    Promise.resolve().then(() => options.onListenAudit(event));
  const reportCount = (sessionId: string): void =>
    options.metrics?.set('attest_media_live_listeners', bySession.get(sessionId)?.size ?? 0, {
      session: sessionId,
    });

  const problem = (socket: Duplex, status: number, code: string, message: string): void =>
    rejectUpgrade(socket, status, { code, message, status });

  const stop = (listener: Listener, reason: ListenStopReason): void => {
    if (listener.stopReason !== undefined) return;
    listener.stopReason = reason;
    listener.unsubscribe();
    const set = bySession.get(listener.sessionId);
    set?.delete(listener);
    if (set?.size === 0) bySession.delete(listener.sessionId);
    reportCount(listener.sessionId);
    const durationInMs = clock.nowMs() - listener.startedAtMs;
    options.logger?.info('live listen stopped', {
      sessionId: listener.sessionId,
      listenId: listener.listenId,
      reason,
      durationInMs,
      framesSkipped: listener.framesSkipped,
    });
    audit({
      type: ListenAuditType.stopped,
      listenId: listener.listenId,
      sessionId: listener.sessionId,
      userId: listener.userId,
      tokenId: listener.tokenId,
      at: at(),
      reason,
      durationInMs,
      framesSent: listener.framesSent,
      framesSkipped: listener.framesSkipped,
    }).catch(() =>
      options.logger?.warn('live listen stop audit failed', {
        sessionId: listener.sessionId,
        listenId: listener.listenId,
      }),
    );
    if (listener.connection.isOpen) {
      listener.connection.close(
        reason === ListenStopReason.hostClosing ? WsCloseCode.goingAway : WsCloseCode.normal,
        reason,
      );
    }
  };

  const onFrame = (listener: Listener, tapped: LiveTappedFrame): void => {
    if (tapped.frame.type === 'end') {
      stop(listener, ListenStopReason.sessionEnded);
      return;
    }
    const outcome = forwardAudio(listener.connection, tapped, maxBacklog);
    if (outcome === 'sent') listener.framesSent += 1;
    if (outcome === 'skipped') listener.framesSkipped += 1;
  };

  const handleUpgrade = async (request: IncomingMessage, socket: Duplex): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const sessionId = url.pathname.slice(prefix.length);
    const fields = { sessionId: uuidPattern.test(sessionId) ? sessionId : undefined };
    if (isClosed)
      return problem(
        socket,
        503,
        ErrorCode.MediaHostUnavailable,
        'The media host is shutting down.',
      );
    if (!uuidPattern.test(sessionId))
      return problem(socket, 404, ErrorCode.NotFound, 'No live session at this path.');
    const notWebSocket = handshakeProblem(request);
    if (notWebSocket !== undefined)
      return problem(
        socket,
        400,
        ErrorCode.InvalidRequest,
        `Not a WebSocket handshake: ${notWebSocket}.`,
      );
    if (url.searchParams.has('token')) {
      options.logger?.warn('live listen refused', { ...fields, reason: 'tokenInUrl' });
      return problem(
        socket,
        400,
        ErrorCode.InvalidRequest,
        `A listen token in the URL is not accepted: offer the subprotocols ${LISTEN_SUBPROTOCOL} and attest.token.<token> (or send Authorization: Bearer <token>).`,
      );
    }
    const offered = parseListenSubprotocols(request.headers['sec-websocket-protocol']);
    const hasOffers = request.headers['sec-websocket-protocol'] !== undefined;
    if (hasOffers && !offered.isListenProtocolOffered) {
      options.logger?.warn('live listen refused', { ...fields, reason: 'noListenSubprotocol' });
      return problem(
        socket,
        400,
        ErrorCode.InvalidRequest,
        `Offer the subprotocol ${LISTEN_SUBPROTOCOL} with the token's attest.token.<token>.`,
      );
    }
    const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const token = offered.token ?? bearer;
    if (token === undefined || token === '') {
      options.logger?.warn('live listen refused', { ...fields, reason: 'noToken' });
      return problem(socket, 401, ErrorCode.Unauthorized, 'A listen token is required.');
    }
    const verified = options.verifyListenToken(token, clock.nowMs());
    if (!verified.ok) {
      options.logger?.warn('live listen refused', { ...fields, reason: verified.reason });
      return problem(
        socket,
        401,
        ErrorCode.Unauthorized,
        `The listen token is not valid (${verified.reason}).`,
      );
    }
    const { claims } = verified;
    const refuse = async (
      status: number,
      code: string,
      reason: NonNullable<ListenAuditEvent['reason']>,
      message: string,
    ): Promise<void> => {
      options.logger?.warn('live listen refused', { ...fields, reason, tokenId: claims.tokenId });
      await audit({
        type: ListenAuditType.refused,
        listenId: createListenId(),
        sessionId,
        userId: claims.userId,
        tokenId: claims.tokenId,
        at: at(),
        reason,
      }).catch(() => undefined);
      problem(socket, status, code, message);
    };
    if (claims.sessionId !== sessionId)
      return refuse(
        403,
        ErrorCode.Forbidden,
        'tokenForOtherSession',
        'The listen token is for another session.',
      );
    if (!options.isSessionLive(sessionId))
      return refuse(
        404,
        ErrorCode.NotFound,
        'sessionNotLive',
        'The session is not live on this host.',
      );
    if ((bySession.get(sessionId)?.size ?? 0) >= maxListeners) {
      return refuse(
        429,
        'ATT_TOO_MANY_LISTENERS',
        'tooManyListeners',
        'The session has as many listeners as it may.',
      );
    }
    const listenId = createListenId();
    const startedAtMs = clock.nowMs();
    try {
      await audit({
        type: ListenAuditType.started,
        listenId,
        sessionId,
        userId: claims.userId,
        tokenId: claims.tokenId,
        at: at(),
      });
    } catch {
      options.logger?.warn('live listen start audit failed', { sessionId, listenId });
      return problem(
        socket,
        503,
        ErrorCode.MediaHostUnavailable,
        'The listen-in could not be audited; try again.',
      );
    }
    if (socket.destroyed) {
      options.logger?.info('live listen abandoned before start', { sessionId, listenId });
      return void audit({
        type: ListenAuditType.stopped,
        listenId,
        sessionId,
        userId: claims.userId,
        tokenId: claims.tokenId,
        at: at(),
        reason: 'clientClosed',
        durationInMs: 0,
        framesSent: 0,
        framesSkipped: 0,
      }).catch(() => undefined);
    }
    const connection = acceptWebSocket(request, socket, {
      ...(offered.isListenProtocolOffered ? { protocol: LISTEN_SUBPROTOCOL } : {}),
    });
    const listener: Listener = {
      listenId,
      sessionId,
      userId: claims.userId,
      tokenId: claims.tokenId,
      startedAtMs,
      connection,
      unsubscribe: () => undefined,
      framesSent: 0,
      framesSkipped: 0,
      stopReason: undefined,
    };
    let set = bySession.get(sessionId);
    if (set === undefined) {
      set = new Set();
      bySession.set(sessionId, set);
    }
    set.add(listener);
    reportCount(sessionId);
    connection.onClose((code) =>
      stop(
        listener,
        code === WsCloseCode.protocolError || code === WsCloseCode.messageTooBig
          ? ListenStopReason.protocolError
          : ListenStopReason.clientClosed,
      ),
    );
    connection.sendText(
      JSON.stringify({
        type: 'start',
        v: 1,
        sessionId,
        listenId,
        format: 'pcm_s16le',
        sampleRateInHz: 16_000,
        channels: 1,
        frameDurationInMs: 20,
        headerBytes: 8,
      }),
    );
    listener.unsubscribe = options.frames.subscribe(sessionId, (tapped) =>
      onFrame(listener, tapped),
    );
    options.logger?.info('live listen started', { sessionId, listenId, tokenId: claims.tokenId });
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex): void => {
    if (!(request.url ?? '').startsWith(prefix)) return; // another upgrade handler's path
    socket.on('error', () => undefined); // a reset during the handshake must not crash the host
    handleUpgrade(request, socket).catch((error: unknown) => {
      options.logger?.warn('live listen upgrade failed', {
        reason: error instanceof Error ? error.name : 'unknown',
      });
      if (!socket.destroyed) socket.destroy();
    });
  };
  server.on('upgrade', onUpgrade);

  return {
    listenerCount: (sessionId) => bySession.get(sessionId)?.size ?? 0,
    endSession: (sessionId) => {
      for (const listener of [...(bySession.get(sessionId) ?? [])])
        stop(listener, ListenStopReason.sessionEnded);
    },
    close: () => {
      if (isClosed) return;
      isClosed = true;
      server.off('upgrade', onUpgrade);
      for (const set of [...bySession.values()])
        for (const listener of [...set]) stop(listener, ListenStopReason.hostClosing);
    },
  };
}

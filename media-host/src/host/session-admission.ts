/**
 * Admitting a new media session for a call: a repeated create for a running call gets the same
 * session; a draining or full host refuses (retryable); a new session gets its id, one-time token
 * and (with encryption) a data key, and answers with the media config blob at once. Synchronous:
 * nothing on the answer's path awaits.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createDataKey,
  ErrorCode,
  RecorderError,
  wrapDataKey,
  type CreateMediaSessionRequest,
  type CreateMediaSessionResponse,
  type MediaConfigBlob,
} from '@attest/core';
import type { KekPublicKey } from '../keys/local-keys';
import type { Logger } from '../logging/logger';
import { MediaSession } from '../session/media-session';
import type { SessionEnvironment } from '../session/session-environment';
import type { SessionRegistry } from './session-registry';

export interface SessionAdmissionOptions {
  readonly env: SessionEnvironment;
  readonly registry: SessionRegistry;
  readonly kek: KekPublicKey | undefined;
  readonly hostId: string;
  readonly maxSessions: number;
  readonly isDraining: () => boolean;
  /** `tls://host:port` the media source connects to, known once the listener is up. */
  readonly mediaEndpoint: () => string;
  readonly now: () => Date;
  readonly logger: Logger;
}

/** Returns the admission function: the session's media config, or a thrown `RecorderError`. */
export function createSessionAdmission(
  options: SessionAdmissionOptions,
): (request: CreateMediaSessionRequest) => CreateMediaSessionResponse {
  const { env, registry, kek, logger } = options;
  const responseFor = (session: MediaSession): CreateMediaSessionResponse => {
    const blob: MediaConfigBlob = {
      v: 1,
      endpoint: options.mediaEndpoint(),
      sessionId: session.sessionId,
      token: session.token,
    };
    return {
      sessionId: session.sessionId,
      mediaHostId: options.hostId,
      mediaConfigBlob: JSON.stringify(blob),
    };
  };
  return (request) => {
    const existing = registry.getByCall(request.callId);
    if (existing !== undefined && !existing.isFinished)
      return { ...responseFor(existing), isExisting: true };
    if (options.isDraining())
      throw new RecorderError(ErrorCode.MediaHostUnavailable, 'media host is draining', {
        retryable: true,
      });
    if (registry.activeCount() >= options.maxSessions)
      throw new RecorderError(ErrorCode.MediaHostUnavailable, 'media host is at capacity', {
        retryable: true,
      });
    const dataKey = kek !== undefined ? createDataKey() : undefined;
    const session = MediaSession.create(env, {
      sessionId: randomUUID(),
      token: randomBytes(32).toString('base64url'),
      request,
      dataKey,
      kekId: kek?.kekId,
    });
    // Answering the invite waits for this reply, so storage and disk are not on its path: the
    // wrapped key goes to storage and the record to disk in the background, and persistence (which
    // comes only after Graph confirms the recording status) waits for both. A crash before the
    // record is on disk loses a session that has not stored any media; the call sees a lost
    // connection and the function app records the gap.
    const wrapped =
      kek !== undefined && dataKey !== undefined
        ? Buffer.from(JSON.stringify(wrapDataKey(kek.publicKey, kek.kekId, dataKey, options.now())))
        : undefined;
    session.beginSetup(async () => {
      await session.ensureKeyRecord(wrapped);
      await session.saveRecord();
    });
    registry.add(session);
    logger.info('media session created', {
      sessionId: session.sessionId,
      callId: request.callId,
      interactionId: request.interactionId,
    });
    return responseFor(session);
  };
}

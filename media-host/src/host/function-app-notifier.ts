/**
 * Messages from the media host to the function app (session events, heartbeats): at least once,
 * best effort. A message is retried with backoff on network failures, 408, 429 and 5xx, up to
 * five attempts, then dropped with a warning; other answers end it.
 */
import { randomUUID } from 'node:crypto';
import type { MediaHostEvent } from '@attest/core';
import type { Logger } from '../logging/logger';
import type { SessionRef } from '../session/session-environment';

export interface FunctionAppNotifierOptions {
  /** The function app's base URL; without it nothing is sent. */
  readonly functionsUrl: string | undefined;
  readonly controlKey: string;
  readonly hostId: string;
  readonly now: () => Date;
  readonly fetch: typeof fetch;
  readonly logger: Logger;
}

export interface FunctionAppNotifier {
  /** Posts `body` as JSON to `path` on the function app; resolves when taken or given up. */
  readonly post: (path: string, body: unknown) => Promise<void>;
  /** Reports a session event (`/api/mediahosts/events`) without waiting for it. */
  sendEvent(session: SessionRef, kind: MediaHostEvent['kind'], reason?: string): void;
}

const MAX_ATTEMPTS = 5;
const REQUEST_TIMEOUT_IN_MS = 5000;

export function createFunctionAppNotifier(
  options: FunctionAppNotifierOptions,
): FunctionAppNotifier {
  const post = async (path: string, body: unknown): Promise<void> => {
    if (options.functionsUrl === undefined) return;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      try {
        const response = await options.fetch(`${options.functionsUrl}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${options.controlKey}`,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_IN_MS),
        });
        if (response.ok) return;
        if (response.status < 500 && response.status !== 408 && response.status !== 429) return;
      } catch {
        // network failure: retried below
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt).unref());
    }
    options.logger.warn('function app did not take a media host message', { path });
  };
  return {
    post,
    sendEvent(session, kind, reason) {
      const event: MediaHostEvent = {
        eventId: randomUUID(),
        hostId: options.hostId,
        sessionId: session.sessionId,
        callId: session.request.callId,
        kind,
        at: options.now().toISOString(),
        ...(reason !== undefined ? { reason } : {}),
      };
      void post('/api/mediahosts/events', event);
    },
  };
}

/**
 * Hands back the calls still on a host that is about to go (the scale-in deadline): each live
 * session is sealed (its media so far committed and signed, so the function app's later seal gets
 * the same manifest), its media connection closed, and the function app told the session is lost
 * (`persistenceFailed` with the reason), so the call's lifecycle records the gap from here on. A
 * session that cannot be sealed (never persisted) is aborted: what is committed stays.
 */
import { MediaHostEventKind, MediaProtocolErrorCode } from '@attest/core';
import type { Logger } from '../logging/logger';
import type { FunctionAppNotifier } from './function-app-notifier';
import type { SessionRegistry } from './session-registry';

export async function handBackSessions(
  registry: SessionRegistry,
  functionApp: Pick<FunctionAppNotifier, 'sendEvent'>,
  reason: string,
  logger: Logger,
): Promise<void> {
  const live = [...registry.values()].filter((session) => !session.isFinished);
  await Promise.all(
    live.map(async (session) => {
      try {
        await session.seal();
      } catch (error) {
        logger.warn('session not sealable at hand-back; aborted', {
          sessionId: session.sessionId,
          callId: session.request.callId,
          error: error instanceof Error ? error.message : String(error),
        });
        await session.abort(reason).catch(() => undefined);
      }
      registry
        .getConnection(session.sessionId)
        ?.close(MediaProtocolErrorCode.sessionClosed, 'media host is being removed');
      functionApp.sendEvent(session, MediaHostEventKind.persistenceFailed, reason);
    }),
  );
  logger.error('calls handed back: the host is being removed', { reason, sessions: live.length });
}

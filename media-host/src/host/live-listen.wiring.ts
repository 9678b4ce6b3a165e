/**
 * Live listen-in on the control port (only with a listen key): the monitor listens for 'upgrade'
 * on a server, while the control API hands its upgrades to one callback, so a small emitter
 * stands in for the server and gets the listen paths only; other upgrades go to the caller's
 * handler, or are refused.
 */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { verifyListenToken } from '@attest/core';
import type { ControlApiOptions } from '../control/control-api.http';
import type { FrameTaps } from '../hooks/frame-tap';
import type { MetricsSink } from '../hooks/metrics-sink';
import { attachLiveMonitor, type ListenAuditEvent, type LiveMonitor } from '../live/live-monitor';
import type { Logger } from '../logging/logger';
import type { SessionRegistry } from './session-registry';

export interface LiveListenWiringOptions {
  /** The listen key; without it there is no live listen-in. */
  readonly liveListenKey: string | undefined;
  readonly registry: SessionRegistry;
  readonly taps: FrameTaps;
  readonly onListenAudit: ((event: ListenAuditEvent) => void | Promise<void>) | undefined;
  /** Upgrades that are not live listen-ins. Default: the socket is destroyed. */
  readonly onOtherUpgrade: ControlApiOptions['onUpgrade'];
  readonly metrics: MetricsSink;
  readonly logger: Logger;
}

export interface LiveListenWiring {
  readonly live: LiveMonitor | undefined;
  readonly onUpgrade: NonNullable<ControlApiOptions['onUpgrade']>;
}

const LIVE_PATH_PREFIX = '/v1/live/';

export function wireLiveListen(options: LiveListenWiringOptions): LiveListenWiring {
  const { registry, logger } = options;
  const liveUpgrades = new EventEmitter();
  const listenKey =
    options.liveListenKey === undefined ? undefined : Buffer.from(options.liveListenKey, 'utf8');
  const live: LiveMonitor | undefined =
    listenKey === undefined
      ? undefined
      : attachLiveMonitor(liveUpgrades as unknown as Server, {
          frames: options.taps,
          pathPrefix: LIVE_PATH_PREFIX,
          isSessionLive: (sessionId) => {
            const session = registry.get(sessionId);
            return session !== undefined && !session.isFinished;
          },
          verifyListenToken: (token, nowMs) => verifyListenToken(token, listenKey, nowMs),
          onListenAudit:
            options.onListenAudit ??
            ((event) =>
              logger.info('live listen audit', {
                audit: event.type,
                listenId: event.listenId,
                sessionId: event.sessionId,
                tokenId: event.tokenId,
                at: event.at,
                reason: event.reason,
                durationInMs: event.durationInMs,
                framesSent: event.framesSent,
                framesSkipped: event.framesSkipped,
              })),
          logger,
          metrics: options.metrics,
        });
  const onUpgrade: LiveListenWiring['onUpgrade'] = (request, socket, head) => {
    if (live !== undefined && (request.url ?? '').startsWith(LIVE_PATH_PREFIX))
      liveUpgrades.emit('upgrade', request, socket, head);
    else if (options.onOtherUpgrade !== undefined) options.onOtherUpgrade(request, socket, head);
    else socket.destroy();
  };
  return { live, onUpgrade };
}

/**
 * Live listen-in on its own TLS listener (only with a listen key): `wss://<publicHost>:<listen
 * port>/v1/live/<sessionId>`, with the media certificate. It is apart from the control API, which
 * stays on the private network for the function app alone, while a supervisor's browser connects
 * here (in Azure through the instance's public address, open to the networks the deployment
 * names). Any request that is not a listen-in upgrade gets a problem body.
 */
import { createServer, type Server } from 'node:https';
import { ErrorCode, verifyListenToken } from '@attest/core';
import type { FrameTaps } from '../hooks/frame-tap';
import type { MetricsSink } from '../hooks/metrics-sink';
import { attachLiveMonitor, type ListenAuditEvent, type LiveMonitor } from '../live/live-monitor';
import type { Logger } from '../logging/logger';
import { listenOn } from '../net/listen';
import type { SessionRegistry } from './session-registry';

export interface LiveListenWiringOptions {
  /** The listen key; without it there is no live listen-in (and no listener). */
  readonly liveListenKey: string | undefined;
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  /** The name in the listen URL (the certificate's name). */
  readonly publicHost: string;
  readonly tls: { readonly cert: Buffer; readonly key: Buffer };
  readonly registry: SessionRegistry;
  readonly taps: FrameTaps;
  readonly onListenAudit: ((event: ListenAuditEvent) => void | Promise<void>) | undefined;
  readonly metrics: MetricsSink;
  readonly logger: Logger;
}

export interface LiveListenWiring {
  readonly live: LiveMonitor;
  /** `wss://<publicHost>:<port>`, the base of the listen URLs the function app hands out. */
  readonly url: string;
  readonly port: number;
  /** Ends every listener and stops listening. Idempotent. */
  close(): Promise<void>;
}

const LIVE_PATH_PREFIX = '/v1/live/';

/** Starts the listen-in listener; undefined when no listen key is configured. */
export async function startLiveListen(
  options: LiveListenWiringOptions,
): Promise<LiveListenWiring | undefined> {
  if (options.liveListenKey === undefined) return undefined;
  const { registry, logger } = options;
  const listenKey = Buffer.from(options.liveListenKey, 'utf8');
  const server: Server = createServer(
    { cert: options.tls.cert, key: options.tls.key },
    (_, res) => {
      const body = JSON.stringify({
        code: ErrorCode.NotFound,
        message: `Live listen-in is a WebSocket at ${LIVE_PATH_PREFIX}<sessionId>.`,
        status: 404,
      });
      res.writeHead(404, { 'content-type': 'application/problem+json' }).end(body);
    },
  );
  const live = attachLiveMonitor(server, {
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
  // Upgrades outside the listen path are not answered by the monitor: close them.
  server.on('upgrade', (request: { url?: string }, socket: { destroy(): void }) => {
    if (!(request.url ?? '').startsWith(LIVE_PATH_PREFIX)) socket.destroy();
  });
  const port = await listenOn(server, options.port, options.host);
  let closing: Promise<void> | undefined;
  return {
    live,
    port,
    url: `wss://${options.publicHost}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        live.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

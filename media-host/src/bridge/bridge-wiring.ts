/**
 * The media host's side of the .NET bridge: sessions get the media platform's blob from the
 * bridge (the call's media then arrives over the loopback listener), rosters and session ends
 * are forwarded, and the bridge's health is polled into the host's health and metrics.
 */
import {
  ErrorCode,
  RecorderError,
  type CreateMediaSessionRequest,
  type CreateMediaSessionResponse,
  type MediaBridgeHealth,
  type ParticipantMapping,
} from '@attest/core';
import { MetricNames, type MetricName, type MetricsSink } from '../hooks/metrics-sink';
import type { Logger } from '../logging/logger';
import type { BridgeClient } from './bridge-client';

export interface BridgeWiringOptions {
  readonly client: BridgeClient;
  /** `tcp://127.0.0.1:<port>`, known once the loopback listener is up. */
  readonly loopbackEndpoint: () => string;
  /** The session's one-time token (the bridge presents it in its hello). */
  readonly tokenOf: (sessionId: string) => string | undefined;
  /** Ends a session the bridge could not take (no media will come). */
  readonly abortSession: (sessionId: string, reason: string) => Promise<void>;
  readonly healthIntervalInMs: number;
  readonly now: () => Date;
  readonly metrics: MetricsSink;
  readonly logger: Logger;
}

export interface BridgeWiring {
  /** Wraps the host's admission: the answer carries the bridge's blob instead of the host's. */
  admit(
    admitLocally: (request: CreateMediaSessionRequest) => CreateMediaSessionResponse,
    request: CreateMediaSessionRequest,
  ): Promise<CreateMediaSessionResponse>;
  onParticipants(sessionId: string, participants: readonly ParticipantMapping[]): void;
  onSessionFinished(sessionId: string): void;
  /** The last health read (undefined before the first). */
  health(): MediaBridgeHealth | undefined;
  /** Reads the bridge's health now. */
  refreshHealth(): Promise<MediaBridgeHealth>;
  stop(): void;
}

const gauges: ReadonlyArray<readonly [keyof MediaBridgeHealth, MetricName]> = [
  ['platformHealthChanges', MetricNames.bridgePlatformHealthChanges],
  ['sessions', MetricNames.bridgeSessions],
  ['framesPerSecond', MetricNames.bridgeFramesPerSecond],
  ['queueDepth', MetricNames.bridgeQueueDepth],
  ['framesForwarded', MetricNames.bridgeFramesForwarded],
  ['framesDropped', MetricNames.bridgeFramesDropped],
  ['gapReports', MetricNames.bridgeGapReports],
  ['unackedFrames', MetricNames.bridgeUnackedFrames],
  ['disconnectedSessions', MetricNames.bridgeDisconnectedSessions],
];

/** The platform's load state as a gauge value (see the metric's help). */
export function platformHealthLevel(platformHealth: string | undefined): number {
  switch (platformHealth) {
    case 'normal':
      return 0;
    case 'heavilyLoaded':
      return 1;
    case 'overloaded':
      return 2;
    default:
      return -1;
  }
}

export function createBridgeWiring(options: BridgeWiringOptions): BridgeWiring {
  const { client, logger } = options;
  let latest: MediaBridgeHealth | undefined;

  const refreshHealth = async (): Promise<MediaBridgeHealth> => {
    const checkedAt = options.now().toISOString();
    const previousHealth = latest?.platformHealth;
    try {
      latest = { ...(await client.getHealth()), isReachable: true, checkedAt };
      if (previousHealth !== undefined && latest.platformHealth !== previousHealth) {
        const fields = { previousHealth, platformHealth: latest.platformHealth ?? 'unknown' };
        if (latest.platformHealth === 'normal')
          logger.info('media platform health changed', fields);
        else logger.warn('media platform health changed', fields);
      }
    } catch (error) {
      if (latest?.isReachable !== false)
        logger.warn('media bridge health unavailable', {
          error: error instanceof Error ? error.message : String(error),
        });
      latest = { isReachable: false, checkedAt };
    }
    options.metrics.set(MetricNames.bridgeReachable, latest.isReachable ? 1 : 0);
    options.metrics.set(
      MetricNames.bridgePlatformInitialized,
      latest.isPlatformInitialized ? 1 : 0,
    );
    if (latest.isReachable)
      options.metrics.set(
        MetricNames.bridgePlatformHealth,
        platformHealthLevel(latest.platformHealth),
      );
    for (const [field, name] of gauges) {
      const value = latest[field];
      if (typeof value === 'number') options.metrics.set(name, value);
    }
    return latest;
  };
  const timer = setInterval(() => void refreshHealth(), options.healthIntervalInMs);
  timer.unref();
  void refreshHealth();

  const forget = (what: string, sessionId: string) => (error: unknown) =>
    logger.warn(`media bridge ${what} failed`, {
      sessionId,
      error: error instanceof Error ? error.message : String(error),
    });

  return {
    async admit(admitLocally, request) {
      const local = admitLocally(request);
      const token = options.tokenOf(local.sessionId);
      if (token === undefined)
        throw new RecorderError(ErrorCode.Internal, 'admitted session is missing');
      try {
        const blob = await client.createCall({
          sessionId: local.sessionId,
          token,
          ingestEndpoint: options.loopbackEndpoint(),
        });
        return { ...local, mediaConfigBlob: blob };
      } catch (error) {
        if (local.isExisting !== true)
          await options
            .abortSession(local.sessionId, 'media bridge unavailable')
            .catch(forget('abort', local.sessionId));
        throw error;
      }
    },
    onParticipants(sessionId, participants) {
      client.updateRoster(sessionId, participants).catch(forget('roster update', sessionId));
    },
    onSessionFinished(sessionId) {
      client.endCall(sessionId).catch(forget('call end', sessionId));
    },
    health: () => latest,
    refreshHealth,
    stop: () => clearInterval(timer),
  };
}

/**
 * The heartbeat: the host's health and capacity, posted to the function app every interval (and
 * at once when asked, e.g. when a drain starts), with the active-sessions gauge.
 */
import type { MediaHostHealth, MediaHostHeartbeat } from '@attest/core';
import { MetricNames, type MetricsSink } from '../../hooks/metrics-sink';

export interface HeartbeatOptions {
  readonly intervalInMs: number;
  readonly health: () => MediaHostHealth;
  /** The control API's URL, known once it listens. */
  readonly controlUrl: () => string;
  /** Live listen-in's `wss://` base URL, once it listens (none without a listen key). */
  readonly listenUrl: () => string | undefined;
  readonly post: (path: string, body: unknown) => Promise<void>;
  readonly now: () => Date;
  readonly metrics: MetricsSink;
}

export interface Heartbeat {
  /** Sends one heartbeat now (not waiting for it). */
  beat(): void;
  /** Starts the periodic beat (its timer does not hold the process open). */
  start(): void;
  stop(): void;
}

export function createHeartbeat(options: HeartbeatOptions): Heartbeat {
  let timer: NodeJS.Timeout | undefined;
  const beat = (): void => {
    const health = options.health();
    options.metrics.set(MetricNames.activeSessions, health.capacity.activeSessions);
    const listenUrl = options.listenUrl();
    const body: MediaHostHeartbeat = {
      ...health,
      controlUrl: options.controlUrl(),
      ...(listenUrl !== undefined ? { listenUrl } : {}),
      sentAt: options.now().toISOString(),
    };
    void options.post('/api/mediahosts/heartbeat', body);
  };
  return {
    beat,
    start() {
      timer ??= setInterval(beat, options.intervalInMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/**
 * The media host's drain: an operator's (`POST /v1/drain`) and a scale-in's (Azure scheduled
 * events, {@link createScaleInDrain}), as one state the admission, the health and the heartbeat
 * read. With scheduled events configured it learns the instance's name and zone from IMDS and
 * checks the events on an interval.
 */
import { DrainReason, type MediaHostDrainState } from '@attest/core';
import type { ScheduledEventsConfig } from '../config/media-host.config';
import type { Logger } from '../logging/logger';
import { createScaleInDrain, type ScaleInDrain } from './scale-in-drain';
import {
  createInstanceMetadataClient,
  type InstanceMetadataClient,
} from './scheduled-events.client';

export interface HostDrainOptions {
  readonly scheduledEvents?: ScheduledEventsConfig;
  /** The configured zone; with scheduled events and none configured, IMDS's. */
  readonly zone?: string;
  readonly activeSessions: () => number;
  readonly handBack: (reason: string) => Promise<void>;
  /** Told on every change (the host beats at once). */
  readonly onChange: () => void;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
}

export interface HostDrain {
  isDraining(): boolean;
  state(): MediaHostDrainState | undefined;
  zone(): string | undefined;
  /** The operator's drain. */
  setByAdmin(isDraining: boolean): void;
  /** One scheduled-events round (the interval runs it; tests call it). */
  checkScheduledEvents(): Promise<void>;
  /** Reads the instance metadata and starts the interval; without scheduled events a no-op. */
  start(): Promise<void>;
  stop(): void;
}

export function createHostDrain(options: HostDrainOptions): HostDrain {
  let admin: MediaHostDrainState | undefined;
  let zone = options.zone;
  let scaleIn: ScaleInDrain | undefined;
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;
  const config = options.scheduledEvents;
  const imds: InstanceMetadataClient | undefined =
    config === undefined
      ? undefined
      : createInstanceMetadataClient({
          baseUrl: config.url,
          ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
        });

  const check = async (): Promise<void> => {
    try {
      await scaleIn?.check();
    } catch (error) {
      options.logger.warn('scale-in drain round failed', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  const checkScheduledEvents = (): Promise<void> =>
    (checking ??= check().finally(() => (checking = undefined)));

  return {
    isDraining: () => admin !== undefined || scaleIn?.state() !== undefined,
    state: () => scaleIn?.state() ?? admin,
    zone: () => zone,
    setByAdmin(isDraining) {
      admin = isDraining
        ? (admin ?? { reason: DrainReason.admin, startedAt: options.now().toISOString() })
        : undefined;
      options.onChange();
    },
    checkScheduledEvents,
    async start() {
      if (config === undefined || imds === undefined || scaleIn !== undefined) return;
      let instanceName = config.instanceName;
      if (instanceName === undefined || zone === undefined) {
        try {
          const compute = await imds.getCompute();
          instanceName ??= compute.name;
          if (zone === undefined && compute.zone !== '') zone = compute.zone;
        } catch (error) {
          options.logger.error('instance metadata unreadable: scale-in is not watched', {
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
      if (instanceName === undefined) return;
      scaleIn = createScaleInDrain({
        imds,
        instanceName,
        activeSessions: options.activeSessions,
        handBack: options.handBack,
        onChange: options.onChange,
        now: options.now,
        maxDrainInMs: config.maxDrainInMs,
        logger: options.logger,
      });
      options.logger.info('watching scheduled events', { instanceName, zone });
      timer = setInterval(() => void checkScheduledEvents(), config.pollIntervalInMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/**
 * Drain before scale-in. Azure tells an instance it will be removed through its scheduled events
 * (a scale set's terminate notification, a spot eviction, a redeploy or reboot); this watcher
 * reads them, and for an event that names this instance it drains the host: no new calls, the
 * calls it has run on. When the last one has ended it acknowledges the event (the platform may
 * then go ahead at once); when the deadline comes first (the event's `NotBefore` less a margin,
 * never later than the host's drain limit) it hands the remaining calls back (their media so far
 * is committed and sealed, the function app hears they are lost) and acknowledges. An event that
 * disappears before it is acknowledged (a cancelled scale-in) ends the drain.
 * Driven by `check()`: the host calls it on an interval, tests with a manual clock.
 */
import { DrainReason, type MediaHostDrainState } from '@attest/core';
import type { Logger } from '../logging/logger';
import type { InstanceMetadataClient, ScheduledEvent } from './scheduled-events.client';

/** Event types that take the instance away or restart it: each would cut every call on it. */
export const DISRUPTIVE_EVENT_TYPES: ReadonlySet<string> = new Set([
  'terminate',
  'preempt',
  'reboot',
  'redeploy',
]);

export interface ScaleInDrainOptions {
  readonly imds: InstanceMetadataClient;
  /** This instance's name as scheduled events list it in `Resources`. */
  readonly instanceName: string;
  /** Calls (sessions) the host still has. */
  readonly activeSessions: () => number;
  /** Ends the remaining calls cleanly before the instance goes; resolves when done. */
  readonly handBack: (reason: string) => Promise<void>;
  /** Told when a drain starts or ends, so the host refuses or takes calls and beats at once. */
  readonly onChange: (drain: MediaHostDrainState | undefined) => void;
  readonly now: () => Date;
  /** The longest a drain lasts before the calls are handed back. */
  readonly maxDrainInMs: number;
  /** Hand back this long before `NotBefore` (default 30 000; at most half the notice). */
  readonly handBackMarginInMs?: number;
  readonly logger: Logger;
}

export interface ScaleInDrain {
  /** One round: read the events, start or end a drain, hand back or acknowledge when due. */
  check(): Promise<void>;
  /** The drain under way, if any. */
  state(): MediaHostDrainState | undefined;
  /** Whether the drain's event has been acknowledged (the instance may go). */
  isAcknowledged(): boolean;
}

const DEFAULT_MARGIN_IN_MS = 30_000;

export function createScaleInDrain(options: ScaleInDrainOptions): ScaleInDrain {
  const instance = options.instanceName.toLowerCase();
  let drain: MediaHostDrainState | undefined;
  let isAcknowledged = false;
  let isHandedBack = false;
  let wasUnreachable = false;

  const concernsThisInstance = (event: ScheduledEvent): boolean =>
    DISRUPTIVE_EVENT_TYPES.has(event.EventType.toLowerCase()) &&
    event.Resources.some((r) => r.toLowerCase() === instance);

  const deadlineOf = (event: ScheduledEvent, startedMs: number): Date => {
    const limitMs = startedMs + options.maxDrainInMs;
    const notBeforeMs = Date.parse(event.NotBefore);
    if (!Number.isFinite(notBeforeMs)) return new Date(limitMs);
    const noticeMs = Math.max(0, notBeforeMs - startedMs);
    const marginMs = Math.min(options.handBackMarginInMs ?? DEFAULT_MARGIN_IN_MS, noticeMs / 2);
    return new Date(Math.min(limitMs, notBeforeMs - marginMs));
  };

  const start = (event: ScheduledEvent): void => {
    const now = options.now();
    drain = {
      reason: DrainReason.scaleIn,
      startedAt: now.toISOString(),
      deadlineAt: deadlineOf(event, now.getTime()).toISOString(),
      eventId: event.EventId,
      eventType: event.EventType,
    };
    isAcknowledged = false;
    isHandedBack = false;
    options.logger.warn('scale-in drain started', {
      eventId: event.EventId,
      eventType: event.EventType,
      notBefore: event.NotBefore,
      deadlineAt: drain.deadlineAt,
      activeSessions: options.activeSessions(),
    });
    options.onChange(drain);
  };

  const acknowledge = async (current: MediaHostDrainState): Promise<void> => {
    if (current.eventId === undefined) return;
    await options.imds.acknowledge(current.eventId);
    isAcknowledged = true;
    options.logger.info('scale-in acknowledged', {
      eventId: current.eventId,
      isHandedBack,
      drainInMs: options.now().getTime() - Date.parse(current.startedAt),
    });
  };

  const readEvents = async (): Promise<readonly ScheduledEvent[] | undefined> => {
    try {
      const document = await options.imds.getScheduledEvents();
      wasUnreachable = false;
      return document.Events;
    } catch (error) {
      // Logged once per outage: IMDS is local to the machine, an outage is rare and loud.
      if (!wasUnreachable)
        options.logger.warn('scheduled events unreadable', {
          error: error instanceof Error ? error.message : String(error),
        });
      wasUnreachable = true;
      return undefined;
    }
  };

  return {
    async check() {
      const events = await readEvents();
      if (events !== undefined && !isAcknowledged) {
        const mine = events.filter(concernsThisInstance);
        if (drain !== undefined && !mine.some((e) => e.EventId === drain?.eventId)) {
          options.logger.info('scale-in cancelled: drain ended', { eventId: drain.eventId });
          drain = undefined;
          options.onChange(undefined);
        }
        const next = mine.find((e) => e.EventStatus.toLowerCase() === 'scheduled');
        if (drain === undefined && next !== undefined) start(next);
      }
      const current = drain;
      if (current === undefined || isAcknowledged) return;
      if (options.activeSessions() === 0) {
        await acknowledge(current);
        return;
      }
      if (!isHandedBack && options.now().getTime() >= Date.parse(current.deadlineAt ?? '')) {
        options.logger.error('scale-in deadline: handing back the calls still on this host', {
          eventId: current.eventId,
          activeSessions: options.activeSessions(),
        });
        await options.handBack('scaleInDeadline');
        isHandedBack = true;
        await acknowledge(current);
      }
    },
    state: () => drain,
    isAcknowledged: () => isAcknowledged,
  };
}

/**
 * The bridge's health, as the media host polls it: the media platform's health event (the load
 * state the bridge reports) reaches the host's health, its log and `/metrics`.
 */
import type { MediaBridgeHealth } from '@attest/core';
import type { Logger } from '../logging/logger';
import { MediaHostMetrics } from '../metrics/media-host-metrics';
import type { BridgeClient } from './bridge-client';
import { createBridgeWiring, platformHealthLevel, type BridgeWiring } from './bridge-wiring';

type Report = Omit<MediaBridgeHealth, 'checkedAt' | 'isReachable'>;

const baseReport: Report = {
  sdkVersion: '1.33.0.258-preview',
  isPlatformInitialized: true,
  platformHealth: 'normal',
  platformHealthChanges: 0,
  sessions: 2,
};

function harness(): {
  readonly wiring: BridgeWiring;
  readonly metrics: MediaHostMetrics;
  readonly lines: { level: string; message: string; fields?: unknown }[];
  next: Report | Error;
} {
  const lines: { level: string; message: string; fields?: unknown }[] = [];
  const line =
    (level: string) =>
    (message: string, fields?: unknown): void => {
      lines.push({ level, message, fields });
    };
  const logger = {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    child: () => logger,
  } as unknown as Logger;
  const metrics = new MediaHostMetrics({
    readProcessStats: () => ({
      cpuTimeInMicroseconds: 0,
      residentMemoryInBytes: 0,
      heapUsedInBytes: 0,
    }),
  });
  const state: { next: Report | Error } = { next: baseReport };
  const client: BridgeClient = {
    createCall: () => Promise.reject(new Error('not here')),
    updateRoster: () => Promise.resolve(),
    endCall: () => Promise.resolve(),
    getHealth: () =>
      state.next instanceof Error ? Promise.reject(state.next) : Promise.resolve(state.next),
  };
  const wiring = createBridgeWiring({
    client,
    loopbackEndpoint: () => 'tcp://127.0.0.1:1',
    tokenOf: () => undefined,
    abortSession: () => Promise.resolve(),
    healthIntervalInMs: 3_600_000,
    now: () => new Date('2026-12-07T06:00:00.000Z'),
    metrics,
    logger,
  });
  return {
    wiring,
    metrics,
    lines,
    get next() {
      return state.next;
    },
    set next(value) {
      state.next = value;
    },
  };
}

const gauge = (text: string, name: string): string | undefined =>
  new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];

describe('bridge health in the media host', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness();
  });
  afterEach(() => h.wiring.stop());

  it('follows the platform load state into health, log and metrics', async () => {
    await h.wiring.refreshHealth();
    expect(h.wiring.health()).toMatchObject({ isReachable: true, platformHealth: 'normal' });
    expect(gauge(await h.metrics.render(), 'attest_media_bridge_platform_health')).toBe('0');

    h.next = {
      ...baseReport,
      platformHealth: 'heavilyLoaded',
      platformHealthChangedAt: '2026-12-07T05:59:58.000Z',
      platformHealthChanges: 1,
    };
    await h.wiring.refreshHealth();
    expect(h.wiring.health()).toEqual({
      ...h.next,
      isReachable: true,
      checkedAt: '2026-12-07T06:00:00.000Z',
    });
    const text = await h.metrics.render();
    expect(gauge(text, 'attest_media_bridge_platform_health')).toBe('1');
    expect(gauge(text, 'attest_media_bridge_platform_health_changes')).toBe('1');
    expect(h.lines).toContainEqual({
      level: 'warn',
      message: 'media platform health changed',
      fields: { previousHealth: 'normal', platformHealth: 'heavilyLoaded' },
    });

    h.next = { ...baseReport, platformHealth: 'normal', platformHealthChanges: 2 };
    await h.wiring.refreshHealth();
    expect(gauge(await h.metrics.render(), 'attest_media_bridge_platform_health')).toBe('0');
    expect(h.lines.at(-1)).toEqual({
      level: 'info',
      message: 'media platform health changed',
      fields: { previousHealth: 'heavilyLoaded', platformHealth: 'normal' },
    });
  });

  it('logs a change once, not at every read, and keeps the last level when the bridge is unreachable', async () => {
    h.next = { ...baseReport, platformHealth: 'overloaded' };
    await h.wiring.refreshHealth();
    await h.wiring.refreshHealth();
    // The wiring read `normal` when it started: one change, not one per read.
    expect(h.lines.filter((l) => l.message === 'media platform health changed')).toEqual([
      {
        level: 'warn',
        message: 'media platform health changed',
        fields: { previousHealth: 'normal', platformHealth: 'overloaded' },
      },
    ]);
    h.next = new Error('connection refused');
    await h.wiring.refreshHealth();
    expect(h.wiring.health()).toEqual({
      isReachable: false,
      checkedAt: '2026-12-07T06:00:00.000Z',
    });
    const text = await h.metrics.render();
    expect(gauge(text, 'attest_media_bridge_reachable')).toBe('0');
    expect(gauge(text, 'attest_media_bridge_platform_health')).toBe('2');
  });

  it.each([
    ['normal', 0],
    ['heavilyLoaded', 1],
    ['overloaded', 2],
    ['notInitialized', -1],
    [undefined, -1],
  ])('maps %s to %d', (state, level) => {
    expect(platformHealthLevel(state)).toBe(level);
  });
});

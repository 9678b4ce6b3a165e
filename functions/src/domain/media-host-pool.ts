/**
 * Reserves a media session for a new call on the best media host: reads the registry (cached
 * briefly, so a burst of invites costs one table query), ranks hosts, and tries them in order,
 * counting this instance's own recent reservations so a burst spreads across hosts.
 */
import {
  errorCodeOf,
  type CreateMediaSessionRequest,
  type CreateMediaSessionResponse,
  type MediaHostHeartbeat,
} from '@attest/core';
import { rankMediaHosts, type MediaHostSkipReason } from './media-host-selection';
import type { SiblingPlacement } from './paired-leg-placement';
import type { MediaHostControl, MediaHostRecord, MediaHostRegistry } from './recorder-ports';

export interface MediaHostPoolOptions {
  readonly staleAfterInMs: number;
  /** How long a registry listing is reused. Default 1 s. */
  readonly listCacheInMs?: number;
  /**
   * How long an older listing is still used while a fresh one is read in the background, so an
   * invite never waits for the registry read. Default 10 s.
   */
  readonly serveStaleForInMs?: number;
  /** How many hosts to try for one call. Default 3. */
  readonly maxAttempts?: number;
  /** A host that failed a create is tried last for this long. Default 3 s. */
  readonly suspectForInMs?: number;
  readonly now: () => Date;
}

export type Reservation =
  | {
      readonly kind: 'reserved';
      readonly host: MediaHostRecord;
      readonly session: CreateMediaSessionResponse;
      readonly attempts: number;
    }
  | {
      readonly kind: 'noCapacity';
      readonly hostCount: number;
      readonly skipped: Readonly<Record<MediaHostSkipReason, number>>;
      readonly failedHosts: number;
      readonly lastErrorCode?: string;
    };

export class MediaHostPool {
  readonly #registry: MediaHostRegistry;
  readonly #control: MediaHostControl;
  readonly #options: MediaHostPoolOptions;
  #cached: { hosts: readonly MediaHostRecord[]; atMs: number } | undefined;
  #listing: Promise<readonly MediaHostRecord[]> | undefined;
  readonly #pending = new Map<string, number[]>();
  readonly #suspectUntil = new Map<string, number>();

  constructor(
    registry: MediaHostRegistry,
    control: MediaHostControl,
    options: MediaHostPoolOptions,
  ) {
    this.#registry = registry;
    this.#control = control;
    this.#options = options;
  }

  /** Drops the cached listing (after an admin drain changes it). */
  invalidate(): void {
    this.#cached = undefined;
  }

  /**
   * Puts a heartbeat this instance received into the cached listing (the registry has it too),
   * so a heartbeat does not cost the next invite a registry read.
   */
  observe(heartbeat: MediaHostHeartbeat, receivedAt: Date): void {
    const cached = this.#cached;
    if (cached === undefined) return;
    const previous = cached.hosts.find((h) => h.hostId === heartbeat.hostId);
    const record: MediaHostRecord = {
      ...heartbeat,
      receivedAt: receivedAt.toISOString(),
      ...(previous?.isDrainingByAdmin !== undefined
        ? { isDrainingByAdmin: previous.isDrainingByAdmin }
        : {}),
    };
    this.#cached = {
      ...cached,
      hosts: [...cached.hosts.filter((h) => h.hostId !== heartbeat.hostId), record],
    };
  }

  /**
   * Reserves a session on the best host for the call; `siblings` (a paired leg) keeps it off the
   * hosts and zones of the call's other legs where another host has room.
   */
  async reserve(
    request: CreateMediaSessionRequest,
    region: string | undefined,
    siblings?: SiblingPlacement,
  ): Promise<Reservation> {
    const nowMs = this.#options.now().getTime();
    const hosts = await this.#list(nowMs);
    const pendingByHost = new Map<string, number>();
    for (const [hostId, stamps] of this.#pending) {
      const fresh = stamps.filter((at) => nowMs - at < this.#options.staleAfterInMs);
      this.#pending.set(hostId, fresh);
      pendingByHost.set(hostId, fresh.length);
    }
    const ranked = rankMediaHosts(hosts, {
      now: this.#options.now(),
      staleAfterInMs: this.#options.staleAfterInMs,
      region,
      pendingByHost,
      siblings,
    });
    const { skipped } = ranked;
    // A host that just failed a create (often only slow under load) is tried last, not skipped:
    // rejecting a policy call is worse than one more attempt.
    const isSuspect = (hostId: string): boolean => (this.#suspectUntil.get(hostId) ?? 0) > nowMs;
    const candidates = [
      ...ranked.candidates.filter((h) => !isSuspect(h.hostId)),
      ...ranked.candidates.filter((h) => isSuspect(h.hostId)),
    ];
    let failedHosts = 0;
    let lastErrorCode: string | undefined;
    for (const host of candidates.slice(0, this.#options.maxAttempts ?? 3)) {
      // Count the reservation before the await so concurrent invites see it.
      const stamps = this.#pending.get(host.hostId) ?? [];
      stamps.push(nowMs);
      this.#pending.set(host.hostId, stamps);
      try {
        const session = await this.#control.createSession(host.controlUrl, request);
        return { kind: 'reserved', host, session, attempts: failedHosts + 1 };
      } catch (error) {
        stamps.pop();
        failedHosts += 1;
        lastErrorCode = errorCodeOf(error);
        this.#suspectUntil.set(host.hostId, nowMs + (this.#options.suspectForInMs ?? 3_000));
      }
    }
    return { kind: 'noCapacity', hostCount: hosts.length, skipped, failedHosts, lastErrorCode };
  }

  async #list(nowMs: number): Promise<readonly MediaHostRecord[]> {
    const cached = this.#cached;
    const ageInMs = cached === undefined ? Infinity : nowMs - cached.atMs;
    if (cached !== undefined && ageInMs < (this.#options.listCacheInMs ?? 1_000))
      return cached.hosts;
    const refresh = (this.#listing ??= this.#registry
      .list()
      .then((hosts) => {
        this.#cached = { hosts, atMs: this.#options.now().getTime() };
        return hosts;
      })
      .finally(() => {
        this.#listing = undefined;
      }));
    if (cached !== undefined && ageInMs < (this.#options.serveStaleForInMs ?? 10_000)) {
      refresh.catch(() => undefined);
      return cached.hosts;
    }
    return refresh;
  }
}

/**
 * Picks a media host for a new call: healthy (heartbeat fresh), not draining, with room; then the
 * region nearest the call's media first ({@link regionDistanceInKm}), spilling over to the next
 * nearest region when every host of a nearer one is full, stale or draining; inside a region the
 * least loaded host, then the least loaded zone. Pure.
 */
import { regionDistanceInKm } from './region-proximity';
import { placeApartFromSiblings, type SiblingPlacement } from './paired-leg-placement';
import type { MediaHostRecord } from './recorder-ports';

export interface MediaHostChoiceOptions {
  readonly now: Date;
  readonly staleAfterInMs: number;
  /**
   * The call's media region hint (a Teams media region code such as `EUWE`, or an Azure region
   * name); hosts in the nearest region are preferred.
   */
  readonly region?: string;
  /** Sessions reserved by this instance since the host's last heartbeat. */
  readonly pendingByHost?: ReadonlyMap<string, number>;
  /** The call's other legs, for a paired leg. */
  readonly siblings?: SiblingPlacement;
}

export type MediaHostSkipReason = 'stale' | 'draining' | 'full';

/** Whether the host's last heartbeat reached this app within `staleAfterInMs` of `now`. */
export function isHeartbeatFresh(
  host: MediaHostRecord,
  now: Date,
  staleAfterInMs: number,
): boolean {
  const receivedMs = Date.parse(host.receivedAt);
  return Number.isFinite(receivedMs) && now.getTime() - receivedMs <= staleAfterInMs;
}

/** Candidates in the order to try them, with why the others were skipped. */
export function rankMediaHosts(
  hosts: readonly MediaHostRecord[],
  options: MediaHostChoiceOptions,
): {
  readonly candidates: readonly MediaHostRecord[];
  readonly skipped: Readonly<Record<MediaHostSkipReason, number>>;
} {
  const skipped: Record<MediaHostSkipReason, number> = { stale: 0, draining: 0, full: 0 };
  const load = (host: MediaHostRecord): number =>
    host.capacity.activeSessions + (options.pendingByHost?.get(host.hostId) ?? 0);
  // Hosts that take calls, with room or not (a paired leg's placement needs them all).
  const eligible = hosts.filter((host) => {
    if (!isHeartbeatFresh(host, options.now, options.staleAfterInMs)) {
      skipped.stale += 1;
      return false;
    }
    if (host.isDraining || host.isDrainingByAdmin === true) {
      skipped.draining += 1;
      return false;
    }
    return true;
  });
  const candidates = eligible.filter((host) => {
    if (load(host) >= host.capacity.maxSessions) {
      skipped.full += 1;
      return false;
    }
    return true;
  });
  const distance = new Map(
    eligible.map((host) => [host.hostId, regionDistanceInKm(options.region, host.region)]),
  );
  const distanceOf = (host: MediaHostRecord): number => distance.get(host.hostId) ?? Infinity;
  const loadOf = (host: MediaHostRecord): number =>
    load(host) / Math.max(1, host.capacity.maxSessions);
  // Load per (region, zone) among the candidates: equally loaded hosts go to the emptier zone.
  const zoneKey = (host: MediaHostRecord): string =>
    `${host.region.toLowerCase()}/${host.zone ?? ''}`;
  const zoneLoad = new Map<string, number>();
  for (const host of candidates)
    zoneLoad.set(zoneKey(host), (zoneLoad.get(zoneKey(host)) ?? 0) + loadOf(host));
  const sorted = [...candidates].sort((a, b) => {
    const aDistance = distanceOf(a);
    const bDistance = distanceOf(b);
    if (aDistance !== bDistance) return aDistance < bDistance ? -1 : 1;
    const aLoad = loadOf(a);
    const bLoad = loadOf(b);
    if (aLoad !== bLoad) return aLoad - bLoad;
    const aZone = zoneLoad.get(zoneKey(a)) ?? 0;
    const bZone = zoneLoad.get(zoneKey(b)) ?? 0;
    if (aZone !== bZone) return aZone - bZone;
    return a.hostId.localeCompare(b.hostId);
  });
  return {
    candidates: placeApartFromSiblings({ ranked: sorted, eligible, distanceOf }, options.siblings),
    skipped,
  };
}

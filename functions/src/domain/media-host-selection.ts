/**
 * Picks a media host for a new call: healthy (heartbeat fresh), not draining, with room; then the
 * region nearest the call's media first ({@link regionDistanceInKm}), spilling over to the next
 * nearest region when every host of a nearer one is full, stale or draining; inside a region the
 * least loaded host, then the least loaded zone. Pure.
 */
import { regionDistanceInKm } from './region-proximity';
import type { MediaHostRecord } from './recorder-ports';

/**
 * Where the other legs of the same call run (paired recording: `ConcurrentInvitationCount = 2`
 * or a paired application), so that this leg goes elsewhere: never a sibling's host while
 * another host has room, and another zone where one has room.
 */
export interface SiblingPlacement {
  /** Hosts already carrying another leg of the call. */
  readonly hostIds: readonly string[];
  /** Their availability zones (as `MediaHostRecord.zone`), where known. */
  readonly zones: readonly string[];
  /**
   * This leg's position among the call's legs (0 first, from the legs' participant ids, which
   * every leg's invite names). When no sibling's host is known yet (both invites at once, maybe
   * at different function instances), leg n presumes the legs before it took the first choices,
   * so the legs spread without talking to each other.
   */
  readonly legIndex?: number;
}

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
  const candidates = hosts.filter((host) => {
    if (!isHeartbeatFresh(host, options.now, options.staleAfterInMs)) {
      skipped.stale += 1;
      return false;
    }
    if (host.isDraining || host.isDrainingByAdmin === true) {
      skipped.draining += 1;
      return false;
    }
    if (load(host) >= host.capacity.maxSessions) {
      skipped.full += 1;
      return false;
    }
    return true;
  });
  const distance = new Map(
    candidates.map((host) => [host.hostId, regionDistanceInKm(options.region, host.region)]),
  );
  const loadOf = (host: MediaHostRecord): number =>
    load(host) / Math.max(1, host.capacity.maxSessions);
  // Load per (region, zone) among the candidates: equally loaded hosts go to the emptier zone.
  const zoneKey = (host: MediaHostRecord): string =>
    `${host.region.toLowerCase()}/${host.zone ?? ''}`;
  const zoneLoad = new Map<string, number>();
  for (const host of candidates)
    zoneLoad.set(zoneKey(host), (zoneLoad.get(zoneKey(host)) ?? 0) + loadOf(host));
  const sorted = [...candidates].sort((a, b) => {
    const aDistance = distance.get(a.hostId) ?? Infinity;
    const bDistance = distance.get(b.hostId) ?? Infinity;
    if (aDistance !== bDistance) return aDistance < bDistance ? -1 : 1;
    const aLoad = loadOf(a);
    const bLoad = loadOf(b);
    if (aLoad !== bLoad) return aLoad - bLoad;
    const aZone = zoneLoad.get(zoneKey(a)) ?? 0;
    const bZone = zoneLoad.get(zoneKey(b)) ?? 0;
    if (aZone !== bZone) return aZone - bZone;
    return a.hostId.localeCompare(b.hostId);
  });
  return { candidates: placeApartFromSiblings(sorted, options.siblings), skipped };
}

/**
 * Reorders ranked candidates for a paired leg (stable otherwise): hosts in a sibling's zone
 * after the others of the same region, a sibling's own host last of all. With no sibling host
 * known, leg n presumes legs 0..n-1 took the first choices in turn.
 */
export function placeApartFromSiblings(
  ranked: readonly MediaHostRecord[],
  siblings: SiblingPlacement | undefined,
): readonly MediaHostRecord[] {
  if (siblings === undefined) return ranked;
  if (siblings.hostIds.length > 0) return apart(ranked, siblings.hostIds, siblings.zones);
  let order = ranked;
  const hostIds: string[] = [];
  const zones: string[] = [];
  for (let leg = 0; leg < (siblings.legIndex ?? 0); leg += 1) {
    const taken = order[0];
    if (taken === undefined) break;
    hostIds.push(taken.hostId);
    if (taken.zone !== undefined) zones.push(taken.zone);
    order = apart(ranked, hostIds, zones);
  }
  return order;
}

function apart(
  ranked: readonly MediaHostRecord[],
  hostIds: readonly string[],
  zones: readonly string[],
): readonly MediaHostRecord[] {
  const isSiblingZone = (host: MediaHostRecord): boolean =>
    host.zone !== undefined && zones.includes(host.zone);
  // Within each region, hosts outside the siblings' zones take the places that region's hosts
  // had, in their ranked order: the order between regions (the region rule) stays as ranked.
  const order = [...ranked];
  const regions = new Set(ranked.map((host) => host.region.toLowerCase()));
  for (const region of regions) {
    const slots = ranked.flatMap((host, index) =>
      host.region.toLowerCase() === region ? [index] : [],
    );
    const hosts = slots.map((index) => ranked[index]!);
    const apartFirst = [
      ...hosts.filter((host) => !isSiblingZone(host)),
      ...hosts.filter(isSiblingZone),
    ];
    slots.forEach((slot, i) => (order[slot] = apartFirst[i]!));
  }
  // A sibling's own host only when no other host has room.
  return [
    ...order.filter((host) => !hostIds.includes(host.hostId)),
    ...order.filter((host) => hostIds.includes(host.hostId)),
  ];
}

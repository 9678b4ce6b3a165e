/**
 * Where a paired leg goes (paired recording: `ConcurrentInvitationCount = 2` or a paired
 * application), so that the call's legs run on different media hosts, in different zones where
 * there are several: never a sibling's host while another host has room. Pure.
 *
 * When a sibling's host is known (it answered before this leg chose), this leg keeps off it. When
 * none is known (the invites arrived at once, maybe at different function instances), every leg
 * splits the hosts between the legs alike, from the call alone: by rendezvous (highest random
 * weight) hashing of the pair key with each host id, leg k owning the k-th host, the (k + L)-th,
 * and so on; then it takes the least loaded of its own. The split must not depend on load: the
 * legs choose at different moments, and a burst of invites changes the load between their
 * choices, so a load order alone would let both legs take the same host.
 */
import { sha256Hex } from '@attest/core';
import type { MediaHostRecord } from './recorder-ports';

export interface SiblingPlacement {
  /**
   * The same for every leg of the call and for no other call: the paired interaction's id
   * (derived from the tenant, the call chain and the recorded participant).
   */
  readonly pairKey: string;
  /** Hosts already carrying another leg of the call. */
  readonly hostIds: readonly string[];
  /** Their availability zones (as `MediaHostRecord.zone`), where known. */
  readonly zones: readonly string[];
  /**
   * This leg's position among the call's legs (0 first, from the legs' participant ids, which
   * every leg's invite names). Default 0.
   */
  readonly legIndex?: number;
  /** How many legs Teams invited to the call (this one included). Default 2. */
  readonly legCount?: number;
}

/** How the ranking sees the hosts, for a paired leg's placement. */
export interface RankedHosts {
  /** Hosts with room, best first (region, then load). */
  readonly ranked: readonly MediaHostRecord[];
  /** Hosts that take calls (heartbeat fresh, not draining), with room or not. */
  readonly eligible: readonly MediaHostRecord[];
  /** Distance from the call's media to the host's region (nearest first). */
  readonly distanceOf: (host: MediaHostRecord) => number;
}

/**
 * The ranked hosts reordered for a paired leg; `ranked` unchanged without siblings. Only hosts
 * of `ranked` (those with room) are returned.
 */
export function placeApartFromSiblings(
  hosts: RankedHosts,
  siblings: SiblingPlacement | undefined,
): readonly MediaHostRecord[] {
  if (siblings === undefined) return hosts.ranked;
  if (siblings.hostIds.length > 0) return apart(hosts.ranked, siblings.hostIds, siblings.zones);
  return placeByRendezvous(hosts, siblings);
}

/**
 * Every leg's order from the call alone: the hosts of the nearest region first (as the ranking),
 * and within one distance the hosts by rendezvous weight, taking one host of each zone in turn
 * (the heaviest of each zone, then the second heaviest of each, ..., the zones always in the same
 * order), so consecutive hosts are in different zones where there are several.
 */
export function rendezvousOrder(
  hosts: readonly MediaHostRecord[],
  pairKey: string,
  distanceOf: (host: MediaHostRecord) => number,
): readonly MediaHostRecord[] {
  const weight = new Map(hosts.map((host) => [host.hostId, weightOf(pairKey, host.hostId)]));
  const byWeight = [...hosts].sort(
    (a, b) =>
      (weight.get(b.hostId) ?? 0) - (weight.get(a.hostId) ?? 0) || a.hostId.localeCompare(b.hostId),
  );
  // A host's turn: how many hosts of its zone weigh more (a host without a zone is its own
  // zone); within a turn, the zones keep the order of their heaviest hosts.
  const zoneOf = (host: MediaHostRecord): string =>
    host.zone === undefined ? `host:${host.hostId}` : `${host.region.toLowerCase()}/${host.zone}`;
  const turn = new Map<string, number>();
  const zoneCounts = new Map<string, number>();
  const zoneRanks = new Map<string, number>();
  for (const host of byWeight) {
    const zone = zoneOf(host);
    if (!zoneRanks.has(zone)) zoneRanks.set(zone, zoneRanks.size);
    turn.set(host.hostId, zoneCounts.get(zone) ?? 0);
    zoneCounts.set(zone, (zoneCounts.get(zone) ?? 0) + 1);
  }
  const distance = new Map(hosts.map((host) => [host.hostId, distanceOf(host)]));
  return byWeight.sort((a, b) => {
    const aDistance = distance.get(a.hostId) ?? Infinity;
    const bDistance = distance.get(b.hostId) ?? Infinity;
    if (aDistance !== bDistance) return aDistance < bDistance ? -1 : 1;
    const byTurn = (turn.get(a.hostId) ?? 0) - (turn.get(b.hostId) ?? 0);
    return byTurn !== 0
      ? byTurn
      : (zoneRanks.get(zoneOf(a)) ?? 0) - (zoneRanks.get(zoneOf(b)) ?? 0);
  });
}

/**
 * No sibling's host known: the rendezvous order splits the hosts between the legs, and leg k of
 * L owns the hosts at positions k, k + L, k + 2L, ... of it (so the legs' hosts never meet, and
 * with zones the legs' shares are in different zones). Among its own hosts the leg takes the
 * least loaded, as the ranking does: the split, not the load, keeps the legs apart, so the load
 * may differ between the legs' views. Within each distance, nearest first, the leg tries its own
 * hosts, then the hosts that are no other leg's first choice; the other legs' first choices
 * (their least loaded own host with room, in this view) come last of all. Hosts without room are
 * left out: a full host moves the leg on to its next own host, not onto another leg's.
 */
function placeByRendezvous(
  hosts: RankedHosts,
  siblings: SiblingPlacement,
): readonly MediaHostRecord[] {
  const legCount = Math.max(1, siblings.legCount ?? 2);
  const legIndex = Math.min(Math.max(0, siblings.legIndex ?? 0), legCount - 1);
  // Positions among every host that takes calls, full or not: whether a host has room changes
  // between the legs' choices, and must not move the other hosts from one leg to another.
  const everyHost = rendezvousOrder(hosts.eligible, siblings.pairKey, hosts.distanceOf);
  const positions = new Map(everyHost.map((host, i) => [host.hostId, i]));
  const legOf = (host: MediaHostRecord): number => (positions.get(host.hostId) ?? 0) % legCount;
  const othersFirst = new Set<string>();
  for (let leg = 0; leg < legCount; leg += 1) {
    const first = leg === legIndex ? undefined : hosts.ranked.find((host) => legOf(host) === leg);
    if (first !== undefined) othersFirst.add(first.hostId);
  }
  const isOwn = (host: MediaHostRecord): number => (legOf(host) === legIndex ? 0 : 1);
  // Stable: the ranking's order (nearest, then least loaded) stays within own and not own.
  const mine = hosts.ranked
    .filter((host) => !othersFirst.has(host.hostId))
    .sort((a, b) => {
      const aDistance = hosts.distanceOf(a);
      const bDistance = hosts.distanceOf(b);
      if (aDistance !== bDistance) return aDistance < bDistance ? -1 : 1;
      return isOwn(a) - isOwn(b);
    });
  return [...mine, ...hosts.ranked.filter((host) => othersFirst.has(host.hostId))];
}

/** The host's rendezvous weight for the pair: a uniform number from both ids. */
function weightOf(pairKey: string, hostId: string): number {
  return Number.parseInt(sha256Hex(`attest-placement-v1:${pairKey}/${hostId}`).slice(0, 12), 16);
}

/**
 * Ranked hosts with a sibling's own host last of all, and, within each region, hosts in a
 * sibling's zone after the others of the region (the order between regions stays as ranked).
 */
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

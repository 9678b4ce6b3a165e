/** Picks a media host for a new call: healthy, not draining, with room; region first, least loaded. Pure. */
import type { MediaHostRecord } from './recorder-ports';

export interface MediaHostChoiceOptions {
  readonly now: Date;
  readonly staleAfterInMs: number;
  /** The call's media region hint; hosts in it are preferred. */
  readonly region?: string;
  /** Sessions reserved by this instance since the host's last heartbeat. */
  readonly pendingByHost?: ReadonlyMap<string, number>;
}

export type MediaHostSkipReason = 'stale' | 'draining' | 'full';

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
    const receivedMs = Date.parse(host.receivedAt);
    if (
      !Number.isFinite(receivedMs) ||
      options.now.getTime() - receivedMs > options.staleAfterInMs
    ) {
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
  const region = options.region?.toLowerCase();
  const sorted = [...candidates].sort((a, b) => {
    const aLocal = region !== undefined && a.region.toLowerCase() === region ? 0 : 1;
    const bLocal = region !== undefined && b.region.toLowerCase() === region ? 0 : 1;
    if (aLocal !== bLocal) return aLocal - bLocal;
    const aFree = load(a) / Math.max(1, a.capacity.maxSessions);
    const bFree = load(b) / Math.max(1, b.capacity.maxSessions);
    if (aFree !== bFree) return aFree - bFree;
    return a.hostId.localeCompare(b.hostId);
  });
  return { candidates: sorted, skipped };
}

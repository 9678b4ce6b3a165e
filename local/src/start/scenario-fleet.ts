/**
 * What `npm run scenario` does to Attest's media host fleet around a scenario's call
 * (`fleet` in the scenario file): drains a region before the call so the call spills over, or
 * schedules a scale-in of the host recording the call and follows its drain. Reaches the fleet
 * through the function app's admin API and the Instance Metadata Service stand-in, and says
 * what happened in plain lines.
 */
import type { ScenarioFleet } from '../simulator/scenarios/scenario';

export interface FleetHostRow {
  readonly hostId: string;
  readonly region: string;
  readonly zone?: string;
  readonly isDraining: boolean;
  readonly isDrainingByAdmin?: boolean;
  readonly capacity?: { readonly activeSessions: number };
  readonly drain?: { readonly reason: string; readonly deadlineAt?: string };
}

export interface FleetContext {
  readonly functionsUrl: string;
  /** The Instance Metadata Service stand-in (`npm start` runs it). */
  readonly imdsUrl: string;
  /** An admin's bearer token for the function app. */
  readonly token: string;
  readonly write: (line: string) => void;
  readonly pollIntervalInMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function call<T>(url: string, init: RequestInit, what: string): Promise<T> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${what} answered ${response.status}: ${text.slice(0, 200)}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

export async function listHosts(fleet: FleetContext): Promise<FleetHostRow[]> {
  const body = await call<{ value: FleetHostRow[] }>(
    `${fleet.functionsUrl}/api/mediahosts`,
    { headers: { authorization: `Bearer ${fleet.token}` } },
    'the media host list',
  );
  return body.value;
}

export const describeHost = (host: FleetHostRow | undefined, hostId: string): string =>
  host === undefined ? hostId : `${hostId} (${host.region}, zone ${host.zone ?? '-'})`;

async function setDraining(fleet: FleetContext, hostId: string, isDraining: boolean) {
  await call(
    `${fleet.functionsUrl}/api/mediahosts/${encodeURIComponent(hostId)}/drain`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${fleet.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ isDraining }),
    },
    'the drain route',
  );
}

/**
 * Drains every host of `region` that takes calls; returns them (to undrain after). Throws when
 * the region has no host, or no host is left anywhere else: the scenario cannot show a spill-over.
 */
export async function drainRegion(fleet: FleetContext, region: string): Promise<string[]> {
  const hosts = await listHosts(fleet);
  const inRegion = hosts.filter((h) => h.region.toLowerCase() === region);
  if (inRegion.length === 0)
    throw new Error(
      `no media host in ${region}; start the stack with media hosts in two regions (ATTEST_START_MEDIA_REGIONS=${region},northeurope)`,
    );
  const takesCalls = (h: FleetHostRow) => !h.isDraining && h.isDrainingByAdmin !== true;
  if (!hosts.some((h) => h.region.toLowerCase() !== region && takesCalls(h)))
    throw new Error(`no media host outside ${region} takes calls: there is nowhere to spill over`);
  const drained = inRegion.filter(takesCalls).map((h) => h.hostId);
  for (const hostId of drained) await setDraining(fleet, hostId, true);
  fleet.write(
    `  fleet: ${region} is full for this call: drained ${drained.length} host(s) there (${drained.join(', ')})`,
  );
  return drained;
}

export async function undrain(fleet: FleetContext, hostIds: readonly string[]): Promise<void> {
  for (const hostId of hostIds) await setDraining(fleet, hostId, false);
  if (hostIds.length > 0) fleet.write(`  fleet: undrained ${hostIds.join(', ')}`);
}

/** Schedules a `Terminate` for the host's instance (its host id, locally); returns the event id. */
export async function scheduleScaleIn(
  fleet: FleetContext,
  hostId: string,
  settings: ScenarioFleet,
): Promise<string> {
  const noticeInMs = settings.scaleInNoticeInMs ?? 900_000;
  const event = await call<{ EventId: string }>(
    `${fleet.imdsUrl}/_imds/events`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        eventType: 'Terminate',
        resources: [hostId],
        notBeforeInMs: noticeInMs,
      }),
    },
    'the metadata service stand-in',
  );
  fleet.write(
    `  fleet: scale-in scheduled for ${hostId} (Terminate ${event.EventId}, notice ${Math.round(noticeInMs / 1000)} s) while it records the call`,
  );
  return event.EventId;
}

/** Waits until the function app sees the host draining for the scale-in; says so. */
export async function awaitScaleInDrain(
  fleet: FleetContext,
  hostId: string,
  timeoutInMs: number,
): Promise<FleetHostRow | undefined> {
  const deadline = Date.now() + timeoutInMs;
  while (Date.now() < deadline) {
    const host = (await listHosts(fleet)).find((h) => h.hostId === hostId);
    if (host?.isDraining === true && host.drain?.reason === 'scaleIn') {
      fleet.write(
        `  fleet: ${describeHost(host, hostId)} draining (scaleIn, hand-back deadline ${host.drain.deadlineAt ?? '-'}), ${host.capacity?.activeSessions ?? '?'} call(s) still on it; it takes no new calls`,
      );
      return host;
    }
    await sleep(fleet.pollIntervalInMs);
  }
  return undefined;
}

/** Waits until the host acknowledged the event (the instance may go). */
export async function awaitAcknowledged(
  fleet: FleetContext,
  eventId: string,
  timeoutInMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutInMs;
  while (Date.now() < deadline) {
    const body = await call<{ acknowledged: string[] }>(
      `${fleet.imdsUrl}/_imds/events`,
      {},
      'the metadata service stand-in',
    );
    if (body.acknowledged.includes(eventId)) return true;
    await sleep(fleet.pollIntervalInMs);
  }
  return false;
}

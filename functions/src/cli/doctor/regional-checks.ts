/**
 * The checks of `attest doctor` for a deployment in several regions: each regional recordings
 * account (`ATTEST_STORAGE_REGIONS`) as the main account is checked, and the media hosts of each
 * region (a region whose hosts cannot take calls sends its calls, and their recordings, to
 * another region; a host in a region without an account writes where the archive does not read).
 */
import { createStorageClients, regionalBlobService } from '../../adapters/storage-clients';
import { TablesMediaHostRegistry } from '../../adapters/table-stores';
import type { MediaHostRecord } from '../../domain/recorder-ports';
import { fail, pass, reason, type CheckResult } from './check';
import { checkRecordingsAccount, tablesOf, type DoctorContext } from './checks';

/** One line per regional recordings account; none when no region is configured. */
export async function checkRegionalStorage(ctx: DoctorContext): Promise<CheckResult[]> {
  const clients = createStorageClients(ctx.config.storage);
  return Promise.all(
    ctx.config.storage.regionalRecordings.map((account) =>
      checkRecordingsAccount({
        name: `storage ${account.region}`,
        blobs: regionalBlobService(account, clients, ctx.config.storage),
        container: ctx.config.archive.recordingsContainer,
        isEmulator: account.connectionString !== undefined,
        unreachableFix: `check ${account.region} in ATTEST_STORAGE_REGIONS and that the identity holds Storage Blob Data Contributor on that account`,
      }),
    ),
  );
}

const isHealthy = (host: MediaHostRecord, nowMs: number, staleAfterInMs: number): boolean =>
  nowMs - Date.parse(host.receivedAt) <= staleAfterInMs &&
  !host.isDraining &&
  host.isDrainingByAdmin !== true &&
  host.capacity.activeSessions < host.capacity.maxSessions;

/**
 * One line per region that has media hosts or a recordings account: how many hosts take calls
 * there, in which zones, with what load. Fails a region with an account and no host that takes
 * calls, and, with regions configured, a host region that has no account of its own and is not
 * the function app's (its recordings would be where the archive does not look).
 */
export async function checkRegionalMediaHosts(ctx: DoctorContext): Promise<CheckResult[]> {
  let hosts: readonly MediaHostRecord[];
  try {
    hosts = await new TablesMediaHostRegistry(tablesOf(ctx)).list();
  } catch (error) {
    return [
      fail(
        'media-regions',
        `the host registry is unreadable (${reason(error)})`,
        'see the storage check',
      ),
    ];
  }
  const accounts = ctx.config.storage.regionalRecordings.map((a) => a.region);
  const home = ctx.config.recorder.defaultRegion?.toLowerCase();
  const regionOf = (host: MediaHostRecord) => host.region.toLowerCase();
  const regions = [...new Set([...accounts, ...hosts.map(regionOf)])].sort();
  const nowMs = ctx.now().getTime();
  const staleAfterInMs = ctx.config.recorder.mediaHostStaleAfterInMs;
  return regions.map((region) => {
    const name = `media-region ${region}`;
    const here = hosts.filter((h) => regionOf(h) === region);
    const healthy = here.filter((h) => isHealthy(h, nowMs, staleAfterInMs));
    const zones = [...new Set(healthy.map((h) => h.zone ?? '-'))].sort();
    const active = healthy.reduce((n, h) => n + h.capacity.activeSessions, 0);
    const capacity = healthy.reduce((n, h) => n + h.capacity.maxSessions, 0);
    const hasAccount = accounts.includes(region);
    const summary =
      `${healthy.length} of ${here.length} host(s) take calls` +
      (healthy.length === 0 ? '' : ` (zone ${zones.join(', ')}; ${active}/${capacity} sessions)`) +
      (accounts.length === 0 ? '' : hasAccount ? ', own recordings account' : '');
    if (hasAccount && healthy.length === 0)
      return fail(
        name,
        summary,
        `calls whose media is nearest ${region} go to another region and are recorded there: start or scale out ${region}'s media host scale set (see the media-host lines)`,
      );
    if (accounts.length > 0 && !hasAccount && region !== home)
      return fail(
        name,
        `${summary}, but ${region} has no recordings account in ATTEST_STORAGE_REGIONS`,
        `add ${region} to the deployment's regions (infra/ regions list) so its recordings stay in ${region} and the archive reads them, or move the hosts`,
      );
    if (healthy.length === 0)
      return fail(
        name,
        summary,
        `no host in ${region} takes calls: its calls go to another region (see the media-host lines)`,
      );
    return pass(name, summary);
  });
}

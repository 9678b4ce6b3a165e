/**
 * `attest doctor` for a deployment in several regions: each regional recordings account
 * (ATTEST_STORAGE_REGIONS) is checked as the main one is (reachable, its container), and each
 * region's media hosts (how many take calls, in which zones; a region with an account and no host
 * that takes calls; a host region without an account). Its own storage emulators: the doctor
 * reads the whole deployment's host registry.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type AzuriteInstance } from '../../local/src/azurite/azurite-process';
import {
  lineOf,
  startDoctorStack,
  unreachableStorage,
  type DoctorRun,
  type DoctorStack,
} from './doctor-stack';

describe('attest doctor across regions', () => {
  let deployment: DoctorStack;
  let westEurope: AzuriteInstance;

  beforeAll(async () => {
    deployment = await startDoctorStack();
    westEurope = await startAzurite({ inMemory: true });
    // West Europe's account holds the recordings container already (the deployment creates it).
    await BlobServiceClient.fromConnectionString(westEurope.connectionString)
      .getContainerClient(deployment.settings.ATTEST_ARCHIVE_RECORDINGS_CONTAINER ?? 'recordings')
      .createIfNotExists();
    const hostIn = { zone: '2', capacity: { maxSessions: 10, activeSessions: 3 } };
    await deployment.beat('zz-west', { ...hostIn, region: 'westeurope' });
    await deployment.beat('zz-north', {
      ...hostIn,
      region: 'northeurope',
      isDraining: true,
      drain: { reason: 'scaleIn', startedAt: new Date().toISOString() },
    });
    await deployment.beat('zz-east', { ...hostIn, region: 'eastus' });
  }, 180_000);
  afterAll(async () => {
    await deployment?.close();
    await westEurope?.close();
  });

  const doctor = (): Promise<DoctorRun> =>
    deployment.doctor({
      ATTEST_STORAGE_REGIONS: JSON.stringify({
        westeurope: westEurope.connectionString,
        northeurope: unreachableStorage(deployment.closedPort),
      }),
      // The function app's own region: its hosts write to the main account.
      ATTEST_MEDIA_DEFAULT_REGION: 'local',
      // The heartbeats below are written once; the stack's 3 s limit would age them out.
      ATTEST_MEDIA_HOST_STALE_AFTER_MS: '600000',
    });

  let run: DoctorRun;
  beforeAll(async () => {
    run = await doctor();
  }, 120_000);

  it('checks each regional recordings account as it checks the main one', () => {
    expect(lineOf(run, 'storage')).toMatch(/^PASS {2}storage +storage reachable/);
    expect(lineOf(run, 'storage westeurope')).toMatch(
      /^PASS {2}storage westeurope +storage reachable, container \S+ present \(emulator: immutability enforced by Attest\)$/,
    );
    expect(lineOf(run, 'storage northeurope')).toMatch(
      /^FAIL {2}storage northeurope +recordings storage unreachable \(.+\) -> check northeurope in ATTEST_STORAGE_REGIONS and that the identity holds Storage Blob Data Contributor on that account$/,
    );
    // The account's key never shows.
    expect(run.lines.join('\n')).not.toContain('AccountKey');
  });

  it("says how many of each region's media hosts take calls, in which zones", () => {
    expect(lineOf(run, 'media-region westeurope')).toMatch(
      /^PASS {2}media-region westeurope +1 of 1 host\(s\) take calls \(zone 2; 3\/10 sessions\), own recordings account$/,
    );
    expect(lineOf(run, 'media-region local')).toMatch(
      /^PASS {2}media-region local +1 of 1 host\(s\) take calls \(zone /,
    );
  });

  it('fails a region with a recordings account and no host that takes calls', () => {
    expect(lineOf(run, 'media-region northeurope')).toMatch(
      /^FAIL {2}media-region northeurope +0 of 1 host\(s\) take calls, own recordings account -> calls whose media is nearest northeurope go to another region and are recorded there/,
    );
  });

  it('fails a host region that has no recordings account of its own', () => {
    expect(lineOf(run, 'media-region eastus')).toMatch(
      /^FAIL {2}media-region eastus +1 of 1 host\(s\) take calls \(zone 2; 3\/10 sessions\), but eastus has no recordings account in ATTEST_STORAGE_REGIONS -> add eastus to the deployment's regions/,
    );
    expect(run.code).toBe(1);
  });
});

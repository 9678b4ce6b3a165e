/**
 * `attest doctor` for a deployment in several regions: each regional recordings account
 * (ATTEST_STORAGE_REGIONS) is checked as the main one is (reachable, its container), and each
 * region's media hosts (how many take calls, in which zones; a region with an account and no host
 * that takes calls; a host region without an account). Its own storage emulators: the doctor
 * reads the whole deployment's host registry.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import {
  getFreePort,
  startAzurite,
  type AzuriteInstance,
} from '../../local/src/azurite/azurite-process';
import {
  createTableFactory,
  TablesMediaHostRegistry,
} from '../../functions/src/adapters/table-stores';
import { runDoctor } from '../../functions/src/cli/doctor/doctor';
import {
  startRecorderStackWithMedia,
  type RecorderStack,
} from '../recorder/support/recorder-stack';

interface Run {
  readonly code: number;
  readonly lines: string[];
}

describe('attest doctor across regions', () => {
  let stack: RecorderStack;
  let storage: AzuriteInstance;
  let westEurope: AzuriteInstance;
  let sharedConnection: string | undefined;
  let settings: Record<string, string | undefined>;
  let closedPort: number;

  beforeAll(async () => {
    storage = await startAzurite({ inMemory: true });
    westEurope = await startAzurite({ inMemory: true });
    sharedConnection = process.env.ATTEST_TEST_STORAGE_CONNECTION;
    process.env.ATTEST_TEST_STORAGE_CONNECTION = storage.connectionString;
    ({ stack } = await startRecorderStackWithMedia());
    settings = { ...process.env };
    closedPort = await getFreePort();
    // West Europe's account holds the recordings container already (the deployment creates it).
    await BlobServiceClient.fromConnectionString(westEurope.connectionString)
      .getContainerClient(settings.ATTEST_ARCHIVE_RECORDINGS_CONTAINER ?? 'recordings')
      .createIfNotExists();
    const registry = new TablesMediaHostRegistry(
      createTableFactory({ connectionString: settings.ATTEST_STORAGE_CONNECTION_STRING }),
    );
    const beat = (hostId: string, region: string, extra: Record<string, unknown> = {}) =>
      registry.upsertHeartbeat(
        {
          hostId,
          controlUrl: 'https://127.0.0.1:9',
          region,
          zone: '2',
          isDraining: false,
          version: '0.1.0',
          capacity: { maxSessions: 10, activeSessions: 3 },
          spoolBytes: 0,
          spoolLimitInBytes: 1,
          sentAt: new Date().toISOString(),
          ...extra,
        },
        new Date(),
      );
    await beat('zz-west', 'westeurope');
    await beat('zz-north', 'northeurope', {
      isDraining: true,
      drain: { reason: 'scaleIn', startedAt: new Date().toISOString() },
    });
    await beat('zz-east', 'eastus');
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
    process.env.ATTEST_TEST_STORAGE_CONNECTION = sharedConnection;
    await westEurope?.close();
    await storage?.close();
  });

  const regionsSetting = () =>
    JSON.stringify({
      westeurope: westEurope.connectionString,
      northeurope: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${Buffer.from('k').toString('base64')};BlobEndpoint=http://127.0.0.1:${closedPort}/devstoreaccount1;`,
    });
  const doctor = async (): Promise<Run> => {
    const lines: string[] = [];
    const code = await runDoctor(
      {
        settings: {
          ...settings,
          ATTEST_STORAGE_REGIONS: regionsSetting(),
          // The function app's own region: its hosts write to the main account.
          ATTEST_MEDIA_DEFAULT_REGION: 'local',
          // The heartbeats below are written once; the stack's 3 s limit would age them out.
          ATTEST_MEDIA_HOST_STALE_AFTER_MS: '600000',
        },
        certificateWarningInDays: 30,
      },
      (line) => lines.push(line),
    );
    return { code, lines };
  };
  const lineOf = (run: Run, name: string): string =>
    run.lines.find((line) => line.slice(6).startsWith(`${name} `)) ?? `no line for ${name}`;

  let run: Run;
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

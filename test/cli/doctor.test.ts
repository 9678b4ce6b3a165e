import type { InteractionRecord } from '@attest/core';
import {
  createTableFactory,
  TablesInteractionStore,
} from '../../functions/src/adapters/table-stores';
import { main } from '../../functions/src/cli/attest';
import {
  lineOf,
  startDoctorStack,
  unreachableStorage,
  type DoctorRun,
  type DoctorStack,
} from './doctor-stack';

const CHECKS = [
  'settings',
  'webhook-metadata',
  'admin-metadata',
  'entra-token',
  'graph-permissions',
  'calling-webhook',
  'storage',
  'keys',
  'media-host',
  'recent-invites',
];

describe('attest doctor against the local stack', () => {
  // The doctor reads the whole deployment (every media host, every invite), so it gets storage of
  // its own: the other suites' hosts and invites in the shared emulator are not this deployment's.
  let deployment: DoctorStack;
  let settings: Record<string, string | undefined>;
  let closedPort: number;

  beforeAll(async () => {
    deployment = await startDoctorStack();
    ({ settings, closedPort } = deployment);
  }, 120_000);
  afterAll(async () => {
    await deployment.close();
  });

  const doctor: DoctorStack['doctor'] = (overrides, options) =>
    deployment.doctor(overrides, options);

  it('passes every check, one line each, and exits 0', async () => {
    const lines: string[] = [];
    const code = await main(
      ['doctor'],
      (line) => lines.push(line),
      () => undefined,
      {
        env: settings,
      },
    );
    expect(lines.filter((line) => !line.startsWith('PASS'))).toEqual(['ALL CHECKS PASSED']);
    for (const check of CHECKS) expect(lines.some((l) => l.slice(6).startsWith(check))).toBe(true);
    expect(lineOf({ code, lines }, 'graph-permissions')).toContain(
      'Calls.AccessMedia.All and Calls.JoinGroupCall.All granted',
    );
    expect(code).toBe(0);
  });

  it('names a wrong client secret and its fix', async () => {
    const run = await doctor({ ATTEST_APP_SECRET: 'not-the-secret' });
    expect(run.code).toBe(1);
    expect(lineOf(run, 'entra-token')).toMatch(
      /^FAIL {2}entra-token +Entra refused the bot's credentials \(.+\) -> check ATTEST_APP_ID and the client secret/,
    );
    expect(lineOf(run, 'graph-permissions')).toMatch(/^SKIP/);
    expect(run.lines.join('\n')).not.toContain('not-the-secret');
    expect(run.lines.at(-1)).toBe('1 CHECK(S) FAILED');
  });

  it('names OpenID metadata that is down', async () => {
    const run = await doctor({
      ATTEST_WEBHOOK_OPENID_METADATA_URL: `http://127.0.0.1:${closedPort}/.well-known/openid-configuration`,
    });
    expect(run.code).toBe(1);
    expect(lineOf(run, 'webhook-metadata')).toMatch(
      new RegExp(
        `^FAIL  webhook-metadata +127\\.0\\.0\\.1:${closedPort} unreachable or invalid .* -> check ATTEST_WEBHOOK_OPENID_METADATA_URL`,
      ),
    );
    expect(lineOf(run, 'admin-metadata')).toMatch(/^PASS/);
  });

  it('names a media host without a recent heartbeat', async () => {
    const run = await doctor({}, { now: () => new Date(Date.now() + 10 * 60_000) });
    expect(run.code).toBe(1);
    expect(lineOf(run, 'media-host')).toMatch(
      /^FAIL {2}media-host mh-\S+ +no heartbeat for \d+ s -> restart the attest-media-host service/,
    );
  });

  it('names storage that is down', async () => {
    const run = await doctor({ ATTEST_STORAGE_CONNECTION_STRING: unreachableStorage(closedPort) });
    expect(run.code).toBe(1);
    expect(lineOf(run, 'storage')).toMatch(
      /^FAIL {2}storage +recordings storage unreachable .* -> check ATTEST_STORAGE_/,
    );
    expect(lineOf(run, 'media-hosts')).toMatch(
      /^FAIL {2}media-hosts +the host registry is unreadable/,
    );
  }, 120_000);

  it("names a media certificate that ends within the warning window, from the host's health", async () => {
    const run = await doctor({}, { certificateWarningInDays: 5_000 });
    expect(run.code).toBe(1);
    expect(lineOf(run, 'media-host')).toMatch(
      /^FAIL {2}media-host mh-\S+ +media certificate expires at \d{4}-\d\d-\d\dT.* \(in \d+ days\) -> import a renewed certificate/,
    );
  });

  it('names a failed invite of the recent past with its interaction id', async () => {
    const tables = createTableFactory({
      connectionString: settings.ATTEST_STORAGE_CONNECTION_STRING,
    });
    const invitedAt = new Date().toISOString();
    await new TablesInteractionStore(tables).createIfAbsent({
      tenantId: 'doctor-tenant',
      interactionId: 'doctor-failed-invite',
      callId: 'doctor-call',
      type: 'p2p',
      direction: 'inbound',
      outcome: 'failed',
      outcomeReason: 'media host unavailable',
      invitedAt,
      recordedUserIds: [],
      recordingStatusHistory: [],
      gaps: [],
    } satisfies InteractionRecord);
    const run = await doctor({}, { invitesSince: new Date(Date.parse(invitedAt) - 1) });
    expect(run.code).toBe(1);
    expect(lineOf(run, 'recent-invites')).toMatch(
      /^FAIL {2}recent-invites +\d+ invite\(s\) since .*1 failed.*e\.g\. doctor-failed-invite \(media host unavailable\) -> rejectedBusy: no media host could take the call/,
    );
  });

  it('stops at invalid settings, naming the missing key', async () => {
    const run = await doctor({ ATTEST_APP_ID: undefined });
    expect(run.code).toBe(1);
    expect(run.lines[0]).toMatch(
      /^FAIL {2}settings +\[ATT_CONFIG_INVALID\] invalid configuration: ATTEST_APP_ID is required/,
    );
    expect(run.lines[1]).toMatch(/^SKIP/);
  });

  describe('a heartbeating host with a broken bridge or no certificate', () => {
    const beat: DoctorStack['beat'] = (hostId, fields) => deployment.beat(hostId, fields);
    const hostLine = (run: DoctorRun, hostId: string): string =>
      run.lines.find((line) => line.includes(`media-host ${hostId} `)) ?? `no line for ${hostId}`;
    const inTwoYears = new Date(Date.now() + 730 * 86_400_000).toISOString();

    it('names a bridge whose media platform is not initialized', async () => {
      await beat('zz-doctor-bridge', {
        certificateExpiresAt: inTwoYears,
        bridge: {
          isReachable: true,
          isPlatformInitialized: false,
          checkedAt: new Date().toISOString(),
        },
      });
      const run = await doctor();
      expect(run.code).toBe(1);
      expect(hostLine(run, 'zz-doctor-bridge')).toMatch(
        /^FAIL {2}media-host zz-doctor-bridge +the media bridge's media platform is not initialized -> restart the attest-media-bridge service/,
      );
    });

    it('names a media port that does not accept a connection from where doctor runs', async () => {
      await beat('zz-doctor-port', {
        certificateExpiresAt: inTwoYears,
        mediaEndpoint: `tcp://127.0.0.1:${closedPort}`,
      });
      const run = await doctor();
      expect(run.code).toBe(1);
      expect(hostLine(run, 'zz-doctor-port')).toMatch(
        /^FAIL {2}media-host zz-doctor-port +media port tcp:\/\/127\.0\.0\.1:\d+ unreachable from here \(ECONNREFUSED\) -> Teams' media platform connects there: open the port/,
      );
    });

    it('names a host that reports no media certificate', async () => {
      await beat('zz-doctor-nocert', {});
      const run = await doctor();
      expect(run.code).toBe(1);
      expect(hostLine(run, 'zz-doctor-nocert')).toMatch(
        /^FAIL {2}media-host zz-doctor-nocert +the host reports no media certificate -> check ATTEST_MEDIA_TLS_CERT_FILE/,
      );
    });
  });
});

/**
 * What the benchmarks that run the whole local stack share (the recorder-answer bench and the
 * fault campaign, `bench/chaos/`): the simulator's directory for one tenant recorded by one bot,
 * the function app's settings against the simulator, a media host's configuration on loopback
 * with the local CA's certificate, and a client of the simulator's control API. Each bench keeps
 * its own people, ids and tuning; only the shape is here.
 */
import { join } from 'node:path';
import { functionAppSettingsFor, type Directory } from '@attest/local/dist/simulator';
import type { MediaHostConfig } from '@attest/media-host/dist/config/media-host.config';

export interface FixtureUser {
  readonly id: string;
  readonly displayName: string;
  readonly userPrincipalName: string;
  readonly portalRoles?: readonly string[];
}

export interface FixtureGroup {
  readonly id: string;
  readonly displayName: string;
  readonly memberIds: readonly string[];
}

/** One tenant, its recorder bot (one application instance) and the users it records. */
export interface RecorderTenantFixture {
  readonly tenantId: string;
  readonly tenantName: string;
  readonly botAppId: string;
  readonly botSecret: string;
  readonly botName: string;
  readonly instanceId: string;
  readonly users: readonly FixtureUser[];
  readonly groups?: readonly FixtureGroup[];
  /** Users under the recording policy (`Tag:Recorded`, required before and during calls). */
  readonly recordedUserIds: readonly string[];
}

/** The simulator's directory for the fixture, the bot's webhook at `webhookUrl`. */
export function recorderDirectory(fixture: RecorderTenantFixture, webhookUrl: string): Directory {
  return {
    tenants: [
      {
        id: fixture.tenantId,
        displayName: fixture.tenantName,
        users: fixture.users,
        groups: fixture.groups ?? [],
        policies: [
          {
            identity: 'Tag:Recorded',
            enabled: true,
            applications: [
              {
                applicationInstanceId: fixture.instanceId,
                requiredBeforeCallEstablishment: true,
                requiredDuringCall: true,
                requiredBeforeMeetingJoin: true,
                requiredDuringMeeting: true,
                concurrentInvitationCount: 1,
              },
            ],
            warnUserOnRemoval: true,
            disableComplianceRecordingAudioNotificationForCalls: false,
            recordReroutedCalls: false,
          },
        ],
        assignments: {
          users: Object.fromEntries(fixture.recordedUserIds.map((id) => [id, 'Tag:Recorded'])),
          groups: [],
        },
      },
    ],
    bots: [
      {
        appId: fixture.botAppId,
        clientSecret: fixture.botSecret,
        homeTenantId: fixture.tenantId,
        displayName: fixture.botName,
        callingWebhookUrl: webhookUrl,
      },
    ],
    applicationInstances: [
      {
        id: fixture.instanceId,
        tenantId: fixture.tenantId,
        botAppId: fixture.botAppId,
        displayName: 'Recorder',
      },
    ],
  } as unknown as Directory;
}

/**
 * The function app's settings for the fixture against the simulator: storage, the bot and its
 * served (home) tenant, the public base URL and the media hosts' control key.
 */
export function functionAppSettings(
  fixture: RecorderTenantFixture,
  sim: Parameters<typeof functionAppSettingsFor>[0],
  options: { storageConnection: string; baseUrl: string; controlKey: string },
): Record<string, string> {
  return {
    ATTEST_STORAGE_CONNECTION_STRING: options.storageConnection,
    ...functionAppSettingsFor(
      sim,
      { appId: fixture.botAppId, clientSecret: fixture.botSecret },
      { served: [fixture.tenantId], home: fixture.tenantId },
    ),
    ATTEST_PUBLIC_BASE_URL: options.baseUrl,
    ATTEST_MEDIA_CONTROL_KEY: options.controlKey,
  };
}

/** What differs between the benches' in-process media hosts. */
export type MediaHostTuning = Pick<
  MediaHostConfig,
  | 'hostId'
  | 'version'
  | 'recordingsContainer'
  | 'spoolLimitInBytes'
  | 'spoolFlushIntervalInMs'
  | 'commitIntervalInMs'
  | 'blockMinDurationInMs'
  | 'maxSessions'
  | 'heartbeatIntervalInMs'
  | 'logLevel'
>;

/**
 * A media host on loopback (ports chosen by the system) serving the local CA's certificate from
 * `caDir` (the simulator's media platform trusts it), encrypting with the KEK public key and
 * signing with the key file given, lossless audio, 30-minute segments.
 */
export function localMediaHostConfig(
  options: {
    readonly caDir: string;
    readonly controlKey: string;
    readonly storageConnectionString: string;
    readonly functionsUrl: string;
    readonly spoolDir: string;
    readonly kekPublicKeyFile: string;
    readonly signingKeyFile: string;
  },
  tuning: MediaHostTuning,
): MediaHostConfig {
  return {
    region: 'local',
    controlHost: '127.0.0.1',
    controlPort: 0,
    controlKey: options.controlKey,
    publicHost: '127.0.0.1',
    protocolHost: '127.0.0.1',
    protocolPort: 0,
    tlsCertFile: join(options.caDir, 'server-cert.pem'),
    tlsKeyFile: join(options.caDir, 'server-key.pem'),
    storageConnectionString: options.storageConnectionString,
    spoolDir: options.spoolDir,
    segmentMaxDurationInMs: 30 * 60_000,
    finishedSessionRetentionInMs: 3_600_000,
    maxFramePayloadBytes: 1024 * 1024,
    functionsUrl: options.functionsUrl,
    isEncryptionEnabled: true,
    kekPublicKeyFile: options.kekPublicKeyFile,
    signingKeyFile: options.signingKeyFile,
    isAudioLossless: true,
    helloTimeoutInMs: 5000,
    listenHost: '127.0.0.1',
    listenPort: 0,
    ...tuning,
  };
}

/** A call of the simulator's control API: the status and the parsed JSON body (if any). */
export type SimulatorControl = <T = unknown>(
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: T }>;

export function simulatorControl(sim: {
  readonly url: string;
  readonly controlToken: string;
}): SimulatorControl {
  return async (method, path, body) => {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${sim.controlToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as never };
  };
}

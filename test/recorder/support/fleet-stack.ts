/**
 * A media host fleet for end-to-end tests: the recorder stack on its own storage emulator (the
 * fleet's registry is deployment-wide, so other suites' hosts must not be candidates), with the
 * function app's keys shared by every media host (so the archive can play back what any of them
 * recorded) and any number of media hosts, each in a region and zone of the test's choosing.
 * A host's heartbeats can be cut off (`cutHeartbeats`), as a host that can no longer reach the
 * function app. Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startAzurite, type AzuriteInstance } from '../../../local/src/azurite/azurite-process';
import type { MediaHostConfig } from '../../../media-host/src/config/media-host.config';
import { startMediaHost, type MediaHost } from '../../../media-host/src/host/media-host';
import { CONTROL_KEY, hostFiles } from '../../media-host/media-host-fixtures';
import { TENANT, USERS } from '../../simulator/support/fixtures';
import { startRecorderStack, waitFor, type RecorderStack } from './recorder-stack';
import { writeStackKeyFiles } from './stack-keys';

export interface FleetHost {
  readonly host: MediaHost;
  readonly hostId: string;
  /** While true, the host's heartbeats never reach the function app. */
  cutHeartbeats: boolean;
}

export interface FleetStack {
  readonly stack: RecorderStack;
  readonly adminToken: string;
  readonly storage: AzuriteInstance;
  /**
   * The storage (connection string) of a region's recordings: with `regions`, the first region's
   * is the function app's own account, every other region has its own emulator.
   */
  storageOf(region: string): string;
  /** A compliance officer's token (every interaction of the tenant in scope). */
  officerToken(): Promise<string>;
  readonly recordingsContainer: string;
  readonly hosts: FleetHost[];
  startHost(overrides: Partial<MediaHostConfig>): Promise<FleetHost>;
  /** Starts a P2P call of the recorded trader to an unrecorded callee; its media in `mediaRegion`. */
  traderCalls(mediaRegion: string, durationInMs?: number): Promise<string>;
  /** The recorder leg once Graph confirmed `recording`. */
  recordedLeg(conversationId: string): Promise<{ callId: string }>;
  /** The function app's view of a call (`GET /api/calls/{id}`). */
  callView(callId: string): Promise<CallView>;
  finished(callId: string): Promise<CallView>;
  close(): Promise<void>;
}

export interface CallView {
  interaction?: Record<string, unknown> & {
    outcome: string;
    mediaHostId?: string;
    region?: string;
    gaps?: { reason: string }[];
  };
  orchestration?: { runtimeStatus: string };
  streams: { streamId: string; kind: string; bytes: number; blobName: string }[];
}

export async function startFleetStack(
  options: {
    env?: Record<string, string>;
    /** Regions with their own recordings account (`ATTEST_STORAGE_REGIONS`). */
    regions?: readonly string[];
    /** Where the simulator finds scenarios by name. */
    scenarioDir?: string;
  } = {},
): Promise<FleetStack> {
  const storage = await startAzurite({ inMemory: true });
  const regional = new Map<string, AzuriteInstance | undefined>();
  for (const [index, region] of (options.regions ?? []).entries())
    regional.set(region, index === 0 ? storage : await startAzurite({ inMemory: true }));
  const storageOf = (region: string): string => (regional.get(region) ?? storage).connectionString;
  const sharedConnection = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  process.env.ATTEST_TEST_STORAGE_CONNECTION = storage.connectionString;
  const { kekPublic, kekPrivate, signingPrivate, signingPublic } =
    writeStackKeyFiles('attest-fleet-keys-');
  const recordingsContainer = `flt${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  let stack: RecorderStack;
  try {
    stack = await startRecorderStack({
      ...(options.scenarioDir === undefined ? {} : { scenarioDir: options.scenarioDir }),
      env: {
        ATTEST_KEK_PRIVATE_KEY_FILE: kekPrivate,
        ATTEST_KEK_PUBLIC_KEY_FILE: kekPublic,
        ATTEST_MANIFEST_PUBLIC_KEY_FILE: signingPublic,
        ATTEST_ARCHIVE_RECORDINGS_CONTAINER: recordingsContainer,
        // A loaded machine delays heartbeats by seconds: a host is stale after 5 s of silence,
        // and its live calls lost after 10 s.
        ATTEST_MEDIA_HOST_STALE_AFTER_MS: '5000',
        // Nor may a slow control answer under load pass for a lost host.
        ATTEST_MEDIA_CONTROL_TIMEOUT_MS: '10000',
        ATTEST_ARCHIVE_RBAC_SCOPES: JSON.stringify({ [USERS.admin]: ['*'] }),
        ...(regional.size > 0
          ? {
              ATTEST_STORAGE_REGIONS: JSON.stringify(
                Object.fromEntries([...regional.keys()].map((r) => [r, storageOf(r)])),
              ),
            }
          : {}),
        ...options.env,
      },
    });
  } finally {
    process.env.ATTEST_TEST_STORAGE_CONNECTION = sharedConnection;
  }
  const adminToken = await stack.adminToken();
  const hosts: FleetHost[] = [];

  const callView = async (callId: string): Promise<CallView> => {
    const view = await stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(callId)}`, {
      token: adminToken,
    });
    return view.status === 200 ? view.body : { streams: [] };
  };

  const fleet: FleetStack = {
    stack,
    adminToken,
    storage,
    storageOf,
    async officerToken() {
      const issued = await stack.control<{ access_token: string }>('POST', '/_sim/users/token', {
        tenantId: TENANT,
        userId: USERS.admin,
        roles: ['complianceOfficer'],
      });
      return issued.body.access_token;
    },
    recordingsContainer,
    hosts,
    async startHost(overrides) {
      const hostId = overrides.hostId ?? `mh-${randomUUID().slice(0, 8)}`;
      const files = hostFiles(storageOf(overrides.region ?? ''), {
        functionsUrl: stack.baseUrl,
        heartbeatIntervalInMs: 300,
        tlsCertFile: join(process.cwd(), '.data', 'ca', 'server-cert.pem'),
        tlsKeyFile: join(process.cwd(), '.data', 'ca', 'server-key.pem'),
        kekPublicKeyFile: kekPublic,
        signingKeyFile: signingPrivate,
        recordingsContainer,
        controlKey: CONTROL_KEY,
        ...overrides,
        hostId,
      });
      const entry: FleetHost = { hostId, cutHeartbeats: false, host: undefined as never };
      const cuttable: typeof fetch = (input, init) =>
        entry.cutHeartbeats &&
        (input instanceof Request ? input.url : input.toString()).endsWith(
          '/api/mediahosts/heartbeat',
        )
          ? Promise.reject(new Error('heartbeat cut off by the test'))
          : fetch(input, init);
      (entry as { host: MediaHost }).host = await startMediaHost(files.config, { fetch: cuttable });
      hosts.push(entry);
      await waitFor(async () => {
        const listed = await stack.api<{ value: { hostId: string }[] }>('GET', '/api/mediahosts', {
          token: adminToken,
        });
        return listed.body.value?.some((h) => h.hostId === hostId) === true ? true : undefined;
      }, `media host ${hostId} to register`);
      return entry;
    },
    async traderCalls(mediaRegion, durationInMs) {
      const started = await stack.control<{ conversationId: string }>('POST', '/_sim/calls', {
        tenantId: TENANT,
        kind: 'p2p',
        mediaRegion,
        ...(durationInMs !== undefined ? { durationInMs } : {}),
        participants: [
          {
            user: USERS.trader,
            role: 'caller',
            timeline: [{ atInMs: 0, action: 'speak', durationInMs: durationInMs ?? 60_000 }],
          },
          { user: USERS.unrecorded, role: 'callee' },
        ],
      });
      if (started.status !== 201) throw new Error(`call not started: ${started.status}`);
      return started.body.conversationId;
    },
    recordedLeg: (conversationId) =>
      waitFor(async () => {
        const outcome = await stack.control<{
          legs: { callId: string; recordingStatus: string }[];
        }>('GET', `/_sim/calls/${conversationId}`);
        return outcome.body.legs.find((l) => l.recordingStatus === 'recording');
      }, 'recording to be confirmed'),
    callView,
    finished: (callId) =>
      waitFor(
        async () => {
          const view = await callView(callId);
          return view.orchestration?.runtimeStatus === 'Completed' ? view : undefined;
        },
        `call ${callId} to finish`,
        40_000,
      ),
    async close() {
      for (const entry of hosts) await entry.host.close().catch(() => undefined);
      await stack.close();
      for (const instance of regional.values()) if (instance !== storage) await instance?.close();
      await storage.close();
    },
  };
  return fleet;
}

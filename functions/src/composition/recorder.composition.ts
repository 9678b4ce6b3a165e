import { ClientSecretCredential } from '@azure/identity';
import type { InvocationContext } from '@azure/functions';
import type { FunctionsConfig } from '../config/load-config';
import type { ArchiveIntake } from '../domain/archive-intake';
import { createRecorderActivities } from '../activities/recorder.activities';
import { createDurableClientCache } from '../adapters/durable-client-cache';
import { DurableLifecycleClient } from '../adapters/durable-lifecycle-client';
import { GraphCallsAdapter, GraphTokenCache } from '../adapters/graph-calls';
import { OpenIdJwtVerifier } from '../adapters/jwt-verifier';
import { MediaHostClient } from '../adapters/media-host-client';
import { createStorageClients } from '../adapters/storage-clients';
import { TablesPairedInteractionStore } from '../adapters/table-paired-interactions';
import {
  TablesDeliveryLog,
  TablesInteractionStore,
  TablesMediaHostRegistry,
  createTableFactory,
} from '../adapters/table-stores';
import { OrchestratorNames, type CallLifecycleSettings } from '../domain/call-lifecycle.contract';
import { MediaHostPool } from '../domain/media-host-pool';
import { isHeartbeatFresh } from '../domain/media-host-selection';
import type { AdminAccess } from '../http/admin-access';
import { createCallingWebhookHandler } from '../http/calling-webhook.http';
import { createGetCallHandler, createListCallsHandler } from '../http/calls-admin.http';
import { createRecordingPauseHandlers } from '../http/recording-pause.http';
import {
  createDrainMediaHostHandler,
  createHeartbeatHandler,
  createListMediaHostsHandler,
  createMediaHostEventHandler,
  type MediaHostsHttpDeps,
} from '../http/media-hosts.http';
import { RateLimitedLog, structuredLog } from '../logging/structured-log';
import { registerRecorder } from '../registrations/recorder.register';
import { createDeliveryLogSweepHandler } from '../timers/delivery-log-sweep.timer';
import { createLifecycleCallCheckHandler } from '../timers/lifecycle-call-check.timer';
import { createLifecycleHistoryPurgeHandler } from '../timers/lifecycle-history-purge.timer';

export interface RecorderDependencies {
  readonly archive: ArchiveIntake;
  /** The admin routes' one authorization model (built with the ledger in the archive). */
  readonly adminAccess: AdminAccess;
  /** Groups of an interaction's recorded users, as archived (scope of the PCI pause). */
  readonly recordedGroupsOf: (
    tenantId: string,
    interactionId: string,
  ) => Promise<readonly string[]>;
}

/** Builds the recorder's adapters and registers its functions. */
export function composeRecorder(config: FunctionsConfig, deps: RecorderDependencies): void {
  const recorder = config.recorder;
  const now = (): Date => new Date();
  const rootLog = structuredLog(console, { component: 'recorder' });

  const storageCredential = createStorageClients(config.storage).credential;
  const tables = createTableFactory({
    connectionString: config.storage.connectionString,
    tableUrl: config.storage.tableUrl,
    credential: storageCredential,
  });
  const interactions = new TablesInteractionStore(tables);
  const registry = new TablesMediaHostRegistry(tables);
  const pairs = new TablesPairedInteractionStore(tables);
  const deliveries = new TablesDeliveryLog(tables, now);

  const webhookVerifier = new OpenIdJwtVerifier(recorder.webhook);
  const tokens = new GraphTokenCache({
    createCredential: (tenantId) =>
      new ClientSecretCredential(tenantId, recorder.appId, recorder.appSecret, {
        authorityHost: recorder.entraAuthorityHost,
        disableInstanceDiscovery: recorder.entraDisableInstanceDiscovery,
      }),
    refreshAheadInMs: recorder.graphTokenRefreshAheadInMs,
    onRefreshFailed: (tenantId) => rootLog.warn('graph token refresh failed', { tenantId }),
  });
  // Warm everything the first answer needs, and keep the tokens fresh so no answer waits.
  void webhookVerifier.warmUp();
  void tokens.warmUp(recorder.servedTenantIds);
  setInterval(() => {
    for (const tenantId of recorder.servedTenantIds)
      tokens.getToken(tenantId).catch(() => undefined);
  }, 60_000).unref();

  const graph = new GraphCallsAdapter({
    baseUrl: recorder.graphBaseUrl,
    tokens,
    timeoutInMs: recorder.graphTimeoutInMs,
  });
  const media = new MediaHostClient({
    controlKey: recorder.mediaControlKey,
    timeoutInMs: recorder.mediaControlTimeoutInMs,
    certificateDomains: recorder.mediaControlCertificateDomains,
  });
  const pool = new MediaHostPool(registry, media, {
    staleAfterInMs: recorder.mediaHostStaleAfterInMs,
    now,
  });
  const durableClientOf = createDurableClientCache();
  const lifecycle = (context: InvocationContext): DurableLifecycleClient =>
    new DurableLifecycleClient(durableClientOf(context));

  const lifecycleSettings: CallLifecycleSettings = {
    keepAliveIntervalInMs: recorder.keepAliveIntervalInMs,
    mediaHealthCheckIntervalInMs: recorder.mediaHealthCheckIntervalInMs,
    mediaHealthFailureThreshold: 2,
    establishTimeoutInMs: recorder.establishTimeoutInMs,
    recordingStatusMaxAttempts: recorder.recordingStatusMaxAttempts,
    graphRetryDelayInMs: 1_000,
    maxEventsPerExecution: recorder.maxEventsPerExecution,
    // By default longer than the webhook's recording-status budget (3 s) plus Graph's and the
    // media host's timeouts: the lifecycle takes over only when the fast path is surely gone.
    recordingStartWaitInMs: recorder.recordingStartWaitInMs,
  };
  const mediaHostDeps: MediaHostsHttpDeps = {
    controlKey: recorder.mediaControlKey,
    registry,
    control: media,
    pool,
    deliveries,
    lifecycle,
    access: deps.adminAccess,
    staleAfterInMs: recorder.mediaHostStaleAfterInMs,
    now,
  };
  const callsDeps = { access: deps.adminAccess, interactions, lifecycle, now };
  const pauses = createRecordingPauseHandlers({
    access: deps.adminAccess,
    interactions,
    control: media,
    recordedGroupsOf: deps.recordedGroupsOf,
  });

  registerRecorder(
    {
      calling: createCallingWebhookHandler({
        verifier: webhookVerifier,
        graph,
        pool,
        mediaControl: media,
        interactions,
        archive: deps.archive,
        pairs,
        lifecycle,
        settings: {
          servedTenantIds: recorder.servedTenantIds,
          publicBaseUrl: recorder.publicBaseUrl,
          participantCapacity: recorder.participantCapacity,
          defaultRegion: recorder.defaultRegion,
          lifecycle: lifecycleSettings,
        },
        now,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        authFailureLog: new RateLimitedLog(60_000),
      }),
      heartbeat: createHeartbeatHandler(mediaHostDeps),
      mediaHostEvents: createMediaHostEventHandler(mediaHostDeps),
      listMediaHosts: createListMediaHostsHandler(mediaHostDeps),
      drainMediaHost: createDrainMediaHostHandler(mediaHostDeps),
      getCall: createGetCallHandler(callsDeps),
      listCalls: createListCallsHandler(callsDeps),
      pauseRecording: pauses.pause,
      resumeRecording: pauses.resume,
      deliveryLogSweep: createDeliveryLogSweepHandler({
        deliveries,
        retentionInMs: recorder.deliveryRetentionInMs,
        now,
      }),
      lifecycleHistoryPurge: createLifecycleHistoryPurgeHandler({
        history: lifecycle,
        retentionInMs: recorder.lifecycleHistoryRetentionInMs,
        now,
      }),
      lifecycleCallCheck: createLifecycleCallCheckHandler({
        lifecycles: lifecycle,
        orchestratorName: OrchestratorNames.callLifecycle,
        now,
      }),
    },
    createRecorderActivities({
      graph,
      media,
      interactions,
      archive: deps.archive,
      pairs,
      log: rootLog,
      isHeartbeating: async (hostId) => {
        const host = await registry.get(hostId);
        // New calls avoid a host after one stale limit (cheap when wrong); a live call is given
        // up only after twice that (it tells Teams the recording failed).
        return (
          host === undefined || isHeartbeatFresh(host, now(), 2 * recorder.mediaHostStaleAfterInMs)
        );
      },
      // Any host that heartbeats may adopt, draining or not (adopting is no new call); the
      // freshest first.
      adoptionHosts: async (lostHostId) =>
        (await registry.list())
          .filter(
            (host) =>
              host.hostId !== lostHostId &&
              isHeartbeatFresh(host, now(), recorder.mediaHostStaleAfterInMs),
          )
          .sort((a, b) => (a.receivedAt < b.receivedAt ? 1 : -1))
          .map((host) => host.controlUrl),
    }),
  );
}

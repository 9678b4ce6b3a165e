/**
 * The composition root: builds the adapters from configuration, restores sessions and replays
 * the spool after a restart (`session-restore.ts`), runs the spool flush (acks), commit,
 * heartbeat and housekeeping loops (`loops/`), and serves the control API and the media protocol
 * listener. The sessions live in one {@link SessionRegistry}.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import {
  MediaHostEventKind,
  MediaProtocolErrorCode,
  RECORDING_KEYS_CONTAINER,
  type MediaHostHealth,
} from '@attest/core';
import type { TokenCredential } from '@azure/identity';
import type { MediaHostConfig } from '../config/media-host.config';
import {
  startControlApi,
  type ControlApiServer,
  type ExtraRouteHandler,
} from '../control/control-api.http';
import { FrameTaps } from '../hooks/frame-tap';
import { noopMetrics, type MetricsSink } from '../hooks/metrics-sink';
import {
  startMediaProtocolServer,
  type MediaProtocolServer,
  type MediaProtocolServerOptions,
} from '../ingest/media-protocol.server';
import { loadMediaHostKeys } from '../keys/media-host-keys';
import type { ListenAuditEvent } from '../live/live-monitor';
import { createJsonLogger, type Logger } from '../logging/logger';
import type { StreamFormatterFactory } from '../pipeline/formats/stream-format';
import { createRawPassthroughFormatter } from '../pipeline/raw-pcm.formatter';
import { Spool } from '../pipeline/spool';
import type { MediaSession } from '../session/media-session';
import { adoptSession } from '../session/session-adoption';
import type { SessionEnvironment } from '../session/session-environment';
import type { BlockStore } from '../sink/block-store';
import { createBridgeClient } from '../bridge/bridge-client';
import { createBridgeWiring, type BridgeWiring } from '../bridge/bridge-wiring';
import { createHostDrain, type HostDrain } from '../drain/host-drain';
import { createHostBlockStore } from './block-store.wiring';
import { handBackSessions } from './hand-back';
import { createFunctionAppNotifier } from './function-app-notifier';
import { createLimiter } from './limiter';
import { startLiveListen } from './live-listen.wiring';
import { startCommitLoop } from './loops/commit.loop';
import { createHeartbeat } from './loops/heartbeat.loop';
import { createHousekeeping } from './loops/housekeeping.loop';
import { startSpoolFlushLoop } from './loops/spool-flush.loop';
import { createSessionAdmission } from './session-admission';
import { SessionRegistry } from './session-registry';
import { restoreSessions } from './session-restore';

export interface MediaHostDependencies {
  /** Storage without retries (the host adds them); default: Azure from configuration. */
  readonly store?: BlockStore;
  /** Default: raw passthrough (lossless). The production entry point passes the Opus/fMP4 factory. */
  readonly formatterFactory?: StreamFormatterFactory;
  readonly now?: () => Date;
  /** Backoff sleep for storage retries (tests shorten it). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly retryBaseDelayInMs?: number;
  readonly retryMaxDelayInMs?: number;
  readonly metrics?: MetricsSink;
  readonly taps?: FrameTaps;
  readonly logger?: Logger;
  readonly fetch?: typeof fetch;
  /** Extra routes on the control port, e.g. `{ 'GET /metrics': handler }` (they authenticate themselves). */
  readonly extraRoutes?: Readonly<Record<string, ExtraRouteHandler>>;
  /**
   * Takes live listen-in audit events (start, stop, refusal) when `config.liveListenKey` is set;
   * a rejected promise on a start refuses the listen. Default: one structured `live listen audit`
   * log line per event (ids only; the supervisor is identified by the token id, which the function
   * app's ledger entry for the issued token carries).
   */
  readonly onListenAudit?: (event: ListenAuditEvent) => void | Promise<void>;
  /** Credential for Key Vault when `config.keyVault` is set; default `DefaultAzureCredential`. */
  readonly keyVaultCredential?: TokenCredential;
}

export interface MediaHost {
  readonly hostId: string;
  /** `https://<controlHost>:<port>`. */
  readonly controlUrl: string;
  /** `wss://<publicHost>:<port>` of live listen-in, when a listen key is configured. */
  readonly listenUrl?: string;
  readonly mediaPort: number;
  /** Port of the loopback, no-TLS media listener for the bridge, when configured. */
  readonly loopbackPort?: number;
  /** Per-session frame taps for live monitoring. */
  readonly taps: FrameTaps;
  getSession(sessionId: string): MediaSession | undefined;
  health(): MediaHostHealth;
  /**
   * Retires every session finished at least `finishedSessionRetentionInMs` ago (by the host's
   * clock): it leaves memory, its files leave the sessions folder (see `MediaSession.retire`), and
   * the control API answers 404 for it. Runs on its own every minute; returns how many it retired.
   */
  retireFinishedSessions(): Promise<number>;
  /** The host's drain (operator and scale-in); tests run its scheduled-events round by hand. */
  readonly drain: Pick<HostDrain, 'state' | 'checkScheduledEvents' | 'isDraining'>;
  /** Stops listening and the loops, flushes the spool; sessions stay resumable. Idempotent. */
  close(): Promise<void>;
}

export async function startMediaHost(
  config: MediaHostConfig,
  deps: MediaHostDependencies = {},
): Promise<MediaHost> {
  const logger =
    deps.logger ?? createJsonLogger({ level: config.logLevel, base: { hostId: config.hostId } });
  const now = deps.now ?? (() => new Date());
  const metrics = deps.metrics ?? noopMetrics;
  const taps = deps.taps ?? new FrameTaps();
  const cert = readFileSync(config.tlsCertFile);
  const key = readFileSync(config.tlsKeyFile);
  const certificateExpiresAt = new Date(new X509Certificate(cert).validTo).toISOString();
  const { signer, kek } = await loadMediaHostKeys(config, deps.keyVaultCredential);
  if (!config.isEncryptionEnabled) logger.warn('media encryption is disabled: development only');

  const store = createHostBlockStore(config, {
    store: deps.store,
    sleep: deps.sleep,
    retryBaseDelayInMs: deps.retryBaseDelayInMs,
    retryMaxDelayInMs: deps.retryMaxDelayInMs,
    metrics,
    logger,
  });
  await store.ensureContainer(config.recordingsContainer);
  if (kek !== undefined) await store.ensureContainer(RECORDING_KEYS_CONTAINER);

  const sessionsDir = join(config.spoolDir, 'sessions');
  mkdirSync(sessionsDir, { recursive: true });
  const spool = new Spool({
    dir: join(config.spoolDir, 'journal'),
    limitInBytes: config.spoolLimitInBytes,
  });
  const registry = new SessionRegistry();
  let controlUrl = '';
  // Set once live listen-in listens; the heartbeat reads it through a closure.
  let listenUrl: string | undefined = undefined;
  // Known once the protocol listener listens.
  let mediaEndpoint: string | undefined = undefined;
  const functionApp = createFunctionAppNotifier({
    functionsUrl: config.functionsUrl,
    controlKey: config.controlKey,
    hostId: config.hostId,
    now,
    fetch: deps.fetch ?? fetch,
    logger,
  });

  const env: SessionEnvironment = {
    limitRecordWrite: createLimiter(2),
    hostId: config.hostId,
    softwareVersion: config.version,
    container: config.recordingsContainer,
    spool,
    store,
    formatterFactory: deps.formatterFactory ?? createRawPassthroughFormatter,
    isAudioLossless: config.isAudioLossless,
    blockMinDurationInMs: config.blockMinDurationInMs,
    segmentMaxDurationInMs: config.segmentMaxDurationInMs,
    sessionsDir,
    signer,
    now,
    metrics,
    logger,
    reportFailure: (session, reason) => {
      functionApp.sendEvent(session, MediaHostEventKind.persistenceFailed, reason);
      registry
        .getConnection(session.sessionId)
        ?.close(MediaProtocolErrorCode.overloaded, 'persistence failed');
    },
  };

  await restoreSessions({ env, sessionsDir, spool, registry, logger });
  const drain = createHostDrain({
    scheduledEvents: config.scheduledEvents,
    zone: config.zone,
    activeSessions: () => registry.activeCount(),
    handBack: (reason) => handBackSessions(registry, functionApp, reason, logger),
    onChange: () => heartbeat.beat(),
    now,
    logger,
    ...(deps.fetch !== undefined ? { fetch: deps.fetch } : {}),
  });

  // ---- loops ----
  const stopFlushLoop = startSpoolFlushLoop({
    spool,
    registry,
    intervalInMs: config.spoolFlushIntervalInMs,
    metrics,
    logger,
  });
  const stopCommitLoop = startCommitLoop({
    registry,
    commitIntervalInMs: config.commitIntervalInMs,
  });
  const health = (): MediaHostHealth => ({
    hostId: config.hostId,
    version: config.version,
    region: config.region,
    ...(drain.zone() !== undefined ? { zone: drain.zone() } : {}),
    isDraining: drain.isDraining(),
    ...(drain.state() !== undefined ? { drain: drain.state() } : {}),
    capacity: { maxSessions: config.maxSessions, activeSessions: registry.activeCount() },
    spoolBytes: spool.sizeInBytes,
    spoolLimitInBytes: spool.limit,
    certificateExpiresAt,
    ...(mediaEndpoint !== undefined ? { mediaEndpoint } : {}),
    ...(bridge?.health() !== undefined ? { bridge: bridge.health() } : {}),
  });
  const heartbeat = createHeartbeat({
    intervalInMs: config.heartbeatIntervalInMs,
    health,
    controlUrl: () => controlUrl,
    listenUrl: () => listenUrl,
    post: functionApp.post,
    now,
    metrics,
  });
  heartbeat.start();
  const housekeeping = createHousekeeping({
    registry,
    finishedSessionRetentionInMs: config.finishedSessionRetentionInMs,
    now,
    metrics,
    logger,
  });
  housekeeping.start();

  // ---- servers ----
  const protocolOptions: Omit<MediaProtocolServerOptions, 'host' | 'port' | 'tls'> = {
    maxPayloadBytes: config.maxFramePayloadBytes,
    helloTimeoutInMs: config.helloTimeoutInMs,
    getSession: (id) => registry.get(id),
    onAttach: (session, connection) => {
      const previous = registry.getConnection(session.sessionId);
      if (previous !== undefined && previous !== connection)
        previous.close(MediaProtocolErrorCode.sessionClosed, 'replaced by a new connection');
      const wasConnectedBefore = session.hasConnected;
      registry.setConnection(session.sessionId, connection);
      session.markConnected();
      if (wasConnectedBefore) functionApp.sendEvent(session, MediaHostEventKind.connectionResumed);
    },
    onDetach: (session, connection) => {
      if (!registry.detach(session.sessionId, connection)) return;
      if (!session.isFinished) functionApp.sendEvent(session, MediaHostEventKind.connectionLost);
    },
    taps,
    metrics,
    logger,
  };
  const protocol: MediaProtocolServer = await startMediaProtocolServer({
    ...protocolOptions,
    host: config.protocolHost,
    port: config.protocolPort,
    tls: { cert, key },
  });
  mediaEndpoint =
    config.publicMediaPort !== undefined
      ? `tcp://${config.publicHost}:${config.publicMediaPort}`
      : `tls://${config.publicHost}:${protocol.port}`;
  // The bridge on this machine streams over loopback without TLS; the token still authenticates.
  const loopback: MediaProtocolServer | undefined =
    config.loopbackProtocolPort !== undefined
      ? await startMediaProtocolServer({
          ...protocolOptions,
          host: '127.0.0.1',
          port: config.loopbackProtocolPort,
        })
      : undefined;

  const admitSession = createSessionAdmission({
    env,
    registry,
    kek,
    hostId: config.hostId,
    maxSessions: config.maxSessions,
    isDraining: () => drain.isDraining(),
    mediaEndpoint: () => `tls://${config.publicHost}:${protocol.port}`,
    now,
    logger,
  });
  const bridge: BridgeWiring | undefined =
    config.bridge !== undefined && loopback !== undefined
      ? createBridgeWiring({
          client: createBridgeClient({
            url: config.bridge.url,
            controlKey: config.bridge.controlKey,
            ...(deps.fetch !== undefined ? { fetch: deps.fetch } : {}),
          }),
          loopbackEndpoint: () => `tcp://127.0.0.1:${loopback.port}`,
          tokenOf: (id) => registry.get(id)?.token,
          abortSession: async (id, reason) => {
            await registry.get(id)?.abort(reason);
          },
          healthIntervalInMs: Math.min(config.heartbeatIntervalInMs, 5000),
          now,
          metrics,
          logger,
        })
      : undefined;
  const listen = await startLiveListen({
    liveListenKey: config.liveListenKey,
    host: config.listenHost,
    port: config.listenPort,
    publicHost: config.publicHost,
    tls: { cert, key },
    registry,
    taps,
    onListenAudit: deps.onListenAudit,
    metrics,
    logger,
  });
  const live = listen?.live;
  listenUrl = listen?.url;

  const control: ControlApiServer = await startControlApi({
    host: config.controlHost,
    port: config.controlPort,
    controlKey: config.controlKey,
    tls: { cert, key },
    logger,
    ...(deps.extraRoutes !== undefined ? { extraRoutes: deps.extraRoutes } : {}),
    onSessionFinished: (sessionId) => {
      live?.endSession(sessionId);
      bridge?.onSessionFinished(sessionId);
    },
    ...(bridge !== undefined ? { onParticipantsUpdated: bridge.onParticipants.bind(bridge) } : {}),
    controller: {
      // A promise for the control API; the admission itself is synchronous.
      createSession: (request) =>
        bridge !== undefined
          ? bridge.admit(admitSession, request)
          : new Promise((resolve) => resolve(admitSession(request))),
      getSession: (id) => registry.get(id),
      // A session this host has (restored after its own restart) is sealed as usual.
      adoptSession: (id, request) =>
        registry.get(id)?.seal() ?? adoptSession({ ...env, logger }, id, request),
      health,
      setDraining: (value) => {
        logger.info(value ? 'drain started' : 'drain stopped');
        drain.setByAdmin(value);
        return health();
      },
    },
  });
  controlUrl = control.url;
  await drain.start();
  heartbeat.beat();
  logger.info('media host started', {
    controlPort: control.port,
    mediaPort: protocol.port,
    ...(listen !== undefined ? { listenPort: listen.port } : {}),
    ...(loopback !== undefined ? { loopbackPort: loopback.port } : {}),
    ...(bridge !== undefined ? { bridgeUrl: config.bridge?.url } : {}),
    region: config.region,
    zone: drain.zone(),
  });

  let closing: Promise<void> | undefined;
  return {
    hostId: config.hostId,
    controlUrl,
    ...(listen !== undefined ? { listenUrl: listen.url } : {}),
    mediaPort: protocol.port,
    ...(loopback !== undefined ? { loopbackPort: loopback.port } : {}),
    taps,
    getSession: (id) => registry.get(id),
    health,
    drain,
    retireFinishedSessions: housekeeping.retireFinishedSessions,
    close() {
      closing ??= (async () => {
        stopFlushLoop();
        stopCommitLoop();
        heartbeat.stop();
        drain.stop();
        await housekeeping.stop();
        await listen?.close();
        await control.close();
        bridge?.stop();
        await protocol.close();
        await loopback?.close();
        await spool.close();
        logger.info('media host stopped');
      })();
      return closing;
    },
  };
}

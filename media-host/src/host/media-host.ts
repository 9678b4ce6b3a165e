/**
 * The composition root: builds the adapters from configuration, restores sessions and replays
 * the spool after a restart, runs the spool flush (acks), commit and heartbeat loops, and serves
 * the control API and the media protocol listener.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createDataKey,
  decodeFrames,
  ErrorCode,
  errorCodeOf,
  MediaHostEventKind,
  MediaProtocolErrorCode,
  RECORDING_KEYS_CONTAINER,
  RecorderError,
  wrapDataKey,
  type CreateMediaSessionRequest,
  type CreateMediaSessionResponse,
  type MediaConfigBlob,
  type MediaHostEvent,
  type MediaHostHealth,
  type MediaHostHeartbeat,
  verifyListenToken,
} from '@attest/core';
import type { TokenCredential } from '@azure/identity';
import type { MediaHostConfig } from '../config/media-host.config';
import {
  startControlApi,
  type ControlApiOptions,
  type ControlApiServer,
  type ExtraRouteHandler,
} from '../control/control-api.http';
import { FrameTaps } from '../hooks/frame-tap';
import { MetricNames, noopMetrics, type MetricsSink } from '../hooks/metrics-sink';
import {
  startMediaProtocolServer,
  type MediaConnection,
  type MediaProtocolServer,
} from '../ingest/media-protocol.server';
import { loadMediaHostKeys } from '../keys/media-host-keys';
import { createJsonLogger, errorMessage, type Logger } from '../logging/logger';
import type { StreamFormatterFactory } from '../pipeline/formats/stream-format';
import { attachLiveMonitor, type ListenAuditEvent, type LiveMonitor } from '../live/live-monitor';
import { createRawPassthroughFormatter } from '../pipeline/raw-pcm.formatter';
import { Spool, SpoolRecordKind } from '../pipeline/spool';
import {
  MediaSession,
  type SessionEnvironment,
  type SessionRecord,
} from '../session/media-session';
import {
  checkpointLogPath,
  readCheckpointLogSync,
  type CheckpointLine,
} from '../session/checkpoint-log';
import { createAzureBlockStore } from '../sink/azure-block-store';
import { withRetries, type BlockStore } from '../sink/block-store';

/** Slots of the commit interval that sessions commit in, in turns. */
const COMMIT_SLOTS = 10;

/** Runs at most `concurrency` tasks at a time, in arrival order. */
function createLimiter(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

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
  /** HTTP upgrades on the control port (the live listen-in WebSocket). */
  readonly onUpgrade?: ControlApiOptions['onUpgrade'];
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
  readonly controlUrl: string;
  readonly mediaPort: number;
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
  const doFetch = deps.fetch ?? fetch;
  const cert = readFileSync(config.tlsCertFile);
  const key = readFileSync(config.tlsKeyFile);
  const { signer, kek } = await loadMediaHostKeys(config, deps.keyVaultCredential);
  if (!config.isEncryptionEnabled) logger.warn('media encryption is disabled: development only');

  const rawStore =
    deps.store ??
    createAzureBlockStore({
      ...(config.storageConnectionString !== undefined
        ? { connectionString: config.storageConnectionString }
        : {}),
      ...(config.storageAccountUrl !== undefined ? { accountUrl: config.storageAccountUrl } : {}),
      hotPath: config.shouldSendBlocksThroughSdk === true ? 'sdk' : 'rest',
    });
  const store = withRetries(rawStore, {
    ...(deps.sleep !== undefined ? { sleep: deps.sleep } : {}),
    ...(deps.retryBaseDelayInMs !== undefined ? { baseDelayInMs: deps.retryBaseDelayInMs } : {}),
    ...(deps.retryMaxDelayInMs !== undefined ? { maxDelayInMs: deps.retryMaxDelayInMs } : {}),
    onRetry: (operation, attempt, error) => {
      metrics.increment(MetricNames.storageRetries);
      if (attempt === 1 || attempt % 10 === 0)
        logger.warn('storage operation retried', {
          operation,
          attempt,
          error: errorMessage(error),
        });
    },
  });
  await store.ensureContainer(config.recordingsContainer);
  if (kek !== undefined) await store.ensureContainer(RECORDING_KEYS_CONTAINER);

  const sessionsDir = join(config.spoolDir, 'sessions');
  mkdirSync(sessionsDir, { recursive: true });
  const spool = new Spool({
    dir: join(config.spoolDir, 'journal'),
    limitInBytes: config.spoolLimitInBytes,
  });
  const sessions = new Map<string, MediaSession>();
  const sessionByCall = new Map<string, string>();
  const connections = new Map<string, MediaConnection>();
  let isDraining = false;
  let controlUrl = '';

  // ---- events to the function app (at least once, best effort) ----
  const postToFunctions = async (path: string, body: unknown): Promise<void> => {
    if (config.functionsUrl === undefined) return;
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      try {
        const response = await doFetch(`${config.functionsUrl}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${config.controlKey}`,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(5000),
        });
        if (response.ok) return;
        if (response.status < 500 && response.status !== 408 && response.status !== 429) return;
      } catch {
        // network failure: retried below
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt).unref());
    }
    logger.warn('function app did not take a media host message', { path });
  };
  const sendEvent = (
    session: MediaSession,
    kind: MediaHostEvent['kind'],
    reason?: string,
  ): void => {
    const event: MediaHostEvent = {
      eventId: randomUUID(),
      hostId: config.hostId,
      sessionId: session.sessionId,
      callId: session.request.callId,
      kind,
      at: now().toISOString(),
      ...(reason !== undefined ? { reason } : {}),
    };
    void postToFunctions('/api/mediahosts/events', event);
  };

  const limitRecordWrite = createLimiter(2);
  const env: SessionEnvironment = {
    limitRecordWrite,
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
      sendEvent(session, MediaHostEventKind.persistenceFailed, reason);
      connections
        .get(session.sessionId)
        ?.close(MediaProtocolErrorCode.overloaded, 'persistence failed');
    },
  };

  // ---- restore after a restart ----
  for (const name of readdirSync(sessionsDir).filter((n) => n.endsWith('.json'))) {
    try {
      const record = JSON.parse(readFileSync(join(sessionsDir, name), 'utf8')) as SessionRecord;
      let lines: CheckpointLine[] = [];
      let isLogCorrupt = false;
      try {
        lines = readCheckpointLogSync(checkpointLogPath(sessionsDir, record.sessionId));
      } catch (error) {
        if (errorCodeOf(error) !== ErrorCode.IntegrityViolation) throw error;
        logger.error('session checkpoint log is corrupt', {
          sessionId: record.sessionId,
          callId: record.request.callId,
          error: errorMessage(error),
        });
        isLogCorrupt = true;
      }
      const session = MediaSession.restore(env, record, lines);
      // Which blocks it committed is unknown: persisting on would store a recording whose
      // manifest cannot list them. Fail it (reported); what is stored stays.
      if (isLogCorrupt) session.fail('checkpointLogCorrupt');
      sessions.set(session.sessionId, session);
      sessionByCall.set(session.request.callId, session.sessionId);
    } catch (error) {
      logger.error('session record unreadable', { file: name, error: errorMessage(error) });
    }
  }
  for (const session of sessions.values()) {
    if (session.isFinished) continue;
    try {
      await session.reconcile();
    } catch (error) {
      // A stream blob that no longer starts with the session's checkpoint fails that session
      // alone (reported to the function app, which records it); the others are restored. Any
      // other failure (storage unreachable) stops the start, to be retried by the next start.
      if (errorCodeOf(error) !== ErrorCode.IntegrityViolation) throw error;
      logger.error('session could not be restored', {
        sessionId: session.sessionId,
        callId: session.request.callId,
        error: errorMessage(error),
      });
      session.fail('storedBlobDoesNotMatchCheckpoint');
    }
  }
  await spool.open((record) => {
    const session = sessions.get(record.sessionId);
    if (session === undefined || session.isFinished) return;
    if (record.kind === SpoolRecordKind.sequenceMark) return session.replayMark(record.sequence);
    const { frames, error } = decodeFrames(record.body);
    const isWhole =
      record.kind === SpoolRecordKind.frames
        ? frames.length > 0 && frames.at(-1)!.sequence === record.sequence
        : frames.length === 1;
    if (error !== undefined || !isWhole) {
      logger.error('spool record unreadable', {
        sessionId: record.sessionId,
        sequence: record.sequence,
      });
      return;
    }
    for (const frame of frames) session.replay(frame);
  });
  for (const session of sessions.values())
    if (session.isFinished) await spool.forget(session.sessionId);
  const restored = [...sessions.values()].filter((s) => !s.isFinished).length;
  if (restored > 0) logger.info('sessions restored after restart', { sessionCount: restored });

  // ---- loops ----
  let isFlushing = false;
  const flushTimer = setInterval(() => {
    if (isFlushing) return;
    isFlushing = true;
    // Only what was accepted before the flush started is covered by its fsync.
    const accepted = new Map<MediaSession, number>();
    for (const sessionId of connections.keys()) {
      const session = sessions.get(sessionId);
      if (session !== undefined) accepted.set(session, session.acceptedSequence);
    }
    const flushStarted = Date.now();
    spool
      .flush()
      .then(() => {
        const flushInMs = Date.now() - flushStarted;
        if (flushInMs > 250)
          logger.debug('spool flush was slow', {
            flushInMs,
            sessionCount: accepted.size,
            ...spool.lastFlushTimings,
          });
        for (const [session, sequence] of accepted) {
          const before = session.durableThrough;
          const after = session.markDurable(sequence);
          if (after !== before)
            connections.get(session.sessionId)?.sendAck(after, session.nextSequence);
        }
        metrics.set(MetricNames.spoolBytes, spool.sizeInBytes);
      })
      .catch((error: unknown) => {
        logger.error('spool flush failed', { error: errorMessage(error) });
        for (const session of sessions.values())
          if (!session.isFinished) session.fail('spool write failed');
      })
      .finally(() => {
        isFlushing = false;
      });
  }, config.spoolFlushIntervalInMs);
  // Sessions commit in turns: the commit interval is cut into slots and each session commits in
  // its own, every interval, so the Put Block Lists and checkpoint writes of all sessions do not
  // arrive at storage and the disk at once (a burst of hundreds of requests also opened as many
  // new connections).
  const commitSlotOf = new WeakMap<MediaSession, number>();
  let nextCommitSlot = 0;
  let commitTick = 0;
  const commitTimer = setInterval(
    () => {
      const slot = commitTick % COMMIT_SLOTS;
      commitTick += 1;
      for (const session of sessions.values()) {
        if (session.isFinished) continue;
        let own = commitSlotOf.get(session);
        if (own === undefined) {
          own = nextCommitSlot % COMMIT_SLOTS;
          nextCommitSlot += 1;
          commitSlotOf.set(session, own);
        }
        if (own === slot) session.commit().catch(() => undefined);
      }
    },
    Math.max(1, Math.floor(config.commitIntervalInMs / COMMIT_SLOTS)),
  );

  const activeCount = (): number => [...sessions.values()].filter((s) => !s.isFinished).length;
  const health = (): MediaHostHealth => ({
    hostId: config.hostId,
    version: config.version,
    region: config.region,
    isDraining,
    capacity: { maxSessions: config.maxSessions, activeSessions: activeCount() },
    spoolBytes: spool.sizeInBytes,
    spoolLimitInBytes: spool.limit,
  });
  const heartbeat = (): void => {
    metrics.set(MetricNames.activeSessions, activeCount());
    const body: MediaHostHeartbeat = { ...health(), controlUrl, sentAt: now().toISOString() };
    void postToFunctions('/api/mediahosts/heartbeat', body);
  };
  const heartbeatTimer = setInterval(heartbeat, config.heartbeatIntervalInMs);

  // An always-on host must not keep every session it ever had: in memory (every loop walks the
  // sessions), on disk, or read again at each start. Finished sessions stay for the retention
  // (status, an idempotent repeated seal), then go.
  const startedAtInMs = now().getTime();
  let retiring: Promise<number> | undefined;
  const retireFinishedSessions = (): Promise<number> => {
    retiring ??= (async () => {
      const cutoff = now().getTime() - config.finishedSessionRetentionInMs;
      let retired = 0;
      for (const session of [...sessions.values()]) {
        const finishedAt = session.finishedAtInMs(startedAtInMs);
        if (finishedAt === undefined || finishedAt > cutoff) continue;
        try {
          await session.retire();
        } catch (error) {
          logger.warn('finished session not retired', {
            sessionId: session.sessionId,
            callId: session.request.callId,
            error: errorMessage(error),
          });
          continue;
        }
        sessions.delete(session.sessionId);
        if (sessionByCall.get(session.request.callId) === session.sessionId)
          sessionByCall.delete(session.request.callId);
        // A failed session's metric series were never dropped (seal and abort drop theirs).
        metrics.forgetSession?.(session.sessionId);
        connections
          .get(session.sessionId)
          ?.close(MediaProtocolErrorCode.sessionClosed, 'session retired');
        retired += 1;
      }
      if (retired > 0) logger.info('finished sessions retired', { sessionCount: retired });
      return retired;
    })().finally(() => {
      retiring = undefined;
    });
    return retiring;
  };
  const retireTimer = setInterval(
    () => {
      retireFinishedSessions().catch((error: unknown) =>
        logger.warn('housekeeping failed', { error: errorMessage(error) }),
      );
    },
    Math.min(60_000, config.finishedSessionRetentionInMs),
  );
  for (const timer of [flushTimer, commitTimer, heartbeatTimer, retireTimer]) timer.unref();

  // ---- servers ----
  const protocol: MediaProtocolServer = await startMediaProtocolServer({
    host: config.protocolHost,
    port: config.protocolPort,
    cert,
    key,
    maxPayloadBytes: config.maxFramePayloadBytes,
    helloTimeoutInMs: config.helloTimeoutInMs,
    getSession: (id) => sessions.get(id),
    onAttach: (session, connection) => {
      const previous = connections.get(session.sessionId);
      if (previous !== undefined && previous !== connection)
        previous.close(MediaProtocolErrorCode.sessionClosed, 'replaced by a new connection');
      const wasConnectedBefore = session.hasConnected;
      connections.set(session.sessionId, connection);
      session.markConnected();
      if (wasConnectedBefore) sendEvent(session, MediaHostEventKind.connectionResumed);
    },
    onDetach: (session, connection) => {
      if (connections.get(session.sessionId) !== connection) return;
      connections.delete(session.sessionId);
      if (!session.isFinished) sendEvent(session, MediaHostEventKind.connectionLost);
    },
    taps,
    metrics,
    logger,
  });

  // Synchronous (nothing on the answer's path awaits); the control API gets it as a promise below.
  const createSessionNow = (request: CreateMediaSessionRequest): CreateMediaSessionResponse => {
    const existingId = sessionByCall.get(request.callId);
    const existing = existingId === undefined ? undefined : sessions.get(existingId);
    if (existing !== undefined && !existing.isFinished)
      return { ...responseFor(existing), isExisting: true };
    if (isDraining)
      throw new RecorderError(ErrorCode.MediaHostUnavailable, 'media host is draining', {
        retryable: true,
      });
    if (activeCount() >= config.maxSessions)
      throw new RecorderError(ErrorCode.MediaHostUnavailable, 'media host is at capacity', {
        retryable: true,
      });
    const dataKey = kek !== undefined ? createDataKey() : undefined;
    const session = MediaSession.create(env, {
      sessionId: randomUUID(),
      token: randomBytes(32).toString('base64url'),
      request,
      dataKey,
      kekId: kek?.kekId,
    });
    // Answering the invite waits for this reply, so storage and disk are not on its path: the
    // wrapped key goes to storage and the record to disk in the background, and persistence (which
    // comes only after Graph confirms the recording status) waits for both. A crash before the
    // record is on disk loses a session that has not stored any media; the call sees a lost
    // connection and the function app records the gap.
    const wrapped =
      kek !== undefined && dataKey !== undefined
        ? Buffer.from(JSON.stringify(wrapDataKey(kek.publicKey, kek.kekId, dataKey, now())))
        : undefined;
    session.beginSetup(async () => {
      await session.ensureKeyRecord(wrapped);
      await session.saveRecord();
    });
    sessions.set(session.sessionId, session);
    sessionByCall.set(request.callId, session.sessionId);
    logger.info('media session created', {
      sessionId: session.sessionId,
      callId: request.callId,
      interactionId: request.interactionId,
    });
    return responseFor(session);
  };
  const responseFor = (session: MediaSession): CreateMediaSessionResponse => {
    const blob: MediaConfigBlob = {
      v: 1,
      endpoint: `tls://${config.publicHost}:${protocol.port}`,
      sessionId: session.sessionId,
      token: session.token,
    };
    return {
      sessionId: session.sessionId,
      mediaHostId: config.hostId,
      mediaConfigBlob: JSON.stringify(blob),
    };
  };

  // ---- live listen-in (only with a listen key) ----
  // The monitor listens for 'upgrade' on a server; the control API hands its upgrades to one
  // callback, so a small emitter stands in for the server and gets the listen paths only.
  const liveUpgrades = new EventEmitter();
  const livePathPrefix = '/v1/live/';
  const listenKey =
    config.liveListenKey === undefined ? undefined : Buffer.from(config.liveListenKey, 'utf8');
  const live: LiveMonitor | undefined =
    listenKey === undefined
      ? undefined
      : attachLiveMonitor(liveUpgrades as unknown as Server, {
          frames: taps,
          pathPrefix: livePathPrefix,
          isSessionLive: (sessionId) => {
            const session = sessions.get(sessionId);
            return session !== undefined && !session.isFinished;
          },
          verifyListenToken: (token, nowMs) => verifyListenToken(token, listenKey, nowMs),
          onListenAudit:
            deps.onListenAudit ??
            ((event) =>
              logger.info('live listen audit', {
                audit: event.type,
                listenId: event.listenId,
                sessionId: event.sessionId,
                tokenId: event.tokenId,
                at: event.at,
                reason: event.reason,
                durationInMs: event.durationInMs,
                framesSent: event.framesSent,
                framesSkipped: event.framesSkipped,
              })),
          logger,
          metrics,
        });
  const onUpgrade: ControlApiOptions['onUpgrade'] = (request, socket, head) => {
    if (live !== undefined && (request.url ?? '').startsWith(livePathPrefix))
      liveUpgrades.emit('upgrade', request, socket, head);
    else if (deps.onUpgrade !== undefined) deps.onUpgrade(request, socket, head);
    else socket.destroy();
  };

  const control: ControlApiServer = await startControlApi({
    host: config.controlHost,
    port: config.controlPort,
    controlKey: config.controlKey,
    logger,
    ...(deps.extraRoutes !== undefined ? { extraRoutes: deps.extraRoutes } : {}),
    onUpgrade,
    onSessionFinished: (sessionId) => live?.endSession(sessionId),
    controller: {
      createSession: (request) => new Promise((resolve) => resolve(createSessionNow(request))),
      getSession: (id) => sessions.get(id),
      health,
      setDraining: (value) => {
        isDraining = value;
        logger.info(value ? 'drain started' : 'drain stopped');
        heartbeat();
        return health();
      },
    },
  });
  controlUrl = control.url;
  heartbeat();
  logger.info('media host started', {
    controlPort: control.port,
    mediaPort: protocol.port,
    region: config.region,
  });

  let closing: Promise<void> | undefined;
  return {
    hostId: config.hostId,
    controlUrl,
    mediaPort: protocol.port,
    taps,
    getSession: (id) => sessions.get(id),
    health,
    retireFinishedSessions,
    close() {
      closing ??= (async () => {
        clearInterval(flushTimer);
        clearInterval(commitTimer);
        clearInterval(heartbeatTimer);
        clearInterval(retireTimer);
        await retiring;
        live?.close();
        await control.close();
        await protocol.close();
        await spool.close();
        logger.info('media host stopped');
      })();
      return closing;
    },
  };
}

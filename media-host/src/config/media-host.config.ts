/**
 * The media host's configuration: the only reader of environment variables. Every key is
 * `ATTEST_MEDIA_<KEY>`; {@link loadConfig} validates all of them, reports every problem at once
 * and never echoes values (some are secrets).
 */
import { hostname } from 'node:os';
import { EnvReader, type Env } from '@attest/core';

export interface MediaHostConfig {
  readonly hostId: string;
  readonly region: string;
  readonly version: string;
  /**
   * Loopback by default; the control API is for the function app only. Served over HTTPS with
   * the media certificate ({@link tlsCertFile}); in Azure it binds to the instance's private
   * address and the function app checks the certificate's name (see `docs/media-protocol.md`).
   */
  readonly controlHost: string;
  /** 0 = any free port. */
  readonly controlPort: number;
  /** Shared secret the function app presents as `Authorization: Bearer …`. Never logged. */
  readonly controlKey: string;
  /**
   * `ATTEST_MEDIA_METRICS_KEY` (at least 16 characters): what a scraper presents as
   * `Authorization: Bearer …` on `GET /metrics`. Unset: the control key. Never logged.
   */
  readonly metricsKey?: string;
  /** Host name written into the media config blob's `tls://host:port` endpoint. */
  readonly publicHost: string;
  readonly protocolHost: string;
  /** 0 = any free port. */
  readonly protocolPort: number;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  /** Connection string (Azurite, development) or undefined when `storageAccountUrl` is used. */
  readonly storageConnectionString?: string;
  /** Blob endpoint for managed identity (Azure). */
  readonly storageAccountUrl?: string;
  readonly recordingsContainer: string;
  readonly spoolDir: string;
  readonly spoolLimitInBytes: number;
  /** How often the spool is written and fsynced (and frames acknowledged). */
  readonly spoolFlushIntervalInMs: number;
  readonly commitIntervalInMs: number;
  /**
   * Smallest staged block in media time (default 2000). Longer blocks mean fewer Put Block
   * requests (a large share of the host's CPU per stream, and of the storage service's load); a
   * stream holds its block being filled in memory (16 kHz PCM: 32 KB per second).
   */
  readonly blockMinDurationInMs: number;
  /**
   * Media per stored segment of a stream (`SEGMENT_MAX_DURATION_MS`, default 1,800,000 = 30 min,
   * 60,000 to 86,400,000): a longer stream continues in its next segment blob (video and screen
   * share at the next key frame), so a block list commit and a playback read stay bounded.
   */
  readonly segmentMaxDurationInMs: number;
  /**
   * How long a finished (sealed, aborted, failed) session stays on the host, answering status and
   * a repeated seal, before it is retired (`FINISHED_SESSION_RETENTION_MS`, default 3,600,000 = 1
   * hour, 1,000 to 604,800,000). Retiring deletes a sealed session's files and keeps an aborted or
   * failed one's under `sessions/finished/`.
   */
  readonly finishedSessionRetentionInMs: number;
  /**
   * Send Put Block and Put Block List through `@azure/storage-blob` like every other request
   * instead of the host's REST path (`ATTEST_MEDIA_STORAGE_BLOCKS_VIA_SDK`, default false): for a
   * deployment that must reach storage through an HTTP proxy (the REST path does not use one), or
   * to rule the REST path out. Costs about three times the CPU per block request.
   */
  readonly shouldSendBlocksThroughSdk?: boolean;
  readonly maxSessions: number;
  readonly maxFramePayloadBytes: number;
  /** Function app base URL for heartbeats and events; undefined = none sent. */
  readonly functionsUrl?: string;
  readonly heartbeatIntervalInMs: number;
  readonly isEncryptionEnabled: boolean;
  /** KEK public key (PEM) that wraps data keys; not read when {@link keyVault} is set. */
  readonly kekPublicKeyFile?: string;
  /** Ed25519 manifest signing key (PEM), generated when missing; not read when {@link keyVault} is set. */
  readonly signingKeyFile: string;
  /**
   * Key Vault holding the manifest signing key and the KEK (Azure). When set, manifests are
   * signed there (ES256) and data keys are wrapped with the KEK's public key fetched from it.
   */
  readonly keyVault?: MediaHostKeyVaultConfig;
  readonly isAudioLossless: boolean;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** How long a hello may take after the TLS handshake. */
  readonly helloTimeoutInMs: number;
  /**
   * Shared HMAC key (UTF-8, at least 32 characters) for listen tokens the function app issues
   * (`ATTEST_LIVE_LISTEN_KEY` there). Undefined = live listen-in is disabled. Never logged.
   */
  readonly liveListenKey?: string;
  /**
   * `ATTEST_MEDIA_LISTEN_HOST` (default 127.0.0.1) and `ATTEST_MEDIA_LISTEN_PORT` (default 7403,
   * 0 = any free port): the live listen-in endpoint, `wss://<publicHost>:<port>/v1/live/…` with
   * the media certificate, served only when {@link liveListenKey} is set.
   */
  readonly listenHost: string;
  readonly listenPort: number;
  /**
   * `ATTEST_MEDIA_PUBLIC_MEDIA_PORT`: the port Teams' media platform reaches on {@link publicHost}
   * when it is not the protocol listener's (the bridge's media port). Reported in the heartbeat.
   */
  readonly publicMediaPort?: number;
  /**
   * `ATTEST_MEDIA_LOOPBACK_PORT`: a second media protocol listener on 127.0.0.1 without TLS, for
   * the .NET bridge on the same machine (0 = any free port). Undefined = no loopback listener.
   */
  readonly loopbackProtocolPort?: number;
  /**
   * `ATTEST_MEDIA_BRIDGE_URL` (`http://127.0.0.1:<port>`) and `ATTEST_MEDIA_BRIDGE_CONTROL_KEY`:
   * the .NET bridge that hosts the real-time media platform. Set: sessions get the platform's
   * media configuration from the bridge and media over the loopback listener. Unset: the
   * simulator's behaviour (the host's own blob, media over TLS).
   */
  readonly bridge?: { readonly url: string; readonly controlKey: string };
  /** `ATTEST_MEDIA_ZONE`: the availability zone; unset with scheduled events = read from IMDS. */
  readonly zone?: string;
  /** Drain before scale-in from Azure's scheduled events; undefined = not watched. */
  readonly scheduledEvents?: ScheduledEventsConfig;
}

/**
 * `ATTEST_MEDIA_SCHEDULED_EVENTS_URL` (the Instance Metadata Service, `http://169.254.169.254` in
 * Azure; a stand-in locally) and how the host drains when it names this instance.
 */
export interface ScheduledEventsConfig {
  readonly url: string;
  /** `ATTEST_MEDIA_SCHEDULED_EVENTS_POLL_MS`, default 2000 (1,000 to 60,000). */
  readonly pollIntervalInMs: number;
  /**
   * `ATTEST_MEDIA_DRAIN_MAX_MS`, default 900,000 (15 min, the longest terminate notice a scale set
   * gives; 10,000 to 3,600,000): the calls still on the host then are handed back.
   */
  readonly maxDrainInMs: number;
  /** `ATTEST_MEDIA_INSTANCE_NAME`: the name events use for this instance; default from IMDS. */
  readonly instanceName?: string;
}

/** `ATTEST_MEDIA_KEYVAULT_*`: the vault and the names of the keys the media host uses. */
export interface MediaHostKeyVaultConfig {
  /** `https://<vault>.vault.azure.net`. */
  readonly vaultUri: string;
  /** EC P-256 key (sign) of manifest signatures. Default `manifest-signing`. */
  readonly manifestSigningKeyName: string;
  /** RSA key whose public part wraps data keys. Default `recording-kek`. */
  readonly kekName: string;
  /** Skip the SDK's check that the challenge's resource matches the vault's domain (the simulator only). Default false. */
  readonly shouldDisableChallengeResourceVerification: boolean;
}

const softwareVersion = '0.1.0';

/** Reads and validates `ATTEST_MEDIA_*`; throws `ATT_CONFIG_INVALID` naming every bad key. */
export function loadConfig(env: Env): MediaHostConfig {
  const reader = new EnvReader(env, {
    prefix: 'ATTEST_MEDIA_',
    invalidMessage: 'media host configuration is invalid',
  });
  const controlKey = reader.string('CONTROL_KEY');
  if (controlKey !== '' && controlKey.length < 16)
    reader.problem('ATTEST_MEDIA_CONTROL_KEY must be at least 16 characters');
  const metricsKey = reader.optionalString('METRICS_KEY');
  if (metricsKey !== undefined && metricsKey.length < 16)
    reader.problem('ATTEST_MEDIA_METRICS_KEY must be at least 16 characters');
  const storageConnectionString = reader.optionalString('STORAGE_CONNECTION');
  const storageAccountUrl = reader.optionalString('STORAGE_ACCOUNT_URL');
  if (storageConnectionString === undefined && storageAccountUrl === undefined) {
    reader.problem(
      'ATTEST_MEDIA_STORAGE_CONNECTION or ATTEST_MEDIA_STORAGE_ACCOUNT_URL is required',
    );
  }
  const isEncryptionEnabled = reader.boolean('ENCRYPTION', true);
  const keyVaultUri = reader.optionalString('KEYVAULT_URI');
  if (keyVaultUri !== undefined && !/^https:\/\/[^/\s]+\/?$/.test(keyVaultUri))
    reader.problem('ATTEST_MEDIA_KEYVAULT_URI must be an https URL of a vault');
  const keyName = (key: string, fallback: string): string => {
    const value = reader.optionalString(key) ?? fallback;
    if (!/^[0-9A-Za-z-]{1,127}$/.test(value))
      reader.problem(
        `ATTEST_MEDIA_${key} must be a Key Vault key name (letters, digits and dashes)`,
      );
    return value;
  };
  const keyVault: MediaHostKeyVaultConfig | undefined =
    keyVaultUri === undefined
      ? undefined
      : {
          vaultUri: keyVaultUri.replace(/\/+$/, ''),
          manifestSigningKeyName: keyName('KEYVAULT_MANIFEST_KEY_NAME', 'manifest-signing'),
          kekName: keyName('KEYVAULT_KEK_NAME', 'recording-kek'),
          shouldDisableChallengeResourceVerification: reader.boolean(
            'KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION',
            false,
          ),
        };
  const kekPublicKeyFile = reader.optionalString('KEK_PUBLIC_KEY_FILE');
  if (isEncryptionEnabled && kekPublicKeyFile === undefined && keyVault === undefined) {
    reader.problem(
      'ATTEST_MEDIA_KEK_PUBLIC_KEY_FILE (or ATTEST_MEDIA_KEYVAULT_URI) is required unless ATTEST_MEDIA_ENCRYPTION=false (development only)',
    );
  }
  const functionsUrl = reader.optionalString('FUNCTIONS_URL');
  if (functionsUrl !== undefined && !/^https?:\/\//.test(functionsUrl))
    reader.problem('ATTEST_MEDIA_FUNCTIONS_URL must be an http(s) URL');
  const liveListenKey = reader.optionalString('LIVE_LISTEN_KEY');
  if (liveListenKey !== undefined && liveListenKey.length < 32)
    reader.problem('ATTEST_MEDIA_LIVE_LISTEN_KEY must be at least 32 characters');
  const bridgeUrl = reader.optionalString('BRIDGE_URL');
  const bridgeControlKey = reader.optionalString('BRIDGE_CONTROL_KEY');
  if (
    bridgeUrl !== undefined &&
    !/^http:\/\/(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):\d+\/?$/.test(bridgeUrl)
  )
    reader.problem(
      'ATTEST_MEDIA_BRIDGE_URL must be http://127.0.0.1:<port> (the bridge runs on this machine)',
    );
  if (bridgeUrl !== undefined && (bridgeControlKey === undefined || bridgeControlKey.length < 32))
    reader.problem(
      'ATTEST_MEDIA_BRIDGE_CONTROL_KEY must be at least 32 characters when ATTEST_MEDIA_BRIDGE_URL is set',
    );
  const scheduledEventsUrl = reader.optionalString('SCHEDULED_EVENTS_URL');
  if (scheduledEventsUrl !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(scheduledEventsUrl))
    reader.problem(
      'ATTEST_MEDIA_SCHEDULED_EVENTS_URL must be the metadata service base URL (http://169.254.169.254)',
    );
  const instanceName = reader.optionalString('INSTANCE_NAME');
  const zone = reader.optionalString('ZONE');
  const loopbackPortText = reader.optionalString('LOOPBACK_PORT');
  const logLevel = (reader.optionalString('LOG_LEVEL') ?? 'info') as MediaHostConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel))
    reader.problem('ATTEST_MEDIA_LOG_LEVEL must be debug, info, warn or error');

  const config: MediaHostConfig = {
    hostId: reader.optionalString('HOST_ID') ?? hostname(),
    region: reader.optionalString('REGION') ?? 'local',
    version: softwareVersion,
    controlHost: reader.optionalString('CONTROL_HOST') ?? '127.0.0.1',
    controlPort: reader.integer('CONTROL_PORT', 7400, 0, 65535),
    controlKey,
    ...(metricsKey !== undefined ? { metricsKey } : {}),
    publicHost: reader.optionalString('PUBLIC_HOST') ?? '127.0.0.1',
    protocolHost: reader.optionalString('PROTOCOL_HOST') ?? '127.0.0.1',
    protocolPort: reader.integer('PROTOCOL_PORT', 7401, 0, 65535),
    tlsCertFile: reader.string('TLS_CERT_FILE'),
    tlsKeyFile: reader.string('TLS_KEY_FILE'),
    ...(storageConnectionString !== undefined ? { storageConnectionString } : {}),
    ...(storageAccountUrl !== undefined ? { storageAccountUrl } : {}),
    recordingsContainer: reader.optionalString('RECORDINGS_CONTAINER') ?? 'recordings',
    spoolDir: reader.string('SPOOL_DIR'),
    spoolLimitInBytes: reader.integer(
      'SPOOL_LIMIT_BYTES',
      1024 * 1024 * 1024,
      64 * 1024,
      Number.MAX_SAFE_INTEGER,
    ),
    spoolFlushIntervalInMs: reader.integer('SPOOL_FLUSH_INTERVAL_MS', 100, 5, 1000),
    commitIntervalInMs: reader.integer('COMMIT_INTERVAL_MS', 5000, 100, 5000),
    blockMinDurationInMs: reader.integer('BLOCK_MIN_DURATION_MS', 2000, 20, 60_000),
    segmentMaxDurationInMs: reader.integer(
      'SEGMENT_MAX_DURATION_MS',
      30 * 60_000,
      60_000,
      24 * 3_600_000,
    ),
    finishedSessionRetentionInMs: reader.integer(
      'FINISHED_SESSION_RETENTION_MS',
      3_600_000,
      1000,
      7 * 24 * 3_600_000,
    ),
    maxSessions: reader.integer('MAX_SESSIONS', 500, 1, 100_000),
    maxFramePayloadBytes: reader.integer(
      'MAX_FRAME_BYTES',
      4 * 1024 * 1024,
      1024,
      64 * 1024 * 1024,
    ),
    ...(functionsUrl !== undefined ? { functionsUrl: functionsUrl.replace(/\/+$/, '') } : {}),
    heartbeatIntervalInMs: reader.integer('HEARTBEAT_INTERVAL_MS', 10_000, 100, 600_000),
    isEncryptionEnabled,
    ...(kekPublicKeyFile !== undefined ? { kekPublicKeyFile } : {}),
    // Not read when the keys are in Key Vault.
    signingKeyFile:
      keyVault === undefined
        ? reader.string('SIGNING_KEY_FILE')
        : (reader.optionalString('SIGNING_KEY_FILE') ?? ''),
    ...(keyVault !== undefined ? { keyVault } : {}),
    isAudioLossless: reader.boolean('AUDIO_LOSSLESS', false),
    shouldSendBlocksThroughSdk: reader.boolean('STORAGE_BLOCKS_VIA_SDK', false),
    logLevel,
    helloTimeoutInMs: reader.integer('HELLO_TIMEOUT_MS', 10_000, 100, 600_000),
    ...(liveListenKey !== undefined ? { liveListenKey } : {}),
    listenHost: reader.optionalString('LISTEN_HOST') ?? '127.0.0.1',
    listenPort: reader.integer('LISTEN_PORT', 7403, 0, 65535),
    ...(reader.optionalString('PUBLIC_MEDIA_PORT') !== undefined
      ? { publicMediaPort: reader.integer('PUBLIC_MEDIA_PORT', 0, 1, 65535) }
      : {}),
    ...(loopbackPortText !== undefined || bridgeUrl !== undefined
      ? { loopbackProtocolPort: reader.integer('LOOPBACK_PORT', 0, 0, 65535) }
      : {}),
    ...(bridgeUrl !== undefined && bridgeControlKey !== undefined
      ? { bridge: { url: bridgeUrl.replace(/\/+$/, ''), controlKey: bridgeControlKey } }
      : {}),
    ...(zone !== undefined ? { zone } : {}),
    ...(scheduledEventsUrl !== undefined
      ? {
          scheduledEvents: {
            url: scheduledEventsUrl.replace(/\/+$/, ''),
            pollIntervalInMs: reader.integer('SCHEDULED_EVENTS_POLL_MS', 2000, 1000, 60_000),
            maxDrainInMs: reader.integer('DRAIN_MAX_MS', 900_000, 10_000, 3_600_000),
            ...(instanceName !== undefined ? { instanceName } : {}),
          },
        }
      : {}),
  };
  reader.assertValid();
  return Object.freeze(config);
}

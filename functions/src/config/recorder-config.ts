import type { EnvReader } from '@attest/core';

/** Settings of the JWT verifier for one kind of caller (Teams webhook, admins). */
export interface JwtSettings {
  /** OpenID configuration document; its `jwks_uri` gives the signing keys. */
  readonly openIdMetadataUrl: string;
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  /** Empty: any tenant. */
  readonly allowedTenantIds: readonly string[];
  readonly clockSkewInMs: number;
  readonly keysRefreshIntervalInMs: number;
  /** How long cached keys stay usable while the metadata endpoint is down. */
  readonly keysMaxStaleInMs: number;
}

/** Settings of the recorder (webhook, Graph, media hosts). Owned by the recorder core. */
export interface RecorderConfig {
  /** Bot app (client) id: the webhook token audience and the Graph client id. */
  readonly appId: string;
  /** Secret: never logged. */
  readonly appSecret: string;
  readonly servedTenantIds: readonly string[];
  /** Public base URL of this app, for the per-call `callbackUri`. */
  readonly publicBaseUrl: string;
  readonly webhook: JwtSettings;
  readonly admin: JwtSettings;
  readonly graphBaseUrl: string;
  readonly entraAuthorityHost: string;
  /** Skip Entra instance discovery (needed for non-public authorities such as the local simulator). */
  readonly entraDisableInstanceDiscovery: boolean;
  /** Refresh the Graph token this long before it expires. */
  readonly graphTokenRefreshAheadInMs: number;
  readonly graphTimeoutInMs: number;
  /** Bearer key between the function app and media hosts. Secret. */
  readonly mediaControlKey: string;
  readonly mediaHostStaleAfterInMs: number;
  readonly mediaControlTimeoutInMs: number;
  /**
   * `ATTEST_MEDIA_CONTROL_CERT_DOMAINS` (comma-separated): DNS domains the media hosts'
   * certificates are issued in. The function app reaches a host's control API by private address
   * over HTTPS and accepts its certificate when it chains to a trusted CA and names a host in one
   * of them. Empty: the certificate must name the control URL's host (the local stack).
   */
  readonly mediaControlCertificateDomains: readonly string[];
  readonly defaultRegion?: string;
  readonly participantCapacity: number;
  readonly keepAliveIntervalInMs: number;
  readonly mediaHealthCheckIntervalInMs: number;
  readonly establishTimeoutInMs: number;
  /**
   * How long the lifecycle waits, after `established`, for the webhook's recording-start report
   * before it sets the recording status itself (the fast path failed or its instance died).
   */
  readonly recordingStartWaitInMs: number;
  readonly recordingStatusMaxAttempts: number;
  readonly maxEventsPerExecution: number;
  /** Webhook delivery claims (dedupe) are kept this long. */
  readonly deliveryRetentionInMs: number;
  /** Finished call lifecycles older than this leave the task hub (`recorderLifecycleHistoryPurge`, daily). */
  readonly lifecycleHistoryRetentionInMs: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function readDnsDomains(reader: EnvReader, name: string): readonly string[] {
  const domains = reader.list(name);
  if (domains.some((d) => !/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(d))) {
    reader.problem(`${name} must list DNS domains such as media.contoso.com`);
    return [];
  }
  return domains.map((d) => d.toLowerCase());
}

export function readRecorderConfig(reader: EnvReader): RecorderConfig {
  const appId = reader.string('ATTEST_APP_ID');
  const servedTenantIds = reader.list('ATTEST_SERVED_TENANT_IDS');
  if (servedTenantIds.length === 0)
    reader.problem('ATTEST_SERVED_TENANT_IDS is required (comma-separated tenant ids)');
  const webhookIssuers = reader.list('ATTEST_WEBHOOK_ISSUERS', ['https://api.botframework.com']);
  const jwtCommon = {
    clockSkewInMs: reader.integer('ATTEST_JWT_CLOCK_SKEW_MS', 5 * MINUTE, 0, 15 * MINUTE),
    keysRefreshIntervalInMs: reader.integer(
      'ATTEST_JWT_KEYS_REFRESH_MS',
      2 * 60 * MINUTE,
      10_000,
      24 * 60 * MINUTE,
    ),
    keysMaxStaleInMs: reader.integer(
      'ATTEST_JWT_KEYS_MAX_STALE_MS',
      24 * 60 * MINUTE,
      0,
      7 * 24 * 60 * MINUTE,
    ),
  };
  const webhook: JwtSettings = {
    openIdMetadataUrl: reader.url('ATTEST_WEBHOOK_OPENID_METADATA_URL', { required: true }) ?? '',
    issuers: reader.boolean('ATTEST_WEBHOOK_ACCEPT_GRAPH_ISSUER', false)
      ? [...webhookIssuers, 'https://graph.microsoft.com']
      : webhookIssuers,
    audiences: [appId],
    allowedTenantIds: servedTenantIds,
    ...jwtCommon,
  };
  const admin = {
    openIdMetadataUrl: reader.url('ATTEST_ADMIN_OPENID_METADATA_URL', { required: true }) ?? '',
    issuers: reader.list('ATTEST_ADMIN_ISSUERS'),
    audiences: reader.list('ATTEST_ADMIN_AUDIENCES', [appId]),
    allowedTenantIds: reader.list('ATTEST_ADMIN_TENANT_IDS', servedTenantIds),
    ...jwtCommon,
  };
  const entraAuthorityHost =
    reader.url('ATTEST_ENTRA_AUTHORITY_HOST', { required: false }) ??
    'https://login.microsoftonline.com';
  if (admin.issuers.length === 0)
    reader.problem('ATTEST_ADMIN_ISSUERS is required (comma-separated issuers)');
  return {
    appId,
    appSecret: reader.string('ATTEST_APP_SECRET'),
    servedTenantIds,
    publicBaseUrl: reader.url('ATTEST_PUBLIC_BASE_URL', { required: true }) ?? '',
    webhook,
    admin,
    graphBaseUrl:
      reader.url('ATTEST_GRAPH_BASE_URL', { required: false }) ?? 'https://graph.microsoft.com',
    entraAuthorityHost,
    entraDisableInstanceDiscovery: reader.boolean(
      'ATTEST_ENTRA_DISABLE_INSTANCE_DISCOVERY',
      !/^https:\/\/login\.microsoftonline\.(com|us)$/.test(entraAuthorityHost),
    ),
    graphTokenRefreshAheadInMs: reader.integer(
      'ATTEST_GRAPH_TOKEN_REFRESH_AHEAD_MS',
      10 * MINUTE,
      10_000,
      50 * MINUTE,
    ),
    graphTimeoutInMs: reader.integer('ATTEST_GRAPH_TIMEOUT_MS', 3_000, 100, 60_000),
    mediaControlKey: reader.string('ATTEST_MEDIA_CONTROL_KEY'),
    mediaHostStaleAfterInMs: reader.integer(
      'ATTEST_MEDIA_HOST_STALE_AFTER_MS',
      30_000,
      1_000,
      10 * MINUTE,
    ),
    mediaControlTimeoutInMs: reader.integer('ATTEST_MEDIA_CONTROL_TIMEOUT_MS', 2_000, 100, 60_000),
    mediaControlCertificateDomains: readDnsDomains(reader, 'ATTEST_MEDIA_CONTROL_CERT_DOMAINS'),
    defaultRegion: reader.optionalString('ATTEST_MEDIA_DEFAULT_REGION'),
    participantCapacity: reader.integer('ATTEST_RECORDER_PARTICIPANT_CAPACITY', 200, 0, 10_000),
    keepAliveIntervalInMs: reader.integer(
      'ATTEST_RECORDER_KEEPALIVE_INTERVAL_MS',
      15 * MINUTE,
      1_000,
      44 * MINUTE,
    ),
    mediaHealthCheckIntervalInMs: reader.integer(
      'ATTEST_RECORDER_MEDIA_HEALTH_INTERVAL_MS',
      MINUTE,
      1_000,
      15 * MINUTE,
    ),
    establishTimeoutInMs: reader.integer(
      'ATTEST_RECORDER_ESTABLISH_TIMEOUT_MS',
      2 * MINUTE,
      1_000,
      30 * MINUTE,
    ),
    recordingStartWaitInMs: reader.integer(
      'ATTEST_RECORDER_RECORDING_START_WAIT_MS',
      15_000,
      1_000,
      2 * MINUTE,
    ),
    recordingStatusMaxAttempts: reader.integer('ATTEST_RECORDER_STATUS_MAX_ATTEMPTS', 5, 1, 20),
    maxEventsPerExecution: reader.integer(
      'ATTEST_RECORDER_MAX_EVENTS_PER_EXECUTION',
      200,
      10,
      10_000,
    ),
    deliveryRetentionInMs: reader.integer(
      'ATTEST_RECORDER_DELIVERY_RETENTION_MS',
      24 * 60 * MINUTE,
      10 * MINUTE,
      30 * 24 * 60 * MINUTE,
    ),
    lifecycleHistoryRetentionInMs: reader.integer(
      'ATTEST_RECORDER_LIFECYCLE_HISTORY_RETENTION_MS',
      30 * DAY,
      DAY,
      3650 * DAY,
    ),
  };
}

import { readFileSync } from 'node:fs';
import { validateRetentionPolicy, type EnvReader, type RetentionPolicy } from '@attest/core';
import { readKeyVaultConfig, type KeyVaultConfig } from './key-vault-config';

/** Settings of the compliance archive (retention, ledger, keys, admin API). Owned by the archive. */
export interface ArchiveConfig {
  /**
   * Key Vault holding the KEK and the signing keys (Azure). When set, the key files below are
   * not read: data keys are unwrapped and ledger checkpoints and reports signed (ES256) there.
   */
  readonly keyVault?: KeyVaultConfig;
  /** RSA key-encryption key (PEM files). Generated on first start when both are missing (local only). */
  readonly kekPrivateKeyFile: string;
  readonly kekPublicKeyFile: string;
  /** Ed25519 private key (PEM) that signs ledger checkpoints, completeness reports and exports. */
  readonly ledgerSigningKeyFile: string;
  /** Ed25519 public key (PEM) of the media host's manifest signer; copied into exports. */
  readonly manifestPublicKeyFile?: string;
  /** Whether missing key files may be generated (never in Azure: keys live in Key Vault). */
  readonly shouldGenerateMissingKeys: boolean;
  readonly retentionPolicy: RetentionPolicy;
  /** NCRONTAB of the retention job. Default daily 02:00 UTC. */
  readonly retentionSchedule: string;
  /** NCRONTAB of the ledger checkpoint. Default hourly. */
  readonly checkpointSchedule: string;
  readonly approvalTimeoutInMs: number;
  readonly approvalReminderIntervalInMs: number;
  /** Principal (user oid or caller group id) → recorded-user groups it may reach (`*` = all). */
  readonly rbacScopes: Readonly<Record<string, readonly string[]>>;
  /**
   * The deployment's own Entra tenant (`ATTEST_OPERATOR_TENANT_ID`): only its users can hold the
   * `Attest.Operator` role. Unset: nobody is an operator.
   */
  readonly operatorTenantId?: string;
  /** Recorded user oid → groups, for retention rules and scopes (locally; Graph in Azure later). */
  readonly userGroups: Readonly<Record<string, readonly string[]>>;
  /** Blob container of export packages (`{tenantId}/{exportId}/...`); default `exports`. */
  readonly exportsContainer: string;
  /** Interactions an export writes per step (progress is reported after each step). */
  readonly exportBatchSize: number;
  /** Prefix of the archive's table names (letters and digits), for isolation. */
  readonly tablePrefix: string;
  readonly recordingsContainer: string;
  readonly keysContainer: string;
  /** Container of the write-once ledger copy (append blobs), or undefined when the copy is off. */
  readonly ledgerMirrorContainer?: string;
  /**
   * Shared HMAC key (UTF-8, at least 32 characters) for live listen tokens; the media hosts hold
   * the same value as `ATTEST_MEDIA_LIVE_LISTEN_KEY`. Undefined = live listen-in is disabled.
   */
  readonly liveListenKey?: string;
}

const DAY_IN_MS = 86_400_000;
const HOUR_IN_MS = 3_600_000;

/** Seven years, deleted automatically: used when no classes are configured. */
export const DEFAULT_RETENTION_POLICY: RetentionPolicy = {
  defaultClassName: 'default',
  classes: [{ name: 'default', periodInDays: 2557, dispositionMode: 'auto' }],
  rules: [],
};

/** A JSON value given inline or as the path of a JSON file. Problems name the key only. */
function jsonSetting(reader: EnvReader, name: string): unknown {
  const raw = reader.optionalString(name);
  if (raw === undefined) return undefined;
  let text = raw;
  if (!raw.startsWith('{') && !raw.startsWith('[')) {
    try {
      text = readFileSync(raw, 'utf8');
    } catch {
      reader.problem(`${name} is neither JSON nor a readable file`);
      return undefined;
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    reader.problem(`${name} is not valid JSON`);
    return undefined;
  }
}

function stringListMap(reader: EnvReader, name: string): Record<string, readonly string[]> {
  const value = jsonSetting(reader, name);
  if (value === undefined) return {};
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    !Object.values(value).every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'))
  ) {
    reader.problem(`${name} must map ids to arrays of strings`);
    return {};
  }
  return value as Record<string, readonly string[]>;
}

const NCRONTAB = /^\S+ \S+ \S+ \S+ \S+ \S+$/;

export function readArchiveConfig(reader: EnvReader): ArchiveConfig {
  const policyValue = jsonSetting(reader, 'ATTEST_ARCHIVE_RETENTION_CLASSES');
  let retentionPolicy = DEFAULT_RETENTION_POLICY;
  if (policyValue !== undefined) {
    const candidate = policyValue as RetentionPolicy;
    const problems =
      typeof candidate === 'object' &&
      candidate !== null &&
      Array.isArray(candidate.classes) &&
      Array.isArray(candidate.rules ?? [])
        ? validateRetentionPolicy({ ...candidate, rules: candidate.rules ?? [] })
        : ['needs classes, rules and defaultClassName'];
    if (problems.length > 0)
      reader.problem(`ATTEST_ARCHIVE_RETENTION_CLASSES: ${problems.join(', ')}`);
    else retentionPolicy = { ...candidate, rules: candidate.rules ?? [] };
  }
  const schedule = (name: string, fallback: string): string => {
    const value = reader.stringOr(name, fallback);
    if (!NCRONTAB.test(value)) reader.problem(`${name} must be a six-field NCRONTAB expression`);
    return value;
  };
  const liveListenKey = reader.optionalString('ATTEST_LIVE_LISTEN_KEY');
  const operatorTenantId = reader.optionalString('ATTEST_OPERATOR_TENANT_ID');
  if (liveListenKey !== undefined && liveListenKey.length < 32)
    reader.problem('ATTEST_LIVE_LISTEN_KEY must be at least 32 characters');
  const tablePrefix = reader.stringOr('ATTEST_ARCHIVE_TABLE_PREFIX', '');
  const keyVault = readKeyVaultConfig(reader);
  if (!/^[A-Za-z0-9]{0,20}$/.test(tablePrefix))
    reader.problem('ATTEST_ARCHIVE_TABLE_PREFIX must be up to 20 letters and digits');
  return {
    ...(keyVault !== undefined ? { keyVault } : {}),
    kekPrivateKeyFile: reader.stringOr('ATTEST_KEK_PRIVATE_KEY_FILE', '.data/keys/kek-private.pem'),
    kekPublicKeyFile: reader.stringOr('ATTEST_KEK_PUBLIC_KEY_FILE', '.data/keys/kek-public.pem'),
    ledgerSigningKeyFile: reader.stringOr(
      'ATTEST_LEDGER_SIGNING_KEY_FILE',
      '.data/keys/ledger-signing.pem',
    ),
    manifestPublicKeyFile: reader.optionalString('ATTEST_MANIFEST_PUBLIC_KEY_FILE'),
    shouldGenerateMissingKeys: reader.boolean('ATTEST_ARCHIVE_GENERATE_KEYS', true),
    retentionPolicy,
    retentionSchedule: schedule('ATTEST_ARCHIVE_RETENTION_SCHEDULE', '0 0 2 * * *'),
    checkpointSchedule: schedule('ATTEST_LEDGER_CHECKPOINT_SCHEDULE', '0 0 * * * *'),
    approvalTimeoutInMs:
      reader.integer('ATTEST_ARCHIVE_APPROVAL_TIMEOUT_DAYS', 14, 1, 90) * DAY_IN_MS,
    approvalReminderIntervalInMs:
      reader.integer('ATTEST_ARCHIVE_APPROVAL_REMINDER_HOURS', 48, 1, 24 * 30) * HOUR_IN_MS,
    rbacScopes: stringListMap(reader, 'ATTEST_ARCHIVE_RBAC_SCOPES'),
    userGroups: stringListMap(reader, 'ATTEST_ARCHIVE_USER_GROUPS'),
    exportsContainer: reader.stringOr('ATTEST_ARCHIVE_EXPORTS_CONTAINER', 'exports'),
    exportBatchSize: reader.integer('ATTEST_ARCHIVE_EXPORT_BATCH_SIZE', 20, 1, 1_000),
    tablePrefix,
    recordingsContainer: reader.stringOr('ATTEST_ARCHIVE_RECORDINGS_CONTAINER', 'recordings'),
    keysContainer: reader.stringOr('ATTEST_ARCHIVE_KEYS_CONTAINER', 'recordingkeys'),
    ledgerMirrorContainer: reader.boolean('ATTEST_LEDGER_MIRROR_ENABLED', true)
      ? reader.stringOr('ATTEST_LEDGER_MIRROR_CONTAINER', 'ledger')
      : undefined,
    ...(liveListenKey !== undefined ? { liveListenKey } : {}),
    ...(operatorTenantId !== undefined ? { operatorTenantId } : {}),
  };
}

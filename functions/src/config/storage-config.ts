import type { EnvReader } from '@attest/core';

/**
 * Where the function app keeps its data. Locally a connection string (Azurite); in Azure the
 * account URLs with managed identity (`ATTEST_STORAGE_*_URL`), never keys in app settings.
 */
export interface StorageConfig {
  /** Connection string (local/dev). When set, the URLs are ignored. */
  readonly connectionString?: string;
  readonly blobUrl?: string;
  readonly tableUrl?: string;
  readonly queueUrl?: string;
  /** Client id of the user-assigned managed identity, when one is used. */
  readonly managedIdentityClientId?: string;
  /**
   * `ATTEST_STORAGE_REGIONS`: the recordings accounts of the deployment's regions, a JSON object
   * from Azure region name to the account's blob endpoint (`https://…blob.core.windows.net`, with
   * the managed identity) or, locally, a connection string. Each region's media hosts write to
   * their region's account; the archive reads every one. Empty: recordings are in the account
   * above only.
   */
  readonly regionalRecordings: readonly RegionalRecordingsAccount[];
}

export interface RegionalRecordingsAccount {
  readonly region: string;
  readonly blobUrl?: string;
  readonly connectionString?: string;
}

const REGIONS_KEY = 'ATTEST_STORAGE_REGIONS';

/** Reads {@link REGIONS_KEY}; problems name the key and the region, never a value. */
function readRegionalRecordings(reader: EnvReader): readonly RegionalRecordingsAccount[] {
  const raw = reader.optionalString(REGIONS_KEY);
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    reader.problem(`${REGIONS_KEY} must be a JSON object of region name to blob endpoint`);
    return [];
  }
  // The deployment writes a list of {region, blobUrl}; people write an object.
  if (Array.isArray(parsed))
    parsed = Object.fromEntries(
      parsed.map((entry: unknown, index) => {
        const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<
          string,
          unknown
        >;
        return [typeof e.region === 'string' ? e.region : `#${index}`, e.blobUrl];
      }),
    );
  if (typeof parsed !== 'object' || parsed === null) {
    reader.problem(`${REGIONS_KEY} must be a JSON object of region name to blob endpoint`);
    return [];
  }
  const accounts: RegionalRecordingsAccount[] = [];
  for (const [region, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^[a-z0-9]{2,40}$/.test(region)) {
      reader.problem(`${REGIONS_KEY}: region names are Azure region names (lower case)`);
      continue;
    }
    if (typeof value === 'string' && /^https?:\/\/[^/\s]+\/?$/.test(value.trim())) {
      accounts.push({ region, blobUrl: value.trim().replace(/\/+$/, '') });
    } else if (typeof value === 'string' && /(^|;)(AccountName|BlobEndpoint)=/i.test(value)) {
      accounts.push({ region, connectionString: value.trim() });
    } else {
      reader.problem(
        `${REGIONS_KEY}: the account of ${region} must be a blob endpoint URL or a connection string`,
      );
    }
  }
  return accounts;
}

export function readStorageConfig(reader: EnvReader): StorageConfig {
  const connectionString = reader.optionalString('ATTEST_STORAGE_CONNECTION_STRING');
  const blobUrl = reader.url('ATTEST_STORAGE_BLOB_URL', { required: false });
  const tableUrl = reader.url('ATTEST_STORAGE_TABLE_URL', { required: false });
  const queueUrl = reader.url('ATTEST_STORAGE_QUEUE_URL', { required: false });
  if (connectionString === undefined && (blobUrl === undefined || tableUrl === undefined)) {
    reader.problem(
      'set ATTEST_STORAGE_CONNECTION_STRING, or ATTEST_STORAGE_BLOB_URL and ATTEST_STORAGE_TABLE_URL',
    );
  }
  return {
    connectionString,
    blobUrl,
    tableUrl,
    queueUrl,
    managedIdentityClientId: reader.optionalString('ATTEST_STORAGE_IDENTITY_CLIENT_ID'),
    regionalRecordings: readRegionalRecordings(reader),
  };
}

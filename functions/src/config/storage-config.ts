import type { ConfigReader } from './config-reader';

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
}

export function readStorageConfig(reader: ConfigReader): StorageConfig {
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
  };
}

/**
 * Storage clients for every adapter of the function app: from the connection string locally
 * (Azurite), from the account URLs with a managed identity in Azure, where shared keys are
 * disabled. Built once, in the composition root.
 */
import { TableClient } from '@azure/data-tables';
import {
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { ErrorCode, RecorderError } from '@attest/core';
import type { RegionalRecordingsAccount, StorageConfig } from '../config/storage-config';

export interface StorageClients {
  /** Undefined with a connection string. */
  readonly credential: TokenCredential | undefined;
  tableClient(tableName: string): TableClient;
  blobService(): BlobServiceClient;
}

/**
 * The blob service of a region's recordings account: its connection string (local), or its
 * endpoint with the credential of the function app's own account (the managed identity).
 */
export function regionalBlobService(
  account: RegionalRecordingsAccount,
  clients: StorageClients,
  storage: StorageConfig,
): BlobServiceClient {
  if (account.connectionString !== undefined)
    return BlobServiceClient.fromConnectionString(account.connectionString);
  const credential =
    clients.credential ??
    (storage.managedIdentityClientId !== undefined
      ? new ManagedIdentityCredential({ clientId: storage.managedIdentityClientId })
      : new DefaultAzureCredential());
  return new BlobServiceClient(account.blobUrl ?? '', credential);
}

export function createStorageClients(storage: StorageConfig): StorageClients {
  const { connectionString } = storage;
  if (connectionString !== undefined) {
    return {
      credential: undefined,
      tableClient: (tableName) =>
        TableClient.fromConnectionString(connectionString, tableName, {
          allowInsecureConnection: true,
        }),
      blobService: () => BlobServiceClient.fromConnectionString(connectionString),
    };
  }
  const { tableUrl, blobUrl } = storage;
  if (tableUrl === undefined || blobUrl === undefined) {
    // loadConfig already refuses this combination; kept so a misuse fails at start, by name.
    throw new RecorderError(
      ErrorCode.ConfigInvalid,
      'set ATTEST_STORAGE_CONNECTION_STRING, or ATTEST_STORAGE_BLOB_URL and ATTEST_STORAGE_TABLE_URL',
    );
  }
  const credential: TokenCredential =
    storage.managedIdentityClientId !== undefined
      ? new ManagedIdentityCredential({ clientId: storage.managedIdentityClientId })
      : new DefaultAzureCredential();
  return {
    credential,
    tableClient: (tableName) => new TableClient(tableUrl, tableName, credential),
    blobService: () => new BlobServiceClient(blobUrl, credential),
  };
}

// The recordings account: version-level immutability (enabled at creation, the only time it can
// be), versioning, soft delete. Retention policies are set per blob by the archive at seal and
// are never locked outside production (a locked policy makes the account undeletable).
@description('Short base name.')
param baseName string
@description('Unique suffix derived from the resource group.')
param suffix string
@description('Region.')
param location string
@description('Tags.')
param tags object
@description('Soft-delete window in days for blobs and containers.')
param softDeleteInDays int = 14
@description('Default retention in days, recorded as a tag for operators; per-blob policies are set by the archive.')
param defaultRetentionInDays int

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: take('st${baseName}rec${suffix}', 24)
  location: location
  tags: union(tags, { defaultRetentionInDays: string(defaultRetentionInDays) })
  sku: { name: 'Standard_ZRS' }
  kind: 'StorageV2'
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    immutableStorageWithVersioning: {
      enabled: true
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    isVersioningEnabled: true
    deleteRetentionPolicy: { enabled: true, days: softDeleteInDays }
    containerDeleteRetentionPolicy: { enabled: true, days: softDeleteInDays }
  }
}

// Media and manifests: immutable per version once sealed.
resource recordings 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'recordings'
  properties: {
    immutableStorageWithVersioning: { enabled: true }
  }
}

// Ledger entries and checkpoints: immutable per version.
resource ledger 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'ledger'
  properties: {
    immutableStorageWithVersioning: { enabled: true }
  }
}

// Wrapped data keys: deliberately without retention policies, so that disposition can destroy
// a recording's key (crypto-shredding) while its media stays under WORM until expiry.
resource recordingKeys 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'recordingkeys'
}

// Export packages (decrypted media for an authorised officer): private, no immutability (a
// package is a copy made on request, downloaded through the function app's audited route).
resource exports 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'exports'
}

@description('Recordings storage account name.')
output accountName string = account.name
@description('Blob endpoint.')
output blobUrl string = account.properties.primaryEndpoints.blob
@description('Table endpoint (interaction index, ledger head, holds).')
output tableUrl string = account.properties.primaryEndpoints.table
@description('Queue endpoint.')
output queueUrl string = account.properties.primaryEndpoints.queue

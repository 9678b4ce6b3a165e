// Keys never leave the vault: the media host wraps data keys and signs manifests through it,
// the archive unwraps for playback and export, and signs ledger checkpoints.
@description('Short base name.')
param baseName string
@description('Unique suffix derived from the resource group.')
param suffix string
@description('Region.')
param location string
@description('Tags.')
param tags object

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: take('kv-${baseName}-${suffix}', 24)
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource kek 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: 'recording-kek'
  tags: tags
  properties: {
    kty: 'RSA'
    keySize: 3072
    keyOps: ['wrapKey', 'unwrapKey']
  }
}

resource manifestSigning 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: 'manifest-signing'
  tags: tags
  properties: {
    kty: 'EC'
    curveName: 'P-256'
    keyOps: ['sign', 'verify']
  }
}

resource ledgerSigning 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: 'ledger-signing'
  tags: tags
  properties: {
    kty: 'EC'
    curveName: 'P-256'
    keyOps: ['sign', 'verify']
  }
}

@description('Key Vault name.')
output vaultName string = vault.name
@description('Key Vault URI.')
output vaultUri string = vault.properties.vaultUri

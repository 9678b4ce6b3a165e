// Keys never leave the vault: the media host wraps data keys and signs manifests through it,
// the archive unwraps for playback and export, and signs ledger checkpoints. The two secrets the
// deployment needs (the bot's client secret, the media control key) live here and are read by
// reference: never in plain app settings, never in outputs.
@description('Short base name.')
param baseName string
@description('Unique suffix derived from the resource group.')
param suffix string
@description('Region.')
param location string
@description('Tags.')
param tags object
@description('Client secret of the bot\'s Entra application.')
@secure()
param botAppSecret string
@description('Bearer key between the function app and the media hosts\' control API.')
@secure()
param mediaControlKey string
@description('Media TLS certificate and its private key, PEM.')
@secure()
param mediaCertificatePem string

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

resource appSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'bot-app-secret'
  tags: tags
  properties: { value: botAppSecret, contentType: 'text/plain' }
}

resource controlKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'media-control-key'
  tags: tags
  properties: { value: mediaControlKey, contentType: 'text/plain' }
}

// PEM content type: the install script writes it for Node and imports it for the bridge.
resource mediaCertificate 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'media-tls'
  tags: tags
  properties: { value: mediaCertificatePem, contentType: 'application/x-pem-file' }
}

@description('Key Vault name.')
output vaultName string = vault.name
@description('Key Vault URI.')
output vaultUri string = vault.properties.vaultUri
// Versioned URIs: a new value (a redeployment that rotates it) changes the app setting that
// references it, which restarts the function app and reruns the media hosts' install.
@description('Versioned URI of the bot app secret (a reference, not the value).')
output appSecretUri string = appSecret.properties.secretUriWithVersion
@description('Versioned URI of the media control key (a reference, not the value).')
output controlKeyUri string = controlKey.properties.secretUriWithVersion
@description('Versioned URI of the media certificate (a reference, not the value).')
output certificateUri string = mediaCertificate.properties.secretUriWithVersion

// The settings of both deployables in one place, so a test can hold them against each
// deployable's own `loadConfig`. No resources. Secrets appear only as Key Vault references (the
// function app) or Key Vault URIs the install script reads with the instance's identity.
@description('Region (also the media hosts\' ATTEST_MEDIA_REGION).')
param location string
@description('dev, test or prod.')
param environmentKind string
@description('Function app name; its default host name is <name>.azurewebsites.net.')
param functionAppName string
@description('Client id of the function app identity.')
param functionsIdentityClientId string
@description('Client id of the media hosts\' identity.')
param mediaHostIdentityClientId string
@description('Recordings account blob endpoint.')
param recordingsBlobUrl string
@description('Recordings account table endpoint.')
param recordingsTableUrl string
@description('Recordings account queue endpoint.')
param recordingsQueueUrl string
@description('Key Vault URI.')
param keyVaultUri string
@description('Versioned URI of the bot app secret in Key Vault.')
param appSecretUri string
@description('Versioned URI of the media control key in Key Vault.')
param controlKeyUri string
@description('Bot application id.')
param botAppId string
@description('Tenant of the bot registration; its Entra issues the admins\' tokens.')
param botTenantId string
@description('Served tenant ids, comma-separated.')
param servedTenantIds string
@description('Media hosts\' control API port.')
param controlPort int
@description('Public TCP media port of the media hosts (the bridge).')
param mediaPort int
@description('Versioned URI of the media TLS certificate (PEM) in Key Vault.')
param certificateUri string
@description('DNS domain of the media hosts\' names when the customer brings one; empty = Azure names.')
param mediaDnsDomain string
@description('Recordings accounts of further regions: [{region, blobUrl}]; empty when all is in one region.')
param regionalRecordings array = []

var functionAppUrl = 'https://${functionAppName}.azurewebsites.net'
var loginEndpoint = environment().authentication.loginEndpoint

@description('App settings of the function app owned by Attest (ATTEST_*), Key Vault references for secrets.')
output functionApp object = {
  AZURE_CLIENT_ID: functionsIdentityClientId
  ATTEST_ENVIRONMENT_KIND: environmentKind
  ATTEST_APP_ID: botAppId
  ATTEST_APP_SECRET: '@Microsoft.KeyVault(SecretUri=${appSecretUri})'
  ATTEST_SERVED_TENANT_IDS: servedTenantIds
  ATTEST_PUBLIC_BASE_URL: functionAppUrl
  // Teams calling webhooks are signed with the keys of this configuration.
  ATTEST_WEBHOOK_OPENID_METADATA_URL: 'https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration'
  ATTEST_ADMIN_OPENID_METADATA_URL: '${loginEndpoint}${botTenantId}/v2.0/.well-known/openid-configuration'
  ATTEST_ADMIN_ISSUERS: '${loginEndpoint}${botTenantId}/v2.0'
  ATTEST_ADMIN_TENANT_IDS: botTenantId
  // Only users of the deployment's own tenant may hold Attest.Operator (fleet, configuration).
  ATTEST_OPERATOR_TENANT_ID: botTenantId
  ATTEST_MEDIA_CONTROL_KEY: '@Microsoft.KeyVault(SecretUri=${controlKeyUri})'
  // The function app reaches each media host's control API by private address over HTTPS; the
  // host's certificate is issued for its public name, in the customer's domain or Azure's.
  ATTEST_MEDIA_CONTROL_CERT_DOMAINS: empty(mediaDnsDomain) ? '${location}.cloudapp.azure.com' : mediaDnsDomain
  ATTEST_MEDIA_DEFAULT_REGION: location
  ATTEST_STORAGE_BLOB_URL: recordingsBlobUrl
  ATTEST_STORAGE_TABLE_URL: recordingsTableUrl
  ATTEST_STORAGE_QUEUE_URL: recordingsQueueUrl
  ATTEST_STORAGE_IDENTITY_CLIENT_ID: functionsIdentityClientId
  // Each further region's recordings are in its own account; the archive reads them all.
  ATTEST_STORAGE_REGIONS: empty(regionalRecordings) ? '' : string(regionalRecordings)
  ATTEST_KEYVAULT_URI: keyVaultUri
  // Keys live in Key Vault; a missing key file must never be generated in Azure.
  ATTEST_ARCHIVE_GENERATE_KEYS: 'false'
}

@description('What the media hosts\' install script needs: ATTEST_MEDIA_* known at deployment time and where its secrets are.')
output mediaHostInstall object = {
  env: {
    AZURE_CLIENT_ID: mediaHostIdentityClientId
    ATTEST_MEDIA_REGION: location
    ATTEST_MEDIA_CONTROL_PORT: string(controlPort)
    // The bridge runs on the same instance and reaches the media host over loopback.
    ATTEST_MEDIA_PROTOCOL_HOST: '127.0.0.1'
    ATTEST_MEDIA_PROTOCOL_PORT: '7401'
    ATTEST_MEDIA_STORAGE_ACCOUNT_URL: recordingsBlobUrl
    ATTEST_MEDIA_RECORDINGS_CONTAINER: 'recordings'
    ATTEST_MEDIA_KEYVAULT_URI: keyVaultUri
    ATTEST_MEDIA_FUNCTIONS_URL: functionAppUrl
    ATTEST_MEDIA_LOG_LEVEL: 'info'
    // Drain before scale-in: the instance's scheduled events, from the Instance Metadata Service.
    ATTEST_MEDIA_SCHEDULED_EVENTS_URL: 'http://169.254.169.254'
  }
  controlKeySecretUri: controlKeyUri
  certificateSecretUri: certificateUri
  mediaPort: mediaPort
  controlPort: controlPort
  dnsDomain: mediaDnsDomain
  identityClientId: mediaHostIdentityClientId
  botAppId: botAppId
}

@description('Base URL of the function app.')
output functionAppUrl string = functionAppUrl

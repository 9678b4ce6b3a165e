// Attest: everything in one resource group, deployed with one command:
//   az deployment group create -g <resource-group> -f infra/main.bicep -p infra/main.bicepparam
// This file only wires modules.
targetScope = 'resourceGroup'

@description('Short name used to derive every resource name (letters and digits, 3 to 11 characters).')
@minLength(3)
@maxLength(11)
param baseName string = 'attest'

@description('Azure region for all resources except the bot, which is global.')
param location string = resourceGroup().location

@description('Deployment kind. Only "prod" may ever lock immutability policies; dev and test never do.')
@allowed(['dev', 'test', 'prod'])
param environmentKind string = 'dev'

@description('Entra application (client) id of the recorder bot, registered with Calls.AccessMedia.All and Calls.JoinGroupCall.All.')
param botAppId string

@description('Entra tenant id that owns the bot registration.')
param botTenantId string = subscription().tenantId

@description('Tenant ids whose policy calls this deployment records (comma-separated).')
param servedTenantIds string = subscription().tenantId

@description('Admin user name of the media host VM.')
param mediaHostAdminUserName string = 'attestadmin'

@description('Admin password of the media host VM (never output, never logged).')
@secure()
param mediaHostAdminPassword string

@description('VM size of the media host (2 cores minimum; Dv2-series or larger recommended).')
param mediaHostVmSize string = 'Standard_D2s_v5'

@description('Address ranges of the Microsoft Teams media platform allowed on the media port. Keep current with the Microsoft 365 endpoints list.')
param teamsMediaSourceRanges array = ['13.107.64.0/18', '52.112.0.0/14', '52.122.0.0/15']

@description('TCP port of the Attest media protocol listener on the media host.')
param mediaPort int = 8445

@description('Default retention of recordings in days (for example 2555 for 7 years).')
@minValue(1)
@maxValue(146000)
param defaultRetentionInDays int = 2555

@description('Tags applied to every resource.')
param tags object = {
  application: 'attest'
}

var suffix = uniqueString(resourceGroup().id, baseName)
var allTags = union(tags, { environment: environmentKind })

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: { baseName: baseName, suffix: suffix, location: location, tags: allTags }
}

module identities 'modules/identities.bicep' = {
  name: 'identities'
  params: { baseName: baseName, suffix: suffix, location: location, tags: allTags }
}

module hostStorage 'modules/host-storage.bicep' = {
  name: 'hostStorage'
  params: { baseName: baseName, suffix: suffix, location: location, tags: allTags }
}

module recordingsStorage 'modules/recordings-storage.bicep' = {
  name: 'recordingsStorage'
  params: {
    baseName: baseName
    suffix: suffix
    location: location
    tags: allTags
    defaultRetentionInDays: defaultRetentionInDays
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'keyVault'
  params: { baseName: baseName, suffix: suffix, location: location, tags: allTags }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'functionApp'
  params: {
    baseName: baseName
    suffix: suffix
    location: location
    tags: allTags
    identityId: identities.outputs.functionsIdentityId
    identityClientId: identities.outputs.functionsIdentityClientId
    hostStorageName: hostStorage.outputs.accountName
    deploymentContainerUrl: hostStorage.outputs.deploymentContainerUrl
    recordingsBlobUrl: recordingsStorage.outputs.blobUrl
    recordingsTableUrl: recordingsStorage.outputs.tableUrl
    recordingsQueueUrl: recordingsStorage.outputs.queueUrl
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    keyVaultUri: keyVault.outputs.vaultUri
    botAppId: botAppId
    servedTenantIds: servedTenantIds
    environmentKind: environmentKind
  }
}

module mediaHost 'modules/media-host.bicep' = {
  name: 'mediaHost'
  params: {
    baseName: baseName
    suffix: suffix
    location: location
    tags: allTags
    identityId: identities.outputs.mediaHostIdentityId
    adminUserName: mediaHostAdminUserName
    adminPassword: mediaHostAdminPassword
    vmSize: mediaHostVmSize
    teamsMediaSourceRanges: teamsMediaSourceRanges
    mediaPort: mediaPort
  }
}

module bot 'modules/bot.bicep' = {
  name: 'bot'
  params: {
    baseName: baseName
    suffix: suffix
    tags: allTags
    botAppId: botAppId
    botTenantId: botTenantId
    callingWebhookUrl: 'https://${functionApp.outputs.defaultHostName}/api/calling'
  }
}

module roles 'modules/role-assignments.bicep' = {
  name: 'roleAssignments'
  params: {
    functionsPrincipalId: identities.outputs.functionsPrincipalId
    mediaHostPrincipalId: identities.outputs.mediaHostPrincipalId
    hostStorageName: hostStorage.outputs.accountName
    recordingsStorageName: recordingsStorage.outputs.accountName
    keyVaultName: keyVault.outputs.vaultName
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

@description('Public host name of the function app (webhook, admin API, portal).')
output functionAppHostName string = functionApp.outputs.defaultHostName

@description('Public DNS name of the media host.')
output mediaHostFqdn string = mediaHost.outputs.fqdn

@description('Name of the recordings storage account (immutable, versioned).')
output recordingsStorageAccount string = recordingsStorage.outputs.accountName

@description('Value of ATTEST_MEDIA_KEYVAULT_URI on the media host: the vault with the manifest signing key and the KEK.')
output mediaHostVaultUri string = keyVault.outputs.vaultUri

@description('Value of AZURE_CLIENT_ID on the media host: its user-assigned identity, which holds Key Vault Crypto User and blob access.')
output mediaHostIdentityClientId string = identities.outputs.mediaHostIdentityClientId

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

@description('Client secret of the bot\'s Entra application. Stored in Key Vault; the function app reads it by reference.')
@secure()
param botAppSecret string

@description('Bearer key between the function app and the media hosts. Default: a new random value, so each deployment rotates it (both sides read it from Key Vault).')
@secure()
param mediaControlKey string = newGuid()

@description('Base URL of the release artifacts that `npm run package` builds (the folder holding SHA256SUMS), without a trailing slash.')
param packageBaseUrl string

@description('Version of the release artifacts (the version in their file names).')
param packageVersion string

@description('Admin user name of the media host instances.')
param mediaHostAdminUserName string = 'attestadmin'

@description('Admin password of the media host instances (never output, never logged).')
@secure()
param mediaHostAdminPassword string

@description('VM size of the media hosts (2 cores minimum; Dv2-series or larger recommended).')
param mediaHostVmSize string = 'Standard_D2s_v5'

@description('Number of media host instances. Microsoft requires a recorder built for several; keep 2 or more in production.')
@minValue(1)
@maxValue(100)
param mediaHostInstanceCount int = 2

@description('Availability zones to spread the media hosts over, for example ["1","2","3"]; empty where the region has none.')
param mediaHostZones array = []

@description('Further regions, each with its own media hosts and recordings account: [{location, vnetAddressPrefix, instanceCount?, zones?}]. A call goes to the region nearest its media and its recording is stored in that region. Empty: media hosts and recordings are in `location` only.')
param mediaHostRegions array = []

@description('TLS certificate of the media hosts: PEM with its private key and chain, issued for their names (see infra/README.md). Stored in Key Vault only.')
@secure()
param mediaCertificatePem string

@description('DNS domain of the media hosts\' names when you bring your own (each instance is <computer name>.<domain>); empty = the Azure names <label><index>.<region>.cloudapp.azure.com.')
param mediaDnsDomain string = ''

@description('Address ranges of the Microsoft Teams media platform allowed on the media port. Keep current with the Microsoft 365 endpoints list.')
param teamsMediaSourceRanges array = ['13.107.64.0/18', '52.112.0.0/14', '52.122.0.0/15']

@description('Public TCP port on which the media hosts receive Teams media (the bridge).')
param mediaPort int = 8445

@description('TCP port of the media hosts\' control API, reachable only from the function app\'s subnet.')
param controlPort int = 7400

@description('Address space of the virtual network (a /22 or larger).')
param vnetAddressPrefix string = '10.42.0.0/22'

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
  params: {
    baseName: baseName
    suffix: suffix
    location: location
    tags: allTags
    botAppSecret: botAppSecret
    mediaControlKey: mediaControlKey
    mediaCertificatePem: mediaCertificatePem
  }
}

module network 'modules/network.bicep' = {
  name: 'network'
  params: {
    baseName: baseName
    suffix: suffix
    location: location
    tags: allTags
    addressPrefix: vnetAddressPrefix
    teamsMediaSourceRanges: teamsMediaSourceRanges
    mediaPort: mediaPort
    controlPort: controlPort
  }
}

var functionAppName = 'func-${baseName}-${suffix}'

// Each further region: its recordings account, its network (peered with the home network) and
// its media hosts, which write to their region's account.
module regionalRecordings 'modules/recordings-storage.bicep' = [for region in mediaHostRegions: {
  name: 'recordings-${region.location}'
  params: {
    baseName: baseName
    suffix: uniqueString(resourceGroup().id, baseName, region.location)
    location: region.location
    tags: allTags
    defaultRetentionInDays: defaultRetentionInDays
  }
}]

module regionalNetworks 'modules/media-region-network.bicep' = [for region in mediaHostRegions: {
  name: 'network-${region.location}'
  params: {
    baseName: baseName
    suffix: uniqueString(resourceGroup().id, baseName, region.location)
    location: region.location
    tags: allTags
    addressPrefix: region.vnetAddressPrefix
    hubVnetName: network.outputs.vnetName
    functionsSubnetPrefix: network.outputs.functionsSubnetPrefix
    teamsMediaSourceRanges: teamsMediaSourceRanges
    mediaPort: mediaPort
    controlPort: controlPort
  }
}]

module settings 'modules/settings.bicep' = {
  name: 'settings'
  params: {
    location: location
    environmentKind: environmentKind
    functionAppName: functionAppName
    functionsIdentityClientId: identities.outputs.functionsIdentityClientId
    mediaHostIdentityClientId: identities.outputs.mediaHostIdentityClientId
    recordingsBlobUrl: recordingsStorage.outputs.blobUrl
    recordingsTableUrl: recordingsStorage.outputs.tableUrl
    recordingsQueueUrl: recordingsStorage.outputs.queueUrl
    keyVaultUri: keyVault.outputs.vaultUri
    appSecretUri: keyVault.outputs.appSecretUri
    controlKeyUri: keyVault.outputs.controlKeyUri
    botAppId: botAppId
    botTenantId: botTenantId
    servedTenantIds: servedTenantIds
    controlPort: controlPort
    mediaPort: mediaPort
    certificateUri: keyVault.outputs.certificateUri
    mediaDnsDomain: mediaDnsDomain
    regionalRecordings: [for (region, i) in mediaHostRegions: {
      region: region.location
      blobUrl: regionalRecordings[i].outputs.blobUrl
    }]
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'functionApp'
  // The app resolves its Key Vault references at start: its identity must hold the role first.
  dependsOn: [roles]
  params: {
    name: functionAppName
    location: location
    tags: allTags
    identityId: identities.outputs.functionsIdentityId
    identityClientId: identities.outputs.functionsIdentityClientId
    hostStorageName: hostStorage.outputs.accountName
    deploymentContainerUrl: hostStorage.outputs.deploymentContainerUrl
    subnetId: network.outputs.functionsSubnetId
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    attestSettings: settings.outputs.functionApp
    packageUri: '${packageBaseUrl}/attest-functions-${packageVersion}.zip'
  }
}

module mediaHosts 'modules/media-hosts.bicep' = {
  name: 'mediaHosts'
  // The install script reads the control key and the certificate with the instances' identity.
  dependsOn: [roles]
  params: {
    baseName: baseName
    suffix: suffix
    location: location
    tags: allTags
    identityId: identities.outputs.mediaHostIdentityId
    identityClientId: identities.outputs.mediaHostIdentityClientId
    adminUserName: mediaHostAdminUserName
    adminPassword: mediaHostAdminPassword
    vmSize: mediaHostVmSize
    instanceCount: mediaHostInstanceCount
    zones: mediaHostZones
    subnetId: network.outputs.mediaSubnetId
    nsgId: network.outputs.mediaNsgId
    packageBaseUrl: packageBaseUrl
    packageVersion: packageVersion
    installSettings: settings.outputs.mediaHostInstall
  }
}

module regionalMediaHosts 'modules/media-hosts.bicep' = [for (region, i) in mediaHostRegions: {
  name: 'mediaHosts-${region.location}'
  dependsOn: [roles]
  params: {
    baseName: baseName
    suffix: uniqueString(resourceGroup().id, baseName, region.location)
    location: region.location
    tags: allTags
    identityId: identities.outputs.mediaHostIdentityId
    identityClientId: identities.outputs.mediaHostIdentityClientId
    adminUserName: mediaHostAdminUserName
    adminPassword: mediaHostAdminPassword
    vmSize: mediaHostVmSize
    instanceCount: region.?instanceCount ?? mediaHostInstanceCount
    zones: region.?zones ?? []
    subnetId: regionalNetworks[i].outputs.mediaSubnetId
    nsgId: regionalNetworks[i].outputs.mediaNsgId
    packageBaseUrl: packageBaseUrl
    packageVersion: packageVersion
    // The home region's settings, with this region's name and recordings account.
    installSettings: union(settings.outputs.mediaHostInstall, {
      env: union(settings.outputs.mediaHostInstall.env, {
        ATTEST_MEDIA_REGION: region.location
        ATTEST_MEDIA_STORAGE_ACCOUNT_URL: regionalRecordings[i].outputs.blobUrl
      })
    })
  }
}]

module bot 'modules/bot.bicep' = {
  name: 'bot'
  params: {
    baseName: baseName
    suffix: suffix
    tags: allTags
    botAppId: botAppId
    botTenantId: botTenantId
    callingWebhookUrl: '${settings.outputs.functionAppUrl}/api/calling'
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
    regionalRecordingsStorageNames: [for (region, i) in mediaHostRegions: regionalRecordings[i].outputs.accountName]
  }
}

@description('Public host name of the function app (webhook, admin API, portal).')
output functionAppHostName string = functionApp.outputs.defaultHostName

@description('Base URL of the function app (`attest doctor --url`).')
output functionAppUrl string = settings.outputs.functionAppUrl

@description('The calling webhook registered on the bot.')
output callingWebhookUrl string = '${settings.outputs.functionAppUrl}/api/calling'

@description('Application (client) id of the bot: the Teams application instance and the compliance recording application use it.')
output botAppId string = botAppId

@description('Scale set of the media hosts (scale with `az vmss scale`).')
output mediaHostScaleSetName string = mediaHosts.outputs.scaleSetName

@description('Scale sets of the further regions\' media hosts, in the order of mediaHostRegions.')
output regionalMediaHostScaleSetNames array = [for (region, i) in mediaHostRegions: regionalMediaHosts[i].outputs.scaleSetName]

@description('Recordings accounts of the further regions, in the order of mediaHostRegions.')
output regionalRecordingsStorageAccounts array = [for (region, i) in mediaHostRegions: regionalRecordings[i].outputs.accountName]

@description('Name of the recordings storage account (immutable, versioned).')
output recordingsStorageAccount string = recordingsStorage.outputs.accountName

@description('Name of the Key Vault (keys, the bot secret, the control key and the media certificate).')
output vaultName string = keyVault.outputs.vaultName

@description('Value of ATTEST_MEDIA_KEYVAULT_URI on the media hosts: the vault with the manifest signing key and the KEK.')
output mediaHostVaultUri string = keyVault.outputs.vaultUri

@description('Value of AZURE_CLIENT_ID on the media hosts: their user-assigned identity.')
output mediaHostIdentityClientId string = identities.outputs.mediaHostIdentityClientId

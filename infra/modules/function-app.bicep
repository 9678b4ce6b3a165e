// The function app on Flex Consumption (Linux, Node 22) with one always-ready instance for the
// HTTP webhook and one for Durable, so an invite never waits for a cold start. It reaches the
// media hosts through VNet integration (private addresses only). Every `ATTEST_*` setting its
// `loadConfig` requires is set here; secrets are Key Vault references resolved with its identity.
@description('Name of the function app.')
param name string
@description('Region.')
param location string
@description('Tags.')
param tags object
@description('Resource id of the user-assigned identity the app runs as.')
param identityId string
@description('Client id of that identity.')
param identityClientId string
@description('Host storage account name (Functions host + Durable task hub).')
param hostStorageName string
@description('Deployment package container URL.')
param deploymentContainerUrl string
@description('Resource id of the subnet the app integrates with (delegated to Microsoft.App/environments).')
param subnetId string
@description('Application Insights connection string.')
param appInsightsConnectionString string
@description('Settings owned by the recorder and the archive (see main.bicep); merged after the host settings.')
param attestSettings object
@description('URL of the function app package (zip); empty to deploy it later with the Functions tools.')
param packageUri string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'asp-${name}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

var hostSettings = {
  AzureWebJobsStorage__accountName: hostStorageName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with this identity (the app has no system identity).
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: subnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: 100
        instanceMemoryMB: 2048
        alwaysReady: [
          { name: 'http', instanceCount: 1 }
          { name: 'durable', instanceCount: 1 }
        ]
      }
      runtime: { name: 'node', version: '22' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      // Calls to the media hosts' private addresses leave through the integration subnet.
      vnetRouteAllEnabled: true
      appSettings: [for setting in items(union(hostSettings, attestSettings)): {
        name: setting.key
        value: setting.value
      }]
    }
  }
}

// Deploys the package from its URL (zip deploy through the platform); runs again when the URL changes.
resource deploy 'Microsoft.Web/sites/extensions@2024-04-01' = if (!empty(packageUri)) {
  parent: site
  name: 'onedeploy'
  #disable-next-line BCP187
  properties: {
    packageUri: packageUri
    remoteBuild: false
  }
}

@description('Default host name of the function app.')
output defaultHostName string = site.properties.defaultHostName
@description('Name of the function app.')
output name string = site.name

// The function app on Flex Consumption (Linux, Node 22) with one always-ready instance for the
// HTTP webhook and one for Durable, so an invite never waits for a cold start.
@description('Short base name.')
param baseName string
@description('Unique suffix derived from the resource group.')
param suffix string
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
@description('Recordings account blob endpoint.')
param recordingsBlobUrl string
@description('Recordings account table endpoint.')
param recordingsTableUrl string
@description('Recordings account queue endpoint.')
param recordingsQueueUrl string
@description('Application Insights connection string.')
param appInsightsConnectionString string
@description('Key Vault URI for signing and key-wrapping keys.')
param keyVaultUri string
@description('Bot application id (webhook token audience).')
param botAppId string
@description('Served tenant ids, comma-separated.')
param servedTenantIds string
@description('dev, test or prod.')
param environmentKind string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'asp-${baseName}-${suffix}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-${baseName}-${suffix}'
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
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: hostStorageName }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
        { name: 'ATTEST_STORAGE_BLOB_URL', value: recordingsBlobUrl }
        { name: 'ATTEST_STORAGE_TABLE_URL', value: recordingsTableUrl }
        { name: 'ATTEST_STORAGE_QUEUE_URL', value: recordingsQueueUrl }
        { name: 'ATTEST_STORAGE_IDENTITY_CLIENT_ID', value: identityClientId }
        { name: 'ATTEST_KEYVAULT_URI', value: keyVaultUri }
        { name: 'ATTEST_APP_ID', value: botAppId }
        { name: 'ATTEST_SERVED_TENANT_IDS', value: servedTenantIds }
        { name: 'ATTEST_ENVIRONMENT_KIND', value: environmentKind }
        { name: 'ATTEST_PUBLIC_BASE_URL', value: 'https://func-${baseName}-${suffix}.azurewebsites.net' }
      ]
    }
  }
}

@description('Default host name of the function app.')
output defaultHostName string = site.properties.defaultHostName

// Storage for the Functions host and the Durable task hub. Never immutable: task hub blobs and
// leases are rewritten constantly.
@description('Short base name.')
param baseName string
@description('Unique suffix derived from the resource group.')
param suffix string
@description('Region.')
param location string
@description('Tags.')
param tags object

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: take('st${baseName}host${suffix}', 24)
  location: location
  tags: tags
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'app-package'
}

@description('Host storage account name.')
output accountName string = account.name
@description('URL of the Flex Consumption deployment package container.')
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainer.name}'

// Every role assignment of the deployment, with the built-in role ids named.
@description('Principal id of the function app identity.')
param functionsPrincipalId string
@description('Principal id of the media host identity.')
param mediaHostPrincipalId string
@description('Host storage account name.')
param hostStorageName string
@description('Recordings storage account name.')
param recordingsStorageName string
@description('Key Vault name.')
param keyVaultName string
@description('Application Insights name.')
param appInsightsName string
@description('Recordings accounts of further regions (names); the function app and the media hosts write and read media there.')
param regionalRecordingsStorageNames array = []

var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  reader: 'acdd72a7-3322-49f8-b5e5-b4dbcd4b3bb3'
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}
resource recordingsStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: recordingsStorageName
}
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}
resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

var hostStorageRoles = [roleIds.storageBlobDataOwner, roleIds.storageQueueDataContributor, roleIds.storageTableDataContributor]
resource functionsOnHostStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in hostStorageRoles: {
  scope: hostStorage
  name: guid(hostStorage.id, functionsPrincipalId, role)
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

var recordingsRoles = [roleIds.storageBlobDataContributor, roleIds.storageQueueDataContributor, roleIds.storageTableDataContributor]
resource functionsOnRecordings 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in recordingsRoles: {
  scope: recordingsStorage
  name: guid(recordingsStorage.id, functionsPrincipalId, role)
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

resource mediaHostOnRecordings 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: recordingsStorage
  name: guid(recordingsStorage.id, mediaHostPrincipalId, roleIds.storageBlobDataContributor)
  properties: {
    principalId: mediaHostPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
  }
}

resource functionsOnVault 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, functionsPrincipalId, roleIds.keyVaultCryptoUser)
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultCryptoUser)
  }
}

resource mediaHostOnVault 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, mediaHostPrincipalId, roleIds.keyVaultCryptoUser)
  properties: {
    principalId: mediaHostPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultCryptoUser)
  }
}

resource functionsOnAppInsights 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: appInsights
  name: guid(appInsights.id, functionsPrincipalId, roleIds.monitoringMetricsPublisher)
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
  }
}

// Both read their secrets by Key Vault reference / URI: the bot app secret and the control key
// (function app), the control key and the media certificate (media hosts).
var secretReaders = [functionsPrincipalId, mediaHostPrincipalId]
resource secretsUsers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principal in secretReaders: {
  scope: vault
  name: guid(vault.id, principal, roleIds.keyVaultSecretsUser)
  properties: {
    principalId: principal
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
  }
}]

// The install script reads its own public IP's DNS name from Resource Manager.
resource mediaHostReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, mediaHostPrincipalId, roleIds.reader)
  properties: {
    principalId: mediaHostPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.reader)
  }
}

resource regionalRecordingsStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = [for name in regionalRecordingsStorageNames: {
  name: name
}]

// A further region's account holds media only (the tables stay in the home account).
resource functionsOnRegionalRecordings 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (name, i) in regionalRecordingsStorageNames: {
  scope: regionalRecordingsStorage[i]
  name: guid(regionalRecordingsStorage[i].id, functionsPrincipalId, roleIds.storageBlobDataContributor)
  properties: {
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
  }
}]

resource mediaHostOnRegionalRecordings 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (name, i) in regionalRecordingsStorageNames: {
  scope: regionalRecordingsStorage[i]
  name: guid(regionalRecordingsStorage[i].id, mediaHostPrincipalId, roleIds.storageBlobDataContributor)
  properties: {
    principalId: mediaHostPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
  }
}]

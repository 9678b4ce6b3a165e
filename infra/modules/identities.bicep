@description('Short base name.')
param baseName string
@description('Unique suffix derived from the resource group.')
param suffix string
@description('Region.')
param location string
@description('Tags.')
param tags object

resource functionsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${baseName}-func-${suffix}'
  location: location
  tags: tags
}

resource mediaHostIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${baseName}-media-${suffix}'
  location: location
  tags: tags
}

@description('Resource id of the function app identity.')
output functionsIdentityId string = functionsIdentity.id
@description('Client id of the function app identity.')
output functionsIdentityClientId string = functionsIdentity.properties.clientId
@description('Principal id of the function app identity.')
output functionsPrincipalId string = functionsIdentity.properties.principalId
@description('Resource id of the media host identity.')
output mediaHostIdentityId string = mediaHostIdentity.id
@description('Principal id of the media host identity.')
output mediaHostPrincipalId string = mediaHostIdentity.properties.principalId
@description('Client id of the media host identity (AZURE_CLIENT_ID on the VM, for DefaultAzureCredential).')
output mediaHostIdentityClientId string = mediaHostIdentity.properties.clientId

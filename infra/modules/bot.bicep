// The Azure Bot registration with Teams calling enabled; Teams sends policy invites to the
// function app's webhook. Single-tenant: multi-tenant bot creation is rejected by ARM.
@description('Short base name.')
param baseName string
@description('Unique suffix derived from the resource group.')
param suffix string
@description('Tags.')
param tags object
@description('Entra app id of the bot.')
param botAppId string
@description('Tenant of the bot registration.')
param botTenantId string
@description('HTTPS URL of the calling webhook.')
param callingWebhookUrl string

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: 'bot-${baseName}-${suffix}'
  location: 'global'
  tags: tags
  kind: 'azurebot'
  sku: { name: 'S1' }
  properties: {
    displayName: 'Attest compliance recorder'
    msaAppId: botAppId
    msaAppType: 'SingleTenant'
    msaAppTenantId: botTenantId
    endpoint: replace(callingWebhookUrl, '/api/calling', '/api/messages')
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
      enableCalling: true
      callingWebhook: callingWebhookUrl
      incomingCallRoute: 'graphPma'
      deploymentEnvironment: 'CommercialDeployment'
      acceptedTerms: true
    }
  }
}

// One virtual network: the function app's integration subnet and the media hosts' subnet. The
// control API of a media host is reachable only from the integration subnet (private addresses);
// the media port only from the Teams media ranges. Nothing else is allowed in from the internet.
@description('Short base name.')
param baseName string
@description('Unique suffix derived from the resource group.')
param suffix string
@description('Region.')
param location string
@description('Tags.')
param tags object
@description('Address space of the virtual network (a /22 or larger).')
param addressPrefix string = '10.42.0.0/22'
@description('Teams media platform address ranges allowed on the media port.')
param teamsMediaSourceRanges array
@description('TCP port on which the media hosts receive Teams media (the bridge).')
param mediaPort int
@description('TCP port of the media hosts\' control API (function app only).')
param controlPort int

var mediaSubnetPrefix = cidrSubnet(addressPrefix, 24, 0)
var functionsSubnetPrefix = cidrSubnet(addressPrefix, 24, 1)

resource mediaNsg 'Microsoft.Network/networkSecurityGroups@2024-01-01' = {
  name: 'nsg-${baseName}-media-${suffix}'
  location: location
  tags: tags
  properties: {
    securityRules: [
      {
        name: 'allow-teams-media'
        properties: {
          priority: 100
          direction: 'Inbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefixes: teamsMediaSourceRanges
          sourcePortRange: '*'
          destinationAddressPrefix: '*'
          destinationPortRange: string(mediaPort)
        }
      }
      {
        name: 'allow-control-from-functions'
        properties: {
          priority: 110
          direction: 'Inbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefix: functionsSubnetPrefix
          sourcePortRange: '*'
          destinationAddressPrefix: mediaSubnetPrefix
          destinationPortRange: string(controlPort)
        }
      }
      {
        // AllowVnetInBound (65000) would otherwise open the control port to the whole network.
        name: 'deny-control-from-elsewhere'
        properties: {
          priority: 120
          direction: 'Inbound'
          access: 'Deny'
          protocol: '*'
          sourceAddressPrefix: '*'
          sourcePortRange: '*'
          destinationAddressPrefix: '*'
          destinationPortRange: string(controlPort)
        }
      }
      {
        // The media port answers the Teams ranges only, never the rest of the internet.
        name: 'deny-media-from-elsewhere'
        properties: {
          priority: 130
          direction: 'Inbound'
          access: 'Deny'
          protocol: '*'
          sourceAddressPrefix: 'Internet'
          sourcePortRange: '*'
          destinationAddressPrefix: '*'
          destinationPortRange: '*'
        }
      }
    ]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-01-01' = {
  name: 'vnet-${baseName}-${suffix}'
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [addressPrefix] }
    subnets: [
      {
        name: 'media'
        properties: {
          addressPrefix: mediaSubnetPrefix
          networkSecurityGroup: { id: mediaNsg.id }
        }
      }
      {
        // Flex Consumption integrates through a subnet delegated to Microsoft.App/environments.
        name: 'functions'
        properties: {
          addressPrefix: functionsSubnetPrefix
          delegations: [
            { name: 'flex', properties: { serviceName: 'Microsoft.App/environments' } }
          ]
        }
      }
    ]
  }
}

@description('Resource id of the media hosts\' subnet.')
output mediaSubnetId string = vnet.properties.subnets[0].id
@description('Resource id of the function app\'s integration subnet.')
output functionsSubnetId string = vnet.properties.subnets[1].id
@description('Address prefix of the function app\'s integration subnet.')
output functionsSubnetPrefix string = functionsSubnetPrefix
@description('Resource id of the media hosts\' network security group.')
output mediaNsgId string = mediaNsg.id
@description('Name of the virtual network (the hub further regions peer with).')
output vnetName string = vnet.name

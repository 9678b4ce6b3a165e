// The network of a further media host region: its own virtual network with the media subnet, the
// same rules as the home region's (Teams media ranges on the media port; the control port only
// from the function app's integration subnet), and a peering both ways with the home network, so
// the function app reaches the region's media hosts over private addresses.
@description('Short base name.')
param baseName string
@description('Unique suffix of the region.')
param suffix string
@description('Region.')
param location string
@description('Tags.')
param tags object
@description('Address space of the region\'s virtual network (a /24 or larger; must not overlap the home network).')
param addressPrefix string
@description('Name of the home virtual network (same resource group).')
param hubVnetName string
@description('Address prefix of the function app\'s integration subnet in the home network.')
param functionsSubnetPrefix string
@description('Teams media platform address ranges allowed on the media port.')
param teamsMediaSourceRanges array
@description('TCP port on which the media hosts receive Teams media (the bridge).')
param mediaPort int
@description('TCP port of the media hosts\' control API (function app only).')
param controlPort int

var mediaSubnetPrefix = cidrSubnet(addressPrefix, 24, 0)

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
    ]
  }
}

resource hub 'Microsoft.Network/virtualNetworks@2024-01-01' existing = {
  name: hubVnetName
}

resource toHub 'Microsoft.Network/virtualNetworks/virtualNetworkPeerings@2024-01-01' = {
  parent: vnet
  name: 'to-home'
  properties: {
    remoteVirtualNetwork: { id: hub.id }
    allowVirtualNetworkAccess: true
    allowForwardedTraffic: false
  }
}

resource fromHub 'Microsoft.Network/virtualNetworks/virtualNetworkPeerings@2024-01-01' = {
  parent: hub
  name: 'to-${location}'
  properties: {
    remoteVirtualNetwork: { id: vnet.id }
    allowVirtualNetworkAccess: true
    allowForwardedTraffic: false
  }
}

@description('Resource id of the region\'s media subnet.')
output mediaSubnetId string = vnet.properties.subnets[0].id
@description('Resource id of the region\'s media network security group.')
output mediaNsgId string = mediaNsg.id

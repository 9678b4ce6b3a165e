// One always-on Windows VM with its own public IP: a call's media is pinned to the VM that
// answered it, so there is no shared load balancer in front of media.
@description('Short base name.')
param baseName string
@description('Unique suffix derived from the resource group.')
param suffix string
@description('Region.')
param location string
@description('Tags.')
param tags object
@description('Resource id of the user-assigned identity of the media host.')
param identityId string
@description('Admin user name.')
param adminUserName string
@description('Admin password.')
@secure()
param adminPassword string
@description('VM size.')
param vmSize string
@description('Teams media platform address ranges allowed on the media port.')
param teamsMediaSourceRanges array
@description('Media protocol TCP port.')
param mediaPort int

var name = 'vm-${baseName}-media'

resource vnet 'Microsoft.Network/virtualNetworks@2024-01-01' = {
  name: 'vnet-${baseName}-${suffix}'
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: ['10.42.0.0/24'] }
    subnets: [{ name: 'media', properties: { addressPrefix: '10.42.0.0/26' } }]
  }
}

resource nsg 'Microsoft.Network/networkSecurityGroups@2024-01-01' = {
  name: 'nsg-${baseName}-media-${suffix}'
  location: location
  tags: tags
  properties: {
    securityRules: [
      {
        name: 'https-signalling'
        properties: {
          priority: 100
          direction: 'Inbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefix: 'Internet'
          sourcePortRange: '*'
          destinationAddressPrefix: '*'
          destinationPortRange: '443'
        }
      }
      {
        name: 'teams-media'
        properties: {
          priority: 110
          direction: 'Inbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefixes: teamsMediaSourceRanges
          sourcePortRange: '*'
          destinationAddressPrefix: '*'
          destinationPortRange: string(mediaPort)
        }
      }
    ]
  }
}

resource publicIp 'Microsoft.Network/publicIPAddresses@2024-01-01' = {
  name: 'pip-${baseName}-media-${suffix}'
  location: location
  tags: tags
  sku: { name: 'Standard' }
  properties: {
    publicIPAllocationMethod: 'Static'
    dnsSettings: { domainNameLabel: toLower('${baseName}-media-${suffix}') }
  }
}

resource nic 'Microsoft.Network/networkInterfaces@2024-01-01' = {
  name: 'nic-${baseName}-media-${suffix}'
  location: location
  tags: tags
  properties: {
    networkSecurityGroup: { id: nsg.id }
    ipConfigurations: [
      {
        name: 'primary'
        properties: {
          subnet: { id: vnet.properties.subnets[0].id }
          privateIPAllocationMethod: 'Dynamic'
          publicIPAddress: { id: publicIp.id }
        }
      }
    ]
  }
}

resource vm 'Microsoft.Compute/virtualMachines@2024-03-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    hardwareProfile: { vmSize: vmSize }
    osProfile: {
      computerName: take(replace(name, '-', ''), 15)
      adminUsername: adminUserName
      adminPassword: adminPassword
      windowsConfiguration: { enableAutomaticUpdates: true, patchSettings: { patchMode: 'AutomaticByOS' } }
    }
    storageProfile: {
      imageReference: {
        publisher: 'MicrosoftWindowsServer'
        offer: 'WindowsServer'
        sku: '2022-datacenter-azure-edition'
        version: 'latest'
      }
      osDisk: { createOption: 'FromImage', managedDisk: { storageAccountType: 'Premium_LRS' } }
      // The media spool lives on a data disk so an OS reimage never loses unflushed media.
      dataDisks: [{ lun: 0, createOption: 'Empty', diskSizeGB: 128, managedDisk: { storageAccountType: 'Premium_LRS' } }]
    }
    networkProfile: { networkInterfaces: [{ id: nic.id }] }
    securityProfile: { securityType: 'TrustedLaunch', uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } }
  }
}

@description('Public DNS name of the media host.')
output fqdn string = publicIp.properties.dnsSettings.fqdn

// The media hosts: a Windows scale set in flexible orchestration. A call's media is pinned to the
// instance that answered it, so every instance has its own public IP and DNS name (no load
// balancer in front of media). The install extension puts Node, the media host and the bridge on
// each instance as Windows services; nothing is done by hand on a VM.
@description('Short base name.')
param baseName string
@description('Unique suffix derived from the resource group.')
param suffix string
@description('Region.')
param location string
@description('Tags.')
param tags object
@description('Resource id of the user-assigned identity of the media hosts.')
param identityId string
@description('Client id of that identity (used by the install script and the media host).')
param identityClientId string
@description('Admin user name.')
param adminUserName string
@description('Admin password.')
@secure()
param adminPassword string
@description('VM size.')
param vmSize string
@description('Number of instances.')
param instanceCount int
@description('Availability zones to spread the instances over; empty for none.')
param zones array
@description('Resource id of the media subnet.')
param subnetId string
@description('Resource id of the network security group of the instances\' NICs.')
param nsgId string
@description('Base URL of the release artifacts (install script, package, SHA256SUMS).')
param packageBaseUrl string
@description('Release version of the artifacts.')
param packageVersion string
@description('Settings handed to the install script (no secrets: secrets are named by Key Vault URI).')
param installSettings object

var vmssName = 'vmss-${baseName}-media-${suffix}'
var installScript = 'install-media-host.ps1'
var packageFile = 'attest-media-host-${packageVersion}-win-x64.zip'
var settingsBase64 = base64(string(installSettings))
// Artifacts in a blob container are fetched with the instances' identity; a release URL needs none.
var isBlobSource = contains(toLower(packageBaseUrl), '.blob.')

resource vmss 'Microsoft.Compute/virtualMachineScaleSets@2024-07-01' = {
  name: vmssName
  location: location
  tags: tags
  zones: empty(zones) ? null : zones
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  sku: { name: vmSize, tier: 'Standard', capacity: instanceCount }
  properties: {
    orchestrationMode: 'Flexible'
    platformFaultDomainCount: 1
    singlePlacementGroup: false
    // A redeployment with a new package or settings reaches every instance.
    upgradePolicy: { mode: 'Automatic' }
    virtualMachineProfile: {
      // Scale-in tells each removed instance first (a Terminate scheduled event) and waits up to
      // 15 minutes, the most Azure allows, for its acknowledgement: the media host drains its calls.
      scheduledEventsProfile: {
        terminateNotificationProfile: { enable: true, notBeforeTimeout: 'PT15M' }
      }
      osProfile: {
        computerNamePrefix: take('${baseName}m', 9)
        adminUsername: adminUserName
        adminPassword: adminPassword
        windowsConfiguration: {
          enableAutomaticUpdates: true
          patchSettings: { patchMode: 'AutomaticByOS' }
        }
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
        dataDisks: [
          { lun: 0, createOption: 'Empty', diskSizeGB: 128, managedDisk: { storageAccountType: 'Premium_LRS' } }
        ]
      }
      networkProfile: {
        networkApiVersion: '2022-11-01'
        networkInterfaceConfigurations: [
          {
            name: 'nic'
            properties: {
              primary: true
              enableAcceleratedNetworking: true
              networkSecurityGroup: { id: nsgId }
              ipConfigurations: [
                {
                  name: 'ipconfig'
                  properties: {
                    primary: true
                    subnet: { id: subnetId }
                    // One public IP and DNS name per instance, as the media platform requires.
                    publicIPAddressConfiguration: {
                      name: 'pip'
                      sku: { name: 'Standard', tier: 'Regional' }
                      properties: {
                        idleTimeoutInMinutes: 15
                        dnsSettings: { domainNameLabel: toLower('${baseName}-media-${suffix}') }
                      }
                    }
                  }
                }
              ]
            }
          }
        ]
      }
      securityProfile: {
        securityType: 'TrustedLaunch'
        uefiSettings: { secureBootEnabled: true, vTpmEnabled: true }
      }
      extensionProfile: {
        extensions: [
          {
            name: 'attest-install'
            properties: {
              publisher: 'Microsoft.Compute'
              type: 'CustomScriptExtension'
              typeHandlerVersion: '1.10'
              autoUpgradeMinorVersion: true
              // A new version or new settings run the install again (it is idempotent).
              forceUpdateTag: uniqueString(packageVersion, settingsBase64)
              settings: {
                fileUris: [
                  '${packageBaseUrl}/${installScript}'
                  '${packageBaseUrl}/${packageFile}'
                  '${packageBaseUrl}/SHA256SUMS'
                ]
              }
              protectedSettings: union(
                {
                  commandToExecute: 'powershell.exe -NoProfile -ExecutionPolicy Bypass -File ${installScript} -PackageFile ${packageFile} -ChecksumFile SHA256SUMS -SettingsBase64 ${settingsBase64}'
                },
                isBlobSource ? { managedIdentity: { clientId: identityClientId } } : {}
              )
            }
          }
        ]
      }
    }
  }
}

@description('Name of the media hosts\' scale set.')
output scaleSetName string = vmss.name

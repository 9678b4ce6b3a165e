/* eslint-disable @typescript-eslint/no-explicit-any --
   The compiled template is untyped JSON; the assertions are its types. */
import { loadConfig as loadFunctionsConfig } from '../../functions/src/config/load-config';
import { loadConfig as loadMediaHostConfig } from '../../media-host/src/config/media-host.config';
import {
  buildWindowsHostFiles,
  type MediaHostInstallSettings,
} from '../../media-host/src/deploy/windows-host-settings';
import { ArmScope, resourcesOf, type ArmResource } from './support/arm-evaluator';
import { compileBicep, deploymentParameters } from './support/compiled-template';

/**
 * infra/main.bicep deploying further regions (`mediaHostRegions`): each region's recordings
 * account, network (peered with the home network) and media host scale set, with settings that
 * each deployable's real loadConfig accepts.
 */
const context = { location: 'westeurope', tenantId: '99999999-8888-7777-6666-555555555555' };
const regions = [
  { location: 'northeurope', vnetAddressPrefix: '10.43.0.0/24', zones: ['1', '2'] },
  { location: 'swedencentral', vnetAddressPrefix: '10.44.0.0/24', instanceCount: 3 },
];

const resourcesIn = (scope: ArmScope, module: string): Record<string, any>[] => {
  const inner = scope.moduleScope(module);
  return resourcesOf(inner.template).flatMap((r: ArmResource) => inner.instancesOf(r) as never[]);
};
const withKeyVaultResolved = (settings: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [
      key,
      /^@Microsoft\.KeyVault\(/.test(String(value))
        ? 'resolved-from-key-vault-0123456789abcdef'
        : String(value),
    ]),
  );
const mediaHostConfigOf = (install: MediaHostInstallSettings) =>
  loadMediaHostConfig(
    buildWindowsHostFiles(
      install,
      {
        computerName: 'attestm000002',
        privateIp: '10.43.0.4',
        azureFqdn: 'attest-media-x0.northeurope.cloudapp.azure.com',
        releaseDir: 'C:\\Attest\\releases\\0.1.0',
        configDir: 'C:\\ProgramData\\Attest',
        spoolDir: 'F:\\attest\\spool',
        tlsPemFile: 'C:\\ProgramData\\Attest\\media-tls.pem',
        hasBridge: true,
        publicIp: '20.61.10.5',
        certificateThumbprint: '0123456789ABCDEF0123456789ABCDEF01234567',
      },
      {
        controlKey: 'resolved-from-key-vault-0123456789abcdef',
        bridgeControlKey: 'made-at-install-0123456789abcdef0123456789',
      },
    ).env,
  );

describe('infra/main.bicep with further regions', () => {
  let scope: ArmScope;
  let home: ArmScope;
  beforeAll(() => {
    const template = compileBicep('infra/main.bicep');
    scope = new ArmScope(template, { ...deploymentParameters, mediaHostRegions: regions }, context);
    home = new ArmScope(template, deploymentParameters, context);
  }, 180_000);

  const functionAppSettings = (of: ArmScope): Record<string, string> => {
    const site = resourcesIn(of, 'functionApp').find((r) => r.type === 'Microsoft.Web/sites');
    const list = site?.properties.siteConfig.appSettings as { name: string; value: unknown }[];
    return withKeyVaultResolved(Object.fromEntries(list.map((s) => [s.name, s.value])));
  };
  const installOf = (of: ArmScope, module: string): MediaHostInstallSettings => {
    const vmss = resourcesIn(of, module).find(
      (r) => r.type === 'Microsoft.Compute/virtualMachineScaleSets',
    );
    const command = String(
      vmss?.properties.virtualMachineProfile.extensionProfile.extensions[0].properties
        .protectedSettings.commandToExecute,
    );
    return JSON.parse(
      Buffer.from(/-SettingsBase64 (\S+)/.exec(command)?.[1] ?? '', 'base64').toString('utf8'),
    ) as MediaHostInstallSettings;
  };

  it("tells the function app every region's recordings account, which its loadConfig reads", () => {
    const config = loadFunctionsConfig(functionAppSettings(scope));
    expect(config.storage.regionalRecordings.map((a) => a.region)).toEqual([
      'northeurope',
      'swedencentral',
    ]);
    for (const account of config.storage.regionalRecordings)
      expect(account.blobUrl).toMatch(/^https:\/\//);
    expect(new Set(config.storage.regionalRecordings.map((a) => a.blobUrl)).size).toBe(2);
    expect(loadFunctionsConfig(functionAppSettings(home)).storage.regionalRecordings).toEqual([]);
  });

  it("deploys each region's recordings account in that region", () => {
    for (const region of regions) {
      const account = resourcesIn(scope, `recordings-${region.location}`).find(
        (r) => r.type === 'Microsoft.Storage/storageAccounts',
      );
      expect(account).toMatchObject({
        location: region.location,
        properties: {
          allowSharedKeyAccess: false,
          immutableStorageWithVersioning: { enabled: true },
        },
      });
    }
  });

  it("gives each region's media hosts their region and their region's account", () => {
    const north = mediaHostConfigOf(installOf(scope, 'mediaHosts-northeurope'));
    const sweden = mediaHostConfigOf(installOf(scope, 'mediaHosts-swedencentral'));
    const homeHost = mediaHostConfigOf(installOf(scope, 'mediaHosts'));
    expect([north.region, sweden.region, homeHost.region]).toEqual([
      'northeurope',
      'swedencentral',
      'westeurope',
    ]);
    const accounts = loadFunctionsConfig(functionAppSettings(scope)).storage.regionalRecordings;
    expect(north.storageAccountUrl?.replace(/\/+$/, '')).toBe(accounts[0]?.blobUrl);
    expect(
      new Set([north.storageAccountUrl, sweden.storageAccountUrl, homeHost.storageAccountUrl]).size,
    ).toBe(3);
    for (const config of [north, sweden, homeHost])
      expect(config.scheduledEvents?.url).toBe('http://169.254.169.254');
  });

  it('lets Azure tell every instance of its removal 15 minutes ahead, in every region', () => {
    for (const module of ['mediaHosts', 'mediaHosts-northeurope', 'mediaHosts-swedencentral']) {
      const vmss = resourcesIn(scope, module).find(
        (r) => r.type === 'Microsoft.Compute/virtualMachineScaleSets',
      );
      expect(vmss?.properties.virtualMachineProfile.scheduledEventsProfile).toEqual({
        terminateNotificationProfile: { enable: true, notBeforeTimeout: 'PT15M' },
      });
    }
    const sweden = resourcesIn(scope, 'mediaHosts-swedencentral').find(
      (r) => r.type === 'Microsoft.Compute/virtualMachineScaleSets',
    );
    expect(sweden).toMatchObject({ location: 'swedencentral', sku: { capacity: 3 } });
  });

  it("peers each region's network with the home network, the control port open to the function app only", () => {
    const resources = resourcesIn(scope, 'network-northeurope');
    const peerings = resources.filter(
      (r) => r.type === 'Microsoft.Network/virtualNetworks/virtualNetworkPeerings',
    );
    expect(peerings).toHaveLength(2);
    const nsg = resources.find((r) => r.type === 'Microsoft.Network/networkSecurityGroups');
    const control = (nsg?.properties.securityRules as any[]).find(
      (rule) => rule.name === 'allow-control-from-functions',
    );
    expect(control.properties.sourceAddressPrefix).toBe(
      scope.moduleOutputs('network').functionsSubnetPrefix,
    );
  });

  it("lets the function app and the media hosts write media in each region's account", () => {
    const assignments = resourcesIn(scope, 'roleAssignments').filter(
      (r) => r.type === 'Microsoft.Authorization/roleAssignments',
    );
    // Home: 3 host storage + 3 recordings + 1 media host + vault, insights, secrets, reader;
    // each further region adds two (function app and media hosts, blob data).
    const homeCount = resourcesIn(home, 'roleAssignments').filter(
      (r) => r.type === 'Microsoft.Authorization/roleAssignments',
    ).length;
    expect(assignments.length).toBe(homeCount + 2 * regions.length);
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return --
   The compiled template is untyped JSON; the assertions are its types. */
import { loadConfig as loadFunctionsConfig } from '../../functions/src/config/load-config';
import { loadConfig as loadMediaHostConfig } from '../../media-host/src/config/media-host.config';
import {
  buildWindowsHostFiles,
  type MediaHostInstallSettings,
} from '../../media-host/src/deploy/windows-host-settings';
import {
  ArmScope,
  resourcesOf,
  type Unresolved,
  type ArmResource,
  type ArmTemplate,
} from './support/arm-evaluator';
import {
  compileBicep,
  compileBicepParams,
  deploymentParameters,
} from './support/compiled-template';

const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\(SecretUri=(https:\/\/[^)]+)\)$/;
const context = { location: 'westeurope', tenantId: '99999999-8888-7777-6666-555555555555' };

/** Every resource of a module, evaluated in the module's scope. */
function moduleResources(scope: ArmScope, module: string): Record<string, unknown>[] {
  const inner = scope.moduleScope(module);
  return resourcesOf(inner.template).map((r: ArmResource) => inner.evaluate(r) as never);
}

function ofType(resources: Record<string, unknown>[], type: string): Record<string, any>[] {
  return resources.filter((r) => r.type === type) as Record<string, any>[];
}

/** Key Vault references and deployment-time values filled the way Azure would fill them. */
function fillKeyVaultReferences(settings: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [
      key,
      KEY_VAULT_REFERENCE.test(String(value))
        ? 'resolved-from-key-vault-0123456789abcdef'
        : String(value),
    ]),
  );
}

describe('infra/main.bicep', () => {
  let template: ArmTemplate;
  let scope: ArmScope;
  let functionAppSettings: Record<string, unknown>;
  let mediaInstall: MediaHostInstallSettings;
  beforeAll(() => {
    template = compileBicep('infra/main.bicep');
    scope = new ArmScope(template, deploymentParameters, context);
    const site = ofType(moduleResources(scope, 'functionApp'), 'Microsoft.Web/sites')[0];
    const appSettings = site?.properties.siteConfig.appSettings as {
      name: string;
      value: unknown;
    }[];
    functionAppSettings = Object.fromEntries(appSettings.map((s) => [s.name, s.value]));
    // As the install script receives them: JSON, placeholders for what Azure fills in.
    mediaInstall = JSON.parse(
      JSON.stringify(scope.moduleOutputs('settings').mediaHostInstall),
    ) as MediaHostInstallSettings;
  }, 180_000);

  it('compiles to an ARM template', () => {
    expect(template.resources).toBeDefined();
  });

  it('describes every parameter', () => {
    const undocumented = Object.entries(template.parameters ?? {})
      .filter(
        ([, p]) =>
          ((p as { metadata?: { description?: string } }).metadata?.description ?? '').trim() ===
          '',
      )
      .map(([name]) => name);
    expect(undocumented).toEqual([]);
  });

  it('outputs nothing that looks like a secret', () => {
    const suspicious = Object.keys(template.outputs ?? {}).filter((name) =>
      /key|secret|password|connectionstring|sas/i.test(name),
    );
    expect(suspicious).toEqual([]);
  });

  it('compiles the example parameters file', () => {
    expect(compileBicepParams('infra/main.bicepparam')).toContain('parametersJson');
  });

  it('gives the function app every setting its loadConfig requires', () => {
    const env = fillKeyVaultReferences(functionAppSettings);
    const config = loadFunctionsConfig(env);
    expect(config.recorder.appId).toBe(deploymentParameters.botAppId);
    expect(config.recorder.servedTenantIds).toEqual([context.tenantId]);
    expect(config.archive.keyVault?.vaultUri).toMatch(/^https:\/\//);
    expect(config.archive.shouldGenerateMissingKeys).toBe(false);
    expect(config.storage.blobUrl).toMatch(/^https:\/\//);
    // Media hosts are reached by private address; their certificates name hosts in this domain.
    expect(config.recorder.mediaControlCertificateDomains).toEqual([
      `${context.location}.cloudapp.azure.com`,
    ]);
  });

  it('gives the media hosts every setting their loadConfig requires', () => {
    const files = buildWindowsHostFiles(
      mediaInstall,
      {
        computerName: 'attestm000001',
        privateIp: '10.42.0.4',
        azureFqdn: 'attest-media-x0.westeurope.cloudapp.azure.com',
        releaseDir: 'C:\\Attest\\releases\\0.1.0',
        configDir: 'C:\\ProgramData\\Attest',
        spoolDir: 'F:\\attest\\spool',
        tlsPemFile: 'C:\\ProgramData\\Attest\\media-tls.pem',
        hasBridge: true,
        // Found on the instance by the install script.
        publicIp: '20.61.10.4',
        certificateThumbprint: '0123456789ABCDEF0123456789ABCDEF01234567',
      },
      {
        controlKey: 'resolved-from-key-vault-0123456789abcdef',
        bridgeControlKey: 'made-at-install-0123456789abcdef0123456789',
      },
    );
    const config = loadMediaHostConfig(files.env);
    expect(config.controlHost).toBe('10.42.0.4');
    expect(config.keyVault?.vaultUri).toMatch(/^https:\/\//);
    expect(config.storageAccountUrl).toMatch(/^https:\/\//);
    expect(config.functionsUrl).toBe(functionAppSettings.ATTEST_PUBLIC_BASE_URL);
    expect(config.region).toBe(context.location);
    expect(config.bridge).toBeDefined();
  });

  it("makes only users of the deployment's own tenant operators of the fleet", () => {
    expect(functionAppSettings.ATTEST_OPERATOR_TENANT_ID).toBe(
      functionAppSettings.ATTEST_ADMIN_TENANT_IDS,
    );
    expect(String(functionAppSettings.ATTEST_OPERATOR_TENANT_ID)).not.toBe('');
  });

  it('keeps every secret in Key Vault: references in app settings, URIs for the media hosts', () => {
    const secretNames = Object.keys(functionAppSettings).filter((name) =>
      /SECRET|_KEY$|PASSWORD/.test(name),
    );
    expect(secretNames.sort()).toEqual(['ATTEST_APP_SECRET', 'ATTEST_MEDIA_CONTROL_KEY']);
    for (const name of secretNames)
      expect(String(functionAppSettings[name])).toMatch(KEY_VAULT_REFERENCE);
    expect(mediaInstall.controlKeySecretUri).toMatch(/^https:\/\//);
    // References resolve with the app's user-assigned identity (it has no system identity).
    const site = ofType(moduleResources(scope, 'functionApp'), 'Microsoft.Web/sites')[0];
    expect(String(site?.properties.keyVaultReferenceIdentity)).toMatch(
      /^\/resourceId\(Microsoft\.ManagedIdentity\/userAssignedIdentities,id-attest-func-/,
    );
    expect(Object.keys(mediaInstall.env).filter((k) => /SECRET|_KEY$|PASSWORD/.test(k))).toEqual(
      [],
    );
  });

  it('puts no secure parameter value in any setting, extension setting or output', () => {
    const outputs = Object.fromEntries(
      Object.entries(template.outputs ?? {}).map(([k, o]) => [k, scope.evaluate(o.value)]),
    );
    const vmss = ofType(
      moduleResources(scope, 'mediaHosts'),
      'Microsoft.Compute/virtualMachineScaleSets',
    )[0];
    const exposed = JSON.stringify([
      functionAppSettings,
      mediaInstall,
      outputs,
      vmss?.properties.virtualMachineProfile.extensionProfile,
    ]);
    const decodedCommand = Buffer.from(
      /-SettingsBase64 (\S+)/.exec(exposed)?.[1] ?? '',
      'base64',
    ).toString('utf8');
    for (const text of [exposed, decodedCommand]) expect(text).not.toContain('SECURE-PARAM');
    // The secrets do reach Key Vault.
    const secrets = ofType(moduleResources(scope, 'keyVault'), 'Microsoft.KeyVault/vaults/secrets');
    expect(secrets.map((s) => s.properties.value).sort()).toEqual([
      deploymentParameters.botAppSecret,
      deploymentParameters.mediaCertificatePem,
      deploymentParameters.mediaControlKey,
    ]);
  });

  it('stores nothing with public blob access or shared keys, and only over TLS 1.2', () => {
    const accounts = ['hostStorage', 'recordingsStorage'].flatMap((m) =>
      ofType(moduleResources(scope, m), 'Microsoft.Storage/storageAccounts'),
    );
    expect(accounts).toHaveLength(2);
    for (const account of accounts) {
      expect(account.properties).toMatchObject({
        allowBlobPublicAccess: false,
        allowSharedKeyAccess: false,
        minimumTlsVersion: 'TLS1_2',
        supportsHttpsTrafficOnly: true,
      });
    }
  });

  it('makes the recordings account immutable and versioned', () => {
    const resources = moduleResources(scope, 'recordingsStorage');
    const [account] = ofType(resources, 'Microsoft.Storage/storageAccounts');
    expect(account?.properties.immutableStorageWithVersioning).toEqual({ enabled: true });
    const [blob] = ofType(resources, 'Microsoft.Storage/storageAccounts/blobServices');
    expect(blob?.properties.isVersioningEnabled).toBe(true);
    const containers = ofType(
      resources,
      'Microsoft.Storage/storageAccounts/blobServices/containers',
    );
    const recordings = containers.find((c) => String(c.name).endsWith('/recordings'));
    expect(recordings?.properties.immutableStorageWithVersioning).toEqual({ enabled: true });
  });

  describe('network', () => {
    let rules: { name: string; properties: Record<string, any> }[];
    let functionsSubnetPrefix: string;
    beforeAll(() => {
      const resources = moduleResources(scope, 'network');
      rules = ofType(resources, 'Microsoft.Network/networkSecurityGroups')[0]?.properties
        .securityRules;
      const vnet = ofType(resources, 'Microsoft.Network/virtualNetworks')[0];
      const subnet = (
        vnet?.properties.subnets as { name: string; properties: Record<string, any> }[]
      ).find((s) => s.name === 'functions');
      functionsSubnetPrefix = subnet?.properties.addressPrefix;
      expect(subnet?.properties.delegations[0].properties.serviceName).toBe(
        'Microsoft.App/environments',
      );
    });

    /** The first rule (by priority) that matches a TCP connection from `source` to `port`. */
    function verdict(source: string, port: number): string {
      const matching = [...rules]
        .sort((a, b) => a.properties.priority - b.properties.priority)
        .find((rule) => {
          const p = rule.properties;
          const ports = String(p.destinationPortRange);
          const sources: string[] = p.sourceAddressPrefixes ?? [p.sourceAddressPrefix];
          return (
            p.direction === 'Inbound' &&
            (ports === '*' || ports === String(port)) &&
            (sources.includes('*') || sources.includes(source))
          );
        });
      return matching?.properties.access ?? 'Deny (default)';
    }

    it("lets the control port in only from the function app's subnet", () => {
      expect(verdict(functionsSubnetPrefix, 7400)).toBe('Allow');
      expect(verdict('Internet', 7400)).toBe('Deny');
      expect(verdict('10.42.0.0/24', 7400)).toBe('Deny');
      expect(verdict('52.112.0.0/14', 7400)).toBe('Deny');
    });

    it('lets the media port in only from the Teams media ranges', () => {
      for (const range of ['13.107.64.0/18', '52.112.0.0/14', '52.122.0.0/15'])
        expect(verdict(range, 8445)).toBe('Allow');
      expect(verdict('Internet', 8445)).toBe('Deny');
      expect(verdict('Internet', 3389)).toBe('Deny');
      expect(verdict('Internet', 443)).toBe('Deny');
    });

    it('integrates the function app with the virtual network', () => {
      const site = ofType(moduleResources(scope, 'functionApp'), 'Microsoft.Web/sites')[0];
      const subnetId = site?.properties.virtualNetworkSubnetId as Unresolved;
      expect(subnetId.path).toEqual([
        expect.stringMatching(/^reference:\/resourceId\(Microsoft\.Network\/virtualNetworks,/),
        'subnets',
        '1',
        'id',
      ]);
      expect(site?.properties.siteConfig.vnetRouteAllEnabled).toBe(true);
    });
  });

  describe('media hosts', () => {
    let vmss: Record<string, any>;
    beforeAll(() => {
      vmss =
        ofType(
          moduleResources(scope, 'mediaHosts'),
          'Microsoft.Compute/virtualMachineScaleSets',
        )[0] ?? {};
    });

    it('are a Windows scale set in flexible orchestration with 2 instances by default', () => {
      expect(vmss.properties.orchestrationMode).toBe('Flexible');
      expect(vmss.sku.capacity).toBe(2);
      expect(vmss.properties.virtualMachineProfile.storageProfile.imageReference.publisher).toBe(
        'MicrosoftWindowsServer',
      );
    });

    it('give every instance its own public IP and DNS name', () => {
      const nic =
        vmss.properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations[0];
      const ip = nic.properties.ipConfigurations[0].properties;
      expect(ip.publicIPAddressConfiguration.sku.name).toBe('Standard');
      expect(ip.publicIPAddressConfiguration.properties.dnsSettings.domainNameLabel).toMatch(/\S/);
    });

    it('run the install extension with the packaged script, package and checksums', () => {
      const [extension] = vmss.properties.virtualMachineProfile.extensionProfile.extensions;
      expect(extension.properties.type).toBe('CustomScriptExtension');
      expect(extension.properties.settings.fileUris).toEqual([
        `${deploymentParameters.packageBaseUrl}/install-media-host.ps1`,
        `${deploymentParameters.packageBaseUrl}/attest-media-host-0.1.0-win-x64.zip`,
        `${deploymentParameters.packageBaseUrl}/SHA256SUMS`,
      ]);
      // The command (with its settings) is protected: not readable back from the scale set model.
      expect(extension.properties.settings.commandToExecute).toBeUndefined();
      const command = String(extension.properties.protectedSettings.commandToExecute);
      expect(command).toContain(
        '-File install-media-host.ps1 -PackageFile attest-media-host-0.1.0-win-x64.zip',
      );
      const settings = JSON.parse(
        Buffer.from(/-SettingsBase64 (\S+)/.exec(command)?.[1] ?? '', 'base64').toString('utf8'),
      ) as MediaHostInstallSettings;
      expect(settings).toEqual(mediaInstall);
    });

    it('follow the instance count parameter', () => {
      const scaled = new ArmScope(
        template,
        { ...deploymentParameters, mediaHostInstanceCount: 5 },
        context,
      );
      const set = ofType(
        moduleResources(scaled, 'mediaHosts'),
        'Microsoft.Compute/virtualMachineScaleSets',
      )[0];
      expect(set?.sku.capacity).toBe(5);
    });
  });

  it('deploys the function app package from the release folder', () => {
    const deploy = ofType(
      moduleResources(scope, 'functionApp'),
      'Microsoft.Web/sites/extensions',
    )[0];
    expect(deploy?.properties.packageUri).toBe(
      `${deploymentParameters.packageBaseUrl}/attest-functions-0.1.0.zip`,
    );
  });
});

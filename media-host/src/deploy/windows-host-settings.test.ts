import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pfxFromPem } from './pem-to-pfx';
import {
  BRIDGE_SERVICE_ID,
  buildWindowsHostFiles,
  envFileText,
  MEDIA_HOST_SERVICE_ID,
  type MachineFacts,
  type MediaHostInstallSettings,
} from './windows-host-settings';

const install: MediaHostInstallSettings = {
  env: {
    AZURE_CLIENT_ID: 'client-id',
    ATTEST_MEDIA_REGION: 'westeurope',
    ATTEST_MEDIA_PROTOCOL_PORT: '7401',
    ATTEST_MEDIA_STORAGE_ACCOUNT_URL: 'https://rec.blob.core.windows.net/',
  },
  controlKeySecretUri: 'https://kv.vault.azure.net/secrets/media-control-key/1',
  certificateSecretUri: 'https://kv.vault.azure.net/secrets/media-tls',
  mediaPort: 8445,
  controlPort: 7400,
  dnsDomain: '',
  identityClientId: 'client-id',
  botAppId: '6d1c5a2e-0b7f-4c55-9a41-2f3e8d9b7c10',
};

const machine: MachineFacts = {
  computerName: 'ATTESTM000002',
  privateIp: '10.42.0.5',
  azureFqdn: 'Attest-Media-x1.westeurope.cloudapp.azure.com',
  releaseDir: 'C:\\Attest\\releases\\1.0.0',
  configDir: 'C:\\ProgramData\\Attest',
  spoolDir: 'F:\\attest\\spool',
  tlsPemFile: 'C:\\ProgramData\\Attest\\media-tls.pem',
  hasBridge: false,
};
const secrets = { controlKey: 'a-control-key-of-enough-length' };
const bridgeMachine: MachineFacts = {
  ...machine,
  hasBridge: true,
  publicIp: '20.61.10.7',
  certificateThumbprint: '0123456789abcdef0123456789abcdef01234567',
};
const bridgeSecrets = { ...secrets, bridgeControlKey: 'k'.repeat(43) };

/** The settings BridgeSettings.Load requires (no default), read from the bridge's own source. */
function requiredBridgeSettings(): string[] {
  const source = readFileSync(
    join(__dirname, '../../bridge/src/Attest.MediaBridge.Core/Configuration/BridgeSettings.cs'),
    'utf8',
  );
  const names = new Map(
    [...source.matchAll(/public const string (\w+) = "(ATTEST_BRIDGE_\w+)"/g)].map((m) => [
      m[1] ?? '',
      m[2] ?? '',
    ]),
  );
  const required = [
    ...source.matchAll(/Required\(Keys\.(\w+)\)/g),
    ...source.matchAll(/Integer\(Keys\.(\w+), null,/g),
  ].map((m) => names.get(m[1] ?? '') ?? `unknown ${m[1]}`);
  return [...new Set(required)].sort();
}

describe('buildWindowsHostFiles', () => {
  it('binds the control API to the private address and names the host by its public DNS name', () => {
    const { env } = buildWindowsHostFiles(install, machine, secrets);
    expect(env).toMatchObject({
      ATTEST_MEDIA_HOST_ID: 'attestm000002',
      ATTEST_MEDIA_CONTROL_HOST: '10.42.0.5',
      ATTEST_MEDIA_CONTROL_PORT: '7400',
      ATTEST_MEDIA_PUBLIC_HOST: 'attest-media-x1.westeurope.cloudapp.azure.com',
      ATTEST_MEDIA_SPOOL_DIR: 'F:\\attest\\spool',
      ATTEST_MEDIA_TLS_CERT_FILE: machine.tlsPemFile,
      ATTEST_MEDIA_TLS_KEY_FILE: machine.tlsPemFile,
      ATTEST_MEDIA_REGION: 'westeurope',
    });
  });

  it("names the host under the customer's domain when one is given", () => {
    const { env } = buildWindowsHostFiles(
      { ...install, dnsDomain: 'Media.Contoso.com' },
      { ...machine, azureFqdn: '' },
      secrets,
    );
    expect(env.ATTEST_MEDIA_PUBLIC_HOST).toBe('attestm000002.media.contoso.com');
  });

  it('writes the settings file into the protected config folder, control key included', () => {
    const { files } = buildWindowsHostFiles(install, machine, secrets);
    const text = files['C:\\ProgramData\\Attest\\media-host.env'] ?? '';
    expect(text).toContain('ATTEST_MEDIA_CONTROL_KEY=a-control-key-of-enough-length\n');
    expect(text).toContain('ATTEST_MEDIA_SPOOL_DIR=F:\\attest\\spool\n');
  });

  it('defines the media host service: node with the settings file, automatic start, restart on failure', () => {
    const { files, services } = buildWindowsHostFiles(install, machine, secrets);
    expect(services).toEqual([MEDIA_HOST_SERVICE_ID]);
    const xml = files[`C:\\Attest\\releases\\1.0.0\\service\\${MEDIA_HOST_SERVICE_ID}.xml`] ?? '';
    expect(xml).toContain('<executable>C:\\Attest\\releases\\1.0.0\\node\\node.exe</executable>');
    expect(xml).toContain(
      '<arguments>--env-file=&quot;C:\\ProgramData\\Attest\\media-host.env&quot; &quot;C:\\Attest\\releases\\1.0.0\\app\\media-host\\dist\\main.js&quot;</arguments>',
    );
    expect(xml).toContain('<startmode>Automatic</startmode>');
    expect(xml.match(/<onfailure action="restart"/g)).toHaveLength(3);
    expect(xml).not.toContain('a-control-key-of-enough-length');
  });

  it('defines the bridge service after the media host when the package has the bridge', () => {
    const { files, services } = buildWindowsHostFiles(install, bridgeMachine, bridgeSecrets);
    expect(services).toEqual([MEDIA_HOST_SERVICE_ID, BRIDGE_SERVICE_ID]);
    const xml = files[`C:\\Attest\\releases\\1.0.0\\service\\${BRIDGE_SERVICE_ID}.xml`] ?? '';
    expect(xml).toContain(`<depend>${MEDIA_HOST_SERVICE_ID}</depend>`);
    expect(xml).toContain('<env name="ATTEST_BRIDGE_MEDIA_PUBLIC_PORT" value="8445"/>');
    expect(xml).toContain(
      '<env name="ATTEST_BRIDGE_SERVICE_FQDN" value="attest-media-x1.westeurope.cloudapp.azure.com"/>',
    );
    expect(xml).toContain(
      '<env name="ATTEST_BRIDGE_CERTIFICATE_THUMBPRINT" value="0123456789ABCDEF0123456789ABCDEF01234567"/>',
    );
  });

  it('gives the bridge every setting it requires, under the names it reads', () => {
    const { files } = buildWindowsHostFiles(install, bridgeMachine, bridgeSecrets);
    const xml = files[`C:\\Attest\\releases\\1.0.0\\service\\${BRIDGE_SERVICE_ID}.xml`] ?? '';
    const given = [...xml.matchAll(/<env name="(\w+)" value="([^"]*)"\/>/g)]
      .filter((m) => (m[2] ?? '') !== '')
      .map((m) => m[1]);
    const required = requiredBridgeSettings();
    expect(required.length).toBeGreaterThanOrEqual(7);
    for (const name of required) expect(given).toContain(name);
  });

  it('points the media host at the bridge with the same loopback key', () => {
    const { env, files } = buildWindowsHostFiles(install, bridgeMachine, bridgeSecrets);
    expect(env).toMatchObject({
      ATTEST_MEDIA_BRIDGE_URL: 'http://127.0.0.1:9441',
      ATTEST_MEDIA_BRIDGE_CONTROL_KEY: 'k'.repeat(43),
      ATTEST_MEDIA_LOOPBACK_PORT: '7402',
    });
    const xml = files[`C:\\Attest\\releases\\1.0.0\\service\\${BRIDGE_SERVICE_ID}.xml`] ?? '';
    expect(xml).toContain(`<env name="ATTEST_BRIDGE_CONTROL_KEY" value="${'k'.repeat(43)}"/>`);
    expect(xml).toContain('<env name="ATTEST_BRIDGE_CONTROL_PORT" value="9441"/>');
  });

  it('names the bridge facts it lacks, never their values', () => {
    expect(() =>
      buildWindowsHostFiles(
        { ...install, botAppId: 'not-a-guid' },
        { ...bridgeMachine, publicIp: '', certificateThumbprint: 'abc' },
        { ...secrets, bridgeControlKey: 'short' },
      ),
    ).toThrow(
      'media host install settings are invalid: botAppId, publicIp, certificateThumbprint, bridgeControlKey',
    );
  });

  it('names every bad input at once and never its value', () => {
    expect(() =>
      buildWindowsHostFiles(
        { ...install, env: { ...install.env, ATTEST_MEDIA_REGION: 'two\nlines' } },
        { ...machine, privateIp: 'not-an-ip', azureFqdn: '' },
        { controlKey: 'short' },
      ),
    ).toThrow(
      'media host install settings are invalid: privateIp, azureFqdn, controlKey, env.ATTEST_MEDIA_REGION',
    );
  });
});

describe('envFileText', () => {
  it('sorts keys and quotes values with spaces or quotes', () => {
    expect(envFileText({ B: 'two words', A: 'plain' })).toBe('A=plain\nB="two words"\n');
  });
});

describe('pfxFromPem', () => {
  it('refuses a PEM without a private key, naming what it needs', () => {
    const certOnly = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    expect(() => pfxFromPem(certOnly, 'password-0123456789')).toThrow(
      'the media certificate must be PEM with the certificate and its RSA private key',
    );
  });
});

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import forge from 'node-forge';
import { loadConfig } from '../../media-host/src/config/media-host.config';

const root = resolve(__dirname, '../..');
const script = readFileSync(join(root, 'media-host/deploy/install-media-host.ps1'), 'utf8');
const bicep = readFileSync(join(root, 'infra/modules/media-hosts.bicep'), 'utf8');
const configure = join(root, 'media-host/dist/deploy/configure-windows-host.js');

/** `-Name` parameters a PowerShell param() block declares. */
function declaredParameters(text: string): string[] {
  const block = /\bparam\(([\s\S]*?)\n\)/.exec(text)?.[1] ?? '';
  return [...block.matchAll(/\$([A-Za-z0-9]+)/g)].map((m) => m[1] ?? '');
}

describe('install-media-host.ps1', () => {
  it('declares every parameter the scale set extension passes, and requires them', () => {
    const command = /commandToExecute: '([^']+)'/.exec(bicep)?.[1] ?? '';
    const passed = [...command.matchAll(/ -([A-Z][A-Za-z0-9]+)/g)].map((m) => m[1]);
    expect(passed).toEqual([
      'NoProfile',
      'ExecutionPolicy',
      'File',
      'PackageFile',
      'ChecksumFile',
      'SettingsBase64',
    ]);
    const declared = declaredParameters(script);
    for (const name of ['PackageFile', 'ChecksumFile', 'SettingsBase64']) {
      expect(declared).toContain(name);
      expect(script).toMatch(new RegExp(`Mandatory = \\$true\\)\\] \\[string\\] \\$${name}`));
    }
  });

  it('passes configure-windows-host only options it accepts, and the control key only by environment', () => {
    const options = [...script.matchAll(/'--([a-z0-9-]+)'/g)].map((m) => m[1]);
    expect(options.sort()).toEqual(
      [
        'azure-fqdn',
        'bridge',
        'computer-name',
        'config-dir',
        'private-ip',
        'public-ip',
        'release-dir',
        'settings-base64',
        'spool-dir',
        'tls-pem-file',
        'pfx-file',
      ].sort(),
    );
    expect(script).toContain('$env:ATTEST_INSTALL_CONTROL_KEY = $controlKey');
    expect(script).not.toMatch(/'--control-key'/);
    expect(script).toContain('$env:ATTEST_INSTALL_PFX_PASSWORD = $pfxPassword');
  });

  it('verifies the package against SHA256SUMS before unpacking it', () => {
    expect(script.indexOf('Get-FileHash -Algorithm SHA256 $PackageFile')).toBeGreaterThan(0);
    expect(script.indexOf('Get-FileHash -Algorithm SHA256 $PackageFile')).toBeLessThan(
      script.indexOf('Expand-Archive -Path $PackageFile'),
    );
  });

  describe('configure-windows-host (what the script runs with the packaged Node)', () => {
    let cwd: string;
    beforeEach(() => {
      cwd = mkdtempSync(join(tmpdir(), 'attest-configure-'));
    });
    afterEach(() => rmSync(cwd, { recursive: true, force: true }));

    const settings = {
      env: {
        AZURE_CLIENT_ID: 'client-id',
        ATTEST_MEDIA_REGION: 'westeurope',
        ATTEST_MEDIA_STORAGE_ACCOUNT_URL: 'https://rec.blob.core.windows.net/',
        ATTEST_MEDIA_KEYVAULT_URI: 'https://kv.vault.azure.net/',
        ATTEST_MEDIA_FUNCTIONS_URL: 'https://func.azurewebsites.net',
      },
      controlKeySecretUri: 'https://kv.vault.azure.net/secrets/media-control-key/1',
      certificateSecretUri: 'https://kv.vault.azure.net/secrets/media-tls',
      mediaPort: 8445,
      controlPort: 7400,
      dnsDomain: '',
      identityClientId: 'client-id',
      botAppId: '6d1c5a2e-0b7f-4c55-9a41-2f3e8d9b7c10',
    };
    const args = [
      configure,
      '--settings-base64',
      Buffer.from(JSON.stringify(settings)).toString('base64'),
      '--computer-name',
      'attestm000001',
      '--private-ip',
      '10.42.0.4',
      '--public-ip',
      '20.61.10.4',
      '--azure-fqdn',
      'attest-media-x0.westeurope.cloudapp.azure.com',
      '--release-dir',
      'C:\\Attest\\releases\\1.0.0',
      '--config-dir',
      'C:\\ProgramData\\Attest',
      '--spool-dir',
      'F:\\attest\\spool',
      '--tls-pem-file',
      'C:\\ProgramData\\Attest\\media-tls.pem',
    ];

    it('writes a settings file the media host loadConfig accepts and prints the services to install', () => {
      // With the bridge, the certificate's thumbprint is read from the PEM the script wrote.
      writeFileSync(
        join(cwd, 'C:\\ProgramData\\Attest\\media-tls.pem'),
        readFileSync(join(root, '.data/ca/server-cert.pem'), 'utf8') +
          readFileSync(join(root, '.data/ca/server-key.pem'), 'utf8'),
      );
      const services = execFileSync(process.execPath, [...args, '--bridge'], {
        cwd,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          ATTEST_INSTALL_CONTROL_KEY: 'key-from-key-vault-0123456789',
        },
      });
      expect(services.trim().split('\n')).toEqual(['attest-media-host', 'attest-media-bridge']);
      // On Linux the Windows path is one file name in the working folder.
      const envText = readFileSync(join(cwd, 'C:\\ProgramData\\Attest\\media-host.env'), 'utf8');
      const env = Object.fromEntries(
        envText
          .trim()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      const config = loadConfig(env);
      expect(config.controlHost).toBe('10.42.0.4');
      expect(config.controlKey).toBe('key-from-key-vault-0123456789');
      expect(config.publicHost).toBe('attest-media-x0.westeurope.cloudapp.azure.com');
      expect(env.ATTEST_MEDIA_BRIDGE_URL).toBe('http://127.0.0.1:9441');
      expect(env.ATTEST_MEDIA_BRIDGE_CONTROL_KEY).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const bridgeXml = readFileSync(
        join(cwd, 'C:\\Attest\\releases\\1.0.0\\service\\attest-media-bridge.xml'),
        'utf8',
      );
      const expectedThumbprint = new X509Certificate(
        readFileSync(join(root, '.data/ca/server-cert.pem'), 'utf8'),
      ).fingerprint.replace(/:/g, '');
      expect(bridgeXml).toContain(
        `<env name="ATTEST_BRIDGE_CERTIFICATE_THUMBPRINT" value="${expectedThumbprint}"/>`,
      );
      expect(bridgeXml).toContain(
        `<env name="ATTEST_BRIDGE_CONTROL_KEY" value="${env.ATTEST_MEDIA_BRIDGE_CONTROL_KEY}"/>`,
      );
      expect(bridgeXml).toContain('<env name="ATTEST_BRIDGE_PUBLIC_IP" value="20.61.10.4"/>');
    });

    it('writes the certificate as PKCS#12 for the machine store, protected by the password it is given', () => {
      const pem = join(cwd, 'media.pem');
      writeFileSync(
        pem,
        readFileSync(join(root, '.data/ca/server-cert.pem'), 'utf8') +
          readFileSync(join(root, '.data/ca/server-key.pem'), 'utf8'),
      );
      const pfx = join(cwd, 'media.pfx');
      const withPem = args.map((arg) =>
        arg === 'C:\\ProgramData\\Attest\\media-tls.pem' ? pem : arg,
      );
      execFileSync(process.execPath, [...withPem, '--pfx-file', pfx], {
        cwd,
        env: {
          PATH: process.env.PATH,
          ATTEST_INSTALL_CONTROL_KEY: 'key-from-key-vault-0123456789',
          ATTEST_INSTALL_PFX_PASSWORD: 'pfx-password-0123456789',
        },
      });
      const certBag = forge.pki.oids.certBag as string;
      const keyBag = forge.pki.oids.pkcs8ShroudedKeyBag as string;
      const p12 = forge.pkcs12.pkcs12FromAsn1(
        forge.asn1.fromDer(readFileSync(pfx).toString('binary')),
        'pfx-password-0123456789',
      );
      const certBags = p12.getBags({ bagType: certBag })[certBag] ?? [];
      const keyBags = p12.getBags({ bagType: keyBag })[keyBag] ?? [];
      expect(certBags).toHaveLength(1);
      expect(keyBags).toHaveLength(1);
      expect(forge.pki.certificateToPem(certBags[0]!.cert!).replace(/\r/g, '')).toBe(
        readFileSync(join(root, '.data/ca/server-cert.pem'), 'utf8').replace(/\r/g, ''),
      );
      expect(() =>
        forge.pkcs12.pkcs12FromAsn1(
          forge.asn1.fromDer(readFileSync(pfx).toString('binary')),
          'wrong',
        ),
      ).toThrow();
    });

    it('fails with one line naming the problem when the control key is missing', () => {
      let stderr = '';
      try {
        execFileSync(process.execPath, args, {
          cwd,
          encoding: 'utf8',
          env: { PATH: process.env.PATH },
          stdio: 'pipe',
        });
      } catch (error) {
        stderr = String((error as { stderr?: string }).stderr);
      }
      expect(stderr.trim()).toBe(
        'configure-windows-host: media host install settings are invalid: controlKey',
      );
    });
  });
});

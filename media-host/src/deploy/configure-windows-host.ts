/**
 * `node.exe app\media-host\dist\deploy\configure-windows-host.js`, run by the install script on an
 * Azure instance: writes the media host's settings file and the service definitions from the
 * deployment's settings (base64 JSON) and the machine's facts. The control key comes in the
 * environment (`ATTEST_INSTALL_CONTROL_KEY`), never on the command line. With `--pfx-file` it
 * also writes the certificate as PKCS#12 for the machine store (password in
 * `ATTEST_INSTALL_PFX_PASSWORD`). Prints the service ids to install, one a line.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { pfxFromPem } from './pem-to-pfx';
import { buildWindowsHostFiles, type MediaHostInstallSettings } from './windows-host-settings';

/** SHA-1 thumbprint of the PEM's first certificate, as Windows names it in the machine store. */
function thumbprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint.replace(/:/g, '');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      'settings-base64': { type: 'string' },
      'computer-name': { type: 'string' },
      'private-ip': { type: 'string' },
      'public-ip': { type: 'string', default: '' },
      'azure-fqdn': { type: 'string', default: '' },
      'release-dir': { type: 'string' },
      'config-dir': { type: 'string' },
      'spool-dir': { type: 'string' },
      'tls-pem-file': { type: 'string' },
      bridge: { type: 'boolean', default: false },
      'pfx-file': { type: 'string' },
    },
    strict: true,
  });
  const need = (name: keyof typeof values): string => {
    const value = values[name];
    if (typeof value !== 'string' || value === '') throw new Error(`--${name} is required`);
    return value;
  };
  const install = JSON.parse(
    Buffer.from(need('settings-base64'), 'base64').toString('utf8'),
  ) as MediaHostInstallSettings;
  const hasBridge = values.bridge === true;
  const result = buildWindowsHostFiles(
    install,
    {
      computerName: need('computer-name'),
      privateIp: need('private-ip'),
      azureFqdn: values['azure-fqdn'] ?? '',
      releaseDir: need('release-dir'),
      configDir: need('config-dir'),
      spoolDir: need('spool-dir'),
      tlsPemFile: need('tls-pem-file'),
      hasBridge,
      ...(hasBridge
        ? {
            publicIp: values['public-ip'] ?? '',
            certificateThumbprint: thumbprintOf(readFileSync(need('tls-pem-file'), 'utf8')),
          }
        : {}),
    },
    {
      controlKey: process.env.ATTEST_INSTALL_CONTROL_KEY ?? '',
      // Made anew at each install: only the two services on this instance share it.
      ...(hasBridge ? { bridgeControlKey: randomBytes(32).toString('base64url') } : {}),
    },
  );
  for (const [path, content] of Object.entries(result.files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { encoding: 'utf8', mode: 0o600 });
  }
  // The bridge's copy of the certificate, for the machine store (password from the environment).
  const pfxFile = values['pfx-file'];
  if (pfxFile !== undefined) {
    const password = process.env.ATTEST_INSTALL_PFX_PASSWORD ?? '';
    if (password.length < 16)
      throw new Error('ATTEST_INSTALL_PFX_PASSWORD is required with --pfx-file');
    writeFileSync(pfxFile, pfxFromPem(readFileSync(need('tls-pem-file'), 'utf8'), password), {
      mode: 0o600,
    });
  }
  process.stdout.write(`${result.services.join('\n')}\n`);
}

try {
  main();
} catch (error: unknown) {
  process.stderr.write(
    `configure-windows-host: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}

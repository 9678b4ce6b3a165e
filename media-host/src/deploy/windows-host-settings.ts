/**
 * What an Azure media host instance runs with: its `ATTEST_MEDIA_*` settings file and the Windows
 * service definitions (WinSW XML) of the media host and, when packaged, the bridge. Pure: the
 * install script gathers the machine's facts (name, private address, DNS name, secrets read from
 * Key Vault with the instance's identity) and `configure-windows-host` writes what this returns.
 */
import { win32 } from 'node:path';

/** The `mediaHostInstall` output of `infra/modules/settings.bicep` (no secrets). */
export interface MediaHostInstallSettings {
  /** `ATTEST_MEDIA_*` (and `AZURE_CLIENT_ID`) known at deployment time. */
  readonly env: Readonly<Record<string, string>>;
  readonly controlKeySecretUri: string;
  readonly certificateSecretUri: string;
  readonly mediaPort: number;
  readonly controlPort: number;
  /** The customer's DNS domain of the instances' names; empty = the Azure name. */
  readonly dnsDomain: string;
  readonly identityClientId: string;
  /** The bot's Entra application (client) id: the bridge initializes the media platform with it. */
  readonly botAppId: string;
}

/** Facts of one instance, found by the install script. */
export interface MachineFacts {
  /** Windows computer name (the host id). */
  readonly computerName: string;
  /** Private address of the primary NIC: the control API binds here, never to a public address. */
  readonly privateIp: string;
  /** The instance's public DNS name from Azure (`<label><index>.<region>.cloudapp.azure.com`). */
  readonly azureFqdn: string;
  /** Folder of the installed release (`C:\Attest\releases\<version>`). */
  readonly releaseDir: string;
  /** Folder of settings and keys (`C:\ProgramData\Attest`), readable by SYSTEM and Administrators only. */
  readonly configDir: string;
  /** Spool folder on the data disk (`F:\attest\spool`). */
  readonly spoolDir: string;
  /** PEM file holding the media certificate and its private key. */
  readonly tlsPemFile: string;
  /** Whether the package holds the .NET bridge. */
  readonly hasBridge: boolean;
  /** The instance's public IP address (Resource Manager); the bridge's media platform needs it. */
  readonly publicIp?: string;
  /** SHA-1 thumbprint of the media certificate, as installed in `LocalMachine\My` for the bridge. */
  readonly certificateThumbprint?: string;
}

/** Secrets the instance's files hold (the config folder is ACL-restricted). */
export interface WindowsHostSecrets {
  /** The function app's key for the control API (from Key Vault). */
  readonly controlKey: string;
  /** A key of this instance alone between the media host and the bridge (made at install). */
  readonly bridgeControlKey?: string;
}

/** The bridge's control API on loopback (its default port). */
export const BRIDGE_CONTROL_PORT = 9441;
/** The media host's loopback media listener without TLS, for the bridge on the same instance. */
export const MEDIA_LOOPBACK_PORT = 7402;

export interface WindowsHostFiles {
  /** Path → content of every file to write. */
  readonly files: Readonly<Record<string, string>>;
  /** The settings the media host starts with (secrets included: the file is ACL-restricted). */
  readonly env: Readonly<Record<string, string>>;
  /** Service ids in start order. */
  readonly services: readonly string[];
}

export const MEDIA_HOST_SERVICE_ID = 'attest-media-host';
export const BRIDGE_SERVICE_ID = 'attest-media-bridge';

/** Builds the files; throws naming the bad input (never its value). */
export function buildWindowsHostFiles(
  install: MediaHostInstallSettings,
  machine: MachineFacts,
  secrets: WindowsHostSecrets,
): WindowsHostFiles {
  const problems: string[] = [];
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(machine.privateIp)) problems.push('privateIp');
  if (!/^[A-Za-z0-9-]{1,15}$/.test(machine.computerName)) problems.push('computerName');
  if (install.dnsDomain === '' && machine.azureFqdn === '') problems.push('azureFqdn');
  if (secrets.controlKey.length < 16) problems.push('controlKey');
  if (machine.hasBridge) {
    if (!/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(install.botAppId))
      problems.push('botAppId');
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(machine.publicIp ?? '')) problems.push('publicIp');
    if (!/^[0-9A-Fa-f]{40}$/.test(machine.certificateThumbprint ?? ''))
      problems.push('certificateThumbprint');
    if ((secrets.bridgeControlKey ?? '').length < 32) problems.push('bridgeControlKey');
  }
  for (const [key, value] of Object.entries(install.env))
    if (!/^[A-Z][A-Z0-9_]*$/.test(key) || /[\r\n]/.test(value)) problems.push(`env.${key}`);
  if (problems.length > 0)
    throw new Error(`media host install settings are invalid: ${problems.join(', ')}`);

  const publicHost =
    install.dnsDomain === ''
      ? machine.azureFqdn.toLowerCase()
      : `${machine.computerName.toLowerCase()}.${install.dnsDomain.toLowerCase()}`;
  const env: Record<string, string> = {
    ...install.env,
    ATTEST_MEDIA_HOST_ID: machine.computerName.toLowerCase(),
    ATTEST_MEDIA_CONTROL_HOST: machine.privateIp,
    ATTEST_MEDIA_CONTROL_PORT: String(install.controlPort),
    ATTEST_MEDIA_CONTROL_KEY: secrets.controlKey,
    ATTEST_MEDIA_PUBLIC_HOST: publicHost,
    ATTEST_MEDIA_TLS_CERT_FILE: machine.tlsPemFile,
    ATTEST_MEDIA_TLS_KEY_FILE: machine.tlsPemFile,
    ATTEST_MEDIA_SPOOL_DIR: machine.spoolDir,
    ...(machine.hasBridge
      ? {
          ATTEST_MEDIA_LOOPBACK_PORT: String(MEDIA_LOOPBACK_PORT),
          // Teams' media reaches the bridge's port; attest doctor checks it from outside.
          ATTEST_MEDIA_PUBLIC_MEDIA_PORT: String(install.mediaPort),
          ATTEST_MEDIA_BRIDGE_URL: `http://127.0.0.1:${BRIDGE_CONTROL_PORT}`,
          ATTEST_MEDIA_BRIDGE_CONTROL_KEY: secrets.bridgeControlKey ?? '',
        }
      : {}),
  };
  const envFile = win32.join(machine.configDir, 'media-host.env');
  const logDir = win32.join(machine.configDir, 'logs');
  const nodeExe = win32.join(machine.releaseDir, 'node', 'node.exe');
  const mainJs = win32.join(machine.releaseDir, 'app', 'media-host', 'dist', 'main.js');
  const serviceDir = win32.join(machine.releaseDir, 'service');
  const files: Record<string, string> = {
    [envFile]: envFileText(env),
    [win32.join(serviceDir, `${MEDIA_HOST_SERVICE_ID}.xml`)]: serviceXml({
      id: MEDIA_HOST_SERVICE_ID,
      name: 'Attest media host',
      description: 'Receives Teams media from the bridge and streams it to Blob Storage.',
      executable: nodeExe,
      arguments: `--env-file="${envFile}" "${mainJs}"`,
      workingDirectory: win32.join(machine.releaseDir, 'app'),
      logDir,
      // Sessions seal and flush their spool on stop; give them time.
      stopTimeoutInSeconds: 120,
    }),
  };
  const services = [MEDIA_HOST_SERVICE_ID];
  if (machine.hasBridge) {
    files[win32.join(serviceDir, `${BRIDGE_SERVICE_ID}.xml`)] = serviceXml({
      id: BRIDGE_SERVICE_ID,
      name: 'Attest media bridge',
      description: 'Hosts the Teams real-time media sockets and forwards frames to the media host.',
      executable: win32.join(machine.releaseDir, 'bridge', 'Attest.MediaBridge.exe'),
      arguments: '',
      workingDirectory: win32.join(machine.releaseDir, 'bridge'),
      logDir,
      stopTimeoutInSeconds: 60,
      dependsOn: MEDIA_HOST_SERVICE_ID,
      // The names BridgeSettings reads (media-host/bridge); the key is not secret-free, so the
      // service definition sits in the release folder, which only SYSTEM and Administrators write.
      env: {
        ATTEST_BRIDGE_APP_ID: install.botAppId,
        ATTEST_BRIDGE_CERTIFICATE_THUMBPRINT: (machine.certificateThumbprint ?? '').toUpperCase(),
        ATTEST_BRIDGE_MEDIA_INTERNAL_PORT: String(install.mediaPort),
        ATTEST_BRIDGE_MEDIA_PUBLIC_PORT: String(install.mediaPort),
        ATTEST_BRIDGE_PUBLIC_IP: machine.publicIp ?? '',
        ATTEST_BRIDGE_SERVICE_FQDN: publicHost,
        ATTEST_BRIDGE_CONTROL_PORT: String(BRIDGE_CONTROL_PORT),
        ATTEST_BRIDGE_CONTROL_KEY: secrets.bridgeControlKey ?? '',
      },
    });
    services.push(BRIDGE_SERVICE_ID);
  }
  return { files, env, services };
}

/** A file for `node --env-file`: one `KEY=value` a line, values quoted when they need it. */
export function envFileText(env: Readonly<Record<string, string>>): string {
  return (
    Object.entries(env)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => `${key}=${/[\s#"'`]/.test(value) ? `"${value}"` : value}`)
      .join('\n') + '\n'
  );
}

interface ServiceDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly executable: string;
  readonly arguments: string;
  readonly workingDirectory: string;
  readonly logDir: string;
  readonly stopTimeoutInSeconds: number;
  readonly dependsOn?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** A WinSW 2 service definition: automatic start, restarted on failure. */
function serviceXml(service: ServiceDefinition): string {
  const x = (value: string): string =>
    value
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;');
  const lines = [
    '<service>',
    `  <id>${x(service.id)}</id>`,
    `  <name>${x(service.name)}</name>`,
    `  <description>${x(service.description)}</description>`,
    `  <executable>${x(service.executable)}</executable>`,
    `  <arguments>${x(service.arguments)}</arguments>`,
    `  <workingdirectory>${x(service.workingDirectory)}</workingdirectory>`,
    '  <startmode>Automatic</startmode>',
    ...(service.dependsOn !== undefined ? [`  <depend>${x(service.dependsOn)}</depend>`] : []),
    ...Object.entries(service.env ?? {}).map(
      ([name, value]) => `  <env name="${x(name)}" value="${x(value)}"/>`,
    ),
    // Restart after 5 s, then 30 s, then every minute; the count resets after an hour up.
    '  <onfailure action="restart" delay="5 sec"/>',
    '  <onfailure action="restart" delay="30 sec"/>',
    '  <onfailure action="restart" delay="60 sec"/>',
    '  <resetfailure>1 hour</resetfailure>',
    `  <stoptimeout>${service.stopTimeoutInSeconds} sec</stoptimeout>`,
    `  <logpath>${x(service.logDir)}</logpath>`,
    '  <log mode="roll-by-size">',
    '    <sizeThreshold>10240</sizeThreshold>',
    '    <keepFiles>8</keepFiles>',
    '  </log>',
    '</service>',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The simulator's local certificate authority. On first use it creates, in `dir`
 * (default `.data/ca` under the current working directory):
 *
 *   ca-cert.pem       the CA certificate (give it to Node with NODE_EXTRA_CA_CERTS)
 *   ca-key.pem        the CA private key
 *   server-cert.pem   a server certificate for 127.0.0.1 and localhost, signed by the CA
 *   server-key.pem    its private key
 *
 * Existing files are reused, so every process of one checkout trusts the same CA.
 * CLI: `node local/dist/simulator/ca/ensure-ca.js [dir]` prints the CA certificate path.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import forge from 'node-forge';

export const CA_FILE_NAMES = {
  caCert: 'ca-cert.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server-cert.pem',
  serverKey: 'server-key.pem',
} as const;

export interface LocalCa {
  readonly dir: string;
  readonly caCertPath: string;
  readonly caCertPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
}

const DEFAULT_CA_DIR = join('.data', 'ca');
const CA_VALIDITY_IN_DAYS = 3650;
const SERVER_VALIDITY_IN_DAYS = 825;

function newKeyPair(): { publicKeyPem: string; privateKeyPem: string } {
  // Node's native generator: node-forge's pure-JS RSA key generation takes seconds.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

function serialNumber(): string {
  // Positive: the top bit of the first byte cleared.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, days: number): void {
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(notBefore.getTime() + days * 24 * 60 * 60 * 1000);
}

function createCa(): { certPem: string; keyPem: string } {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = serialNumber();
  validity(cert, CA_VALIDITY_IN_DAYS);
  const subject = [
    { name: 'commonName', value: 'Attest Local Development CA' },
    { name: 'organizationName', value: 'Attest (local)' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const key = forge.pki.privateKeyFromPem(keys.privateKeyPem);
  cert.sign(key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/** What {@link issueServerCertificate} puts in a certificate. */
export interface ServerCertificateRequest {
  /** DNS names (subject alternative names); the first is also the common name. */
  readonly dnsNames: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Default 825 days from an hour ago. */
  readonly validityInDays?: number;
}

function createServerCert(
  caCertPem: string,
  caKeyPem: string,
  request: ServerCertificateRequest = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
): { certPem: string; keyPem: string } {
  const caCert = forge.pki.certificateFromPem(caCertPem);
  const caKey = forge.pki.privateKeyFromPem(caKeyPem);
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = serialNumber();
  validity(cert, request.validityInDays ?? SERVER_VALIDITY_IN_DAYS);
  cert.setSubject([{ name: 'commonName', value: request.dnsNames[0] ?? 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...request.dnsNames.map((value) => ({ type: 2, value })),
        ...(request.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
      ],
    },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/** Creates the CA and the server certificate when missing; idempotent. */
export function ensureLocalCa(dir: string = DEFAULT_CA_DIR): LocalCa {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const path = (name: string): string => join(root, name);
  if (!existsSync(path(CA_FILE_NAMES.caCert)) || !existsSync(path(CA_FILE_NAMES.caKey))) {
    const ca = createCa();
    writeFileSync(path(CA_FILE_NAMES.caKey), ca.keyPem, { mode: 0o600 });
    writeFileSync(path(CA_FILE_NAMES.caCert), ca.certPem);
    // A new CA invalidates any older server certificate.
    writeServer(root, ca.certPem, ca.keyPem);
  } else if (
    !existsSync(path(CA_FILE_NAMES.serverCert)) ||
    !existsSync(path(CA_FILE_NAMES.serverKey))
  ) {
    writeServer(
      root,
      readFileSync(path(CA_FILE_NAMES.caCert), 'utf8'),
      readFileSync(path(CA_FILE_NAMES.caKey), 'utf8'),
    );
  }
  return {
    dir: root,
    caCertPath: path(CA_FILE_NAMES.caCert),
    caCertPem: readFileSync(path(CA_FILE_NAMES.caCert), 'utf8'),
    serverCertPem: readFileSync(path(CA_FILE_NAMES.serverCert), 'utf8'),
    serverKeyPem: readFileSync(path(CA_FILE_NAMES.serverKey), 'utf8'),
  };
}

/**
 * Issues another server certificate from the CA in `dir` (created when missing), for tests that
 * need a name other than localhost (a media host's public name) or a short validity.
 */
export function issueServerCertificate(
  request: ServerCertificateRequest,
  dir: string = DEFAULT_CA_DIR,
): { certPem: string; keyPem: string } {
  const ca = ensureLocalCa(dir);
  return createServerCert(
    ca.caCertPem,
    readFileSync(join(ca.dir, CA_FILE_NAMES.caKey), 'utf8'),
    request,
  );
}

function writeServer(root: string, caCertPem: string, caKeyPem: string): void {
  const server = createServerCert(caCertPem, caKeyPem);
  writeFileSync(join(root, CA_FILE_NAMES.serverKey), server.keyPem, { mode: 0o600 });
  writeFileSync(join(root, CA_FILE_NAMES.serverCert), server.certPem);
}

if (require.main === module) {
  const ca = ensureLocalCa(process.argv[2]);
  process.stdout.write(`${ca.caCertPath}\n`);
}

/**
 * The media certificate as the bridge needs it: Windows imports a PKCS#12 (PFX) file into
 * `LocalMachine\My`, and PowerShell 5.1 on Windows Server cannot read a PEM private key, so the
 * install script has the release's Node convert it with `node-forge`. RSA keys only (forge reads
 * no EC private keys); 3DES protection, which every Windows Server version imports.
 */
import forge from 'node-forge';

/** PKCS#12 of the certificate chain and private key in `pem`, protected by `password`. */
export function pfxFromPem(pem: string, password: string): Buffer {
  const certificatePems = [
    ...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g),
  ].map((match) => match[0]);
  const keyPem = /-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+?-----END (RSA )?PRIVATE KEY-----/.exec(
    pem,
  )?.[0];
  if (certificatePems.length === 0 || keyPem === undefined)
    throw new Error(
      'the media certificate must be PEM with the certificate and its RSA private key',
    );
  let key: forge.pki.rsa.PrivateKey;
  try {
    key = forge.pki.privateKeyFromPem(keyPem);
  } catch {
    throw new Error("the media certificate's private key is not an unencrypted RSA key");
  }
  const certificates = certificatePems.map((text) => forge.pki.certificateFromPem(text));
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certificates, password, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

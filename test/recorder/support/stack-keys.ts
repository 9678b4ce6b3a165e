/**
 * Key files one local stack shares between the function app and its media hosts: the KEK pair
 * (media hosts wrap data keys with the public key, the archive unwraps with the private one) and
 * the manifest signing pair, so the archive can play back and verify what any media host recorded.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StackKeyFiles {
  readonly dir: string;
  readonly kekPublic: string;
  readonly kekPrivate: string;
  readonly signingPrivate: string;
  readonly signingPublic: string;
}

export function writeStackKeyFiles(prefix: string): StackKeyFiles {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = (name: string, text: string | Buffer): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const kek = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signing = generateKeyPairSync('ed25519');
  return {
    dir,
    kekPublic: file('kek-public.pem', kek.publicKey.export({ type: 'spki', format: 'pem' })),
    kekPrivate: file('kek-private.pem', kek.privateKey.export({ type: 'pkcs8', format: 'pem' })),
    signingPrivate: file(
      'signing.pem',
      signing.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    ),
    signingPublic: file(
      'signing.pem.pub',
      signing.publicKey.export({ type: 'spki', format: 'pem' }),
    ),
  };
}

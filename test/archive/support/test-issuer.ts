/**
 * An Entra-style token issuer for archive tests: an RS256 key, its OpenID metadata and keys on a
 * loopback server, and tokens with the claims the archive's admin API reads.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const TEST_ISSUER = 'https://login.test/tenant-1/v2.0';
export const TEST_AUDIENCE = 'api://attest';

export interface TestIssuer {
  /** `TEST_ADMIN_OPENID_METADATA_URL` for the test apps. */
  readonly metadataUrl: string;
  /** A token for `tenant-1`, valid 10 minutes, signed by the issuer (or by `key`). */
  token(claims: Record<string, unknown>, key?: KeyObject): string;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const server = createServer((request, response) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    response.setHeader('content-type', 'application/json');
    if (request.url === '/.well-known/openid-configuration')
      response.end(JSON.stringify({ issuer: TEST_ISSUER, jwks_uri: `${base}/keys` }));
    else
      response.end(
        JSON.stringify({
          keys: [
            { ...signing.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' },
          ],
        }),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    metadataUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/openid-configuration`,
    token(claims, key = signing.privateKey) {
      const part = (value: unknown): string =>
        Buffer.from(JSON.stringify(value)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const body = `${part({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${part({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, tid: 'tenant-1', iat: now, nbf: now, exp: now + 600, ...claims })}`;
      return `${body}.${sign('RSA-SHA256', Buffer.from(body), key).toString('base64url')}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

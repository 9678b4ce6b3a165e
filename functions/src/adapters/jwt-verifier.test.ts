import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenIdJwtVerifier, type JwtVerifierOptions } from './jwt-verifier';

const NOW_MS = Date.parse('2030-01-01T00:00:00Z');
const nowSec = NOW_MS / 1000;
const APP_ID = 'app-1';

function keyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}
const good = keyPair();
const other = keyPair();

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
function token(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'RS256', kid: 'k1' },
  key = good.privateKey,
): string {
  const signingInput = `${b64(header)}.${b64(claims)}`;
  const signature = sign('RSA-SHA256', Buffer.from(signingInput), key).toString('base64url');
  return `${signingInput}.${signature}`;
}
const validClaims = {
  iss: 'https://api.botframework.com',
  aud: APP_ID,
  tid: 'tenant-a',
  iat: nowSec - 60,
  nbf: nowSec - 60,
  exp: nowSec + 3600,
};

describe('OpenIdJwtVerifier', () => {
  let server: Server;
  let baseUrl: string;
  let isMetadataDown = false;
  let metadataRequests = 0;
  const jwk = { ...good.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' };
  let publishedKeys: object[] = [jwk];

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (isMetadataDown) {
        res.writeHead(503).end();
        return;
      }
      if (req.url === '/.well-known/openid-configuration') {
        metadataRequests += 1;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jwks_uri: `${baseUrl}/keys` }));
      } else if (req.url === '/keys') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ keys: publishedKeys }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    isMetadataDown = false;
    metadataRequests = 0;
    publishedKeys = [jwk];
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  function verifier(
    overrides: Partial<JwtVerifierOptions> = {},
    clock: { ms: number } = { ms: NOW_MS },
  ): OpenIdJwtVerifier {
    return new OpenIdJwtVerifier({
      openIdMetadataUrl: `${baseUrl}/.well-known/openid-configuration`,
      issuers: ['https://api.botframework.com'],
      audiences: [APP_ID],
      allowedTenantIds: ['tenant-a'],
      now: () => clock.ms,
      ...overrides,
    });
  }

  it('accepts a valid token and returns its claims', async () => {
    const result = await verifier().verify(
      `Bearer ${token({ ...validClaims, roles: ['admin'], oid: 'u1' })}`,
    );
    expect(result).toMatchObject({
      isValid: true,
      token: { tenantId: 'tenant-a', audience: APP_ID, subject: 'u1', roles: ['admin'] },
    });
  });

  it('accepts the long tenant claim name', async () => {
    const rest: Record<string, unknown> = { ...validClaims };
    delete rest.tid;
    const result = await verifier().verify(
      `Bearer ${token({ ...rest, 'http://schemas.microsoft.com/identity/claims/tenantid': 'tenant-a' })}`,
    );
    expect(result.isValid).toBe(true);
  });

  it('rejects a bad signature', async () => {
    const result = await verifier().verify(
      `Bearer ${token(validClaims, undefined, other.privateKey)}`,
    );
    expect(result).toEqual({ isValid: false, reason: 'badSignature' });
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const [h, , s] = token(validClaims).split('.');
    const result = await verifier().verify(
      `Bearer ${h}.${b64({ ...validClaims, tid: 'tenant-a', aud: APP_ID, extra: 1 })}.${s}`,
    );
    expect(result).toEqual({ isValid: false, reason: 'badSignature' });
  });

  it('rejects a token whose audience is another bot', async () => {
    expect(
      await verifier().verify(`Bearer ${token({ ...validClaims, aud: 'other-app' })}`),
    ).toEqual({ isValid: false, reason: 'wrongAudience' });
  });

  it('rejects a wrong issuer', async () => {
    expect(
      await verifier().verify(`Bearer ${token({ ...validClaims, iss: 'https://evil.example' })}`),
    ).toEqual({ isValid: false, reason: 'wrongIssuer' });
  });

  it('accepts the Graph issuer only when configured', async () => {
    const t = `Bearer ${token({ ...validClaims, iss: 'https://graph.microsoft.com' })}`;
    expect((await verifier().verify(t)).isValid).toBe(false);
    expect(
      (
        await verifier({
          issuers: ['https://api.botframework.com', 'https://graph.microsoft.com'],
        }).verify(t)
      ).isValid,
    ).toBe(true);
  });

  it('rejects an expired token beyond the 5 minute skew', async () => {
    expect(
      await verifier().verify(`Bearer ${token({ ...validClaims, exp: nowSec - 301 })}`),
    ).toEqual({ isValid: false, reason: 'expired' });
  });

  it('accepts a token expired within the 5 minute skew', async () => {
    expect(
      (await verifier().verify(`Bearer ${token({ ...validClaims, exp: nowSec - 299 })}`)).isValid,
    ).toBe(true);
  });

  it('rejects a token that is not valid yet', async () => {
    expect(
      await verifier().verify(`Bearer ${token({ ...validClaims, nbf: nowSec + 600 })}`),
    ).toEqual({ isValid: false, reason: 'notYetValid' });
  });

  it('rejects alg none', async () => {
    const unsigned = `${b64({ alg: 'none', kid: 'k1' })}.${b64(validClaims)}.`;
    expect(await verifier().verify(`Bearer ${unsigned}`)).toEqual({
      isValid: false,
      reason: 'unsupportedAlgorithm',
    });
  });

  it('rejects HS256 signed with the public key', async () => {
    const header = { alg: 'HS256', kid: 'k1' };
    const input = `${b64(header)}.${b64(validClaims)}`;
    const pem = good.publicKey.export({ format: 'pem', type: 'spki' });
    const mac = createHmac('sha256', pem).update(input).digest('base64url');
    expect(await verifier().verify(`Bearer ${input}.${mac}`)).toEqual({
      isValid: false,
      reason: 'unsupportedAlgorithm',
    });
  });

  it('rejects an unknown kid after one refresh', async () => {
    const result = await verifier().verify(
      `Bearer ${token(validClaims, { alg: 'RS256', kid: 'k-unknown' })}`,
    );
    expect(result).toEqual({ isValid: false, reason: 'unknownKeyId' });
    expect(metadataRequests).toBe(2);
  });

  it('rejects a tenant that is not served', async () => {
    expect(await verifier().verify(`Bearer ${token({ ...validClaims, tid: 'tenant-z' })}`)).toEqual(
      { isValid: false, reason: 'tenantNotServed' },
    );
  });

  it('rejects a missing or malformed header', async () => {
    expect(await verifier().verify(undefined)).toEqual({
      isValid: false,
      reason: 'missingBearerToken',
    });
    expect(await verifier().verify('Bearer a.b')).toEqual({
      isValid: false,
      reason: 'malformedToken',
    });
    expect(await verifier().verify('Basic abc')).toEqual({
      isValid: false,
      reason: 'missingBearerToken',
    });
  });

  it('keeps using cached keys while the metadata endpoint is down, within the bound', async () => {
    const clock = { ms: NOW_MS };
    const v = verifier({ keysRefreshIntervalInMs: 60_000, keysMaxStaleInMs: 120_000 }, clock);
    const t = `Bearer ${token({ ...validClaims, exp: nowSec + 86_400 })}`;
    expect((await v.verify(t)).isValid).toBe(true);
    isMetadataDown = true;
    clock.ms += 90_000;
    expect((await v.verify(t)).isValid).toBe(true);
    clock.ms += 120_000;
    expect(await v.verify(t)).toEqual({ isValid: false, reason: 'signingKeysUnavailable' });
  });

  it('caches keys between verifications', async () => {
    const v = verifier();
    await v.verify(`Bearer ${token(validClaims)}`);
    await v.verify(`Bearer ${token(validClaims)}`);
    expect(metadataRequests).toBe(1);
  });

  it('checks the signature of a repeated token once and its claims every time', async () => {
    const signatureChecks = jest.spyOn(globalThis.crypto.subtle, 'verify');
    const clock = { ms: NOW_MS };
    const v = verifier({}, clock);
    const t = `Bearer ${token(validClaims)}`;
    expect((await v.verify(t)).isValid).toBe(true);
    expect((await v.verify(t)).isValid).toBe(true);
    expect(signatureChecks).toHaveBeenCalledTimes(1);
    clock.ms += 3_600_000 + 5 * 60_000 + 1_000;
    expect(await v.verify(t)).toEqual({ isValid: false, reason: 'expired' });
  });

  it('rejects a forged variant of a token it has verified', async () => {
    const v = verifier();
    const valid = token(validClaims);
    expect((await v.verify(`Bearer ${valid}`)).isValid).toBe(true);
    const [h, p] = valid.split('.');
    const forged = sign('RSA-SHA256', Buffer.from(`${h}.${p}`), other.privateKey).toString(
      'base64url',
    );
    expect(await v.verify(`Bearer ${h}.${p}.${forged}`)).toEqual({
      isValid: false,
      reason: 'badSignature',
    });
    const altered = `${h}.${b64({ ...validClaims, tid: 'tenant-a', oid: 'intruder' })}`;
    expect(await v.verify(`Bearer ${altered}.${valid.split('.')[2]}`)).toEqual({
      isValid: false,
      reason: 'badSignature',
    });
  });

  it('checks a remembered token again after a key refresh, and refuses it once its key is gone', async () => {
    const signatureChecks = jest.spyOn(globalThis.crypto.subtle, 'verify');
    const clock = { ms: NOW_MS };
    const v = verifier({ keysRefreshIntervalInMs: 60_000 }, clock);
    const t = `Bearer ${token({ ...validClaims, exp: nowSec + 86_400 })}`;
    expect((await v.verify(t)).isValid).toBe(true);
    clock.ms += 61_000;
    expect((await v.verify(t)).isValid).toBe(true);
    expect(signatureChecks).toHaveBeenCalledTimes(2);
    publishedKeys = [{ ...other.publicKey.export({ format: 'jwk' }), kid: 'k2', use: 'sig' }];
    clock.ms += 61_000;
    expect(await v.verify(t)).toEqual({ isValid: false, reason: 'unknownKeyId' });
  });

  it('checks every signature when the verified-token cache is off', async () => {
    const signatureChecks = jest.spyOn(globalThis.crypto.subtle, 'verify');
    const v = verifier({ verifiedTokenCacheSize: 0 });
    const t = `Bearer ${token(validClaims)}`;
    await v.verify(t);
    await v.verify(t);
    expect(signatureChecks).toHaveBeenCalledTimes(2);
  });
});

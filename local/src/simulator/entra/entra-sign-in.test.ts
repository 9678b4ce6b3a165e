import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Directory } from '../policy/model';
import { ManualClock } from '../util/clock';
import { readBody } from '../util/http';
import { SimulatedEntra } from './entra';
import { SimulatedEntraSignIn } from './entra-sign-in';

const TENANT = 'tenant-1';
const directory: Directory = {
  tenants: [
    {
      id: TENANT,
      displayName: 'Test',
      users: [
        { id: 'officer-1', displayName: 'Officer', portalRoles: ['complianceOfficer'] },
        { id: 'staff-1', displayName: 'Staff' },
      ],
      groups: [],
      policies: [],
      assignments: { users: {}, groups: [] },
    },
  ],
  bots: [],
  applicationInstances: [],
};

const claims = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

describe('simulated Entra sign-in (authorization code with PKCE)', () => {
  let server: Server;
  let base = '';
  const verifier = 'a-verifier-of-at-least-forty-three-characters-0123456789';
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorize = (extra: Record<string, string> = {}) =>
    new URLSearchParams({
      client_id: 'spa-app',
      redirect_uri: 'http://127.0.0.1:9/app/',
      response_type: 'code',
      scope: 'api://attest/.default openid profile',
      state: 'state-1',
      nonce: 'nonce-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    });

  beforeAll(async () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const options = { baseUrl: () => base, directory: () => directory, clock };
    const entra = new SimulatedEntra(options);
    const signIn = new SimulatedEntraSignIn({ ...options, entra });
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', base);
      void signIn
        .handle(req, res, url, () => readBody(req))
        .then((handled) => {
          if (!handled) res.writeHead(404).end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const code = async (): Promise<string> => {
    const answer = await fetch(`${base}/${TENANT}/oauth2/v2.0/authorize`, {
      method: 'POST',
      body: new URLSearchParams({ ...Object.fromEntries(authorize()), user: 'officer-1' }),
      redirect: 'manual',
    });
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.get('location') ?? '');
    const fragment = new URLSearchParams(location.hash.slice(1));
    expect(fragment.get('state')).toBe('state-1');
    return fragment.get('code') ?? '';
  };
  const redeem = (value: string, codeVerifier = verifier) =>
    fetch(`${base}/${TENANT}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { origin: 'http://127.0.0.1:9' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: 'spa-app',
        redirect_uri: 'http://127.0.0.1:9/app/',
        code: value,
        code_verifier: codeVerifier,
      }),
    });

  it('lists only the directory users who have a portal role', async () => {
    const page = await (
      await fetch(`${base}/${TENANT}/oauth2/v2.0/authorize?${authorize().toString()}`)
    ).text();
    expect(page).toContain('value="officer-1"');
    expect(page).not.toContain('value="staff-1"');
  });

  it('refuses an authorization request without an S256 code challenge', async () => {
    const answer = await fetch(
      `${base}/${TENANT}/oauth2/v2.0/authorize?${authorize({ code_challenge_method: 'plain' }).toString()}`,
    );
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('AADSTS9002325');
  });

  it('redeems a code with its verifier for tokens of the API and the user, with CORS for the SPA', async () => {
    const answer = await redeem(await code());
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:9');
    const body = (await answer.json()) as { access_token: string; id_token: string };
    expect(claims(body.access_token)).toMatchObject({
      aud: 'api://attest',
      oid: 'officer-1',
      tid: TENANT,
      roles: ['complianceOfficer'],
    });
    expect(claims(body.id_token)).toMatchObject({
      aud: 'spa-app',
      nonce: 'nonce-1',
      roles: ['complianceOfficer'],
    });
  });

  it('refuses a code redeemed with another verifier, and a code used twice', async () => {
    const value = await code();
    const wrong = await redeem(value, 'another-verifier-of-at-least-forty-three-characters-000');
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_grant');
    const again = await redeem(value);
    expect(again.status).toBe(400);
  });
});

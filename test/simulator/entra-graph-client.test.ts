/**
 * The real @azure/identity ClientSecretCredential and the real Microsoft Graph client against the
 * simulator. Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem (see docs/simulator.md).
 */
import { requireLocalCaTrust } from './support/local-ca';
import { ClientSecretCredential } from '@azure/identity';
import { Client, GraphError } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { decodeJwt } from 'jose';
import { startTeamsSimulator, type TeamsSimulator } from '../../local/src/simulator';
import {
  BOT_APP,
  BOT_SECRET,
  OTHER_TENANT,
  TENANT,
  USERS,
  testDirectory,
} from './support/fixtures';

const silent = (): void => undefined;

function credential(
  sim: TeamsSimulator,
  tenantId: string,
  clientId: string,
  secret: string,
): ClientSecretCredential {
  // Instance discovery would go to login.microsoftonline.com; the recorder disables it for the simulator.
  return new ClientSecretCredential(tenantId, clientId, secret, {
    authorityHost: sim.url,
    disableInstanceDiscovery: true,
  });
}

async function tokenError(
  sim: TeamsSimulator,
  tenantId: string,
  clientId: string,
  secret: string,
): Promise<string> {
  try {
    await credential(sim, tenantId, clientId, secret).getToken(
      'https://graph.microsoft.com/.default',
    );
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected the token request to fail');
}

describe('simulated Entra ID with the real identity and Graph clients', () => {
  let sim: TeamsSimulator;

  beforeAll(async () => {
    requireLocalCaTrust();
    sim = await startTeamsSimulator({
      directory: testDirectory('http://127.0.0.1:9/api/calling'),
      log: silent,
    });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('issues a Graph app token through ClientSecretCredential', async () => {
    const token = await credential(sim, TENANT, BOT_APP, BOT_SECRET).getToken(
      'https://graph.microsoft.com/.default',
    );
    const claims = decodeJwt(token.token);
    expect(claims).toMatchObject({
      aud: 'https://graph.microsoft.com',
      appid: BOT_APP,
      tid: TENANT,
    });
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now());
  });

  it('serves the Graph calls API to the real Graph client (404 itemNotFound for an unknown call)', async () => {
    const client = Client.initWithMiddleware({
      authProvider: new TokenCredentialAuthenticationProvider(
        credential(sim, TENANT, BOT_APP, BOT_SECRET),
        { scopes: ['https://graph.microsoft.com/.default'] },
      ),
      baseUrl: `${sim.url}/`,
      defaultVersion: 'v1.0',
      customHosts: new Set(['127.0.0.1']),
    });
    const error = await client
      .api('/communications/calls/00000000-0000-4000-8000-000000000000')
      .get()
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(GraphError);
    expect(error).toMatchObject({ statusCode: 404, code: 'itemNotFound' });
    expect(sim.graph.requests.at(-1)).toMatchObject({
      operation: 'getCall',
      appId: BOT_APP,
      status: 404,
    });
  });

  it('answers a wrong secret with AADSTS7000215 invalid_client', async () => {
    expect(await tokenError(sim, TENANT, BOT_APP, 'not-the-secret')).toMatch(/AADSTS7000215/);
  });

  it('answers an unknown application with AADSTS700016', async () => {
    expect(
      await tokenError(sim, TENANT, '99999999-0000-4000-8000-000000000000', BOT_SECRET),
    ).toMatch(/AADSTS700016/);
  });

  it('answers an unknown tenant with AADSTS90002 (MSAL reports it while resolving endpoints)', async () => {
    const unknownTenant = '99999999-0000-4000-8000-0000000000ff';
    expect(await tokenError(sim, unknownTenant, BOT_APP, BOT_SECRET)).toMatch(
      /endpoints_resolution_error/,
    );
    const response = await fetch(`${sim.url}/${unknownTenant}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: BOT_APP,
        client_secret: BOT_SECRET,
        scope: 'https://graph.microsoft.com/.default',
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request', error_codes: [90002] });
  });

  it('refuses a tenant that never consented to the app with AADSTS700016', async () => {
    expect(await tokenError(sim, OTHER_TENANT, BOT_APP, BOT_SECRET)).toMatch(/AADSTS700016/);
  });

  it('returns the Entra error body shape for a bad secret', async () => {
    const response = await fetch(`${sim.url}/${TENANT}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: BOT_APP,
        client_secret: 'x',
        scope: 'https://graph.microsoft.com/.default',
      }),
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    expect(body.error_description).toMatch(
      /^AADSTS7000215: .*Trace ID: .*Correlation ID: .*Timestamp: /,
    );
    expect(typeof body.trace_id).toBe('string');
  });

  it('rejects Graph calls without a valid token with InvalidAuthenticationToken', async () => {
    const response = await fetch(`${sim.url}/v1.0/communications/calls/x/keepAlive`, {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'InvalidAuthenticationToken' } });
  });

  it('issues portal user tokens with the directory roles through the control API', async () => {
    const response = await fetch(`${sim.url}/_sim/users/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.controlToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId: TENANT, userId: USERS.admin }),
    });
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    expect(decodeJwt(access_token)).toMatchObject({
      tid: TENANT,
      oid: USERS.admin,
      roles: ['admin', 'auditor'],
      aud: BOT_APP,
      iss: `${sim.url}/${TENANT}/v2.0`,
    });
  });

  it('publishes tenant OpenID metadata whose issuer matches user tokens', async () => {
    const response = await fetch(`${sim.url}/${TENANT}/v2.0/.well-known/openid-configuration`);
    expect(await response.json()).toMatchObject({
      issuer: `${sim.url}/${TENANT}/v2.0`,
      jwks_uri: `${sim.url}/${TENANT}/discovery/v2.0/keys`,
    });
  });

  it('refuses the control API without the control token', async () => {
    const response = await fetch(`${sim.url}/_sim/calls`);
    expect(response.status).toBe(401);
  });
});

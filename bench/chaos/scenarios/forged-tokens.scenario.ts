/**
 * The forged-token matrix: webhook invites and admin requests with no token, a malformed one, a
 * token signed by an attacker's key, `alg: none`, and tokens signed with the real keys but expired,
 * for another audience, issuer or tenant. Every one must be refused (401) with no side effect: no
 * Graph request, no interaction, no ledger entry.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ChaosScenario } from '../scenario';
import { entriesSince, ledgerLength } from '../calls';
import { BOT_APP, TENANT, USERS, type ChaosStack } from '../stack';

const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });

interface Key {
  readonly privateKey: KeyObject;
  readonly kid: string;
}

function sign(
  claims: Record<string, unknown>,
  key: Key = { privateKey: attacker.privateKey, kid: 'attacker' },
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .sign(key.privateKey);
}

function unsigned(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

function invite(callId: string): unknown {
  return {
    value: [
      {
        changeType: 'created',
        resource: `/communications/calls/${callId}`,
        resourceUrl: `/communications/calls/${callId}`,
        resourceData: {
          '@odata.type': '#microsoft.graph.call',
          state: 'incoming',
          direction: 'incoming',
          tenantId: TENANT,
          incomingContext: { observedParticipantId: USERS.trader },
        },
      },
    ],
  };
}

export const forgedTokens: ChaosScenario<ChaosStack> = {
  name: 'forged-tokens',
  description:
    'forged, expired and misdirected tokens on the webhook and the admin API: all refused, no side effect',
  async run(context) {
    const stack = await context.stack();
    const now = Math.floor(Date.now() / 1000);
    const real = stack.sim.entra;
    const webhookKey: Key = real.webhookKey;
    const userKey: Key = real.tokenKey;
    const webhookClaims = {
      iss: 'https://api.botframework.com',
      aud: BOT_APP,
      tid: TENANT,
      iat: now,
      nbf: now,
      exp: now + 600,
    };
    const userClaims = {
      iss: `${stack.sim.url}/${TENANT}/v2.0`,
      aud: real.portalAudience,
      tid: TENANT,
      oid: USERS.officer,
      sub: USERS.officer,
      roles: ['complianceOfficer'],
      iat: now,
      nbf: now,
      exp: now + 600,
    };
    const variants = async (claims: Record<string, unknown>, key: Key) => ({
      none: undefined,
      malformed: 'not.a.jwt',
      attackerKey: await sign(claims),
      algNone: unsigned(claims),
      expired: await sign({ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }, key),
      otherAudience: await sign({ ...claims, aud: randomUUID() }, key),
      otherIssuer: await sign({ ...claims, iss: 'https://issuer.attacker.example' }, key),
      otherTenant: await sign({ ...claims, tid: randomUUID() }, key),
    });
    const graphBefore = stack.sim.graph.requests.length;
    const ledgerBefore = await ledgerLength(stack);
    let attempts = 0;
    let refused = 0;
    const accepted: string[] = [];
    for (const [name, token] of Object.entries(await variants(webhookClaims, webhookKey))) {
      const answer = await stack.api('POST', '/api/calling', {
        body: invite(randomUUID()),
        ...(token === undefined ? {} : { token }),
      });
      attempts += 1;
      if (answer.status === 401 || answer.status === 403) refused += 1;
      else accepted.push(`webhook:${name}:${answer.status}`);
    }
    for (const [name, token] of Object.entries(await variants(userClaims, userKey))) {
      for (const path of ['/api/archive/interactions', '/api/calls', '/api/archive/holds']) {
        const answer = await stack.api('GET', path, token === undefined ? {} : { token });
        attempts += 1;
        if (answer.status === 401 || answer.status === 403) refused += 1;
        else accepted.push(`admin:${name}:${path}:${answer.status}`);
      }
    }
    const graphRequestsCaused = stack.sim.graph.requests.length - graphBefore;
    const ledgerEntriesWritten = await entriesSince(stack, ledgerBefore);
    return {
      isPassed: refused === attempts && graphRequestsCaused === 0 && ledgerEntriesWritten === 0,
      figures: {
        attempts,
        refused,
        accepted: accepted.join(',') || null,
        graphRequestsCaused,
        ledgerEntriesWritten,
      },
    };
  },
};

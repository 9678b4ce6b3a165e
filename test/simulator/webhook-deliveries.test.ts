/**
 * Webhook deliveries as Teams makes them, checked from the receiving side: JWTs verified with a
 * standard JWT library against the keys of the published OpenID metadata, the observed headers,
 * the notification envelope, casing options, redirects and raw injection.
 * Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { requireLocalCaTrust } from './support/local-ca';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { ManualClock, startTeamsSimulator, type TeamsSimulator } from '../../local/src/simulator';
import { BOT_APP, TENANT, USERS, testDirectory } from './support/fixtures';
import { waitUntil } from './support/test-recorder';

const silent = (): void => undefined;

interface Hit {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

describe('webhook deliveries', () => {
  let sim: TeamsSimulator;
  let server: Server;
  let base = '';
  const hits: Hit[] = [];
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    requireLocalCaTrust();
    // A receiver that redirects /api/calling once (307) to /region-b/api/calling and accepts everything else.
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hits.push({
          path: req.url ?? '',
          headers: req.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        });
        if (req.url === '/api/calling') {
          res.writeHead(307, { location: '/region-b/api/calling' });
          res.end();
          return;
        }
        res.writeHead(202);
        res.end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sim = await startTeamsSimulator({
      clock,
      log: silent,
      directory: testDirectory(`${base}/api/calling`),
      behaviour: { enumCasing: 'PascalCase', resultInfoAs: 'string' },
    });
  });
  afterAll(async () => {
    await sim.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** A PSTN call to the recorded trader: one recorder leg. */
  const startCall = (): string =>
    sim.engine.startCall({
      kind: 'p2p',
      tenantId: TENANT,
      participants: [
        { user: USERS.trader, role: 'callee' },
        { phone: '+14255550199', role: 'caller' },
      ],
    });

  const startAndWaitForInvite = async (): Promise<{
    conversationId: string;
    callId: string;
    hit: Hit;
  }> => {
    const before = hits.length;
    const conversationId = startCall();
    const callId = (sim.engine.outcome(conversationId) as { legs: { callId: string }[] }).legs[0]!
      .callId;
    await waitUntil(
      () => hits.slice(before).some((h) => h.path === '/region-b/api/calling'),
      'the redirected invite',
    );
    return {
      conversationId,
      callId,
      hit: hits.slice(before).find((h) => h.path === '/region-b/api/calling')!,
    };
  };

  it('signs deliveries with a key from the published OpenID metadata (iss botframework, aud app id, tid)', async () => {
    const { hit } = await startAndWaitForInvite();
    const metadata = (await (await fetch(sim.webhookOpenIdConfigurationUrl)).json()) as {
      issuer: string;
      jwks_uri: string;
    };
    expect(metadata.issuer).toBe('https://api.botframework.com');
    const token = /^Bearer (.+)$/.exec(String(hit.headers.authorization))![1]!;
    const { payload, protectedHeader } = await jwtVerify(
      token,
      createRemoteJWKSet(new URL(metadata.jwks_uri)),
      {
        issuer: 'https://api.botframework.com',
        audience: BOT_APP,
        algorithms: ['RS256'],
        currentDate: new Date(clock.nowInMs()),
      },
    );
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.tid).toBe(TENANT);
    expect(payload.exp! - payload.nbf!).toBeGreaterThan(0);
  });

  it('fails verification for another audience', async () => {
    const { hit } = await startAndWaitForInvite();
    const metadata = (await (await fetch(sim.webhookOpenIdConfigurationUrl)).json()) as {
      jwks_uri: string;
    };
    const token = /^Bearer (.+)$/.exec(String(hit.headers.authorization))![1]!;
    await expect(
      jwtVerify(token, createRemoteJWKSet(new URL(metadata.jwks_uri)), {
        audience: 'another-bot',
        currentDate: new Date(clock.nowInMs()),
      }),
    ).rejects.toThrow(/aud/);
  });

  it('sends the headers Teams sends', async () => {
    const { hit, conversationId } = await startAndWaitForInvite();
    const chainId = (sim.engine.outcome(conversationId) as { callChainId: string }).callChainId;
    expect(hit.headers['user-agent']).toBe('Microsoft-Skype/3.0,(Calling/1.0)');
    expect(hit.headers['x-microsoft-skype-chain-id']).toBe(chainId);
    expect(hit.headers['x-microsoft-skype-message-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(hit.headers['content-type']).toMatch(/^application\/json/);
  });

  it('follows a 307 and records the redirect', async () => {
    const { callId } = await startAndWaitForInvite();
    // The receiver saw the POST; the simulator records the response once it arrives.
    await waitUntil(
      () =>
        sim.deliverer.records.some(
          (r) => r.callId === callId && r.kind === 'invite' && r.status !== undefined,
        ),
      'the delivery record',
    );
    const record = sim.deliverer.records.find((r) => r.callId === callId && r.kind === 'invite')!;
    expect(record).toMatchObject({
      status: 202,
      isDelivered: true,
      redirects: [{ status: 307, location: `${base}/region-b/api/calling` }],
    });
  });

  it('shapes the invite as a policy-recording incoming call, with PascalCase enums when configured', async () => {
    const { hit, callId, conversationId } = await startAndWaitForInvite();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a received payload, checked by matchers below
    const body = JSON.parse(hit.text) as { '@odata.type': string; value: Record<string, any>[] };
    expect(body['@odata.type']).toBe('#microsoft.graph.commsNotifications');
    const item = body.value[0]!;
    expect(item).toMatchObject({
      changeType: 'Created',
      resource: `/app/calls/${callId}`,
      resourceUrl: `/communications/calls/${callId}`,
    });
    const call = item.resourceData;
    const outcome = sim.engine.outcome(conversationId) as {
      callChainId: string;
      participants: { userId: string | null; participantId: string }[];
    };
    const observed = outcome.participants.find((p) => p.userId === USERS.trader)!.participantId;
    expect(call).toMatchObject({
      state: 'Incoming',
      direction: 'Incoming',
      tenantId: TENANT,
      callChainId: outcome.callChainId,
      source: { id: observed, identity: { user: { id: USERS.trader, tenantId: TENANT } } },
      targets: [{ identity: { applicationInstance: { tenantId: TENANT } } }],
      incomingContext: { sourceParticipantId: observed, observedParticipantId: observed },
      meetingInfo: { '@odata.type': '#microsoft.graph.tokenMeetingInfo' },
      applicationMetadata: {
        botData: {
          user: { participationMethod: 'Callee' },
          otherSideUser: { id: '4:+14255550199', tenantId: '00000000-0000-0000-0000-000000000000' },
          inviteReasons: ['ComplianceRecording'],
        },
      },
    });
    expect(call.myParticipantId).not.toBe(call.targets[0].id);
  });

  it('writes resultInfo codes as strings when configured', async () => {
    const { callId } = await startAndWaitForInvite();
    const before = hits.length;
    clock.advance(5000); // unanswered → the leg ends with 408/8544
    const isTerminated = (h: Hit): boolean =>
      h.text.includes(callId) && h.text.includes('"Deleted"');
    await waitUntil(() => hits.slice(before).some(isTerminated), 'the terminated notification');
    const terminated = JSON.parse(hits.slice(before).find(isTerminated)!.text) as {
      value: { resourceData: { resultInfo: unknown } }[];
    };
    expect(terminated.value[0]!.resourceData.resultInfo).toMatchObject({
      code: '408',
      subcode: '8544',
    });
  });

  it('delivers an injected raw notification exactly as written, signed', async () => {
    const { callId } = await startAndWaitForInvite();
    const raw =
      '{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/x","resourceData":{"state":"hold"}}],  "extra":true}';
    const response = await fetch(`${sim.url}/_sim/notifications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.controlToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ callId, body: raw }),
    });
    expect(response.status).toBe(200);
    const hit = hits.find((h) => h.text === raw);
    expect(hit).toBeDefined();
    expect(hit?.headers.authorization).toMatch(/^Bearer ey/);
    expect((await response.json()) as { kind: string; isDelivered: boolean }).toMatchObject({
      kind: 'injected',
      isDelivered: true,
    });
  });

  it('sends each new leg to the next instance behind the front door, and refuses a route that is not one', async () => {
    const putRoutes = (body: unknown) =>
      fetch(`${sim.url}/_sim/webhook-routes`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${sim.controlToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
    const refused = await putRoutes({
      routes: [{ publicOrigin: `${base}/api`, instanceOrigins: [], affinity: 'sticky' }],
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      code: 'SIM_INVALID_REQUEST',
      message: expect.stringContaining('routes[0]: publicOrigin must be an origin') as unknown,
    });

    // A second instance of the recorder, accepting everything.
    const otherPaths: string[] = [];
    const other = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        otherPaths.push(req.url ?? '');
        res.writeHead(202);
        res.end();
      });
    });
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    const otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const set = await putRoutes({
        routes: [{ publicOrigin: base, instanceOrigins: [otherOrigin, base], affinity: 'perLeg' }],
      });
      expect(set.status).toBe(200);
      // The first new leg goes to the other instance, the next to the first one.
      const first = startCall();
      const firstLeg = (sim.engine.outcome(first) as { legs: { callId: string }[] }).legs[0]!;
      await waitUntil(
        () => otherPaths.includes('/api/calling'),
        'the invite at the other instance',
      );
      const { callId: secondLeg } = await startAndWaitForInvite();
      const invites = sim.deliverer.records.filter(
        (r) => r.kind === 'invite' && [firstLeg.callId, secondLeg].includes(r.callId),
      );
      expect(
        invites.map((r) => ({ callId: r.callId, url: r.url, routedUrl: r.routedUrl })),
      ).toEqual([
        {
          callId: firstLeg.callId,
          url: `${base}/api/calling`,
          routedUrl: `${otherOrigin}/api/calling`,
        },
        { callId: secondLeg, url: `${base}/api/calling`, routedUrl: undefined },
      ]);
    } finally {
      await putRoutes({ routes: [] });
      other.closeAllConnections();
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });
});

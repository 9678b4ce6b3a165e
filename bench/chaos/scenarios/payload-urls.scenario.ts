/**
 * Payload URLs pointing at other hosts: signed notifications whose URLs (resource, callback,
 * `@odata.id`, media config) name an attacker's server, sent during a recorded call and as a
 * new invite. The recorder must talk only to its configured Graph and media hosts: the attacker's
 * server must receive no request.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { ChaosScenario } from '../scenario';
import { finishedCall, legOf, startCall } from '../calls';
import { BOT_APP, TENANT, USERS, type ChaosStack } from '../stack';

function pointingAt(attacker: string, callId: string, state: string): unknown {
  const url = `${attacker}/communications/calls/${callId}`;
  return {
    '@odata.type': '#microsoft.graph.commsNotifications',
    value: [
      {
        '@odata.type': '#microsoft.graph.commsNotification',
        changeType: state === 'incoming' ? 'created' : 'updated',
        resource: url,
        resourceUrl: url,
        callbackUri: `${attacker}/callback`,
        resourceData: {
          '@odata.type': '#microsoft.graph.call',
          '@odata.id': url,
          state,
          direction: 'incoming',
          tenantId: TENANT,
          callbackUri: `${attacker}/callback`,
          incomingContext: { observedParticipantId: USERS.trader },
          mediaConfig: { '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob: attacker },
        },
      },
    ],
  };
}

export const payloadUrls: ChaosScenario<ChaosStack> = {
  name: 'payload-urls',
  description: 'notifications whose URLs name another host: no request ever reaches that host',
  async run(context) {
    const stack = await context.stack();
    let hits = 0;
    const server = createServer((_req, res) => {
      hits += 1;
      res.writeHead(200).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const attacker = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const conversationId = await startCall(stack);
      const callId = await legOf(stack, conversationId);
      const injected = [
        await stack.control('POST', '/_sim/notifications', {
          callId,
          body: pointingAt(attacker, callId, 'established'),
        }),
      ];
      // A new invite, signed as Teams signs it, straight to the webhook.
      const token = await stack.sim.entra.signWebhookToken(BOT_APP, TENANT);
      const invite = await stack.api('POST', '/api/calling', {
        token,
        body: pointingAt(attacker, randomUUID(), 'incoming'),
      });
      const call = await finishedCall(stack, conversationId, callId);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      return {
        isPassed: hits === 0 && call.outcome === 'recorded',
        figures: {
          notificationsSent: injected.length + 1,
          inviteStatus: invite.status,
          requestsToOtherHost: hits,
          callOutcome: call.outcome,
        },
      };
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  },
};

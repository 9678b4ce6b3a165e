/** The incoming call resource of a policy-recording invite, built from the conversation. */
import { randomUUID } from 'node:crypto';
import { isMeetingLike } from '../policy/policy-engine';
import type { BotLeg, Conversation, EngineBehaviour, ParticipantState } from './call-model';
import { enumValue, identitySet } from './shapes';

/**
 * The call resource of a policy-recording invite, as Teams sends it to the recorder of `leg`
 * observing participant `p` (botData with the policy holder, the other side, paired recorders).
 */
export function incomingCall(
  behaviour: EngineBehaviour,
  conv: Conversation,
  p: ParticipantState,
  leg: BotLeg,
  legs: ReadonlyMap<string, BotLeg>,
  nowInMs: number,
): Record<string, unknown> {
  const s = behaviour;
  const other = conv.participants.find(
    (x) =>
      x !== p &&
      (x.spec.role === 'caller' ||
        x.spec.role === 'callee' ||
        conv.spec.kind === 'p2p' ||
        conv.spec.kind === 'pstn'),
  );
  const siblings = conv.groups
    .filter((g) => g.participantId === p.participantId)
    .flatMap((g) => g.legIds)
    .filter((id) => id !== leg.callId)
    .map((id) => legs.get(id))
    .filter((l): l is BotLeg => l !== undefined);
  const samePolicy = conv.groups.find((g) => g.legIds.includes(leg.callId));
  const paired = siblings.filter((l) => samePolicy?.legIds.includes(l.callId));
  const others = siblings.filter((l) => !samePolicy?.legIds.includes(l.callId));
  const participationMethod = p.spec.role === 'caller' ? 'Caller' : 'Callee';
  const botData = {
    callId: conv.chainId,
    mediaHostedRegion: conv.spec.mediaRegion ?? 'EUWE',
    user: {
      participationMethod,
      clientLocation: p.region,
      policyHolderId: p.userId,
      policyHolderTenantId: conv.tenant.id,
    },
    ...(other && !isMeetingLike(conv.spec.kind)
      ? {
          otherSideUser: {
            id:
              other.identity.kind === 'phone'
                ? `4:${other.identity.id}`
                : `8:orgid:${other.identity.id}`,
            participantId: other.participantId,
            tenantId:
              other.identity.kind === 'user'
                ? other.identity.tenantId
                : '00000000-0000-0000-0000-000000000000',
            participationMethod: participationMethod === 'Caller' ? 'Callee' : 'Caller',
            clientLocation: other.region,
          },
        }
      : {}),
    inviteReasons: ['ComplianceRecording'],
    policyIdentifier: `TeamsComplianceRecordingPolicy=${p.policyIdentity ?? ''}`,
    pairedRecorders: paired.map((l) => ({ id: l.instance.id, participantId: l.myParticipantId })),
    otherRecorders: others.map((l) => ({ id: l.instance.id, participantId: l.myParticipantId })),
    isMultiParty: conv.spec.kind !== 'p2p' && conv.spec.kind !== 'pstn',
    applicationType: 'ComplianceRecording',
  };
  const transferor = conv.spec.reroute?.transferorUser;
  const nowInS = Math.floor(nowInMs / 1000);
  return {
    '@odata.type': '#microsoft.graph.call',
    '@odata.id': `/app/calls/${leg.callId}`,
    id: leg.callId,
    state: enumValue(s, 'incoming'),
    direction: enumValue(s, 'incoming'),
    callbackUri: leg.webhookUrl,
    source: {
      '@odata.type': '#microsoft.graph.participantInfo',
      id: p.participantId,
      identity: identitySet(p.identity),
      endpointType: enumValue(s, 'default'),
      region: p.region,
      languageId: 'en-US',
      countryCode: 'US',
    },
    targets: [
      {
        '@odata.type': '#microsoft.graph.invitationParticipantInfo',
        id: leg.targetParticipantId,
        identity: identitySet({
          kind: 'applicationInstance',
          id: leg.instance.id,
          tenantId: leg.instance.tenantId,
        }),
        endpointType: enumValue(s, 'default'),
        region: null,
        languageId: null,
      },
    ],
    requestedModalities: ['audio', 'video', 'videoBasedScreenSharing'].map((m) => enumValue(s, m)),
    tenantId: conv.tenant.id,
    myParticipantId: leg.myParticipantId,
    callChainId: conv.chainId,
    incomingContext: {
      '@odata.type': '#microsoft.graph.incomingContext',
      sourceParticipantId: p.participantId,
      observedParticipantId: p.participantId,
      onBehalfOf: null,
      transferor: transferor
        ? identitySet({ kind: 'user', id: transferor, tenantId: conv.tenant.id })
        : null,
    },
    meetingInfo: {
      '@odata.type': '#microsoft.graph.tokenMeetingInfo',
      token: meetingToken(conv, leg, nowInS),
    },
    ...(conv.spec.reroute
      ? {
          callRoutes: [
            {
              '@odata.type': '#microsoft.graph.callRoute',
              routingType: enumValue(s, 'forwarded'),
              original: identitySet(other?.identity ?? p.identity),
              final: identitySet(p.identity),
            },
          ],
        }
      : {}),
    applicationMetadata: {
      botData: s.botDataAs === 'string' ? JSON.stringify(botData) : botData,
    },
  };
}

/** A meeting token shaped like the observed ones (not verifiable: the simulator signs nothing here). */
function meetingToken(conv: Conversation, leg: BotLeg, nowInS: number): string {
  // Observed claims: appId, conversationController, activityId = callChainId, tenant, 24 h lifetime.
  const header = Buffer.from(
    JSON.stringify({ typ: 'JWT', alg: 'RS256', x5t: leg.instance.id.slice(0, 8) }),
  ).toString('base64url');
  const claims = Buffer.from(
    JSON.stringify({
      appId: leg.bot.appId,
      conversationController: conv.id,
      activityId: conv.chainId,
      tid: conv.tenant.id,
      nbf: nowInS,
      exp: nowInS + 86_400,
      iss: 'https://api.botframework.com',
      aud: 'https://api.botframework.com',
    }),
  ).toString('base64url');
  return `${header}.${claims}.${Buffer.from(randomUUID()).toString('base64url')}`;
}

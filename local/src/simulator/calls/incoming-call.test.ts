import type { Tenant } from '../policy/model';
import { DEFAULT_BEHAVIOUR, type BotLeg, type Conversation } from './call-model';
import { incomingCall } from './incoming-call';
import { createParticipant } from './roster';

const tenant: Tenant = {
  id: 't1',
  displayName: 'Contoso',
  users: [
    { id: 'alice', displayName: 'Alice' },
    { id: 'bob', displayName: 'Bob' },
  ],
  groups: [],
  policies: [],
  assignments: { users: {}, groups: [] },
};

function setup(kind: 'p2p' | 'meeting') {
  const specs = [
    { user: 'alice', role: 'caller' as const },
    { user: 'bob', role: 'callee' as const },
  ];
  const participants = specs.map((s, i) => createParticipant(tenant, s, i));
  const alice = participants[0]!;
  alice.policyIdentity = 'Tag:rec';
  const leg = {
    callId: 'leg-1',
    instance: { id: 'inst-a', tenantId: 't1', botAppId: 'app', displayName: 'Rec' },
    bot: { appId: 'app' },
    myParticipantId: 'me',
    targetParticipantId: 'target',
    webhookUrl: 'https://rec.test/api/calling',
  } as unknown as BotLeg;
  const conv = {
    id: 'conv',
    chainId: 'chain-1',
    spec: { kind, tenantId: 't1', participants: specs },
    tenant,
    participants,
    groups: [],
  } as unknown as Conversation;
  return { conv, alice, bob: participants[1]!, leg };
}

describe('incomingCall', () => {
  it('names the policy holder, the policy and the other side of a 1:1 call in botData', () => {
    const { conv, alice, bob, leg } = setup('p2p');
    const call = incomingCall(DEFAULT_BEHAVIOUR, conv, alice, leg, new Map(), 0);
    const botData = (call.applicationMetadata as { botData: Record<string, unknown> }).botData;
    expect(call).toMatchObject({ id: 'leg-1', callChainId: 'chain-1', myParticipantId: 'me' });
    expect(botData).toMatchObject({
      callId: 'chain-1',
      policyIdentifier: 'TeamsComplianceRecordingPolicy=Tag:rec',
      user: { participationMethod: 'Caller', policyHolderId: 'alice', policyHolderTenantId: 't1' },
      otherSideUser: { id: '8:orgid:bob', participantId: bob.participantId },
      isMultiParty: false,
    });
  });

  it('leaves the other side out of a meeting and sends botData as text when told to', () => {
    const { conv, alice, leg } = setup('meeting');
    const call = incomingCall(
      { ...DEFAULT_BEHAVIOUR, botDataAs: 'string' },
      conv,
      alice,
      leg,
      new Map(),
      0,
    );
    const text = (call.applicationMetadata as { botData: string }).botData;
    const botData = JSON.parse(text) as Record<string, unknown>;
    expect(botData.otherSideUser).toBeUndefined();
    expect(botData.isMultiParty).toBe(true);
  });
});

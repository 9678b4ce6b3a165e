import { analyseInvite } from './invite';
import { parseCommsNotifications, type CallNotification } from './comms-notifications';
import { parseRoster, toParticipantMappings } from './roster';

const invite = {
  '@odata.type': '#microsoft.graph.commsNotifications',
  value: [
    {
      '@odata.type': '#microsoft.graph.commsNotification',
      changeType: 'created',
      resource: '/app/calls/call-1',
      resourceUrl: '/communications/calls/call-1',
      resourceData: {
        '@odata.type': '#microsoft.graph.call',
        state: 'incoming',
        direction: 'incoming',
        callChainId: 'chain-1',
        tenantId: 'tenant-a',
        myParticipantId: 'bot-p',
        source: {
          '@odata.type': '#microsoft.graph.participantInfo',
          id: 'p-user',
          identity: { user: { id: 'user-1', displayName: 'Test User', tenantId: 'tenant-a' } },
        },
        targets: [
          {
            id: 'bot-p',
            identity: { applicationInstance: { id: 'inst-1', tenantId: 'tenant-a' } },
          },
        ],
        incomingContext: { sourceParticipantId: 'p-user', observedParticipantId: 'p-user' },
        applicationMetadata: {
          botData: { mediaHostedRegion: 'EUNO', user: { participationMethod: 'Caller' } },
        },
      },
    },
  ],
};

describe('parseCommsNotifications', () => {
  it('parses a camelCase policy invite with resourceUrl', () => {
    const [item] = parseCommsNotifications(invite);
    expect(item).toMatchObject({
      kind: 'call',
      changeType: 'created',
      state: 'incoming',
      callId: 'call-1',
    });
  });

  it('parses PascalCase enums and property names', () => {
    const [item] = parseCommsNotifications({
      Value: [
        {
          ChangeType: 'Updated',
          Resource: '/app/calls/call-2',
          ResourceData: { '@odata.type': '#microsoft.graph.call', State: 'Established' },
        },
      ],
    });
    expect(item).toMatchObject({
      kind: 'call',
      changeType: 'updated',
      state: 'established',
      callId: 'call-2',
    });
  });

  it('reads resultInfo codes given as strings', () => {
    const [item] = parseCommsNotifications({
      value: [
        {
          changeType: 'Deleted',
          resourceUrl: '/communications/calls/call-3',
          resourceData: {
            '@odata.type': '#microsoft.graph.call',
            state: 'Terminated',
            resultInfo: { code: '200', subcode: '5002', message: 'ok' },
          },
        },
      ],
    });
    expect((item as CallNotification).resultInfo).toEqual({
      code: 200,
      subcode: 5002,
      message: 'ok',
    });
    expect(item).toMatchObject({ changeType: 'deleted', state: 'terminated' });
  });

  it('reads resultInfo codes given as numbers', () => {
    const [item] = parseCommsNotifications({
      value: [
        {
          changeType: 'deleted',
          resourceUrl: '/communications/calls/c',
          resourceData: {
            '@odata.type': '#microsoft.graph.call',
            state: 'terminated',
            resultInfo: { code: 408, subcode: 8537 },
          },
        },
      ],
    });
    expect((item as CallNotification).resultInfo).toMatchObject({ code: 408, subcode: 8537 });
  });

  it('accepts a single participant entity as well as an array', () => {
    const participant = {
      '@odata.type': '#microsoft.graph.participant',
      id: 'p1',
      mediaStreams: [],
    };
    const [single] = parseCommsNotifications({
      value: [
        {
          changeType: 'updated',
          resourceUrl: '/communications/calls/c/participants',
          resourceData: participant,
        },
      ],
    });
    const [array] = parseCommsNotifications({
      value: [
        {
          changeType: 'updated',
          resourceUrl: '/communications/calls/c/participants',
          resourceData: [participant, { ...participant, id: 'p2' }],
        },
      ],
    });
    expect(single).toMatchObject({
      kind: 'participants',
      callId: 'c',
      participants: [participant],
    });
    expect(array).toMatchObject({
      kind: 'participants',
      participants: [{ id: 'p1' }, { id: 'p2' }],
    });
  });

  it('recognises participantJoining and participantLeft notifications', () => {
    const items = parseCommsNotifications({
      value: [
        {
          changeType: 'created',
          resourceUrl: '/communications/calls/c',
          resourceData: {
            '@odata.type': '#microsoft.graph.participantJoiningNotification',
            call: { '@odata.id': '/communications/calls/c' },
          },
        },
        {
          changeType: 'deleted',
          resourceUrl: '/communications/calls/c',
          resourceData: {
            '@odata.type': '#microsoft.graph.participantLeftNotification',
            participantId: 'p9',
          },
        },
      ],
    });
    expect(items.map((i) => i.kind)).toEqual(['participantJoining', 'participantLeft']);
    expect(items[1]).toMatchObject({ participantId: 'p9', callId: 'c' });
  });

  it('rejects a body without a value array', () => {
    expect(() => parseCommsNotifications({ hello: 1 })).toThrow('no "value" array');
    expect(() => parseCommsNotifications('x')).toThrow('not a JSON object');
  });

  it('rejects an item with an unknown changeType', () => {
    expect(() => parseCommsNotifications({ value: [{ changeType: 'exploded' }] })).toThrow(
      'changeType',
    );
  });

  it('keeps unknown resources as other', () => {
    const [item] = parseCommsNotifications({
      value: [
        { changeType: 'updated', resourceUrl: '/communications/calls/c/contentsharingsessions/1' },
      ],
    });
    expect(item).toMatchObject({ kind: 'other', callId: 'c' });
  });
});

describe('analyseInvite', () => {
  const call = invite.value[0]!.resourceData;

  it('identifies the observed user as the recorded user of a P2P call', () => {
    const analysis = analyseInvite(call);
    expect(analysis).toMatchObject({
      isPolicyInvite: true,
      tenantId: 'tenant-a',
      recordedUserIds: ['user-1'],
      type: 'p2p',
      direction: 'outbound',
      region: 'EUNO',
      callChainId: 'chain-1',
    });
  });

  it('reports an invite without observedParticipantId as not a policy invite', () => {
    expect(analyseInvite({ ...call, incomingContext: {} })).toMatchObject({
      isPolicyInvite: false,
    });
  });

  it('finds the recorded user among targets when the observed participant is a target', () => {
    const analysis = analyseInvite({
      ...call,
      targets: [
        ...call.targets,
        { id: 'p-callee', identity: { user: { id: 'user-2', tenantId: 'tenant-a' } } },
      ],
      incomingContext: { sourceParticipantId: 'p-user', observedParticipantId: 'p-callee' },
    });
    expect(analysis).toMatchObject({ recordedUserIds: ['user-2'] });
  });

  it('adds the delegate principal and keeps the transferor', () => {
    const analysis = analyseInvite({
      ...call,
      incomingContext: {
        observedParticipantId: 'p-user',
        onBehalfOf: { user: { id: 'boss-1' } },
        transferor: { user: { id: 'xfer-1' } },
      },
    });
    expect(analysis).toMatchObject({
      recordedUserIds: ['user-1', 'boss-1'],
      transferor: { id: 'xfer-1' },
    });
  });

  it('classifies an inbound PSTN call and stores both numbers', () => {
    const analysis = analyseInvite({
      ...call,
      source: { id: 'p-pstn', identity: { phone: { id: '+15550100' } } },
      targets: [{ id: 'p-user', identity: { user: { id: 'user-1' }, phone: undefined } }],
      incomingContext: { observedParticipantId: 'p-user' },
      applicationMetadata: {
        botData: { user: { participationMethod: 'Callee' }, otherSideUser: { id: '4:+15550100' } },
      },
    });
    expect(analysis).toMatchObject({
      type: 'pstn',
      direction: 'inbound',
      originNumber: '+15550100',
    });
  });

  it('classifies an outbound PSTN call with the dialed number', () => {
    const analysis = analyseInvite({
      ...call,
      targets: [...call.targets, { id: 'p-pstn', identity: { phone: { id: '+15550199' } } }],
      applicationMetadata: { botData: { user: { participationMethod: 'caller' } } },
    });
    expect(analysis).toMatchObject({
      type: 'pstn',
      direction: 'outbound',
      dialedNumber: '+15550199',
    });
  });

  it('classifies a meeting by its thread id', () => {
    const analysis = analyseInvite({
      ...call,
      chatInfo: { threadId: '19:meeting_abc@thread.v2', messageId: '0' },
      meetingInfo: { '@odata.type': '#microsoft.graph.tokenMeetingInfo', token: 't' },
    });
    expect(analysis).toMatchObject({
      type: 'meeting',
      meetingId: '19:meeting_abc@thread.v2',
      isMeeting: true,
    });
  });

  it('classifies a multi-party call without a meeting as a group call', () => {
    const analysis = analyseInvite({
      ...call,
      applicationMetadata: { botData: JSON.stringify({ isMultiParty: true }) },
    });
    expect(analysis).toMatchObject({ type: 'groupCall' });
  });

  it('places a paired leg among its siblings by participant id', () => {
    const paired = (own: string) =>
      analyseInvite({
        ...call,
        myParticipantId: own,
        applicationMetadata: {
          botData: {
            pairedRecorders: [
              { id: 'inst-1', participantId: 'bot-a' },
              { id: 'inst-1', participantId: 'bot-b' },
            ],
          },
        },
      });
    expect(paired('bot-b')).toMatchObject({ pairing: { legIndex: 1, legCount: 2 } });
    expect(paired('bot-a')).toMatchObject({ pairing: { legIndex: 0, legCount: 2 } });
    expect(analyseInvite(call)).not.toHaveProperty('pairing');
  });
});

describe('roster', () => {
  const roster = [
    {
      id: 'p1',
      info: { identity: { user: { id: 'u1', displayName: 'A' } } },
      isInLobby: false,
      mediaStreams: [
        { mediaType: 'Audio', sourceId: '1', direction: 'sendReceive' },
        { mediaType: 'videoBasedScreenSharing', sourceId: '3', direction: 'sendOnly' },
      ],
    },
    {
      id: 'p2',
      info: { identity: { guest: { id: 'g1' } } },
      isInLobby: true,
      mediaStreams: [{ mediaType: 'audio', sourceId: '2' }],
    },
  ];

  it('maps MSIs of participants not in the lobby', () => {
    expect(toParticipantMappings(roster)).toEqual([
      {
        msi: '1',
        participantId: 'p1',
        kind: 'audio',
        identityKind: 'user',
        identityId: 'u1',
        pii: { displayName: 'A' },
      },
      {
        msi: '3',
        participantId: 'p1',
        kind: 'vbss',
        identityKind: 'user',
        identityId: 'u1',
        pii: { displayName: 'A' },
      },
    ]);
  });

  it('reports lobby and screen share state', () => {
    expect(parseRoster(roster)).toMatchObject([
      { participantId: 'p1', isSharingScreen: true, isInLobby: false },
      { participantId: 'p2', identityKind: 'guest', isInLobby: true },
    ]);
  });
});

import type { Tenant } from '../policy/model';
import type { CallSpec, ScenarioParticipant } from '../scenarios/scenario';
import {
  DEFAULT_BEHAVIOUR,
  UserStatus,
  type BotLeg,
  type Conversation,
  type ParticipantState,
} from './call-model';
import { createParticipant, joinAt, mediaScriptOf, rosterUpdate } from './roster';

const tenant: Tenant = {
  id: 't1',
  displayName: 'Contoso',
  users: [{ id: 'alice', displayName: 'Alice', region: 'USEA' }],
  groups: [],
  policies: [],
  assignments: { users: {}, groups: [] },
};

function conversation(specs: ScenarioParticipant[]): Conversation {
  const spec: CallSpec = { kind: 'meeting', tenantId: 't1', participants: specs };
  return {
    id: 'c1',
    chainId: 'chain',
    spec,
    tenant,
    startedAtMs: 0,
    threadId: 'thread',
    participants: specs.map((s, i) => createParticipant(tenant, s, i)),
    groups: [],
    legIds: [],
    timers: [],
    events: [],
    state: 'active',
  };
}

function leg(isDeltaRoster: boolean): BotLeg {
  return {
    callId: 'leg-1',
    conversationId: 'c1',
    instance: { id: 'inst', tenantId: 't1', botAppId: 'app', displayName: 'Rec' },
    bot: {
      appId: 'app',
      clientSecret: 'x',
      homeTenantId: 't1',
      displayName: 'Rec',
      callingWebhookUrl: 'https://rec.test',
    },
    slot: 0,
    myParticipantId: 'bot-participant',
    targetParticipantId: 'target',
    observedParticipantIds: [],
    invitedAtMs: 0,
    state: 'established',
    outcome: 'accepted',
    webhookUrl: 'https://rec.test',
    recordingStatus: 'unknown',
    recordingHistory: [],
    chain: Promise.resolve(),
    operations: new Map(),
    isDeltaRoster,
    rosterSnapshot: new Map(),
    rosterSequence: 0,
  };
}

const present = (p: ParticipantState | undefined): void => {
  if (p) p.isPresent = true;
};

describe('createParticipant', () => {
  it('resolves a tenant user with region and media source ids by position', () => {
    const p = createParticipant(tenant, { user: 'alice' }, 2);
    expect(p).toMatchObject({
      identity: { kind: 'user', id: 'alice', tenantId: 't1', displayName: 'Alice' },
      userId: 'alice',
      region: 'USEA',
      audioMsi: 102,
      videoMsi: 1102,
      vbssMsi: 2102,
      status: UserStatus.notUnderPolicy,
      isPresent: false,
    });
  });

  it('treats phone and unknown users as not policy users', () => {
    expect(createParticipant(tenant, { phone: '+15550100' }, 0)).toMatchObject({
      identity: { kind: 'phone', id: '+15550100' },
      status: UserStatus.notAUser,
    });
    expect(createParticipant(tenant, { user: 'mallory' }, 0).userId).toBeUndefined();
  });

  it('joins at the scripted join offset, else at once', () => {
    expect(joinAt(createParticipant(tenant, { guest: 'G' }, 0))).toBe(0);
    expect(
      joinAt(
        createParticipant(tenant, { guest: 'G', timeline: [{ atInMs: 500, action: 'join' }] }, 0),
      ),
    ).toBe(500);
  });
});

describe('rosterUpdate', () => {
  it('sends the full roster, the recorder last, when deltas are off', () => {
    const conv = conversation([{ user: 'alice' }, { guest: 'G' }]);
    conv.participants.forEach(present);
    const ids = rosterUpdate(DEFAULT_BEHAVIOUR, conv, leg(false))?.map((e) => e.id);
    expect(ids).toEqual([
      conv.participants[0]?.participantId,
      conv.participants[1]?.participantId,
      'bot-participant',
    ]);
  });

  it('sends only changes, numbered, and a removed entry for who left, in delta mode', () => {
    const conv = conversation([{ user: 'alice' }, { guest: 'G' }]);
    conv.participants.forEach(present);
    const l = leg(true);
    expect(rosterUpdate(DEFAULT_BEHAVIOUR, conv, l)).toHaveLength(3);
    expect(rosterUpdate(DEFAULT_BEHAVIOUR, conv, l)).toBeUndefined();
    const guest = conv.participants[1] as ParticipantState;
    guest.isPresent = false;
    const alice = conv.participants[0] as ParticipantState;
    alice.isMuted = true;
    const changes = rosterUpdate(DEFAULT_BEHAVIOUR, conv, l);
    expect(changes).toEqual([
      expect.objectContaining({ id: alice.participantId, rosterSequenceNumber: 4 }),
      expect.objectContaining({
        id: guest.participantId,
        removedState: expect.objectContaining({ reason: 'left' }) as unknown,
        rosterSequenceNumber: 5,
      }),
    ]);
  });
});

describe('mediaScriptOf', () => {
  it('lists speakers while they speak and are unmuted, and the sharer', () => {
    const conv = conversation([
      {
        user: 'alice',
        timeline: [
          { atInMs: 0, action: 'speak', durationInMs: 1000 },
          { atInMs: 500, action: 'mute' },
          { atInMs: 200, action: 'shareOn' },
        ],
      },
      { guest: 'G', timeline: [{ atInMs: 100, action: 'videoOn' }] },
    ]);
    const script = mediaScriptOf(conv);
    expect(script.speakersAt(100)).toEqual([100]);
    expect(script.speakersAt(600)).toEqual([]);
    expect(script.videosAt(150)).toEqual([1101]);
    expect(script.sharerAt(100)).toBeUndefined();
    expect(script.sharerAt(300)).toBe(2100);
  });

  it('hears nobody still in the lobby or after they were removed', () => {
    const conv = conversation([
      {
        user: 'alice',
        isInLobby: true,
        timeline: [
          { atInMs: 0, action: 'speak', durationInMs: 900 },
          { atInMs: 300, action: 'admit' },
        ],
      },
      { guest: 'G', timeline: [{ atInMs: 0, action: 'speak', durationInMs: 900 }] },
    ]);
    const guest = conv.participants[1] as ParticipantState;
    guest.removedAtInMs = 600;
    const script = mediaScriptOf(conv);
    expect(script.speakersAt(100)).toEqual([101]);
    expect(script.speakersAt(400)).toEqual([100, 101]);
    expect(script.speakersAt(700)).toEqual([100]);
  });
});

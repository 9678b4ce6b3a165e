import type { CompliancePolicy, RecorderApplicationSettings, Tenant } from './model';
import {
  combineJoinDecisions,
  decideJoin,
  decideLoss,
  planInvites,
  playsAudioNotice,
  resolvePolicy,
  validateDirectory,
  type ConversationKind,
  type InviteOutcome,
  type JoinDecision,
  type LossDecision,
} from './policy-engine';

function app(overrides: Partial<RecorderApplicationSettings> = {}): RecorderApplicationSettings {
  return {
    applicationInstanceId: 'inst-a',
    requiredBeforeCallEstablishment: true,
    requiredDuringCall: true,
    requiredBeforeMeetingJoin: true,
    requiredDuringMeeting: true,
    concurrentInvitationCount: 1,
    ...overrides,
  };
}

function policy(overrides: Partial<CompliancePolicy> = {}): CompliancePolicy {
  return {
    identity: 'Tag:rec',
    enabled: true,
    applications: [app()],
    warnUserOnRemoval: true,
    disableComplianceRecordingAudioNotificationForCalls: false,
    recordReroutedCalls: false,
    ...overrides,
  };
}

describe('decideJoin: invite outcomes × RequiredBefore* flags', () => {
  const strict = app();
  const lenient = app({ requiredBeforeCallEstablishment: false, requiredBeforeMeetingJoin: false });
  const cases: [
    string,
    RecorderApplicationSettings,
    ConversationKind,
    InviteOutcome[],
    JoinDecision['kind'],
  ][] = [
    ['single invite accepted', strict, 'p2p', ['accepted'], 'recorded'],
    ['single invite pending', strict, 'p2p', ['pending'], 'wait'],
    ['single invite rejected, required call', strict, 'p2p', ['rejected'], 'cancelCall'],
    ['single invite timed out, required call', strict, 'pstn', ['timedOut'], 'cancelCall'],
    ['single invite timed out, required group call', strict, 'group', ['timedOut'], 'cancelCall'],
    [
      'single invite timed out, not required call',
      lenient,
      'p2p',
      ['timedOut'],
      'proceedUnrecorded',
    ],
    ['single invite rejected, required meeting', strict, 'meeting', ['rejected'], 'keepUserOut'],
    [
      'single invite rejected, required town hall',
      strict,
      'broadcast',
      ['rejected'],
      'keepUserOut',
    ],
    [
      'single invite timed out, not required meeting',
      lenient,
      'meeting',
      ['timedOut'],
      'proceedUnrecorded',
    ],
    ['one of two accepted while other pending', strict, 'p2p', ['accepted', 'pending'], 'recorded'],
    ['one of two rejected, other pending', strict, 'p2p', ['rejected', 'pending'], 'wait'],
    [
      'one of two rejected, other accepted',
      strict,
      'meeting',
      ['rejected', 'accepted'],
      'recorded',
    ],
    ['both rejected, required call', strict, 'p2p', ['rejected', 'timedOut'], 'cancelCall'],
    ['both rejected, required meeting', strict, 'meeting', ['timedOut', 'timedOut'], 'keepUserOut'],
    [
      'call flag only: meeting flag false still blocks calls',
      app({ requiredBeforeMeetingJoin: false }),
      'p2p',
      ['rejected'],
      'cancelCall',
    ],
    [
      'meeting flag only: call flag false still keeps out of meetings',
      app({ requiredBeforeCallEstablishment: false }),
      'meeting',
      ['rejected'],
      'keepUserOut',
    ],
    ['redirected counts as not accepted', strict, 'p2p', ['redirected'], 'cancelCall'],
  ];
  it.each(cases)('%s', (_name, application, kind, outcomes, expected) => {
    expect(decideJoin(application, kind, outcomes).kind).toBe(expected);
  });
});

describe('decideLoss: remaining instances × RequiredDuring* flags', () => {
  const cases: [
    string,
    RecorderApplicationSettings,
    ConversationKind,
    number,
    LossDecision['kind'],
  ][] = [
    ['one instance left of two', app({ concurrentInvitationCount: 2 }), 'p2p', 1, 'stillRecorded'],
    ['last instance left, required call', app(), 'p2p', 0, 'endCall'],
    [
      'last instance left, not required call',
      app({ requiredDuringCall: false }),
      'pstn',
      0,
      'continueUnrecorded',
    ],
    ['last instance left, required meeting', app(), 'meeting', 0, 'ejectUser'],
    [
      'last instance left, not required meeting',
      app({ requiredDuringMeeting: false }),
      'broadcast',
      0,
      'continueUnrecorded',
    ],
    [
      'call flag false does not relax meetings',
      app({ requiredDuringCall: false }),
      'meeting',
      0,
      'ejectUser',
    ],
  ];
  it.each(cases)('%s', (_name, application, kind, remaining, expected) => {
    expect(decideLoss(application, kind, remaining).kind).toBe(expected);
  });
});

describe('planInvites', () => {
  it('invites the same application twice with concurrentInvitationCount 2', () => {
    const plan = planInvites(policy({ applications: [app({ concurrentInvitationCount: 2 })] }), {
      isRerouted: false,
    });
    expect(plan).toEqual({
      kind: 'invite',
      groups: [
        expect.objectContaining({
          invites: [
            { applicationInstanceId: 'inst-a', slot: 0 },
            { applicationInstanceId: 'inst-a', slot: 1 },
          ],
        }),
      ],
    });
  });

  it('invites the paired application alongside the primary', () => {
    const plan = planInvites(
      policy({ applications: [app({ pairedApplicationInstanceId: 'inst-b' })] }),
      { isRerouted: false },
    );
    expect(
      plan.kind === 'invite' && plan.groups[0]?.invites.map((i) => i.applicationInstanceId),
    ).toEqual(['inst-a', 'inst-b']);
  });

  it('invites every application of the policy, each as its own group', () => {
    const plan = planInvites(
      policy({ applications: [app(), app({ applicationInstanceId: 'inst-c' })] }),
      { isRerouted: false },
    );
    expect(plan.kind === 'invite' && plan.groups.length).toBe(2);
  });

  it('skips rerouted legs unless RecordReroutedCalls is set', () => {
    expect(planInvites(policy(), { isRerouted: true })).toEqual({
      kind: 'skip',
      reason: 'reroutedNotRecorded',
    });
    expect(planInvites(policy({ recordReroutedCalls: true }), { isRerouted: true }).kind).toBe(
      'invite',
    );
  });

  it('never invites for an emergency call', () => {
    expect(planInvites(policy(), { isRerouted: false, notRecordable: 'emergencyCall' })).toEqual({
      kind: 'skip',
      reason: 'emergencyCall',
    });
  });
});

describe('resolvePolicy', () => {
  const tenant: Tenant = {
    id: 't1',
    displayName: 'Contoso',
    users: [
      { id: 'u1', displayName: 'A' },
      { id: 'u2', displayName: 'B' },
      { id: 'u3', displayName: 'C' },
      { id: 'u4', displayName: 'D' },
    ],
    groups: [
      { id: 'g1', displayName: 'Traders', memberIds: ['u2', 'u3'] },
      { id: 'g2', displayName: 'Desk', memberIds: ['u3'] },
    ],
    policies: [
      policy({ identity: 'Tag:user' }),
      policy({ identity: 'Tag:g1' }),
      policy({ identity: 'Tag:g2' }),
      policy({ identity: 'Global', enabled: false }),
    ],
    assignments: {
      users: { u1: 'Tag:user' },
      groups: [
        { groupId: 'g1', policy: 'Tag:g1', rank: 2 },
        { groupId: 'g2', policy: 'Tag:g2', rank: 1 },
      ],
      global: 'Global',
    },
  };

  it.each([
    ['u1', 'recorded', 'Tag:user'],
    ['u2', 'recorded', 'Tag:g1'],
    ['u3', 'recorded', 'Tag:g2'],
    ['u4', 'notRecorded', undefined],
    ['nobody', 'notRecorded', undefined],
  ])('user %s resolves to %s %s', (userId, kind, identity) => {
    const resolved = resolvePolicy(tenant, userId);
    expect(resolved.kind).toBe(kind);
    if (resolved.kind === 'recorded') expect(resolved.policy.identity).toBe(identity);
  });

  it('reports a disabled Global policy as not recorded', () => {
    expect(resolvePolicy(tenant, 'u4')).toEqual({ kind: 'notRecorded', reason: 'policyDisabled' });
  });
});

describe('combineJoinDecisions and notices', () => {
  it('lets a blocking application win over a recorded one', () => {
    expect(combineJoinDecisions([{ kind: 'recorded' }, { kind: 'cancelCall' }]).kind).toBe(
      'cancelCall',
    );
  });

  it('waits while any application is still undecided', () => {
    expect(combineJoinDecisions([{ kind: 'recorded' }, { kind: 'wait' }]).kind).toBe('wait');
  });

  it('suppresses the 1:1 audio notice only when the policy says so', () => {
    const quiet = policy({ disableComplianceRecordingAudioNotificationForCalls: true });
    expect(playsAudioNotice(quiet, 'p2p')).toBe(false);
    expect(playsAudioNotice(quiet, 'meeting')).toBe(true);
    expect(playsAudioNotice(policy(), 'pstn')).toBe(true);
  });
});

describe('validateDirectory', () => {
  it('refuses concurrent invitations combined with a paired application', () => {
    const problems = validateDirectory({
      bots: [
        {
          appId: 'bot',
          clientSecret: 's',
          homeTenantId: 't1',
          displayName: 'Bot',
          callingWebhookUrl: 'https://127.0.0.1/api/calling',
        },
      ],
      applicationInstances: [
        { id: 'inst-a', tenantId: 't1', botAppId: 'bot', displayName: 'A' },
        { id: 'inst-b', tenantId: 't1', botAppId: 'bot', displayName: 'B' },
      ],
      tenants: [
        {
          id: 't1',
          displayName: 'T',
          users: [],
          groups: [],
          policies: [
            policy({
              applications: [
                app({ concurrentInvitationCount: 2, pairedApplicationInstanceId: 'inst-b' }),
              ],
            }),
          ],
          assignments: { users: {}, groups: [] },
        },
      ],
    });
    expect(problems).toEqual([expect.stringContaining('cannot be combined')]);
  });
});

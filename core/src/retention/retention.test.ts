import type { InteractionRecord } from '../interaction';
import { canDelete, holdMatches, validateHoldScope, type LegalHold } from './legal-hold';
import {
  expiryDay,
  resolveRetention,
  validateRetentionPolicy,
  type RetentionPolicy,
} from './retention-class';

const interaction: InteractionRecord = {
  tenantId: 'tenant-1',
  interactionId: 'int-1',
  callId: 'call-1',
  type: 'pstn',
  direction: 'inbound',
  outcome: 'recorded',
  invitedAt: '2030-01-01T10:00:00.000Z',
  sealedAt: '2030-01-01T11:00:00.000Z',
  recordedUserIds: ['user-a'],
  recordingStatusHistory: [],
  gaps: [],
  region: 'eu',
};

const policy: RetentionPolicy = {
  defaultClassName: 'standard',
  classes: [
    { name: 'standard', periodInDays: 365, dispositionMode: 'auto' },
    {
      name: 'mifid',
      periodInDays: 1826,
      dispositionMode: 'approval',
      legalBasis: 'MiFID II Art. 16(7)',
    },
    { name: 'sec', periodInDays: 2557, dispositionMode: 'approval' },
    { name: 'short', periodInDays: 30, dispositionMode: 'auto' },
  ],
  rules: [
    { className: 'mifid', groupIds: ['traders'] },
    { className: 'short', interactionTypes: ['meeting'] },
    { className: 'sec', recordedUserIds: ['user-a'], regions: ['us'] },
  ],
};

describe('resolveRetention', () => {
  it('uses the default class when no rule matches', () => {
    const decision = resolveRetention(policy, interaction, []);
    expect(decision).toEqual({
      retentionClass: policy.classes[0],
      expiresAt: '2031-01-01T11:00:00.000Z',
      ruleIndex: -1,
    });
  });

  it('chooses the class of the recorded user group', () => {
    expect(resolveRetention(policy, interaction, ['traders']).retentionClass.name).toBe('mifid');
  });

  it('requires every criterion of a rule to match', () => {
    expect(resolveRetention(policy, interaction, []).retentionClass.name).toBe('standard');
    expect(resolveRetention(policy, { ...interaction, region: 'us' }, []).retentionClass.name).toBe(
      'sec',
    );
  });

  it('keeps the longest period when several rules match', () => {
    expect(
      resolveRetention(policy, { ...interaction, region: 'us' }, ['traders']).retentionClass.name,
    ).toBe('sec');
  });

  it('selects by interaction type', () => {
    expect(
      resolveRetention(policy, { ...interaction, type: 'meeting' }, []).retentionClass.name,
    ).toBe('short');
  });

  it('reports an undefined class and a bad period', () => {
    const problems = validateRetentionPolicy({
      defaultClassName: 'none',
      classes: [{ name: 'x', periodInDays: 0, dispositionMode: 'auto' }],
      rules: [{ className: 'y' }],
    });
    expect(problems).toHaveLength(3);
  });

  it('names the expiry day', () => {
    expect(expiryDay('2031-01-01T23:59:59.000Z')).toBe('2031-01-01');
  });
});

const hold: LegalHold = {
  tenantId: 'tenant-1',
  holdId: 'hold-1',
  matterId: 'M-1',
  description: 'matter',
  custodian: 'officer-1',
  scope: { recordedUserIds: ['user-a'], from: '2030-01-01T00:00:00Z', to: '2030-02-01T00:00:00Z' },
  createdAt: '2030-03-01T00:00:00Z',
  createdBy: 'officer-1',
};

describe('legal hold', () => {
  it('matches an interaction of a held user in the time range, even one archived before the hold', () => {
    expect(holdMatches(hold, interaction)).toBe(true);
  });

  it('does not match another user or a time outside the range', () => {
    expect(holdMatches(hold, { ...interaction, recordedUserIds: ['user-b'] })).toBe(false);
    expect(holdMatches(hold, { ...interaction, invitedAt: '2030-02-01T00:00:00Z' })).toBe(false);
  });

  it("does not match another tenant's interaction", () => {
    expect(holdMatches(hold, { ...interaction, tenantId: 'tenant-2' })).toBe(false);
  });

  it('refuses a scope with no criterion', () => {
    expect(validateHoldScope({})).toEqual([
      'a hold needs recordedUserIds, a time range or interactionIds',
    ]);
  });
});

describe('canDelete', () => {
  const expired = { ...interaction, expiresAt: '2031-01-01T00:00:00.000Z' };
  const now = new Date('2031-06-01T00:00:00Z');

  it('refuses before expiry', () => {
    expect(canDelete(expired, [], new Date('2030-12-31T23:59:59Z'))).toEqual({
      isAllowed: false,
      reason: 'notExpired',
      expiresAt: expired.expiresAt,
    });
  });

  it('refuses without a retention class', () => {
    expect(canDelete(interaction, [], now)).toEqual({ isAllowed: false, reason: 'noRetention' });
  });

  it('allows at expiry without a hold', () => {
    expect(canDelete(expired, [], new Date(expired.expiresAt))).toEqual({ isAllowed: true });
  });

  it('refuses under a hold whatever the expiry', () => {
    expect(canDelete(expired, [hold], now)).toEqual({
      isAllowed: false,
      reason: 'legalHold',
      holdIds: ['hold-1'],
    });
  });

  it('allows once the hold is released', () => {
    expect(
      canDelete(
        expired,
        [{ ...hold, releasedAt: '2031-05-01T00:00:00Z', releasedBy: 'officer-2' }],
        now,
      ),
    ).toEqual({ isAllowed: true });
  });
});

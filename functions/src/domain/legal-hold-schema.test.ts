import { holdScopeSchema, parseStoredHold } from './legal-hold-schema';

const hold = {
  tenantId: 't1',
  holdId: 'h1',
  matterId: 'M-1',
  description: 'd',
  custodian: 'c',
  scope: { recordedUserIds: ['u1'] },
  createdAt: '2030-01-01T00:00:00.000Z',
  createdBy: 'c',
};

describe('legal hold schema', () => {
  it('reads a stored hold', () => {
    expect(parseStoredHold(JSON.stringify(hold))).toEqual(hold);
  });

  it.each([
    ['a scope with a string for a list', { ...hold, scope: { recordedUserIds: 'x' } }],
    ['a scope with numbers', { ...hold, scope: { recordedUserIds: [1, 2] } }],
    ['a scope with objects', { ...hold, scope: { interactionIds: [{}] } }],
    ['a hold without a tenant', { ...hold, tenantId: undefined }],
  ])('skips %s instead of failing its readers', (_name, stored) => {
    expect(parseStoredHold(JSON.stringify(stored))).toBeUndefined();
  });

  it('skips text that is not JSON', () => {
    expect(parseStoredHold('{')).toBeUndefined();
  });

  it('refuses a scope that names a tenant or has no criterion', () => {
    expect(holdScopeSchema.safeParse({ tenantId: 't2', interactionIds: ['i'] }).success).toBe(
      false,
    );
    expect(holdScopeSchema.safeParse({}).success).toBe(false);
  });
});

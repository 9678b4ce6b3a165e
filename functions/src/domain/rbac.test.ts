import {
  ArchiveAction,
  ArchiveRole,
  authorize,
  RolePermissions,
  rolesFromClaims,
  scopeGroupsFor,
  type Principal,
} from './rbac';

const traders = { tenantId: 't1', groupIds: ['traders'] };
const principal = (role: ArchiveRole, scope: string[] = ['traders']): Principal => ({
  userId: `u-${role}`,
  tenantId: 't1',
  roles: [role],
  scopeGroupIds: scope,
});

describe('authorize: the role x action matrix', () => {
  const cases = Object.values(ArchiveRole).flatMap((role) =>
    Object.values(ArchiveAction).map((action) => [role, action] as const),
  );
  it.each(cases)('%s may %s exactly when the matrix grants it', (role, action) => {
    const decision = authorize(principal(role), action, traders);
    expect(decision.isAllowed).toBe(RolePermissions[role].includes(action));
  });
});

describe('authorize: scopes', () => {
  it('refuses a compliance officer outside their scope', () => {
    expect(authorize(principal('complianceOfficer', ['sales']), 'playback', traders)).toEqual({
      isAllowed: false,
      reason: 'outOfScope',
    });
  });
  it('refuses a supervisor outside their scope', () => {
    expect(authorize(principal('supervisor', ['sales']), 'viewMetadata', traders)).toEqual({
      isAllowed: false,
      reason: 'outOfScope',
    });
  });
  it('lets an auditor reach every group', () => {
    expect(authorize(principal('auditor', []), 'viewMetadata', traders)).toEqual({
      isAllowed: true,
      role: 'auditor',
    });
  });
  it('lets a tenant-wide compliance officer reach every group', () => {
    expect(authorize(principal('complianceOfficer', ['*']), 'export', traders).isAllowed).toBe(
      true,
    );
  });
  it('refuses another tenant', () => {
    expect(
      authorize(principal('auditor'), 'viewMetadata', { tenantId: 't2', groupIds: ['traders'] }),
    ).toEqual({ isAllowed: false, reason: 'otherTenant' });
  });
});

describe('claims', () => {
  it('maps app roles case-insensitively and drops unknown ones', () => {
    expect(rolesFromClaims(['Attest.ComplianceOfficer', 'AUDITOR', 'Other'])).toEqual([
      'complianceOfficer',
      'auditor',
    ]);
  });
  it('collects scope groups by user and by the caller groups', () => {
    expect(
      scopeGroupsFor('u1', ['g-officers'], {
        u1: ['traders'],
        'g-officers': ['sales', 'traders'],
      }).sort(),
    ).toEqual(['sales', 'traders']);
  });
});

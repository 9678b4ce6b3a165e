/**
 * Who may do what to archived data. Roles come from the caller's Entra token (`roles` claim);
 * scopes limit compliance officers and supervisors to interactions of certain recorded-user
 * groups. Pure decisions; the admin API writes one ledger entry per decision.
 */
export const ArchiveRole = {
  admin: 'admin',
  complianceOfficer: 'complianceOfficer',
  auditor: 'auditor',
  supervisor: 'supervisor',
} as const;
export type ArchiveRole = (typeof ArchiveRole)[keyof typeof ArchiveRole];

export const ArchiveAction = {
  search: 'search',
  viewMetadata: 'viewMetadata',
  playback: 'playback',
  download: 'download',
  liveListen: 'liveListen',
  export: 'export',
  placeHold: 'placeHold',
  releaseHold: 'releaseHold',
  listHolds: 'listHolds',
  decideDisposition: 'decideDisposition',
  deleteInteraction: 'deleteInteraction',
  viewLedger: 'viewLedger',
  completenessReport: 'completenessReport',
  subjectExport: 'subjectExport',
  subjectErasure: 'subjectErasure',
} as const;
export type ArchiveAction = (typeof ArchiveAction)[keyof typeof ArchiveAction];

/**
 * The matrix. Admins run the system but do not see recordings (separation of duties); auditors
 * read and verify but never change or take data out; supervisors review their teams' calls.
 */
export const RolePermissions: Readonly<Record<ArchiveRole, readonly ArchiveAction[]>> = {
  admin: ['viewLedger', 'completenessReport', 'listHolds'],
  complianceOfficer: [
    'search',
    'viewMetadata',
    'playback',
    'download',
    'liveListen',
    'export',
    'placeHold',
    'releaseHold',
    'listHolds',
    'decideDisposition',
    'deleteInteraction',
    'viewLedger',
    'completenessReport',
    'subjectExport',
    'subjectErasure',
  ],
  auditor: ['search', 'viewMetadata', 'playback', 'listHolds', 'viewLedger', 'completenessReport'],
  supervisor: ['search', 'viewMetadata', 'playback', 'liveListen'],
};

/** Roles whose access to interactions is limited to their scope groups. */
const SCOPED_ROLES: ReadonlySet<ArchiveRole> = new Set<ArchiveRole>([
  'complianceOfficer',
  'supervisor',
]);

/** Every recorded-user group. */
export const ALL_GROUPS = '*';

export interface Principal {
  /** Object id of the caller (`oid`). */
  readonly userId: string;
  readonly tenantId: string;
  readonly roles: readonly ArchiveRole[];
  /** Recorded-user groups whose interactions the caller may reach, or `*`. */
  readonly scopeGroupIds: readonly string[];
}

export interface ScopedTarget {
  readonly tenantId: string;
  /** Groups of the interaction's recorded users. */
  readonly groupIds: readonly string[];
}

export type AccessDecision =
  | { readonly isAllowed: true; readonly role: ArchiveRole }
  | { readonly isAllowed: false; readonly reason: 'noRole' | 'outOfScope' | 'otherTenant' };

/** Maps token roles (case-insensitive, `Attest.ComplianceOfficer` or `complianceOfficer`) to archive roles. */
export function rolesFromClaims(claimRoles: readonly string[]): ArchiveRole[] {
  const known = Object.values(ArchiveRole);
  const out = new Set<ArchiveRole>();
  for (const raw of claimRoles) {
    const name = raw.replace(/^attest\./i, '').toLowerCase();
    const role = known.find((r) => r.toLowerCase() === name);
    if (role !== undefined) out.add(role);
  }
  return [...out];
}

function isInScope(principal: Principal, role: ArchiveRole, target: ScopedTarget): boolean {
  if (!SCOPED_ROLES.has(role)) return true;
  if (principal.scopeGroupIds.includes(ALL_GROUPS)) return true;
  return target.groupIds.some((g) => principal.scopeGroupIds.includes(g));
}

/**
 * Allows when any of the caller's roles grants the action and, for an interaction, covers it:
 * same tenant and, for scoped roles, a shared group.
 */
export function authorize(
  principal: Principal,
  action: ArchiveAction,
  target?: ScopedTarget,
): AccessDecision {
  const granting = principal.roles.filter((role) => RolePermissions[role].includes(action));
  if (granting.length === 0) return { isAllowed: false, reason: 'noRole' };
  if (target === undefined) return { isAllowed: true, role: granting[0]! };
  if (target.tenantId !== principal.tenantId) return { isAllowed: false, reason: 'otherTenant' };
  const role = granting.find((r) => isInScope(principal, r, target));
  return role === undefined
    ? { isAllowed: false, reason: 'outOfScope' }
    : { isAllowed: true, role };
}

/** Scope groups of a caller from configuration: by user object id and by the caller's own groups. */
export function scopeGroupsFor(
  userId: string,
  callerGroupIds: readonly string[],
  scopes: Readonly<Record<string, readonly string[]>>,
): string[] {
  const out = new Set<string>(scopes[userId] ?? []);
  for (const g of callerGroupIds) for (const s of scopes[g] ?? []) out.add(s);
  return [...out];
}

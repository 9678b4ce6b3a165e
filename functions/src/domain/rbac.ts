/**
 * Who may do what, for every admin route of the function app (archive, calls, media hosts, live
 * listen-in). Roles are Entra app roles from the caller's token (`roles` claim), under the names
 * in {@link AppRoleValue} (docs/authorization.md); scopes limit compliance officers and
 * supervisors to interactions of certain recorded-user groups. {@link authorize} is the one
 * function that decides; the HTTP layer writes one ledger entry per decision. Pure.
 */
export const ArchiveRole = {
  /** Runs the deployment (media host fleet, configuration); sees no tenant's data. */
  operator: 'operator',
  /** A served tenant's administrator: call status, holds list, ledger, reports of that tenant. */
  admin: 'admin',
  complianceOfficer: 'complianceOfficer',
  auditor: 'auditor',
  supervisor: 'supervisor',
  /**
   * Pauses and resumes a live call's recording while a payment card is read out (PCI DSS):
   * given to the payment integration's application and to the agents or team leads who take
   * payments; scoped like a supervisor to the recorded users' groups; sees no recording.
   */
  recordingController: 'recordingController',
  /** A line-of-business system (an app's client credentials): attaches business data. */
  integration: 'integration',
} as const;
export type ArchiveRole = (typeof ArchiveRole)[keyof typeof ArchiveRole];

/** The app role values to declare on the Entra app registration (`appRoles[].value`). */
export const AppRoleValue: Readonly<Record<ArchiveRole, string>> = {
  operator: 'Attest.Operator',
  admin: 'Attest.Admin',
  complianceOfficer: 'Attest.ComplianceOfficer',
  auditor: 'Attest.Auditor',
  supervisor: 'Attest.Supervisor',
  recordingController: 'Attest.RecordingController',
  integration: 'Attest.Integration',
};

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
  requestDisposition: 'requestDisposition',
  decideDisposition: 'decideDisposition',
  /** `GET archive/dispositions`: deletions waiting for a second person's decision. */
  listDispositions: 'listDispositions',
  deleteInteraction: 'deleteInteraction',
  /** `POST archive/interactions/{tenantId}/{interactionId}/retention`: extend to another class. */
  changeRetentionClass: 'changeRetentionClass',
  viewLedger: 'viewLedger',
  completenessReport: 'completenessReport',
  subjectExport: 'subjectExport',
  subjectErasure: 'subjectErasure',
  /** `GET /api/calls*`: recorder status of the caller's tenant. */
  viewCalls: 'viewCalls',
  /** `GET archive/analytics`: the tenant's usage and reliability, aggregated. */
  viewAnalytics: 'viewAnalytics',
  /** `PUT archive/interactions/{tenantId}/{interactionId}/business-data`: a new version. */
  attachBusinessData: 'attachBusinessData',
  /** `GET archive/interactions/{tenantId}/{interactionId}/business-data`: current and history. */
  viewBusinessData: 'viewBusinessData',
  /** `GET /api/mediahosts`: the shared fleet. */
  listMediaHosts: 'listMediaHosts',
  /** `POST /api/mediahosts/{hostId}/drain`: the shared fleet. */
  drainMediaHost: 'drainMediaHost',
  /** `POST /api/calls/{callId}/pause` and `/resume`: stop and restart storing a live call's media. */
  pauseRecording: 'pauseRecording',
} as const;
export type ArchiveAction = (typeof ArchiveAction)[keyof typeof ArchiveAction];

/**
 * The matrix. Operators run the fleet and see no tenant data; tenant admins run their tenant's
 * recorder but do not see recordings (separation of duties); auditors read and verify but never
 * change or take data out; supervisors review their teams' calls.
 */
export const RolePermissions: Readonly<Record<ArchiveRole, readonly ArchiveAction[]>> = {
  operator: ['listMediaHosts', 'drainMediaHost'],
  admin: [
    'viewLedger',
    'completenessReport',
    'listHolds',
    'viewCalls',
    'viewAnalytics',
    'attachBusinessData',
    'viewBusinessData',
  ],
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
    'requestDisposition',
    'decideDisposition',
    'listDispositions',
    'deleteInteraction',
    'changeRetentionClass',
    'viewLedger',
    'completenessReport',
    'subjectExport',
    'subjectErasure',
    'viewBusinessData',
  ],
  auditor: [
    'search',
    'viewMetadata',
    'playback',
    'listHolds',
    'viewLedger',
    'completenessReport',
    'viewBusinessData',
  ],
  supervisor: ['search', 'viewMetadata', 'playback', 'liveListen'],
  recordingController: ['pauseRecording'],
  integration: ['attachBusinessData', 'viewBusinessData'],
};

/** Roles whose access to interactions is limited to their scope groups. */
const SCOPED_ROLES: ReadonlySet<ArchiveRole> = new Set<ArchiveRole>([
  'complianceOfficer',
  'supervisor',
  'recordingController',
]);

/** Every recorded-user group. */
export const ALL_GROUPS = '*';

export interface Principal {
  /** Object id of the caller (`oid`). */
  readonly userId: string;
  readonly tenantId: string;
  /** Effective roles (the operator role only for callers of the operator tenant). */
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

/**
 * Maps token roles to roles: the documented `Attest.*` values (and the bare role name), compared
 * case-insensitively; unknown values are dropped. The operator role counts only for a caller
 * whose token comes from `operatorTenantId` (a tenant's own admin can assign app roles in that
 * tenant's enterprise app, so the role alone does not make anyone an operator of the deployment).
 */
export function rolesFromClaims(
  claimRoles: readonly string[],
  tenant?: { readonly tenantId: string; readonly operatorTenantId: string | undefined },
): ArchiveRole[] {
  const known = Object.values(ArchiveRole);
  const out = new Set<ArchiveRole>();
  for (const raw of claimRoles) {
    const name = raw.replace(/^attest\./i, '').toLowerCase();
    const role = known.find((r) => r.toLowerCase() === name);
    if (role !== undefined) out.add(role);
  }
  if (
    out.has('operator') &&
    (tenant === undefined ||
      tenant.operatorTenantId === undefined ||
      tenant.operatorTenantId !== tenant.tenantId)
  )
    out.delete('operator');
  return [...out];
}

/** Whether a role reaches only interactions of its scope groups. */
export function isScopedRole(role: ArchiveRole): boolean {
  return SCOPED_ROLES.has(role);
}

function isInScope(principal: Principal, role: ArchiveRole, target: ScopedTarget): boolean {
  if (!SCOPED_ROLES.has(role)) return true;
  if (principal.scopeGroupIds.includes(ALL_GROUPS)) return true;
  return target.groupIds.some((g) => principal.scopeGroupIds.includes(g));
}

/**
 * Allows when any of the caller's roles grants the action and, for a target, covers it: same
 * tenant and, for scoped roles, a shared group.
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

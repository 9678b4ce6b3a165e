/**
 * The simulated Teams directory: tenants, users, groups, compliance recording policies and the
 * recorder applications they invite, with the parameters of `New-CsTeamsComplianceRecordingPolicy`
 * and `New-CsTeamsComplianceRecordingApplication` (defaults as documented).
 */

export const PortalRole = {
  /** Operator of the deployment (counts only in the home tenant, ATTEST_OPERATOR_TENANT_ID). */
  operator: 'operator',
  admin: 'admin',
  complianceOfficer: 'complianceOfficer',
  auditor: 'auditor',
  supervisor: 'supervisor',
  /** Pauses and resumes a live call's recording (PCI pause). */
  recordingController: 'recordingController',
} as const;
export type PortalRole = (typeof PortalRole)[keyof typeof PortalRole];

export interface DirectoryUser {
  /** Entra object id. */
  readonly id: string;
  readonly displayName: string;
  readonly userPrincipalName?: string;
  /** E.164 number when the user has one (PSTN scenarios). */
  readonly phoneNumber?: string;
  /** Roles in Attest's portal, carried in user tokens as `roles`. */
  readonly portalRoles?: readonly PortalRole[];
  /** Preferred data location / region code used in `region` and botData. */
  readonly region?: string;
}

export interface DirectoryGroup {
  readonly id: string;
  readonly displayName: string;
  readonly memberIds: readonly string[];
}

/** A `ComplianceRecordingApplication` entry of a policy. */
export interface RecorderApplicationSettings {
  /** Object id of the application instance (resource account) the policy references. */
  readonly applicationInstanceId: string;
  readonly requiredBeforeCallEstablishment: boolean;
  readonly requiredDuringCall: boolean;
  readonly requiredBeforeMeetingJoin: boolean;
  readonly requiredDuringMeeting: boolean;
  /** 1 or 2 invites to the same application for each recorded call leg. */
  readonly concurrentInvitationCount: 1 | 2;
  /** At most one paired application instance; never combined with concurrentInvitationCount 2. */
  readonly pairedApplicationInstanceId?: string;
  readonly priority?: number;
}

export interface CompliancePolicy {
  /** `Tag:<name>` or `Global`. */
  readonly identity: string;
  readonly enabled: boolean;
  readonly description?: string;
  readonly applications: readonly RecorderApplicationSettings[];
  readonly warnUserOnRemoval: boolean;
  readonly disableComplianceRecordingAudioNotificationForCalls: boolean;
  readonly recordReroutedCalls: boolean;
  readonly customBanner?: string;
  readonly customPromptsEnabled?: boolean;
  readonly customPromptsPackageId?: string;
}

export interface PolicyAssignments {
  /** Tenant-wide (`Grant-CsTeamsComplianceRecordingPolicy -Global`). */
  readonly global?: string;
  /** userId → policy identity (`-Identity`). */
  readonly users: Readonly<Record<string, string>>;
  /** `-Group -Rank`: the lowest rank wins when a user is in several groups. */
  readonly groups: readonly {
    readonly groupId: string;
    readonly policy: string;
    readonly rank: number;
  }[];
}

export interface Tenant {
  readonly id: string;
  readonly displayName: string;
  readonly users: readonly DirectoryUser[];
  readonly groups: readonly DirectoryGroup[];
  readonly policies: readonly CompliancePolicy[];
  readonly assignments: PolicyAssignments;
}

/** An application instance (resource account) linked to a bot app registration. */
export interface ApplicationInstance {
  readonly id: string;
  readonly tenantId: string;
  readonly botAppId: string;
  readonly displayName: string;
}

/** An Entra app registration with an Azure Bot calling webhook. */
export interface BotRegistration {
  readonly appId: string;
  /** Client secret for the client-credentials flow. Never logged. */
  readonly clientSecret: string;
  readonly homeTenantId: string;
  readonly displayName: string;
  /** The bot channel's "webhook for calling" (new-call invites go here). */
  readonly callingWebhookUrl: string;
  /** Tenants where admin consent was granted; the home tenant always counts. */
  readonly consentedTenantIds?: readonly string[];
}

export interface Directory {
  readonly tenants: readonly Tenant[];
  readonly bots: readonly BotRegistration[];
  readonly applicationInstances: readonly ApplicationInstance[];
}

export const APPLICATION_DEFAULTS = {
  requiredBeforeCallEstablishment: true,
  requiredDuringCall: true,
  requiredBeforeMeetingJoin: true,
  requiredDuringMeeting: true,
  concurrentInvitationCount: 1,
} as const;

export const POLICY_DEFAULTS = {
  enabled: false,
  warnUserOnRemoval: true,
  disableComplianceRecordingAudioNotificationForCalls: false,
  recordReroutedCalls: false,
} as const;

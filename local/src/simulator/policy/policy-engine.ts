/**
 * Pure decisions of the simulated Teams compliance policy engine: which policy applies to a
 * user, which recorder instances are invited, and what happens to the call or the user when
 * invites fail or accepted recorders leave. No I/O and no clock: the call engine feeds facts in.
 */
import type { CompliancePolicy, Directory, RecorderApplicationSettings, Tenant } from './model';

/** What kind of conversation the policy user is in: `call` flags or `meeting` flags apply. */
export const ConversationKind = {
  p2p: 'p2p',
  pstn: 'pstn',
  group: 'group',
  meeting: 'meeting',
  broadcast: 'broadcast',
} as const;
export type ConversationKind = (typeof ConversationKind)[keyof typeof ConversationKind];

export function isMeetingLike(kind: ConversationKind): boolean {
  return kind === 'meeting' || kind === 'broadcast';
}

/** Reasons a call leg is never recorded, whatever the policy says (teams-recording-policy). */
export const NotRecordableReason = {
  emergencyCall: 'emergencyCall',
  conferenceModeCallQueue: 'conferenceModeCallQueue',
  sbaSurvivablePstn: 'sbaSurvivablePstn',
} as const;
export type NotRecordableReason = (typeof NotRecordableReason)[keyof typeof NotRecordableReason];

export type PolicyResolution =
  | {
      readonly kind: 'recorded';
      readonly policy: CompliancePolicy;
      readonly source: 'user' | 'group' | 'global';
    }
  | {
      readonly kind: 'notRecorded';
      readonly reason:
        'noPolicy' | 'policyDisabled' | 'noApplications' | 'unknownUser' | 'unknownPolicy';
    };

/** Direct user assignment wins over group (lowest rank first), which wins over Global. */
export function resolvePolicy(tenant: Tenant, userId: string): PolicyResolution {
  if (!tenant.users.some((u) => u.id === userId))
    return { kind: 'notRecorded', reason: 'unknownUser' };
  let name: string | undefined = tenant.assignments.users[userId];
  let source: 'user' | 'group' | 'global' = 'user';
  if (name === undefined) {
    const groupHit = [...tenant.assignments.groups]
      .sort((a, b) => a.rank - b.rank)
      .find((g) => tenant.groups.find((x) => x.id === g.groupId)?.memberIds.includes(userId));
    if (groupHit) {
      name = groupHit.policy;
      source = 'group';
    }
  }
  if (name === undefined && tenant.assignments.global !== undefined) {
    name = tenant.assignments.global;
    source = 'global';
  }
  if (name === undefined) return { kind: 'notRecorded', reason: 'noPolicy' };
  const policy = tenant.policies.find((p) => p.identity === name);
  if (!policy) return { kind: 'notRecorded', reason: 'unknownPolicy' };
  if (!policy.enabled) return { kind: 'notRecorded', reason: 'policyDisabled' };
  if (policy.applications.length === 0) return { kind: 'notRecorded', reason: 'noApplications' };
  return { kind: 'recorded', policy, source };
}

export interface LegContext {
  /** The leg reached the user by forward, transfer, delegation, call group or simultaneous ring. */
  readonly isRerouted: boolean;
  readonly notRecordable?: NotRecordableReason;
}

/** One invite to send: `slot` distinguishes the two concurrent invites of one application. */
export interface PlannedInvite {
  readonly applicationInstanceId: string;
  readonly slot: number;
}

/** Invites of one policy application (with its concurrent or paired siblings) and the flags that govern them. */
export interface InviteGroupPlan {
  readonly application: RecorderApplicationSettings;
  readonly invites: readonly PlannedInvite[];
}

export type InvitePlan =
  | { readonly kind: 'invite'; readonly groups: readonly InviteGroupPlan[] }
  | { readonly kind: 'skip'; readonly reason: NotRecordableReason | 'reroutedNotRecorded' };

/** All applications of the policy are invited in parallel; Priority only orders them. */
export function planInvites(policy: CompliancePolicy, leg: LegContext): InvitePlan {
  if (leg.notRecordable) return { kind: 'skip', reason: leg.notRecordable };
  if (leg.isRerouted && !policy.recordReroutedCalls)
    return { kind: 'skip', reason: 'reroutedNotRecorded' };
  const groups = [...policy.applications]
    .sort(
      (a, b) => (a.priority ?? Number.MAX_SAFE_INTEGER) - (b.priority ?? Number.MAX_SAFE_INTEGER),
    )
    .map((application): InviteGroupPlan => {
      const invites: PlannedInvite[] = [
        { applicationInstanceId: application.applicationInstanceId, slot: 0 },
      ];
      if (application.pairedApplicationInstanceId !== undefined) {
        invites.push({ applicationInstanceId: application.pairedApplicationInstanceId, slot: 0 });
      } else if (application.concurrentInvitationCount === 2) {
        invites.push({ applicationInstanceId: application.applicationInstanceId, slot: 1 });
      }
      return { application, invites };
    });
  return { kind: 'invite', groups };
}

export const InviteOutcome = {
  pending: 'pending',
  accepted: 'accepted',
  rejected: 'rejected',
  timedOut: 'timedOut',
  redirected: 'redirected',
} as const;
export type InviteOutcome = (typeof InviteOutcome)[keyof typeof InviteOutcome];

/**
 * After the invites of one application group: `wait` while any is pending and none accepted
 * (hardest on the recorder: an early accept settles the group, a late one is never awaited);
 * else recorded, proceed unrecorded, or enforce the `RequiredBefore*` flag.
 */
export type JoinDecision =
  | { readonly kind: 'wait' }
  | { readonly kind: 'recorded' }
  | { readonly kind: 'proceedUnrecorded' }
  | { readonly kind: 'cancelCall' }
  | { readonly kind: 'keepUserOut' };

export function decideJoin(
  application: RecorderApplicationSettings,
  conversation: ConversationKind,
  outcomes: readonly InviteOutcome[],
): JoinDecision {
  if (outcomes.some((o) => o === 'accepted')) return { kind: 'recorded' };
  if (outcomes.some((o) => o === 'pending')) return { kind: 'wait' };
  if (isMeetingLike(conversation)) {
    return application.requiredBeforeMeetingJoin
      ? { kind: 'keepUserOut' }
      : { kind: 'proceedUnrecorded' };
  }
  return application.requiredBeforeCallEstablishment
    ? { kind: 'cancelCall' }
    : { kind: 'proceedUnrecorded' };
}

/** When an accepted instance leaves: still recorded while one remains, else the `RequiredDuring*` flag. */
export type LossDecision =
  | { readonly kind: 'stillRecorded' }
  | { readonly kind: 'continueUnrecorded' }
  | { readonly kind: 'endCall' }
  | { readonly kind: 'ejectUser' };

export function decideLoss(
  application: RecorderApplicationSettings,
  conversation: ConversationKind,
  remainingAcceptedInstances: number,
): LossDecision {
  if (remainingAcceptedInstances > 0) return { kind: 'stillRecorded' };
  if (isMeetingLike(conversation)) {
    return application.requiredDuringMeeting
      ? { kind: 'ejectUser' }
      : { kind: 'continueUnrecorded' };
  }
  return application.requiredDuringCall ? { kind: 'endCall' } : { kind: 'continueUnrecorded' };
}

/** Several applications in one policy: the strictest group decision wins. */
export function combineJoinDecisions(decisions: readonly JoinDecision[]): JoinDecision {
  const order: JoinDecision['kind'][] = [
    'cancelCall',
    'keepUserOut',
    'wait',
    'recorded',
    'proceedUnrecorded',
  ];
  for (const kind of order) {
    const hit = decisions.find((d) => d.kind === kind);
    if (hit) return hit;
  }
  return { kind: 'proceedUnrecorded' };
}

/** Whether the 1:1 audio recording notice is played to a participant joining by audio only. */
export function playsAudioNotice(
  policy: CompliancePolicy,
  conversation: ConversationKind,
): boolean {
  const isOneToOne = conversation === 'p2p' || conversation === 'pstn';
  return !(isOneToOne && policy.disableComplianceRecordingAudioNotificationForCalls);
}

/** Problems in a directory that Teams' cmdlets would refuse; empty when valid. */
export function validateDirectory(directory: Directory): string[] {
  const problems: string[] = [];
  const instanceIds = new Set(directory.applicationInstances.map((a) => a.id));
  const botIds = new Set(directory.bots.map((b) => b.appId));
  for (const instance of directory.applicationInstances) {
    if (!botIds.has(instance.botAppId)) {
      problems.push(`applicationInstances[${instance.id}].botAppId names no bot registration`);
    }
  }
  directory.tenants.forEach((tenant, t) => {
    tenant.policies.forEach((policy, p) => {
      policy.applications.forEach((app, a) => {
        const at = `tenants[${t}].policies[${p}].applications[${a}]`;
        if (!instanceIds.has(app.applicationInstanceId))
          problems.push(`${at}.applicationInstanceId names no application instance`);
        if (app.concurrentInvitationCount !== 1 && app.concurrentInvitationCount !== 2) {
          problems.push(`${at}.concurrentInvitationCount must be 1 or 2`);
        }
        if (app.pairedApplicationInstanceId !== undefined) {
          if (app.concurrentInvitationCount === 2) {
            problems.push(
              `${at}: concurrentInvitationCount 2 and a paired application cannot be combined`,
            );
          }
          if (!instanceIds.has(app.pairedApplicationInstanceId)) {
            problems.push(`${at}.pairedApplicationInstanceId names no application instance`);
          }
        }
      });
    });
    const names = new Set(tenant.policies.map((p) => p.identity));
    for (const [userId, policy] of Object.entries(tenant.assignments.users)) {
      if (!names.has(policy))
        problems.push(`tenants[${t}].assignments.users[${userId}] names unknown policy ${policy}`);
    }
    if (tenant.assignments.global !== undefined && !names.has(tenant.assignments.global)) {
      problems.push(
        `tenants[${t}].assignments.global names unknown policy ${tenant.assignments.global}`,
      );
    }
  });
  return problems;
}

/** Legal holds and the deletion decision. Pure; no I/O. */
import type { InteractionRecord } from '../interaction';

export interface LegalHoldScope {
  /** Interactions where any of these users was recorded. */
  readonly recordedUserIds?: readonly string[];
  /** Interactions invited at or after this instant (ISO 8601). */
  readonly from?: string;
  /** Interactions invited before this instant (ISO 8601). */
  readonly to?: string;
  readonly interactionIds?: readonly string[];
}

export interface LegalHold {
  /** The tenant that placed the hold: it covers that tenant's interactions only. */
  readonly tenantId: string;
  readonly holdId: string;
  readonly matterId: string;
  /** Free text; may name a case. Never logged. */
  readonly description: string;
  /** Object id of the custodian. */
  readonly custodian: string;
  readonly scope: LegalHoldScope;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly releasedAt?: string;
  readonly releasedBy?: string;
}

/** Problems in a hold's scope; a hold must narrow at least by users, time or interactions. */
export function validateHoldScope(scope: LegalHoldScope): string[] {
  const problems: string[] = [];
  const hasCriterion =
    (scope.recordedUserIds?.length ?? 0) > 0 ||
    scope.from !== undefined ||
    scope.to !== undefined ||
    (scope.interactionIds?.length ?? 0) > 0;
  if (!hasCriterion) problems.push('a hold needs recordedUserIds, a time range or interactionIds');
  for (const key of ['from', 'to'] as const) {
    const value = scope[key];
    if (value !== undefined && Number.isNaN(Date.parse(value)))
      problems.push(`scope.${key} is not an ISO 8601 instant`);
  }
  if (
    scope.from !== undefined &&
    scope.to !== undefined &&
    Date.parse(scope.from) >= Date.parse(scope.to)
  ) {
    problems.push('scope.from must be before scope.to');
  }
  return problems;
}

export function isHoldActive(hold: LegalHold, now: Date): boolean {
  return hold.releasedAt === undefined || Date.parse(hold.releasedAt) > now.getTime();
}

/**
 * Whether a hold covers an interaction: every criterion the scope gives must match. Works the
 * same for interactions archived before and after the hold was placed.
 */
export function holdMatches(
  hold: LegalHold,
  interaction: Pick<
    InteractionRecord,
    'tenantId' | 'interactionId' | 'recordedUserIds' | 'invitedAt'
  >,
): boolean {
  const { scope } = hold;
  if (validateHoldScope(scope).length > 0) return false;
  if (hold.tenantId !== interaction.tenantId) return false;
  if (
    scope.recordedUserIds !== undefined &&
    scope.recordedUserIds.length > 0 &&
    !scope.recordedUserIds.some((id) => interaction.recordedUserIds.includes(id))
  )
    return false;
  if (
    scope.interactionIds !== undefined &&
    scope.interactionIds.length > 0 &&
    !scope.interactionIds.includes(interaction.interactionId)
  )
    return false;
  const invitedAt = Date.parse(interaction.invitedAt);
  if (scope.from !== undefined && invitedAt < Date.parse(scope.from)) return false;
  if (scope.to !== undefined && invitedAt >= Date.parse(scope.to)) return false;
  return true;
}

export function activeHoldsFor(
  holds: readonly LegalHold[],
  interaction: Parameters<typeof holdMatches>[1],
  now: Date,
): LegalHold[] {
  return holds.filter((hold) => isHoldActive(hold, now) && holdMatches(hold, interaction));
}

export const DeletionRefusal = {
  /** No retention class has been applied yet: nothing may be deleted. */
  noRetention: 'noRetention',
  notExpired: 'notExpired',
  legalHold: 'legalHold',
} as const;
export type DeletionRefusal = (typeof DeletionRefusal)[keyof typeof DeletionRefusal];

export type DeletionDecision =
  | { readonly isAllowed: true }
  | {
      readonly isAllowed: false;
      readonly reason: DeletionRefusal;
      readonly holdIds?: readonly string[];
      readonly expiresAt?: string;
    };

/** The one rule every delete path obeys: expired and not held, or refused with the reason. */
export function canDelete(
  interaction: Pick<
    InteractionRecord,
    'tenantId' | 'interactionId' | 'recordedUserIds' | 'invitedAt' | 'expiresAt'
  >,
  holds: readonly LegalHold[],
  now: Date,
): DeletionDecision {
  const held = activeHoldsFor(holds, interaction, now);
  if (held.length > 0)
    return {
      isAllowed: false,
      reason: DeletionRefusal.legalHold,
      holdIds: held.map((h) => h.holdId),
    };
  if (interaction.expiresAt === undefined)
    return { isAllowed: false, reason: DeletionRefusal.noRetention };
  if (Date.parse(interaction.expiresAt) > now.getTime()) {
    return {
      isAllowed: false,
      reason: DeletionRefusal.notExpired,
      expiresAt: interaction.expiresAt,
    };
  }
  return { isAllowed: true };
}

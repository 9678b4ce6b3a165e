/**
 * Retention classes: which policy scope keeps an interaction for how long, and how it is
 * disposed of at the end. Pure decisions, no I/O.
 */
import type { InteractionRecord, InteractionType } from '../interaction';

export const DispositionMode = {
  /** Deleted by the retention job as soon as it expires and no hold applies. */
  auto: 'auto',
  /** Deleted only after a second person (not the requester) approves. */
  approval: 'approval',
} as const;
export type DispositionMode = (typeof DispositionMode)[keyof typeof DispositionMode];

export interface RetentionClass {
  readonly name: string;
  /** Whole days from the interaction's seal (or end, or invite) until it expires. 1 to 146000. */
  readonly periodInDays: number;
  readonly dispositionMode: DispositionMode;
  /** The regulation the period comes from, recorded as the legal basis (`MiFID II Art. 16(7)`). */
  readonly legalBasis?: string;
}

/** A scope that selects a class. Every given criterion must match; an empty scope is the tenant default. */
export interface RetentionRule {
  readonly className: string;
  readonly tenantId?: string;
  readonly groupIds?: readonly string[];
  readonly recordedUserIds?: readonly string[];
  readonly interactionTypes?: readonly InteractionType[];
  readonly regions?: readonly string[];
}

export interface RetentionPolicy {
  readonly classes: readonly RetentionClass[];
  readonly rules: readonly RetentionRule[];
  /** Used when no rule matches. */
  readonly defaultClassName: string;
}

export interface RetentionDecision {
  readonly retentionClass: RetentionClass;
  /** ISO 8601 UTC. */
  readonly expiresAt: string;
  /** Index of the rule that chose the class, or -1 for the default. */
  readonly ruleIndex: number;
}

const DAY_IN_MS = 86_400_000;

/** Problems in a policy, empty when it is usable. Messages name classes, never people. */
export function validateRetentionPolicy(policy: RetentionPolicy): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const cls of policy.classes) {
    if (typeof cls.name !== 'string' || cls.name === '')
      problems.push('a retention class has no name');
    if (names.has(cls.name)) problems.push(`retention class ${cls.name} is defined twice`);
    names.add(cls.name);
    if (!Number.isInteger(cls.periodInDays) || cls.periodInDays < 1 || cls.periodInDays > 146_000) {
      problems.push(`retention class ${cls.name} needs periodInDays from 1 to 146000`);
    }
    if (
      cls.dispositionMode !== DispositionMode.auto &&
      cls.dispositionMode !== DispositionMode.approval
    ) {
      problems.push(`retention class ${cls.name} needs dispositionMode auto or approval`);
    }
  }
  if (!names.has(policy.defaultClassName))
    problems.push(`the default retention class ${policy.defaultClassName} is not defined`);
  policy.rules.forEach((rule, index) => {
    if (!names.has(rule.className))
      problems.push(`retention rule ${index} names an undefined class ${rule.className}`);
  });
  return problems;
}

function overlaps(wanted: readonly string[] | undefined, actual: readonly string[]): boolean {
  return wanted === undefined || wanted.some((value) => actual.includes(value));
}

export function ruleMatches(
  rule: RetentionRule,
  interaction: InteractionRecord,
  groupIds: readonly string[],
): boolean {
  return (
    (rule.tenantId === undefined || rule.tenantId === interaction.tenantId) &&
    overlaps(rule.groupIds, groupIds) &&
    overlaps(rule.recordedUserIds, interaction.recordedUserIds) &&
    (rule.interactionTypes === undefined || rule.interactionTypes.includes(interaction.type)) &&
    (rule.regions === undefined ||
      (interaction.region !== undefined && rule.regions.includes(interaction.region)))
  );
}

/** The moment the retention period starts: seal, else end, else invite. */
export function retentionStart(interaction: InteractionRecord): Date {
  return new Date(interaction.sealedAt ?? interaction.endedAt ?? interaction.invitedAt);
}

/**
 * Chooses the class of an interaction. When several rules match, the longest period wins (a
 * record is never kept shorter than any applicable rule requires); on a tie, the first rule.
 * `groupIds` are the groups of the interaction's recorded users.
 */
export function resolveRetention(
  policy: RetentionPolicy,
  interaction: InteractionRecord,
  groupIds: readonly string[] = [],
): RetentionDecision {
  const byName = new Map(policy.classes.map((cls) => [cls.name, cls]));
  const fallback = byName.get(policy.defaultClassName);
  if (fallback === undefined)
    throw new Error(`the default retention class ${policy.defaultClassName} is not defined`);
  let chosen = fallback;
  let ruleIndex = -1;
  policy.rules.forEach((rule, index) => {
    const cls = byName.get(rule.className);
    if (cls === undefined || !ruleMatches(rule, interaction, groupIds)) return;
    if (ruleIndex === -1 || cls.periodInDays > chosen.periodInDays) {
      chosen = cls;
      ruleIndex = index;
    }
  });
  const expiresAt = new Date(
    retentionStart(interaction).getTime() + chosen.periodInDays * DAY_IN_MS,
  );
  return { retentionClass: chosen, expiresAt: expiresAt.toISOString(), ruleIndex };
}

/** The UTC calendar day (`YYYY-MM-DD`) of an instant: the partition of the expiry index. */
export function expiryDay(isoInstant: string): string {
  return new Date(isoInstant).toISOString().slice(0, 10);
}

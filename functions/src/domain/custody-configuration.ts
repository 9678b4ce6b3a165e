/**
 * The configuration that decides custody (what is kept, for how long, who may reach it): the
 * retention classes and rules, the scopes and recorded-user groups, the role mapping and the
 * disposition settings. Its hash is compared at every start of the function app with the last
 * one recorded; a difference writes one `configurationChanged` ledger entry naming the sections
 * that changed, so a change of custody rules is in the record. Pure.
 */
import {
  canonicalJson,
  LedgerEntryKind,
  LedgerSubjectType,
  sha256Hex,
  type LedgerEntryDraft,
  type RetentionPolicy,
} from '@attest/core';
import { AppRoleValue, RolePermissions } from './rbac';

/** The sections whose change is recorded. */
export interface CustodyConfiguration {
  readonly retentionPolicy: RetentionPolicy;
  readonly rbacScopes: Readonly<Record<string, readonly string[]>>;
  readonly userGroups: Readonly<Record<string, readonly string[]>>;
  readonly operatorTenantId: string | null;
  readonly disposition: {
    readonly approvalTimeoutInMs: number;
    readonly approvalReminderIntervalInMs: number;
  };
}

/** What is kept between starts: the whole hash and one hash per section. */
export interface CustodyConfigurationState {
  readonly sha256: string;
  readonly sections: Readonly<Record<string, string>>;
}

/** Ledger subject id of the deployment's custody configuration. */
export const CUSTODY_CONFIGURATION_SUBJECT = 'custody';

/** Hashes each section (canonical JSON) and the whole; the role mapping comes from code. */
export function hashCustodyConfiguration(
  configuration: CustodyConfiguration,
): CustodyConfigurationState {
  const sections: Record<string, unknown> = {
    retentionClasses: configuration.retentionPolicy.classes,
    retentionRules: {
      rules: configuration.retentionPolicy.rules,
      defaultClassName: configuration.retentionPolicy.defaultClassName,
    },
    scopes: configuration.rbacScopes,
    userGroups: configuration.userGroups,
    roleMapping: {
      appRoles: AppRoleValue,
      permissions: RolePermissions,
      operatorTenantId: configuration.operatorTenantId,
    },
    disposition: configuration.disposition,
  };
  const hashes = Object.fromEntries(
    Object.entries(sections).map(([name, value]) => [name, sha256Hex(canonicalJson(value))]),
  );
  return { sha256: sha256Hex(canonicalJson(hashes)), sections: hashes };
}

/**
 * The `configurationChanged` entry for a start with `current`, or undefined when nothing
 * changed since `previous` (undefined: nothing recorded yet, the first start).
 */
export function custodyConfigurationEntry(
  previous: CustodyConfigurationState | undefined,
  current: CustodyConfigurationState,
): LedgerEntryDraft | undefined {
  if (previous?.sha256 === current.sha256) return undefined;
  const changedSections = Object.keys(current.sections)
    .filter((name) => previous?.sections[name] !== current.sections[name])
    .sort();
  return {
    kind: LedgerEntryKind.configurationChanged,
    actor: 'system',
    subjectType: LedgerSubjectType.configuration,
    subjectId: CUSTODY_CONFIGURATION_SUBJECT,
    subjectSha256: current.sha256,
    details: {
      area: 'custody',
      previousSha256: previous?.sha256 ?? null,
      changedSections: changedSections.join(','),
      sections: { ...current.sections },
    },
  };
}

/**
 * The archive's admin API (`/api/archive/...`). Every call that reads or changes archived data runs
 * through {@link createAdminAccess}: authorised by role and scope from the caller's Entra token,
 * scoped to the caller's tenant by construction (stores are only ever asked for that tenant's
 * data), and recorded by exactly one ledger entry: the action itself (held, released, exported,
 * deleted, dispositionApproved/Rejected, erasureRefused) or an `accessed` entry with who, what,
 * the query and the outcome. A refused call answers 403 (or 404 for another tenant's data) and is
 * recorded too. A request without a valid token answers 401 and is not recorded.
 *
 * The routes live by subject: interactions, holds, exports and data subjects, governance
 * (dispositions, ledger, reports), analytics. This file holds their dependencies and assembles them.
 */
import type { BusinessDataService } from '../archive/business-data.service';
import { createBusinessDataRoutes } from './archive-business-data.http';
import type { ManifestIntegrity } from '../archive/manifest-integrity';
import type { KeyUnwrapperLike } from '@attest/core';
import type { ArchiveService } from '../archive/archive.service';
import type { CompletenessActivities } from '../activities/completeness.activities';
import type { GdprActivities } from '../activities/gdpr.activities';
import type {
  ArchiveRecordStore,
  CallLog,
  Clock,
  ExportPackageStore,
  HoldStore,
  LedgerStore,
  RecordingBlobStore,
} from '../domain/archive-ports';
import type {
  DispositionDecision,
  DispositionInput,
  ExportJobProgress,
  ExportJobRequest,
} from '../domain/archive-names';
import type { TokenVerifier } from '../domain/token-verifier';
import { configuredScopes, createAdminAccess, type ScopeSource } from './admin-access';
import { createAnalyticsRoutes } from './archive-analytics.http';
import { createExportRoutes } from './archive-exports.http';
import { createGovernanceRoutes } from './archive-governance.http';
import { createHoldRoutes } from './archive-holds.http';
import { createInteractionRoutes } from './archive-interactions.http';

/** Dispositions as the admin API drives them (a durable orchestration per interaction). */
export interface DispositionEvents {
  /** Raises the approval event on a running disposition; false when none is running. */
  raiseDecision(instanceId: string, decision: DispositionDecision): Promise<boolean>;
  /** Who asked for the disposition waiting at `instanceId` (`system` for the retention job). */
  getRequester(instanceId: string): Promise<string | undefined>;
  /** Starts a disposition unless one is running for the interaction. */
  startIfIdle(instanceId: string, input: DispositionInput): Promise<'started' | 'alreadyRunning'>;
  /** Dispositions of the tenant waiting for a person's decision. */
  listWaiting(tenantId: string): Promise<readonly WaitingDisposition[]>;
}

/** A deletion waiting for a second person's decision. */
export interface WaitingDisposition {
  readonly instanceId: string;
  readonly tenantId: string;
  readonly interactionId: string;
  /** Who asked (user object id), or `system` for the retention job. */
  readonly requestedBy: string;
  readonly requestedAt: string;
}

/** Timing of a disposition a person asks for (defaults: 14 days to decide, a reminder every 48 h). */
export interface ManualDispositionSettings {
  readonly approvalTimeoutInMs: number;
  readonly reminderIntervalInMs: number;
}

/** Long-running exports (a durable orchestration per export in the function app). */
export interface ExportJobs {
  /** Starts the export, or resumes an interrupted one with the same id; never runs it twice at once. */
  start(request: ExportJobRequest): Promise<'started' | 'alreadyRunning'>;
  status(exportId: string): Promise<ExportJobStatus | undefined>;
}

export interface ExportJobStatus {
  readonly exportId: string;
  readonly state: 'running' | 'completed' | 'failed';
  readonly tenantId?: string;
  readonly createdBy?: string;
  readonly progress?: ExportJobProgress;
  readonly result?: unknown;
  readonly error?: string;
  readonly createdAt?: string;
  readonly lastUpdatedAt?: string;
}

export interface ArchiveAdminDeps {
  readonly verifier: TokenVerifier;
  /** Scope groups by user or group object id (used when `scopes` is not given). */
  readonly rbacScopes: Readonly<Record<string, readonly string[]>>;
  /** Where callers' scope groups come from; default: `rbacScopes` and the token's `groups`. */
  readonly scopes?: ScopeSource;
  /** The deployment's own tenant (operators); see {@link createAdminAccess}. */
  readonly operatorTenantId?: string;
  readonly records: ArchiveRecordStore;
  /** The recorder's log of every invite (analytics, participant search). */
  readonly callLog: CallLog;
  readonly holds: HoldStore;
  readonly ledger: LedgerStore;
  readonly blobs: RecordingBlobStore;
  readonly archive: ArchiveService;
  readonly completeness: CompletenessActivities;
  readonly gdpr: GdprActivities;
  readonly dispositions: DispositionEvents;
  readonly exportJobs: ExportJobs;
  readonly manualDisposition?: ManualDispositionSettings;
  /** Unwraps data keys for playback: the KEK private key (local) or Key Vault. */
  readonly kekPrivateKey: KeyUnwrapperLike | undefined;
  /** Versions of interactions' business data (integrations attach them). */
  readonly businessData: BusinessDataService;
  /** Verifies each manifest before its media is played back (flags and alerts when it fails). */
  readonly integrity: ManifestIntegrity;
  /** Export packages (the `exports` container), read back by the download route. */
  readonly packages: ExportPackageStore;
  readonly clock: Clock;
  readonly newId: () => string;
}

export function createArchiveAdminHandlers(deps: ArchiveAdminDeps) {
  const access = createAdminAccess({
    verifier: deps.verifier,
    ledger: deps.ledger,
    scopes: deps.scopes ?? configuredScopes(deps.rbacScopes),
    ...(deps.operatorTenantId === undefined ? {} : { operatorTenantId: deps.operatorTenantId }),
  });
  return {
    ...createInteractionRoutes(deps, access),
    ...createHoldRoutes(deps, access),
    ...createGovernanceRoutes(deps, access),
    ...createExportRoutes(deps, access),
    ...createAnalyticsRoutes(deps, access),
    ...createBusinessDataRoutes(deps, access),
  };
}
export type ArchiveAdminHandlers = ReturnType<typeof createArchiveAdminHandlers>;

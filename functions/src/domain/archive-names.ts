/** Names of the archive's durable functions and events. Shipped names are frozen. */
import { sanitizeKey } from '@attest/core';
import type { ArchiveSearchQuery } from './archive-ports';

export const ArchiveActivityNames = {
  checkDisposition: 'archiveCheckDisposition',
  requestDispositionApproval: 'archiveRequestDispositionApproval',
  recordDispositionOutcome: 'archiveRecordDispositionOutcome',
  disposeInteraction: 'archiveDisposeInteraction',
  prepareExport: 'archivePrepareExport',
  writeExportBatch: 'archiveWriteExportBatch',
  finishExport: 'archiveFinishExport',
} as const;

export const ArchiveOrchestratorNames = {
  disposition: 'dispositionV1',
  exportPackage: 'exportPackageV1',
} as const;

export const ArchiveEventNames = { dispositionDecision: 'DispositionDecision' } as const;

/** Input of `dispositionV1`, snapshotted from configuration when the retention job starts it. */
export interface DispositionInput {
  readonly tenantId: string;
  readonly interactionId: string;
  readonly mode: 'auto' | 'approval';
  /** Who asked for the disposition: `system` for the retention job. Never the approver. */
  readonly requestedBy: string;
  readonly approvalTimeoutInMs: number;
  readonly reminderIntervalInMs: number;
}

/** Payload of the `DispositionDecision` event, raised by the admin API after authorisation. */
export interface DispositionDecision {
  readonly decisionId: string;
  readonly decidedBy: string;
  readonly isApproved: boolean;
}

export type DispositionResult =
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'deleted'; readonly ledgerSeq: number }
  | { readonly status: 'refused'; readonly reason: string }
  | { readonly status: 'alreadyDeleted' }
  | { readonly status: 'rejected'; readonly decidedBy: string }
  | { readonly status: 'timedOut' };

/** Result of the first disposition step. */
export interface DispositionCheck {
  readonly action: 'dispose' | 'skip';
  readonly reason?: string;
  readonly holdIds?: readonly string[];
}

/** Result of the deletion step. */
export type DisposeOutcome =
  | { readonly status: 'deleted'; readonly ledgerSeq: number; readonly deletedBlobCount: number }
  | { readonly status: 'refused'; readonly reason: string }
  | { readonly status: 'alreadyDeleted' };

/** One disposition instance per interaction (≤ 100 chars, no `/ \ # ?`). */
export function dispositionInstanceId(tenantId: string, interactionId: string): string {
  return `${dispositionInstancePrefix(tenantId)}${sanitizeKey(interactionId).slice(0, 50)}`;
}

/** What every disposition instance id of a tenant starts with. */
export function dispositionInstancePrefix(tenantId: string): string {
  return `disp-${sanitizeKey(tenantId).slice(0, 40)}-`;
}

/** What an export package holds: a search query or a legal hold's scope. */
export interface ExportJobRequest {
  /** 1 to 64 letters, digits or dashes; also the package's folder name. */
  readonly exportId: string;
  readonly createdBy: string;
  /** The tenant the request was made in: the export selects only its data, status shows only in it. */
  readonly tenantId: string;
  readonly query?: Omit<ArchiveSearchQuery, 'tenantId'>;
  readonly holdId?: string;
}

/** Input of `exportPackageV1`; `total` and `nextIndex` are set when it continues as new. */
export interface ExportJobInput {
  readonly request: ExportJobRequest;
  /** Interactions written per activity call (progress is reported after each). */
  readonly batchSize: number;
  /** Batches per execution before the orchestration continues as new (bounded history). */
  readonly maxBatchesPerExecution: number;
  readonly total?: number;
  readonly nextIndex?: number;
  /** Interactions an earlier, interrupted run of the same export had written. */
  readonly resumedCount?: number;
}

/** Custom status of `exportPackageV1`: what the status route shows as progress. */
export interface ExportJobProgress {
  readonly phase: 'selecting' | 'writing' | 'finishing' | 'done';
  readonly done: number;
  readonly total: number;
}

/** What a finished export wrote (the output of `exportPackageV1`). */
export interface ExportResult {
  readonly exportId: string;
  readonly interactionCount: number;
  readonly absentCount: number;
  readonly ledgerSeq: number;
  /** Interactions written by an earlier, interrupted run of the same export. */
  readonly resumedCount: number;
}

/** Result of the write step: where the next batch starts. */
export interface ExportBatchResult {
  readonly nextIndex: number;
  readonly writtenCount: number;
}

/** One export orchestration per export id (resuming an export reuses it). */
export function exportInstanceId(exportId: string): string {
  return `export-${sanitizeKey(exportId).slice(0, 64)}`;
}

/** Names of the archive's durable functions and events. Shipped names are frozen. */
import { sanitizeKey } from '@attest/core';

export const ArchiveActivityNames = {
  checkDisposition: 'archiveCheckDisposition',
  requestDispositionApproval: 'archiveRequestDispositionApproval',
  recordDispositionOutcome: 'archiveRecordDispositionOutcome',
  disposeInteraction: 'archiveDisposeInteraction',
} as const;

export const ArchiveOrchestratorNames = { disposition: 'dispositionV1' } as const;

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
  return `disp-${sanitizeKey(tenantId).slice(0, 40)}-${sanitizeKey(interactionId).slice(0, 50)}`;
}

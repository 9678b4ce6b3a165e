/**
 * The export request record: who asked for an export, in which tenant, with which selection.
 * The HTTP starter writes it before it starts `exportPackageV1`; each export step compares its
 * orchestration input with it ({@link exportRequestMismatch}) and refuses a request nobody made.
 * Pure.
 */
import { canonicalJson, sha256Hex } from '@attest/core';
import type { ExportJobRequest } from './archive-names';
import type { ExportRequestRecord } from './archive-ports';

/** SHA-256 of the canonical selection: `{ holdId }` or `{ query }`. */
export function exportScopeSha256(request: ExportJobRequest): string {
  return sha256Hex(
    canonicalJson(
      request.holdId !== undefined ? { holdId: request.holdId } : { query: request.query ?? {} },
    ),
  );
}

export function exportRequestRecordOf(request: ExportJobRequest, at: Date): ExportRequestRecord {
  return {
    tenantId: request.tenantId,
    exportId: request.exportId,
    createdBy: request.createdBy,
    scopeSha256: exportScopeSha256(request),
    requestedAt: at.toISOString(),
  };
}

/**
 * Why an orchestration's request does not match what was recorded: `unrequested` (no record in
 * its tenant), `actor` or `scope` (another person or selection); undefined when it matches.
 */
export function exportRequestMismatch(
  request: ExportJobRequest,
  recorded: ExportRequestRecord | undefined,
): 'unrequested' | 'actor' | 'scope' | undefined {
  if (recorded === undefined) return 'unrequested';
  if (recorded.createdBy !== request.createdBy) return 'actor';
  if (recorded.scopeSha256 !== exportScopeSha256(request)) return 'scope';
  return undefined;
}

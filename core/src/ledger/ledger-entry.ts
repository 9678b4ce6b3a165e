/**
 * The ledger: an append-only hash chain of everything that happens to archived data. Each entry
 * carries the hash of the previous entry and of its subject; a signed checkpoint of the head is
 * written on a schedule. Pure maths; storage lives in the function app's adapters.
 */
import { sha256Hex } from '../crypto/hash';
import { canonicalJson, type JsonValue } from './canonical-json';

export const LEDGER_FORMAT_VERSION = 1 as const;
/** `prevSha256` of the first entry (seq 0). */
export const GENESIS_SHA256 = '0'.repeat(64);

export const LedgerEntryKind = {
  recorded: 'recorded',
  sealed: 'sealed',
  accessed: 'accessed',
  exported: 'exported',
  held: 'held',
  released: 'released',
  dispositionRequested: 'dispositionRequested',
  dispositionApproved: 'dispositionApproved',
  dispositionRejected: 'dispositionRejected',
  deleted: 'deleted',
  retentionClassChanged: 'retentionClassChanged',
  configurationChanged: 'configurationChanged',
  erasureRefused: 'erasureRefused',
  reportSigned: 'reportSigned',
  /** A live call's media stopped being stored on request (PCI pause): who, why, which legs. */
  recordingPaused: 'recordingPaused',
  recordingResumed: 'recordingResumed',
  /** An integration attached a version of an interaction's business data (subject hash: the data). */
  businessDataChanged: 'businessDataChanged',
} as const;
export type LedgerEntryKind = (typeof LedgerEntryKind)[keyof typeof LedgerEntryKind];

export const LedgerSubjectType = {
  interaction: 'interaction',
  hold: 'hold',
  export: 'export',
  query: 'query',
  configuration: 'configuration',
  report: 'report',
  dataSubject: 'dataSubject',
} as const;
export type LedgerSubjectType = (typeof LedgerSubjectType)[keyof typeof LedgerSubjectType];

/** What a caller asks the ledger to record; the ledger adds sequence, time and hashes. */
export interface LedgerEntryDraft {
  readonly kind: LedgerEntryKind;
  /** Object id of the user, or `system` for timers and orchestrations. */
  readonly actor: string;
  readonly tenantId?: string;
  readonly subjectType: LedgerSubjectType;
  /** Interaction id, hold id, export id, … (opaque, no personal data). */
  readonly subjectId: string;
  /**
   * SHA-256 (hex) of the subject's content at the time: the manifest hash of an interaction,
   * the canonical hash of a hold or a query. Defaults to the hash of the canonical details.
   */
  readonly subjectSha256?: string;
  /** Log-safe facts: action, role, outcome, the query, counts. */
  readonly details?: { readonly [key: string]: JsonValue | undefined };
}

export interface LedgerEntry {
  readonly v: typeof LEDGER_FORMAT_VERSION;
  /** 0-based, contiguous. */
  readonly seq: number;
  /** ISO 8601 UTC. */
  readonly at: string;
  readonly kind: LedgerEntryKind;
  readonly actor: string;
  readonly tenantId?: string;
  readonly subjectType: LedgerSubjectType;
  readonly subjectId: string;
  readonly subjectSha256: string;
  readonly details: { readonly [key: string]: JsonValue | undefined };
  readonly prevSha256: string;
  /** SHA-256 (hex) of the canonical JSON of every other member. */
  readonly sha256: string;
}

/** The hash an entry must carry: over the canonical JSON of the entry without `sha256`. */
export function entryHash(entry: Omit<LedgerEntry, 'sha256'> | LedgerEntry): string {
  const body: Record<string, unknown> = { ...entry };
  delete body.sha256;
  return sha256Hex(canonicalJson(body));
}

/** Builds the entry that follows `previous` (or the genesis entry when `previous` is undefined). */
export function createLedgerEntry(
  draft: LedgerEntryDraft,
  previous: { readonly seq: number; readonly sha256: string } | undefined,
  at: Date,
): LedgerEntry {
  const details = draft.details ?? {};
  const body: Omit<LedgerEntry, 'sha256'> = {
    v: LEDGER_FORMAT_VERSION,
    seq: previous === undefined ? 0 : previous.seq + 1,
    at: at.toISOString(),
    kind: draft.kind,
    actor: draft.actor,
    ...(draft.tenantId === undefined ? {} : { tenantId: draft.tenantId }),
    subjectType: draft.subjectType,
    subjectId: draft.subjectId,
    subjectSha256: draft.subjectSha256 ?? sha256Hex(canonicalJson(details)),
    details,
    prevSha256: previous === undefined ? GENESIS_SHA256 : previous.sha256,
  };
  return { ...body, sha256: entryHash(body) };
}

/**
 * Another tenant's entry as a tenant sees it (the ledger view, an export package): only what
 * links the chain. A verifier checks its links and position but cannot recompute its hash.
 */
export interface RedactedLedgerEntry {
  readonly v: typeof LEDGER_FORMAT_VERSION;
  readonly seq: number;
  readonly prevSha256: string;
  readonly sha256: string;
  readonly isRedacted: true;
}

export function isRedactedEntry(
  entry: LedgerEntry | RedactedLedgerEntry,
): entry is RedactedLedgerEntry {
  return (entry as RedactedLedgerEntry).isRedacted === true;
}

/** The entry as `tenantId` may see it: whole when it is that tenant's, redacted otherwise. */
export function entryForTenant(
  entry: LedgerEntry,
  tenantId: string,
): LedgerEntry | RedactedLedgerEntry {
  if (entry.tenantId === tenantId) return entry;
  return {
    v: entry.v,
    seq: entry.seq,
    prevSha256: entry.prevSha256,
    sha256: entry.sha256,
    isRedacted: true,
  };
}

/**
 * The export package (eDiscovery), format version 1: the index file and the layout. The full
 * description is docs/export-format.md. Pure.
 */
import { sha256Hex } from '../crypto/hash';
import { canonicalJson } from '../ledger/canonical-json';

export const EXPORT_FORMAT_VERSION = 1 as const;

export const ExportPaths = {
  index: 'export.json',
  readme: 'README.md',
  progress: '.progress.json',
  ledgerEntries: 'ledger/entries.jsonl',
  ledgerCheckpoints: 'ledger/checkpoints.json',
  ledgerPublicKey: 'keys/ledger-signing.pem',
  manifestPublicKey: 'keys/manifest-signing.pem',
  completeness: 'completeness.json',
  completenessSignature: 'completeness.sig',
} as const;

/** Folder of one interaction inside the package. */
export function interactionDir(tenantId: string, interactionId: string): string {
  return `interactions/${tenantId}/${interactionId}`;
}

export interface ExportedStream {
  readonly streamId: string;
  /** Path of the decrypted media file, relative to the package root. */
  readonly file: string;
  readonly bytes: number;
}

export interface ExportedInteraction {
  readonly tenantId: string;
  readonly interactionId: string;
  /** SHA-256 (hex) of `metadata.json` as written. */
  readonly metadataSha256: string;
  /** SHA-256 (hex) of the canonical JSON of each top-level metadata field, to name a changed one. */
  readonly metadataFieldSha256: Readonly<Record<string, string>>;
  readonly manifestSha256: string;
  readonly streams: readonly ExportedStream[];
}

export interface ExportIndex {
  readonly formatVersion: typeof EXPORT_FORMAT_VERSION;
  readonly exportId: string;
  readonly createdAt: string;
  /** Object id of the requester. */
  readonly createdBy: string;
  /** What was exported: a search query or a hold id. */
  readonly selection: {
    readonly query?: Readonly<Record<string, unknown>>;
    readonly holdId?: string;
  };
  readonly interactions: readonly ExportedInteraction[];
  /** Deleted or never-recorded interactions in the selection, explained in the completeness report. */
  readonly absent: readonly {
    readonly tenantId: string;
    readonly interactionId: string;
    readonly reason: string;
  }[];
  readonly ledgerKeyId: string;
}

/** Hash per top-level field of a metadata object (canonical JSON of each value). */
export function fieldHashes(metadata: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(metadata).sort()) {
    if (metadata[key] !== undefined) out[key] = sha256Hex(canonicalJson(metadata[key]));
  }
  return out;
}

/** Names of fields whose hash differs, was added or was removed. */
export function changedFields(
  expected: Readonly<Record<string, string>>,
  actual: Readonly<Record<string, string>>,
): string[] {
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  return [...keys].filter((k) => expected[k] !== actual[k]).sort();
}

/** The file extension for a media content type. */
export function mediaExtension(contentType: string): string {
  const known: Record<string, string> = {
    'audio/wav': 'wav',
    'audio/x-wav': 'wav',
    'audio/ogg': 'ogg',
    'video/mp4': 'mp4',
    'video/h264': 'h264',
    'video/webm': 'webm',
    'video/x-matroska': 'mkv',
  };
  return known[contentType.split(';')[0]!.trim().toLowerCase()] ?? 'bin';
}

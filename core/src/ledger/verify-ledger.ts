/** Verification of a ledger chain, of checkpoints and of one entry against a checkpoint. */
import type { KeyObject } from 'node:crypto';
import { isCheckpointSignatureValid, type LedgerCheckpoint } from './checkpoint';
import {
  entryHash,
  GENESIS_SHA256,
  isRedactedEntry,
  type LedgerEntry,
  type RedactedLedgerEntry,
} from './ledger-entry';

export const LedgerFailureKind = {
  /** An entry's content does not match its own hash. */
  altered: 'altered',
  /** An entry does not link to the entry before it. */
  brokenLink: 'brokenLink',
  /** Sequence numbers skip (an entry is missing). */
  missing: 'missing',
  /** Sequence numbers repeat or go backwards (an entry was inserted or moved). */
  outOfOrder: 'outOfOrder',
  /** A checkpoint's signature is not valid for the ledger key. */
  badCheckpointSignature: 'badCheckpointSignature',
  /** A validly signed checkpoint names a head the chain does not have. */
  checkpointMismatch: 'checkpointMismatch',
} as const;
export type LedgerFailureKind = (typeof LedgerFailureKind)[keyof typeof LedgerFailureKind];

export interface LedgerFailure {
  readonly kind: LedgerFailureKind;
  /** Sequence number of the entry (or of the checkpoint's head) where the failure is. */
  readonly seq: number;
  readonly message: string;
}

export interface LedgerVerification {
  readonly isValid: boolean;
  readonly failures: readonly LedgerFailure[];
  readonly entryCount: number;
  readonly checkpointCount: number;
}

export interface VerifyLedgerOptions {
  readonly checkpoints?: readonly LedgerCheckpoint[];
  /** The ledger signing public key; required when checkpoints are given. */
  readonly publicKey?: KeyObject;
  /**
   * Whether `entries` starts at seq 0. When false (an excerpt), the first entry's
   * `prevSha256` is trusted and only later links are checked. Default true.
   */
  readonly isFromGenesis?: boolean;
}

/**
 * Checks every entry's hash, every link and the contiguity of sequence numbers, then every
 * checkpoint against the chain. Reports all failures, in order. A redacted entry (another
 * tenant's) is checked for its links and position only.
 */
export function verifyLedger(
  entries: readonly (LedgerEntry | RedactedLedgerEntry)[],
  options: VerifyLedgerOptions = {},
): LedgerVerification {
  const failures: LedgerFailure[] = [];
  const bySeq = new Map<number, LedgerEntry | RedactedLedgerEntry>();
  let previous: LedgerEntry | RedactedLedgerEntry | undefined;
  const isFromGenesis = options.isFromGenesis ?? true;

  entries.forEach((entry, index) => {
    if (!isRedactedEntry(entry) && entryHash(entry) !== entry.sha256) {
      failures.push({
        kind: LedgerFailureKind.altered,
        seq: entry.seq,
        message: `entry ${entry.seq} does not match its hash`,
      });
    }
    if (previous === undefined) {
      if (isFromGenesis && entry.seq !== 0) {
        failures.push({
          kind: LedgerFailureKind.missing,
          seq: 0,
          message: `the chain starts at entry ${entry.seq}, not 0`,
        });
      }
      if (isFromGenesis && entry.seq === 0 && entry.prevSha256 !== GENESIS_SHA256) {
        failures.push({
          kind: LedgerFailureKind.brokenLink,
          seq: 0,
          message: 'entry 0 does not start from the genesis hash',
        });
      }
    } else {
      if (entry.seq <= previous.seq) {
        failures.push({
          kind: LedgerFailureKind.outOfOrder,
          seq: entry.seq,
          message: `entry ${entry.seq} at position ${index} follows entry ${previous.seq}`,
        });
      } else if (entry.seq !== previous.seq + 1) {
        failures.push({
          kind: LedgerFailureKind.missing,
          seq: previous.seq + 1,
          message: `entries ${previous.seq + 1} to ${entry.seq - 1} are missing`,
        });
      }
      if (entry.prevSha256 !== previous.sha256) {
        failures.push({
          kind: LedgerFailureKind.brokenLink,
          seq: entry.seq,
          message: `entry ${entry.seq} does not link to the entry before it (${previous.seq})`,
        });
      }
    }
    if (!bySeq.has(entry.seq)) bySeq.set(entry.seq, entry);
    previous = entry;
  });

  const checkpoints = options.checkpoints ?? [];
  for (const checkpoint of checkpoints) {
    if (
      options.publicKey === undefined ||
      !isCheckpointSignatureValid(checkpoint, options.publicKey)
    ) {
      failures.push({
        kind: LedgerFailureKind.badCheckpointSignature,
        seq: checkpoint.seq,
        message: `checkpoint at entry ${checkpoint.seq} has no valid signature`,
      });
      continue;
    }
    const head = bySeq.get(checkpoint.seq);
    if (head === undefined || head.sha256 !== checkpoint.headSha256) {
      failures.push({
        kind: LedgerFailureKind.checkpointMismatch,
        seq: checkpoint.seq,
        message: `checkpoint at entry ${checkpoint.seq} names a head the chain does not have`,
      });
    }
  }
  return {
    isValid: failures.length === 0,
    failures,
    entryCount: entries.length,
    checkpointCount: checkpoints.length,
  };
}

/**
 * Proves one entry is part of the chain a checkpoint signed: `path` holds the entries from
 * `entry.seq` up to `checkpoint.seq` inclusive, and each must link to the one before.
 */
export function verifyEntryAgainstCheckpoint(
  entry: LedgerEntry,
  path: readonly LedgerEntry[],
  checkpoint: LedgerCheckpoint,
  publicKey: KeyObject,
): LedgerVerification {
  const failures: LedgerFailure[] = [];
  if (path[0]?.seq !== entry.seq || path[0].sha256 !== entry.sha256) {
    failures.push({
      kind: LedgerFailureKind.brokenLink,
      seq: entry.seq,
      message: `the path does not start at entry ${entry.seq}`,
    });
  }
  const chain = verifyLedger(path, { checkpoints: [checkpoint], publicKey, isFromGenesis: false });
  failures.push(...chain.failures);
  const last = path[path.length - 1];
  if (last === undefined || last.seq !== checkpoint.seq) {
    failures.push({
      kind: LedgerFailureKind.checkpointMismatch,
      seq: checkpoint.seq,
      message: `the path does not end at the checkpoint's head ${checkpoint.seq}`,
    });
  }
  return { isValid: failures.length === 0, failures, entryCount: path.length, checkpointCount: 1 };
}

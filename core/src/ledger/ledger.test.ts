import { generateKeyPairSync } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { createLocalSigner } from '../crypto/signing';
import { signCheckpoint, signCheckpointWith, type LedgerCheckpoint } from './checkpoint';
import {
  createLedgerEntry,
  LedgerEntryKind,
  LedgerSubjectType,
  type LedgerEntry,
} from './ledger-entry';
import { LedgerFailureKind, verifyEntryAgainstCheckpoint, verifyLedger } from './verify-ledger';

const signing = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const t0 = Date.parse('2030-01-01T00:00:00Z');

function chain(length: number): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  for (let i = 0; i < length; i += 1) {
    entries.push(
      createLedgerEntry(
        {
          kind: LedgerEntryKind.accessed,
          actor: 'user-1',
          subjectType: LedgerSubjectType.interaction,
          subjectId: `int-${i}`,
          details: { action: 'search' },
        },
        entries[i - 1],
        new Date(t0 + i * 1000),
      ),
    );
  }
  return entries;
}
const kinds = (entries: readonly LedgerEntry[], options = {}) =>
  verifyLedger(entries, options).failures.map((f) => [f.kind, f.seq]);

describe('canonicalJson', () => {
  it('sorts keys and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: [true, null], c: undefined, d: { z: 'x', y: 2 } })).toBe(
      '{"a":[true,null],"b":1,"d":{"y":2,"z":"x"}}',
    );
  });
  it('refuses a non-finite number', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/non-finite/);
  });
});

describe('ledger chain', () => {
  it('verifies an intact chain with a valid checkpoint', () => {
    const entries = chain(5);
    const checkpoint = signCheckpoint(entries[4]!, new Date(t0 + 10_000), signing.privateKey);
    const result = verifyLedger(entries, {
      checkpoints: [checkpoint],
      publicKey: signing.publicKey,
    });
    expect(result).toMatchObject({ isValid: true, entryCount: 5, checkpointCount: 1 });
  });

  it('links each entry to the previous one and hashes its subject', () => {
    const entries = chain(2);
    expect(entries[1]!.prevSha256).toBe(entries[0]!.sha256);
    expect(entries[0]!.subjectSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fails on an altered entry', () => {
    const entries = chain(4);
    entries[2] = { ...entries[2]!, actor: 'someone-else' };
    expect(kinds(entries)).toEqual([[LedgerFailureKind.altered, 2]]);
  });

  it('fails on an altered entry whose own hash was recomputed, at the next link', () => {
    const entries = chain(4);
    const forged = createLedgerEntry(
      { kind: LedgerEntryKind.deleted, actor: 'x', subjectType: 'interaction', subjectId: 'int-2' },
      entries[1],
      new Date(t0),
    );
    entries[2] = forged;
    expect(kinds(entries)).toEqual([[LedgerFailureKind.brokenLink, 3]]);
  });

  it('fails on a removed entry', () => {
    const entries = chain(5);
    entries.splice(2, 1);
    expect(kinds(entries)).toEqual([
      [LedgerFailureKind.missing, 2],
      [LedgerFailureKind.brokenLink, 3],
    ]);
  });

  it('fails on an inserted entry', () => {
    const entries = chain(4);
    const inserted = createLedgerEntry(
      {
        kind: LedgerEntryKind.accessed,
        actor: 'x',
        subjectType: 'interaction',
        subjectId: 'int-x',
      },
      entries[1],
      new Date(t0),
    );
    entries.splice(2, 0, inserted);
    expect(kinds(entries)).toEqual([
      [LedgerFailureKind.outOfOrder, 2],
      [LedgerFailureKind.brokenLink, 2],
    ]);
  });

  it('fails on reordered entries', () => {
    const entries = chain(4);
    [entries[1], entries[2]] = [entries[2]!, entries[1]!];
    const result = kinds(entries);
    expect(result).toContainEqual([LedgerFailureKind.outOfOrder, 1]);
    expect(result).toContainEqual([LedgerFailureKind.brokenLink, 2]);
  });

  it('fails on a removed tail that a checkpoint covered', () => {
    const entries = chain(4);
    const checkpoint = signCheckpoint(entries[3]!, new Date(t0), signing.privateKey);
    expect(
      kinds(entries.slice(0, 3), { checkpoints: [checkpoint], publicKey: signing.publicKey }),
    ).toEqual([[LedgerFailureKind.checkpointMismatch, 3]]);
  });

  it('fails on a checkpoint signed by another key', () => {
    const entries = chain(3);
    const forged = signCheckpoint(entries[2]!, new Date(t0), other.privateKey);
    expect(kinds(entries, { checkpoints: [forged], publicKey: signing.publicKey })).toEqual([
      [LedgerFailureKind.badCheckpointSignature, 2],
    ]);
  });

  it('fails on a checkpoint whose head was changed after signing', () => {
    const entries = chain(3);
    const checkpoint = {
      ...signCheckpoint(entries[2]!, new Date(t0), signing.privateKey),
      headSha256: 'f'.repeat(64),
    };
    expect(kinds(entries, { checkpoints: [checkpoint], publicKey: signing.publicKey })).toEqual([
      [LedgerFailureKind.badCheckpointSignature, 2],
    ]);
  });
});

describe('verifyEntryAgainstCheckpoint', () => {
  it('proves an entry through the path to a checkpoint', () => {
    const entries = chain(6);
    const checkpoint = signCheckpoint(entries[5]!, new Date(t0), signing.privateKey);
    expect(
      verifyEntryAgainstCheckpoint(entries[2]!, entries.slice(2), checkpoint, signing.publicKey)
        .isValid,
    ).toBe(true);
  });

  it('refuses an altered entry on the path', () => {
    const entries = chain(6);
    const checkpoint = signCheckpoint(entries[5]!, new Date(t0), signing.privateKey);
    const altered = { ...entries[2]!, subjectId: 'int-other' };
    const result = verifyEntryAgainstCheckpoint(
      altered,
      [altered, ...entries.slice(3)],
      checkpoint,
      signing.publicKey,
    );
    expect(result.failures.map((f) => f.kind)).toContain(LedgerFailureKind.altered);
  });

  it('refuses a path that stops before the checkpoint head', () => {
    const entries = chain(6);
    const checkpoint = signCheckpoint(entries[5]!, new Date(t0), signing.privateKey);
    expect(
      verifyEntryAgainstCheckpoint(entries[2]!, entries.slice(2, 5), checkpoint, signing.publicKey)
        .isValid,
    ).toBe(false);
  });
});

describe('ES256 checkpoints', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('verifies a checkpoint signed through an ES256 signer', async () => {
    const entries = chain(3);
    const checkpoint = await signCheckpointWith(
      entries[2]!,
      new Date(t0 + 5000),
      createLocalSigner(ec.privateKey, ec.publicKey, 'ledger'),
    );
    expect(checkpoint.alg).toBe('ES256');
    expect(Buffer.from(checkpoint.signature, 'base64')).toHaveLength(64);
    expect(
      verifyLedger(entries, { checkpoints: [checkpoint], publicKey: ec.publicKey }).isValid,
    ).toBe(true);
  });

  it('fails a forged ES256 checkpoint (head changed after signing)', async () => {
    const entries = chain(3);
    const checkpoint = await signCheckpointWith(
      entries[1]!,
      new Date(t0 + 5000),
      createLocalSigner(ec.privateKey, ec.publicKey, 'ledger'),
    );
    const forged = { ...checkpoint, seq: 2, headSha256: entries[2]!.sha256 };
    expect(kinds(entries, { checkpoints: [forged], publicKey: ec.publicKey })).toEqual([
      [LedgerFailureKind.badCheckpointSignature, 2],
    ]);
  });

  it('fails a checkpoint with an unknown algorithm instead of throwing', () => {
    const entries = chain(2);
    const checkpoint = {
      ...signCheckpoint(entries[1]!, new Date(t0), signing.privateKey),
      alg: 'HS256',
    } as unknown as LedgerCheckpoint;
    expect(kinds(entries, { checkpoints: [checkpoint], publicKey: signing.publicKey })).toEqual([
      [LedgerFailureKind.badCheckpointSignature, 1],
    ]);
  });
});

/**
 * The offline verifier of an export package (docs/export-format.md). It needs nothing but the
 * folder (and, optionally, public keys the auditor trusts): no network, no Attest service.
 * Every failure names its exact location: file, interaction, stream, block, ledger entry.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  changedFields,
  EXPORT_FORMAT_VERSION,
  ExportPaths,
  fieldHashes,
  interactionDir,
  isCompletenessSignatureValid,
  publicKeyFromJwk,
  publicKeyId,
  sha256Hex,
  signatureAlgorithmOf,
  isInteractionManifest,
  isRedactedEntry,
  verifyInteractionManifest,
  verifyLedger,
  verifyManifest,
  type CompletenessReportBody,
  type CompletenessSignature,
  type ExportIndex,
  type InteractionManifest,
  type LedgerCheckpoint,
  type LedgerEntry,
  type RecordingManifest,
  type RedactedLedgerEntry,
} from '@attest/core';

export interface VerifyFailure {
  /** `export.json`, `ledger`, `completeness`, or `interaction <tenant>/<id>` … */
  readonly location: string;
  readonly message: string;
}

export interface VerifyReport {
  readonly isValid: boolean;
  readonly failures: readonly VerifyFailure[];
  readonly interactionCount: number;
  readonly blockCount: number;
  readonly bytesHashed: number;
  readonly ledgerEntryCount: number;
  readonly keyIds: { readonly ledger?: string; readonly manifest?: string };
  /** The signature algorithm each key verifies (`Ed25519`, `ES256`). */
  readonly keyAlgorithms: { readonly ledger?: string; readonly manifest?: string };
  /**
   * The completeness report's items by outcome (`recorded`, `recordedWithGaps`, `noMedia`, ...)
   * and how many gaps (spans without stored media) they list.
   */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly gapCount: number;
}

export interface VerifyOptions {
  /**
   * Public key the auditor trusts for the ledger (SPKI PEM, or a JWK as JSON); default the
   * package's `keys/ledger-signing.pem`. Ed25519 and EC P-256 (ES256) keys are accepted.
   */
  readonly ledgerPublicKeyPem?: string;
  readonly manifestPublicKeyPem?: string;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Array.isArray without narrowing (narrowing a readonly array to any[] would lose its type). */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}

async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch {
    return undefined;
  }
}

function parseJson<T>(bytes: Buffer | undefined): T | undefined {
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** A public key from SPKI PEM or a JWK (JSON); undefined when unreadable or not a signing key. */
function keyFrom(text: string | Buffer | undefined): KeyObject | undefined {
  if (text === undefined) return undefined;
  try {
    const value = text.toString().trim();
    const key = value.startsWith('{')
      ? publicKeyFromJwk(JSON.parse(value) as Parameters<typeof publicKeyFromJwk>[0])
      : createPublicKey(value);
    return signatureAlgorithmOf(key) === undefined ? undefined : key;
  } catch {
    return undefined;
  }
}

function keyFacts(
  ledgerKey: KeyObject | undefined,
  manifestKey: KeyObject | undefined,
): Pick<VerifyReport, 'keyIds' | 'keyAlgorithms'> {
  return {
    keyIds: {
      ...(ledgerKey === undefined ? {} : { ledger: publicKeyId(ledgerKey) }),
      ...(manifestKey === undefined ? {} : { manifest: publicKeyId(manifestKey) }),
    },
    keyAlgorithms: {
      ...(ledgerKey === undefined ? {} : { ledger: signatureAlgorithmOf(ledgerKey) }),
      ...(manifestKey === undefined ? {} : { manifest: signatureAlgorithmOf(manifestKey) }),
    },
  };
}

export async function verifyExport(
  root: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const failures: VerifyFailure[] = [];
  const fail = (location: string, message: string): void =>
    void failures.push({ location, message });
  let blockCount = 0;
  let bytesHashed = 0;

  const rootStat = await stat(root).catch(() => undefined);
  if (rootStat?.isDirectory() !== true) {
    return {
      isValid: false,
      failures: [{ location: root, message: 'not a folder' }],
      interactionCount: 0,
      blockCount,
      bytesHashed,
      ledgerEntryCount: 0,
      outcomes: {},
      gapCount: 0,
      keyIds: {},
      keyAlgorithms: {},
    };
  }
  const at = (relative: string): string => path.join(root, relative);

  // Keys
  const ledgerKey = keyFrom(
    options.ledgerPublicKeyPem ?? (await readOptional(at(ExportPaths.ledgerPublicKey))),
  );
  const manifestKey = keyFrom(
    options.manifestPublicKeyPem ?? (await readOptional(at(ExportPaths.manifestPublicKey))),
  );
  if (ledgerKey === undefined)
    fail(
      ExportPaths.ledgerPublicKey,
      'missing or unreadable ledger public key (Ed25519 or EC P-256)',
    );
  if (manifestKey === undefined)
    fail(
      ExportPaths.manifestPublicKey,
      'missing or unreadable manifest public key (Ed25519 or EC P-256)',
    );

  // Index
  const indexBytes = await readOptional(at(ExportPaths.index));
  const index = parseJson<ExportIndex>(indexBytes);
  if (
    index === undefined ||
    indexBytes === undefined ||
    index.formatVersion !== EXPORT_FORMAT_VERSION ||
    !isList(index.interactions)
  ) {
    fail(ExportPaths.index, 'missing, unreadable or of an unknown format version');
    return {
      isValid: false,
      failures,
      interactionCount: 0,
      blockCount,
      bytesHashed,
      ledgerEntryCount: 0,
      outcomes: {},
      gapCount: 0,
      ...keyFacts(ledgerKey, manifestKey),
    };
  }
  if (ledgerKey !== undefined && index.ledgerKeyId !== publicKeyId(ledgerKey))
    fail(ExportPaths.index, 'names another ledger key than the one used to verify');

  // Ledger
  const entriesText = (await readOptional(at(ExportPaths.ledgerEntries)))?.toString('utf8');
  // Other tenants' entries are redacted: their links are checked, their content is not there.
  const entries: (LedgerEntry | RedactedLedgerEntry)[] = [];
  if (entriesText === undefined) fail(ExportPaths.ledgerEntries, 'missing');
  else {
    entriesText.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        entries.push(JSON.parse(line) as LedgerEntry | RedactedLedgerEntry);
      } catch {
        fail(`${ExportPaths.ledgerEntries} line ${i + 1}`, 'not JSON');
      }
    });
  }
  const checkpoints =
    parseJson<LedgerCheckpoint[]>(await readOptional(at(ExportPaths.ledgerCheckpoints))) ?? [];
  if (checkpoints.length === 0) fail(ExportPaths.ledgerCheckpoints, 'no signed checkpoint');
  const ledger = verifyLedger(entries, {
    checkpoints,
    publicKey: ledgerKey,
    isFromGenesis: entries[0]?.seq === 0,
  });
  for (const failure of ledger.failures) fail(`ledger entry ${failure.seq}`, failure.message);
  const lastCheckpointSeq = Math.max(-1, ...checkpoints.map((c) => c.seq));
  const wholeEntries = entries.filter((e): e is LedgerEntry => !isRedactedEntry(e));
  const exportedEntry = wholeEntries.find(
    (e) => e.kind === 'exported' && e.subjectId === index.exportId,
  );
  if (exportedEntry === undefined) fail('ledger', `no entry records export ${index.exportId}`);
  else {
    if (exportedEntry.subjectSha256 !== sha256Hex(indexBytes))
      fail(
        ExportPaths.index,
        `does not match the hash recorded in ledger entry ${exportedEntry.seq} (altered)`,
      );
    if (exportedEntry.seq > lastCheckpointSeq)
      fail(`ledger entry ${exportedEntry.seq}`, 'not covered by a signed checkpoint');
  }
  const sealedBySubject = new Map<string, LedgerEntry>();
  for (const entry of wholeEntries)
    if (entry.kind === 'sealed')
      sealedBySubject.set(`${entry.tenantId ?? ''}/${entry.subjectId}`, entry);

  // Completeness
  const report = parseJson<CompletenessReportBody>(
    await readOptional(at(ExportPaths.completeness)),
  );
  const reportSignature = parseJson<CompletenessSignature>(
    await readOptional(at(ExportPaths.completenessSignature)),
  );
  if (report === undefined) fail(ExportPaths.completeness, 'missing or unreadable');
  else if (
    reportSignature === undefined ||
    ledgerKey === undefined ||
    !isCompletenessSignatureValid(report, reportSignature, ledgerKey)
  ) {
    fail(
      ExportPaths.completenessSignature,
      `${reportSignature === undefined ? 'missing or unreadable' : `${String(reportSignature.alg)} signature not valid for the ledger key`} (report altered?)`,
    );
  }
  const exportedKeys = new Set(index.interactions.map((i) => `${i.tenantId}/${i.interactionId}`));
  const absentKeys = new Set((index.absent ?? []).map((i) => `${i.tenantId}/${i.interactionId}`));
  for (const item of report?.items ?? []) {
    const key = `${item.tenantId}/${item.interactionId}`;
    const isExpected =
      (item.outcome === 'recorded' || item.outcome === 'recordedWithGaps') &&
      item.deletedAt === undefined &&
      item.reason === undefined;
    if (isExpected && !exportedKeys.has(key))
      fail(
        `interaction ${key}`,
        'listed as recorded in the completeness report but missing from the export',
      );
    if (!exportedKeys.has(key) && !absentKeys.has(key) && !isExpected)
      fail(
        `interaction ${key}`,
        'listed in the completeness report but neither exported nor explained',
      );
    if (!exportedKeys.has(key) && !isExpected && (item.reason === undefined || item.reason === ''))
      fail(`interaction ${key}`, `outcome ${item.outcome} has no recorded reason`);
  }
  const reportKeys = new Set((report?.items ?? []).map((i) => `${i.tenantId}/${i.interactionId}`));

  /**
   * An interaction of several captures: its manifest is signed with the ledger key, and every
   * capture it lists must be in the export with the very manifest it names (each capture's
   * folder is then checked like any recording, down to its blocks).
   */
  async function checkInteractionOfCaptures(
    manifestBytes: Buffer,
    signature: Buffer,
    key: KeyObject,
    tenantId: string,
    where: string,
  ): Promise<void> {
    const captureHashes = new Map<string, string>();
    const listed = parseJson<InteractionManifest>(manifestBytes)?.captures ?? [];
    for (const capture of listed) {
      const bytes = await readOptional(
        at(`${interactionDir(tenantId, capture.captureId)}/manifest.json`),
      );
      if (bytes !== undefined) captureHashes.set(capture.captureId, sha256Hex(bytes));
    }
    const checked = verifyInteractionManifest(manifestBytes, signature, key, (captureId) =>
      captureHashes.get(captureId),
    );
    for (const problem of checked.problems)
      fail(
        problem.startsWith('manifest.sig:') ? `${where} manifest.sig` : where,
        problem.replace(/^manifest\.sig: /, ''),
      );
  }

  // Interactions
  let done = 0;
  let buffer = Buffer.allocUnsafe(0);
  for (const exported of index.interactions) {
    const key = `${exported.tenantId}/${exported.interactionId}`;
    const where = `interaction ${key}`;
    const dir = interactionDir(exported.tenantId, exported.interactionId);
    done += 1;
    options.onProgress?.(done, index.interactions.length);
    const metadataBytes = await readOptional(at(`${dir}/metadata.json`));
    const manifestBytes = await readOptional(at(`${dir}/manifest.json`));
    // An interaction of several captures is no invite itself: its captures are in the report.
    const isInteractionOfCaptures = isInteractionManifest(parseJson(manifestBytes));
    if (report !== undefined && !reportKeys.has(key) && !isInteractionOfCaptures)
      fail(where, 'not listed in the completeness report');
    if (metadataBytes === undefined && manifestBytes === undefined) {
      fail(where, 'missing from the export (folder removed)');
      continue;
    }
    const metadata = parseJson<Record<string, unknown>>(metadataBytes);
    if (metadataBytes === undefined || metadata === undefined)
      fail(`${where} metadata.json`, 'missing or not JSON');
    else if (sha256Hex(metadataBytes) !== exported.metadataSha256) {
      const fields = changedFields(exported.metadataFieldSha256 ?? {}, fieldHashes(metadata));
      fail(
        `${where} metadata.json`,
        fields.length > 0
          ? `field(s) changed: ${fields.join(', ')}`
          : 'altered (formatting or content)',
      );
    }
    if (manifestBytes === undefined) {
      fail(`${where} manifest.json`, 'missing');
      continue;
    }
    if (sha256Hex(manifestBytes) !== exported.manifestSha256)
      fail(`${where} manifest.json`, 'does not match the hash in export.json');
    if (metadata !== undefined && metadata.manifestSha256 !== sha256Hex(manifestBytes))
      fail(
        `${where} manifest.json`,
        'does not match the manifestSha256 of the interaction metadata',
      );
    const sealed = sealedBySubject.get(key);
    if (sealed === undefined) fail(where, 'no sealed entry in the ledger excerpt');
    else if (sealed.subjectSha256 !== sha256Hex(manifestBytes))
      fail(where, `manifest hash differs from ledger entry ${sealed.seq}`);
    const signature = await readOptional(at(`${dir}/manifest.sig`));
    if (signature === undefined) fail(`${where} manifest.sig`, 'missing');
    if (isInteractionOfCaptures) {
      if (ledgerKey !== undefined && signature !== undefined)
        await checkInteractionOfCaptures(
          manifestBytes,
          signature,
          ledgerKey,
          exported.tenantId,
          where,
        );
      continue;
    }
    if (manifestKey !== undefined && signature !== undefined) {
      const checked = await verifyManifest(manifestBytes, signature, manifestKey);
      if (!checked.isValid)
        for (const problem of checked.problems)
          fail(problem.startsWith('signature:') ? `${where} manifest.sig` : where, problem);
    }
    const manifest = parseJson<RecordingManifest>(manifestBytes);
    for (const stream of manifest?.streams ?? []) {
      const listed = exported.streams.find((s) => s.streamId === stream.streamId);
      const streamWhere = `${where} stream ${stream.streamId}`;
      if (listed === undefined) {
        fail(streamWhere, 'in the manifest but not in export.json (stream removed)');
        continue;
      }
      const file = await open(at(listed.file), 'r').catch(() => undefined);
      if (file === undefined) {
        fail(streamWhere, `media file ${listed.file} missing (stream removed)`);
        continue;
      }
      try {
        const { size } = await file.stat();
        if (size !== stream.plaintextBytes)
          fail(
            streamWhere,
            `media file holds ${size} bytes where the manifest says ${stream.plaintextBytes}`,
          );
        for (const block of stream.blocks) {
          blockCount += 1;
          // One buffer reused for every block: memory stays bounded by the largest block, and no
          // fresh pages are faulted in for every file.
          if (buffer.length < block.length) buffer = Buffer.allocUnsafe(block.length);
          const { bytesRead } = await file.read(buffer, 0, block.length, block.offset);
          const bytes = buffer.subarray(0, bytesRead);
          bytesHashed += bytesRead;
          if (bytesRead !== block.length || sha256Hex(bytes) !== block.sha256)
            fail(
              `${streamWhere} block ${block.index}`,
              `bytes ${block.offset}..${block.offset + block.length - 1} do not match their hash`,
            );
        }
      } finally {
        await file.close();
      }
    }
  }

  return {
    isValid: failures.length === 0,
    failures,
    interactionCount: index.interactions.length,
    blockCount,
    bytesHashed,
    ledgerEntryCount: entries.length,
    ...keyFacts(ledgerKey, manifestKey),
    ...outcomesOf(report?.items ?? []),
  };
}

function outcomesOf(items: CompletenessReportBody['items']): {
  outcomes: Record<string, number>;
  gapCount: number;
} {
  const outcomes: Record<string, number> = {};
  let gapCount = 0;
  for (const item of items) {
    outcomes[item.outcome] = (outcomes[item.outcome] ?? 0) + 1;
    gapCount += item.gaps?.length ?? 0;
  }
  return { outcomes, gapCount };
}

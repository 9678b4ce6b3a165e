/**
 * Writes an export package (docs/export-format.md) to its store (a blob container in the function
 * app, never the host's disk): decrypted media, metadata,
 * manifests and signatures, a signed completeness report, the ledger excerpt and a fresh signed
 * checkpoint that covers the export's own ledger entry. In three steps, so a durable
 * orchestration can run a long export in short activities and report progress between them:
 * `prepareExport` fixes the selection (`.selection.json`), `writeExportBatch` writes a range of
 * it, `finishExport` writes the report, index and ledger excerpt. Resumable: `.progress.json`
 * lists the interactions already written; a second run with the same export id skips them and
 * keeps the selection made the first time.
 */
import {
  buildCompletenessReport,
  canonicalJson,
  entryForTenant,
  EXPORT_FORMAT_VERSION,
  ErrorCode,
  ExportPaths,
  fieldHashes,
  holdMatches,
  interactionDir,
  LedgerEntryKind,
  LedgerSubjectType,
  mediaExtension,
  publicKeyId,
  RecorderError,
  resolveSigner,
  sha256Hex,
  signCheckpointWith,
  signCompletenessReportWith,
  type CompletenessItem,
  type ExportedInteraction,
  type ExportIndex,
  type KeyUnwrapperLike,
  type LedgerEntry,
  type RedactedLedgerEntry,
  type SigningKeyLike,
} from '@attest/core';
import type {
  ArchiveRecord,
  ArchiveRecordStore,
  Clock,
  ExportPackageRef,
  ExportPackageStore,
  ExportRequestStore,
  HoldStore,
  LedgerStore,
  RecordingBlobStore,
} from '../domain/archive-ports';
import type { ExportBatchResult, ExportJobRequest, ExportResult } from '../domain/archive-names';
import { readPlaintextStream, readStoredManifest } from '../adapters/archive-media-reader';
import { EXPORT_README } from './export-readme';
import { completenessItemOf, completenessReason } from '../domain/completeness-item';
import { exportRequestMismatch } from '../domain/export-request';
import type { ManifestIntegrity } from '../archive/manifest-integrity';
import { SYSTEM_ACTOR, type ArchiveLogger } from '../archive/archive.service';

export interface ExportDeps {
  readonly records: ArchiveRecordStore;
  readonly holds: HoldStore;
  readonly ledger: LedgerStore;
  readonly blobs: RecordingBlobStore;
  /** Where packages are written (the `exports` container). */
  readonly packages: ExportPackageStore;
  /** The KEK private key (local) or a Key Vault unwrapper. */
  readonly kekPrivateKey: KeyUnwrapperLike | undefined;
  /** The ledger key: a local private key, or a Key Vault signer (source). */
  readonly ledgerSigningKey: SigningKeyLike;
  /** PEM of the media host's manifest signing public key, copied into the package (a source of it with Key Vault). */
  readonly manifestPublicKeyPem: string | (() => Promise<string>) | undefined;
  /**
   * The requests the HTTP starter recorded: each step of `exportPackageV1` acts only on a request
   * found there (same tenant, actor and selection), never on its orchestration input alone.
   */
  readonly requests: ExportRequestStore;
  /**
   * Verifies each interaction's signed manifest before its media is written: one that does not
   * verify stops the export, naming the interaction (flagged, alerted, in the ledger).
   */
  readonly integrity: ManifestIntegrity;
  readonly clock: Clock;
  readonly log?: ArchiveLogger;
}

export type ExportRequest = ExportJobRequest;

export interface ExportProgress {
  readonly done: number;
  readonly total: number;
  readonly interactionId?: string;
}

export type { ExportResult } from '../domain/archive-names';

interface ProgressFile {
  readonly exportId: string;
  readonly done: Record<string, ExportedInteraction>;
}

/** The interactions of an export, fixed when it starts, in invite order. */
interface SelectionFile {
  readonly exportId: string;
  readonly keys: readonly { readonly tenantId: string; readonly interactionId: string }[];
  readonly firstInvitedAt?: string;
}

const SELECTION_FILE = '.selection.json';
/** Records read at once when the finish step reloads the selection. */
const RECORD_READ_CONCURRENCY = 16;

export function createExportActivities(deps: ExportDeps) {
  const { packages } = deps;
  const refOf = (request: ExportRequest): ExportPackageRef => ({
    tenantId: request.tenantId,
    exportId: request.exportId,
  });

  async function readJson<T>(ref: ExportPackageRef, file: string): Promise<T | undefined> {
    const bytes = await packages.read(ref, file);
    if (bytes === undefined) return undefined;
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }

  async function select(request: ExportRequest): Promise<ArchiveRecord[]> {
    const out: ArchiveRecord[] = [];
    // Every selection is within the request's tenant, whether by hold or by query.
    if (request.holdId !== undefined) {
      const hold = await deps.holds.get(request.tenantId, request.holdId);
      if (hold === undefined)
        throw new RecorderError(ErrorCode.NotFound, `hold ${request.holdId} does not exist`);
      for await (const record of deps.records.search({
        tenantId: request.tenantId,
        isDeletedIncluded: true,
        limit: Number.MAX_SAFE_INTEGER,
      })) {
        if (holdMatches(hold, record.interaction)) out.push(record);
      }
    } else {
      for await (const record of deps.records.search({
        ...request.query,
        tenantId: request.tenantId,
        isDeletedIncluded: true,
        limit: request.query?.limit ?? Number.MAX_SAFE_INTEGER,
      }))
        out.push(record);
    }
    return out.sort((a, b) =>
      a.interaction.invitedAt < b.interaction.invitedAt
        ? -1
        : a.interaction.invitedAt > b.interaction.invitedAt
          ? 1
          : 0,
    );
  }

  async function writeInteraction(
    ref: ExportPackageRef,
    record: ArchiveRecord,
  ): Promise<ExportedInteraction | undefined> {
    const { tenantId, interactionId } = record.interaction;
    const stored = await readStoredManifest(deps.blobs, tenantId, interactionId);
    if (stored === undefined) return undefined;
    await requireIntact(ref, record);
    const dir = interactionDir(tenantId, interactionId);
    const metadataText = `${JSON.stringify(record.interaction, null, 2)}\n`;
    await packages.write(ref, `${dir}/metadata.json`, metadataText);
    await packages.write(ref, `${dir}/manifest.json`, stored.bytes);
    if (stored.signature !== undefined)
      await packages.write(ref, `${dir}/manifest.sig`, stored.signature);
    const streams = [];
    // An interaction of several captures has no streams of its own: its captures do.
    for (const stream of stored.manifest.streams ?? []) {
      const plaintext = await readPlaintextStream(
        deps.blobs,
        deps.kekPrivateKey,
        stored.manifest,
        stream,
      );
      const file = `${dir}/media/${stream.streamId}.${mediaExtension(stream.contentType)}`;
      await packages.write(ref, file, plaintext);
      streams.push({ streamId: stream.streamId, file, bytes: plaintext.length });
    }
    return {
      tenantId,
      interactionId,
      metadataSha256: sha256Hex(metadataText),
      metadataFieldSha256: fieldHashes(record.interaction as unknown as Record<string, unknown>),
      manifestSha256: sha256Hex(stored.bytes),
      streams,
    };
  }

  /**
   * Stops the export (ATT_INTEGRITY_VIOLATION naming the interaction, one ledger entry) when the
   * interaction's signed manifest does not verify: evidence that fails its own seal is never
   * packaged as if it were sound. The interaction is flagged and an alert raised.
   */
  async function requireIntact(ref: ExportPackageRef, record: ArchiveRecord): Promise<void> {
    const checked = await deps.integrity.checkRecord(record, 'export');
    if (checked.status !== 'invalid') return;
    const { tenantId, interactionId } = record.interaction;
    await deps.ledger.append({
      kind: LedgerEntryKind.accessed,
      actor: SYSTEM_ACTOR,
      tenantId,
      subjectType: LedgerSubjectType.export,
      subjectId: ref.exportId,
      details: { action: 'export', outcome: 'refused:integrity', interactionId },
    });
    throw new RecorderError(
      ErrorCode.IntegrityViolation,
      `export ${ref.exportId} stopped: interaction ${interactionId} of tenant ${tenantId} has a signed manifest that does not verify (${checked.problems[0] ?? 'invalid'})`,
      { details: { exportId: ref.exportId, interactionId } },
    );
  }

  const keyOf = (tenantId: string, interactionId: string): string => `${tenantId}/${interactionId}`;

  async function readSelection(request: ExportRequest): Promise<SelectionFile> {
    const selection = await readJson<SelectionFile>(refOf(request), SELECTION_FILE);
    if (selection?.exportId !== request.exportId)
      throw new RecorderError(
        ErrorCode.Conflict,
        `export ${request.exportId} has no selection; prepare it first`,
      );
    return selection;
  }

  async function readProgress(
    request: ExportRequest,
  ): Promise<Record<string, ExportedInteraction>> {
    const previous = await readJson<ProgressFile>(refOf(request), ExportPaths.progress);
    return previous?.exportId === request.exportId ? { ...previous.done } : {};
  }

  const isExportable = (record: ArchiveRecord): boolean =>
    record.state !== 'deleted' &&
    (record.interaction.outcome === 'recorded' ||
      record.interaction.outcome === 'recordedWithGaps');

  /**
   * Fixes the selection (kept when the export is resumed); returns how many interactions it has
   * and how many an earlier run already wrote.
   */
  async function prepare(
    request: ExportRequest,
  ): Promise<{ readonly total: number; readonly resumedCount: number }> {
    const resumedCount = Object.keys(await readProgress(request)).length;
    const existing = await readJson<SelectionFile>(refOf(request), SELECTION_FILE);
    if (existing?.exportId === request.exportId)
      return { total: existing.keys.length, resumedCount };
    const records = await select(request);
    const selection: SelectionFile = {
      exportId: request.exportId,
      keys: records.map((r) => ({
        tenantId: r.interaction.tenantId,
        interactionId: r.interaction.interactionId,
      })),
      ...(records[0] === undefined ? {} : { firstInvitedAt: records[0].interaction.invitedAt }),
    };
    await packages.write(refOf(request), SELECTION_FILE, JSON.stringify(selection));
    return { total: selection.keys.length, resumedCount };
  }

  /** Writes the selection's interactions `[start, start + count)` that are not written yet. */
  async function writeBatch(input: {
    readonly request: ExportRequest;
    readonly start: number;
    readonly count: number;
  }): Promise<ExportBatchResult> {
    const { request } = input;
    const selection = await readSelection(request);
    const done = await readProgress(request);
    const end = Math.min(selection.keys.length, input.start + Math.max(1, input.count));
    let writtenCount = 0;
    for (const { tenantId, interactionId } of selection.keys.slice(input.start, end)) {
      const key = keyOf(tenantId, interactionId);
      if (done[key] !== undefined) continue;
      const record = await deps.records.get(tenantId, interactionId);
      if (record === undefined || !isExportable(record)) continue;
      const entry = await writeInteraction(refOf(request), record);
      if (entry === undefined) continue;
      done[key] = entry;
      writtenCount += 1;
      await packages.write(
        refOf(request),
        ExportPaths.progress,
        JSON.stringify({ exportId: request.exportId, done }),
      );
    }
    return { nextIndex: end, writtenCount };
  }

  async function loadRecords(selection: SelectionFile): Promise<(ArchiveRecord | undefined)[]> {
    const out: (ArchiveRecord | undefined)[] = [];
    for (let i = 0; i < selection.keys.length; i += RECORD_READ_CONCURRENCY) {
      out.push(
        ...(await Promise.all(
          selection.keys
            .slice(i, i + RECORD_READ_CONCURRENCY)
            .map((k) => deps.records.get(k.tenantId, k.interactionId)),
        )),
      );
    }
    return out;
  }

  /** Writes the completeness report, the index, the ledger excerpt and a checkpoint covering the export. */
  async function finish(input: {
    readonly request: ExportRequest;
    readonly resumedCount: number;
  }): Promise<ExportResult> {
    const { request, resumedCount } = input;
    const ref = refOf(request);
    const selection = await readSelection(request);
    const done = await readProgress(request);
    const records = await loadRecords(selection);
    const now = deps.clock.now();
    const exported: ExportedInteraction[] = [];
    const absent: { tenantId: string; interactionId: string; reason: string }[] = [];
    const items: CompletenessItem[] = [];
    selection.keys.forEach(({ tenantId, interactionId }, index) => {
      const record = records[index];
      if (record === undefined) {
        absent.push({ tenantId, interactionId, reason: 'no longer in the archive' });
        return;
      }
      const entry = done[keyOf(tenantId, interactionId)];
      let reason = completenessReason(record);
      if (entry === undefined && isExportable(record)) reason = 'no sealed manifest in storage';
      if (entry !== undefined) exported.push(entry);
      else absent.push({ tenantId, interactionId, reason: reason ?? record.interaction.outcome });
      items.push(completenessItemOf(record, reason));
    });

    const ledgerSigner = await resolveSigner(deps.ledgerSigningKey, publicKeyId);
    const ledgerPublic = ledgerSigner.publicKey;
    const ledgerKeyId = ledgerSigner.keyId;
    const period = {
      from: request.query?.from ?? selection.firstInvitedAt ?? now.toISOString(),
      to: request.query?.to ?? now.toISOString(),
    };
    const report = buildCompletenessReport(period, items, now);
    await packages.write(ref, ExportPaths.completeness, `${JSON.stringify(report, null, 2)}\n`);
    await packages.write(
      ref,
      ExportPaths.completenessSignature,
      JSON.stringify(await signCompletenessReportWith(report, ledgerSigner)),
    );
    await packages.write(
      ref,
      ExportPaths.ledgerPublicKey,
      ledgerPublic.export({ type: 'spki', format: 'pem' }).toString(),
    );
    const manifestPublicKeyPem =
      typeof deps.manifestPublicKeyPem === 'function'
        ? await deps.manifestPublicKeyPem()
        : deps.manifestPublicKeyPem;
    if (manifestPublicKeyPem !== undefined)
      await packages.write(ref, ExportPaths.manifestPublicKey, manifestPublicKeyPem);

    const index: ExportIndex = {
      formatVersion: EXPORT_FORMAT_VERSION,
      exportId: request.exportId,
      createdAt: now.toISOString(),
      createdBy: request.createdBy,
      selection:
        request.holdId !== undefined
          ? { holdId: request.holdId }
          : { query: JSON.parse(canonicalJson(request.query ?? {})) as Record<string, unknown> },
      interactions: exported,
      absent,
      ledgerKeyId,
    };
    const indexText = `${JSON.stringify(index, null, 2)}\n`;
    await packages.write(ref, ExportPaths.index, indexText);

    const exportedEntry = await deps.ledger.append({
      kind: LedgerEntryKind.exported,
      actor: request.createdBy,
      tenantId: request.tenantId,
      subjectType: LedgerSubjectType.export,
      subjectId: request.exportId,
      subjectSha256: sha256Hex(indexText),
      details: {
        action: 'export',
        interactionCount: exported.length,
        absentCount: absent.length,
        ...(request.holdId === undefined ? {} : { holdId: request.holdId }),
      },
    });
    const checkpoint = await signCheckpointWith(exportedEntry, deps.clock.now(), ledgerSigner);
    await deps.ledger.putCheckpoint(checkpoint);

    // The excerpt runs from the first entry about an exported interaction to the new head;
    // other tenants' entries in it are redacted to what links the chain.
    const wanted = new Set(items.map((i) => i.interactionId));
    const excerpt: (LedgerEntry | RedactedLedgerEntry)[] = [];
    for await (const entry of deps.ledger.listEntries(0, checkpoint.seq)) {
      const isOwn = entry.tenantId === request.tenantId;
      if (
        excerpt.length > 0 ||
        (isOwn && wanted.has(entry.subjectId)) ||
        entry.seq === exportedEntry.seq
      )
        excerpt.push(entryForTenant(entry, request.tenantId));
    }
    await packages.write(
      ref,
      ExportPaths.ledgerEntries,
      excerpt.map((e) => JSON.stringify(e)).join('\n') + '\n',
    );
    const checkpoints = (await deps.ledger.listCheckpoints()).filter(
      (c) => c.seq >= (excerpt[0]?.seq ?? 0) && c.seq <= checkpoint.seq,
    );
    await packages.write(
      ref,
      ExportPaths.ledgerCheckpoints,
      `${JSON.stringify(checkpoints, null, 2)}\n`,
    );
    await packages.write(ref, ExportPaths.readme, EXPORT_README);
    await packages.delete(ref, ExportPaths.progress);
    await packages.delete(ref, SELECTION_FILE);
    return {
      exportId: request.exportId,
      interactionCount: exported.length,
      absentCount: absent.length,
      ledgerSeq: exportedEntry.seq,
      resumedCount,
    };
  }

  /**
   * Refuses (ATT_FORBIDDEN, one ledger entry, a warning) a step whose request the HTTP starter
   * did not record as given: an orchestration started through the durable management API, or
   * with another actor or selection than the one authorised. Nothing is read or written then.
   */
  async function requireRequested(request: ExportRequest): Promise<void> {
    const recorded = await deps.requests.get(request.tenantId, request.exportId);
    const mismatch = exportRequestMismatch(request, recorded);
    if (mismatch === undefined) return;
    await deps.ledger.append({
      kind: LedgerEntryKind.accessed,
      actor: SYSTEM_ACTOR,
      tenantId: request.tenantId,
      subjectType: LedgerSubjectType.export,
      subjectId: request.exportId,
      details: {
        action: 'export',
        outcome: `refused:${mismatch}`,
        claimedBy: request.createdBy,
      },
    });
    deps.log?.warn('export step refused: no matching export request', {
      exportId: request.exportId,
      tenantId: request.tenantId,
      reason: mismatch,
    });
    throw new RecorderError(
      ErrorCode.Forbidden,
      `export ${request.exportId} was not requested as given (${mismatch}); nothing was written`,
      { details: { exportId: request.exportId, reason: mismatch } },
    );
  }

  return {
    /** Activity of `exportPackageV1`: checks the request, then fixes the selection. */
    async prepareExport(request: ExportRequest) {
      await requireRequested(request);
      return prepare(request);
    },
    /** Activity of `exportPackageV1`: checks the request, then writes a range of the selection. */
    async writeExportBatch(input: Parameters<typeof writeBatch>[0]) {
      await requireRequested(input.request);
      return writeBatch(input);
    },
    /** Activity of `exportPackageV1`: checks the request, then writes report, index and ledger. */
    async finishExport(input: Parameters<typeof finish>[0]) {
      await requireRequested(input.request);
      return finish(input);
    },
    /**
     * The three steps in one call, in process (the CLI, benchmarks and tests; no orchestration
     * input to forge); progress per interaction.
     */
    async runExport(
      request: ExportRequest,
      onProgress: (progress: ExportProgress) => void = () => undefined,
    ): Promise<ExportResult> {
      const { total, resumedCount } = await prepare(request);
      const selection = await readSelection(request);
      for (let start = 0; start < total; start += 1) {
        await writeBatch({ request, start, count: 1 });
        onProgress({ done: start + 1, total, interactionId: selection.keys[start]?.interactionId });
      }
      return finish({ request, resumedCount });
    },
  };
}
export type ExportActivities = ReturnType<typeof createExportActivities>;

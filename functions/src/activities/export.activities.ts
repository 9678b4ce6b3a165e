/**
 * Writes an export package (docs/export-format.md) to a directory: decrypted media, metadata,
 * manifests and signatures, a signed completeness report, the ledger excerpt and a fresh signed
 * checkpoint that covers the export's own ledger entry. Resumable: `.progress.json` lists the
 * interactions already written; a second run with the same export id skips them.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildCompletenessReport,
  canonicalJson,
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
  sha256Of,
  signCheckpointWith,
  signCompletenessReportWith,
  type CompletenessItem,
  type ExportedInteraction,
  type ExportIndex,
  type KeyUnwrapperLike,
  type LedgerEntry,
  type SigningKeyLike,
} from '@attest/core';
import type { ArchiveRecord, ArchiveRecordStore, ArchiveSearchQuery, Clock, HoldStore, LedgerStore, RecordingBlobStore } from '../domain/archive-ports';
import { readPlaintextStream, readStoredManifest } from '../adapters/archive-media-reader';
import { EXPORT_README } from './export-readme';
import { completenessItemOf, completenessReason } from '../domain/completeness-item';

export interface ExportDeps {
  readonly records: ArchiveRecordStore;
  readonly holds: HoldStore;
  readonly ledger: LedgerStore;
  readonly blobs: RecordingBlobStore;
  /** The KEK private key (local) or a Key Vault unwrapper. */
  readonly kekPrivateKey: KeyUnwrapperLike | undefined;
  /** The ledger key: a local private key, or a Key Vault signer (source). */
  readonly ledgerSigningKey: SigningKeyLike;
  /** PEM of the media host's manifest signing public key, copied into the package (a source of it with Key Vault). */
  readonly manifestPublicKeyPem: string | (() => Promise<string>) | undefined;
  readonly clock: Clock;
}

export interface ExportRequest {
  readonly exportId: string;
  readonly createdBy: string;
  readonly query?: ArchiveSearchQuery;
  readonly holdId?: string;
  readonly outputDir: string;
}

export interface ExportProgress {
  readonly done: number;
  readonly total: number;
  readonly interactionId?: string;
}

export interface ExportResult {
  readonly exportId: string;
  readonly outputDir: string;
  readonly interactionCount: number;
  readonly absentCount: number;
  readonly ledgerSeq: number;
  readonly resumedCount: number;
}

interface ProgressFile {
  readonly exportId: string;
  readonly done: Record<string, ExportedInteraction>;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function createExportActivities(deps: ExportDeps) {
  async function select(request: ExportRequest): Promise<ArchiveRecord[]> {
    const out: ArchiveRecord[] = [];
    if (request.holdId !== undefined) {
      const hold = await deps.holds.get(request.holdId);
      if (hold === undefined) throw new RecorderError(ErrorCode.NotFound, `hold ${request.holdId} does not exist`);
      for await (const record of deps.records.search({ isDeletedIncluded: true, limit: Number.MAX_SAFE_INTEGER, ...(hold.scope.tenantId === undefined ? {} : { tenantId: hold.scope.tenantId }) })) {
        if (holdMatches(hold, record.interaction)) out.push(record);
      }
    } else {
      for await (const record of deps.records.search({ ...request.query, isDeletedIncluded: true, limit: request.query?.limit ?? Number.MAX_SAFE_INTEGER })) out.push(record);
    }
    return out.sort((a, b) => (a.interaction.invitedAt < b.interaction.invitedAt ? -1 : a.interaction.invitedAt > b.interaction.invitedAt ? 1 : 0));
  }

  async function writeInteraction(root: string, record: ArchiveRecord): Promise<ExportedInteraction | undefined> {
    const { tenantId, interactionId } = record.interaction;
    const stored = await readStoredManifest(deps.blobs, tenantId, interactionId);
    if (stored === undefined) return undefined;
    const dir = path.join(root, interactionDir(tenantId, interactionId));
    await mkdir(path.join(dir, 'media'), { recursive: true });
    const metadataText = `${JSON.stringify(record.interaction, null, 2)}\n`;
    await writeFile(path.join(dir, 'metadata.json'), metadataText);
    await writeFile(path.join(dir, 'manifest.json'), stored.bytes);
    if (stored.signature !== undefined) await writeFile(path.join(dir, 'manifest.sig'), stored.signature);
    const streams = [];
    for (const stream of stored.manifest.streams) {
      const plaintext = await readPlaintextStream(deps.blobs, deps.kekPrivateKey, stored.manifest, stream);
      const file = `${interactionDir(tenantId, interactionId)}/media/${stream.streamId}.${mediaExtension(stream.contentType)}`;
      await writeFile(path.join(root, file), plaintext);
      streams.push({ streamId: stream.streamId, file, bytes: plaintext.length });
    }
    return {
      tenantId,
      interactionId,
      metadataSha256: sha256Of(metadataText),
      metadataFieldSha256: fieldHashes(record.interaction as unknown as Record<string, unknown>),
      manifestSha256: sha256Of(stored.bytes),
      streams,
    };
  }

  return {
    async runExport(request: ExportRequest, onProgress: (progress: ExportProgress) => void = () => undefined): Promise<ExportResult> {
      const root = request.outputDir;
      await mkdir(root, { recursive: true });
      const progressPath = path.join(root, ExportPaths.progress);
      const previous = await readJson<ProgressFile>(progressPath);
      const done: Record<string, ExportedInteraction> = previous?.exportId === request.exportId ? { ...previous.done } : {};
      const resumedCount = Object.keys(done).length;
      const records = await select(request);
      const now = deps.clock.now();
      const exported: ExportedInteraction[] = [];
      const absent: { tenantId: string; interactionId: string; reason: string }[] = [];
      const items: CompletenessItem[] = [];
      let count = 0;
      for (const record of records) {
        const { interaction } = record;
        const key = `${interaction.tenantId}/${interaction.interactionId}`;
        let entry: ExportedInteraction | undefined = done[key];
        let reason = completenessReason(record);
        // A deleted interaction has no media left to export; it is listed with its reason.
        if (record.state !== 'deleted' && entry === undefined && (interaction.outcome === 'recorded' || interaction.outcome === 'recordedWithGaps')) {
          entry = await writeInteraction(root, record);
          if (entry === undefined) reason = 'no sealed manifest in storage';
          else {
            done[key] = entry;
            await writeFile(progressPath, JSON.stringify({ exportId: request.exportId, done }));
          }
        }
        if (entry !== undefined) exported.push(entry);
        else absent.push({ tenantId: interaction.tenantId, interactionId: interaction.interactionId, reason: reason ?? interaction.outcome });
        items.push(completenessItemOf(record, reason));
        count += 1;
        onProgress({ done: count, total: records.length, interactionId: interaction.interactionId });
      }

      const ledgerSigner = await resolveSigner(deps.ledgerSigningKey, publicKeyId);
      const ledgerPublic = ledgerSigner.publicKey;
      const ledgerKeyId = ledgerSigner.keyId;
      const period = {
        from: request.query?.from ?? records[0]?.interaction.invitedAt ?? now.toISOString(),
        to: request.query?.to ?? now.toISOString(),
      };
      const report = buildCompletenessReport(period, items, now);
      await writeFile(path.join(root, ExportPaths.completeness), `${JSON.stringify(report, null, 2)}\n`);
      await writeFile(path.join(root, ExportPaths.completenessSignature), JSON.stringify(await signCompletenessReportWith(report, ledgerSigner)));
      await mkdir(path.join(root, 'keys'), { recursive: true });
      await writeFile(path.join(root, ExportPaths.ledgerPublicKey), ledgerPublic.export({ type: 'spki', format: 'pem' }).toString());
      const manifestPublicKeyPem = typeof deps.manifestPublicKeyPem === 'function' ? await deps.manifestPublicKeyPem() : deps.manifestPublicKeyPem;
      if (manifestPublicKeyPem !== undefined) await writeFile(path.join(root, ExportPaths.manifestPublicKey), manifestPublicKeyPem);

      const index: ExportIndex = {
        formatVersion: EXPORT_FORMAT_VERSION,
        exportId: request.exportId,
        createdAt: now.toISOString(),
        createdBy: request.createdBy,
        selection: request.holdId !== undefined ? { holdId: request.holdId } : { query: JSON.parse(canonicalJson(request.query ?? {})) as Record<string, unknown> },
        interactions: exported,
        absent,
        ledgerKeyId,
      };
      const indexText = `${JSON.stringify(index, null, 2)}\n`;
      await writeFile(path.join(root, ExportPaths.index), indexText);

      const exportedEntry = await deps.ledger.append({
        kind: LedgerEntryKind.exported,
        actor: request.createdBy,
        subjectType: LedgerSubjectType.export,
        subjectId: request.exportId,
        subjectSha256: sha256Of(indexText),
        details: { action: 'export', interactionCount: exported.length, absentCount: absent.length, ...(request.holdId === undefined ? {} : { holdId: request.holdId }) },
      });
      const checkpoint = await signCheckpointWith(exportedEntry, deps.clock.now(), ledgerSigner);
      await deps.ledger.putCheckpoint(checkpoint);

      // The excerpt runs from the first entry about an exported interaction to the new head.
      const wanted = new Set(items.map((i) => i.interactionId));
      const excerpt: LedgerEntry[] = [];
      for await (const entry of deps.ledger.listEntries(0, checkpoint.seq)) {
        if (excerpt.length > 0 || wanted.has(entry.subjectId) || entry.seq === exportedEntry.seq) excerpt.push(entry);
      }
      await mkdir(path.join(root, 'ledger'), { recursive: true });
      await writeFile(path.join(root, ExportPaths.ledgerEntries), excerpt.map((e) => JSON.stringify(e)).join('\n') + '\n');
      const checkpoints = (await deps.ledger.listCheckpoints()).filter((c) => c.seq >= (excerpt[0]?.seq ?? 0) && c.seq <= checkpoint.seq);
      await writeFile(path.join(root, ExportPaths.ledgerCheckpoints), `${JSON.stringify(checkpoints, null, 2)}\n`);
      await writeFile(path.join(root, ExportPaths.readme), EXPORT_README);
      await rm(progressPath, { force: true });
      return { exportId: request.exportId, outputDir: root, interactionCount: exported.length, absentCount: absent.length, ledgerSeq: exportedEntry.seq, resumedCount };
    },
  };
}
export type ExportActivities = ReturnType<typeof createExportActivities>;

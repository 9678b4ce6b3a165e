/**
 * Checks an archived interaction's signed manifest with the offline verifier's own functions
 * (`verifyManifest`, `verifyInteractionManifest` from core): the signature over the exact stored
 * bytes, the hash chains and Merkle root, and the manifest's hash against the one sealed in the
 * ledger. Used at intake, at every playback and at every export. A manifest that does not verify
 * raises an integrity alert (the `onAlert` sink: an `error` log line with `alert`) and flags the
 * interaction (`integrityAlert` on its archive record), once.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  isInteractionManifest,
  recordingBlobNames,
  resolveSigner,
  publicKeyId,
  sha256Hex,
  verifyInteractionManifest,
  verifyManifest,
  type IntegrityAlert,
  type InteractionManifestCapture,
  type SigningKeyLike,
} from '@attest/core';
import type {
  ArchiveRecord,
  ArchiveRecordStore,
  Clock,
  RecordingBlobStore,
} from '../domain/archive-ports';
import { updateRecord } from './record-update';

/** At most this many problems are kept on the record and in the ledger. */
const MAX_PROBLEMS = 10;

export type ManifestCheck =
  | { readonly status: 'valid' }
  | { readonly status: 'invalid'; readonly problems: readonly string[] }
  /** Nothing to check (no sealed manifest, e.g. an interaction without media) or no key configured. */
  | { readonly status: 'unverifiable'; readonly reason: 'noManifest' | 'noKey' };

export interface IntegrityAlertEvent {
  readonly tenantId: string;
  readonly interactionId: string;
  readonly detectedBy: IntegrityAlert['detectedBy'];
  readonly problemCount: number;
}

export interface ManifestIntegrityDeps {
  readonly blobs: Pick<RecordingBlobStore, 'readRecordingBlob'>;
  readonly records: ArchiveRecordStore;
  /** The media hosts' manifest signing public key (PEM, or a source of it); undefined: not configured. */
  readonly manifestPublicKeyPem: string | (() => Promise<string>) | undefined;
  /** The ledger key, which signs interaction manifests of several captures. */
  readonly ledgerSigningKey: SigningKeyLike;
  readonly clock: Clock;
  /** Raised once per interaction when its manifest is found invalid. */
  readonly onAlert: (event: IntegrityAlertEvent) => void;
}

/** The detached signature's blob next to a manifest blob. */
const signatureNameOf = (manifestBlobName: string): string =>
  manifestBlobName.replace(/manifest\.json$/, 'manifest.sig');

export function createManifestIntegrity(deps: ManifestIntegrityDeps) {
  let manifestKey: KeyObject | undefined;
  let ledgerKey: KeyObject | undefined;

  async function manifestPublicKey(): Promise<KeyObject | undefined> {
    if (manifestKey !== undefined) return manifestKey;
    const pem =
      typeof deps.manifestPublicKeyPem === 'function'
        ? await deps.manifestPublicKeyPem()
        : deps.manifestPublicKeyPem;
    manifestKey = pem === undefined ? undefined : createPublicKey(pem);
    return manifestKey;
  }

  async function ledgerPublicKey(): Promise<KeyObject> {
    ledgerKey ??= (await resolveSigner(deps.ledgerSigningKey, publicKeyId)).publicKey;
    return ledgerKey;
  }

  /** The problems of one capture's recording manifest (signature and internal consistency). */
  async function captureProblems(
    captureId: string,
    bytes: Buffer,
    key: KeyObject,
    manifestBlobName: string,
  ): Promise<string[]> {
    const signature = await deps.blobs.readRecordingBlob(signatureNameOf(manifestBlobName));
    if (signature === undefined) return [`capture ${captureId}: manifest.sig missing`];
    const checked = await verifyManifest(bytes, signature, key);
    return checked.isValid ? [] : checked.problems.map((p) => `capture ${captureId}: ${p}`);
  }

  /**
   * Verifies the stored manifest of an interaction; `sealedSha256` is the manifest hash the
   * archive sealed (the `sealed` ledger entry's subject), which the stored bytes must still have.
   */
  async function check(
    tenantId: string,
    interactionId: string,
    sealedSha256: string | undefined,
  ): Promise<ManifestCheck> {
    const names = recordingBlobNames(tenantId, interactionId);
    const bytes = await deps.blobs.readRecordingBlob(names.manifest);
    if (bytes === undefined) return { status: 'unverifiable', reason: 'noManifest' };
    const signature = await deps.blobs.readRecordingBlob(names.signature);
    const problems: string[] = [];
    if (sealedSha256 !== undefined && sha256Hex(bytes) !== sealedSha256)
      problems.push('manifest.json: differs from the hash sealed in the ledger');
    if (signature === undefined) problems.push('manifest.sig: missing');
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const captures: readonly InteractionManifestCapture[] | undefined =
      isInteractionManifest(parsed) && Array.isArray(parsed.captures)
        ? (parsed.captures as readonly InteractionManifestCapture[])
        : undefined;
    if (captures !== undefined) {
      const key = await manifestPublicKey();
      const found = new Map<string, string>();
      for (const capture of captures) {
        if (capture.manifestBlobName === undefined) continue;
        const captureBytes = await deps.blobs.readRecordingBlob(capture.manifestBlobName);
        if (captureBytes === undefined) continue;
        found.set(capture.captureId, sha256Hex(captureBytes));
        if (key !== undefined)
          problems.push(
            ...(await captureProblems(
              capture.captureId,
              captureBytes,
              key,
              capture.manifestBlobName,
            )),
          );
      }
      if (signature !== undefined)
        problems.push(
          ...verifyInteractionManifest(bytes, signature, await ledgerPublicKey(), (id) =>
            found.get(id),
          ).problems,
        );
    } else {
      const key = await manifestPublicKey();
      if (key === undefined && problems.length === 0)
        return { status: 'unverifiable', reason: 'noKey' };
      if (key !== undefined && signature !== undefined) {
        const checked = await verifyManifest(bytes, signature, key);
        if (!checked.isValid) problems.push(...checked.problems);
      }
    }
    return problems.length === 0
      ? { status: 'valid' }
      : { status: 'invalid', problems: problems.slice(0, MAX_PROBLEMS) };
  }

  /**
   * Flags the record (unless flagged already) and raises the alert. Returns the record as stored.
   * Never clears a flag.
   */
  async function flag(
    record: ArchiveRecord,
    problems: readonly string[],
    detectedBy: IntegrityAlert['detectedBy'],
  ): Promise<ArchiveRecord> {
    const { tenantId, interactionId } = record.interaction;
    if (record.interaction.integrityAlert !== undefined) return record;
    const integrityAlert: IntegrityAlert = {
      kind: 'manifestInvalid',
      detectedAt: deps.clock.now().toISOString(),
      detectedBy,
      problems: problems.slice(0, MAX_PROBLEMS),
    };
    // Flags the stored record, not `record`: what others wrote since (business data) stays.
    const update = await updateRecord(deps.records, tenantId, interactionId, (current) =>
      current.interaction.integrityAlert !== undefined
        ? undefined
        : { ...current, interaction: { ...current.interaction, integrityAlert } },
    );
    if (update.status !== 'updated') return update.status === 'notFound' ? record : update.record;
    deps.onAlert({ tenantId, interactionId, detectedBy, problemCount: problems.length });
    return update.record;
  }

  return {
    check,
    flag,
    /**
     * The check of an archived record before its media leaves (playback, export): flags and
     * alerts when it fails. `invalid` also when the record was flagged before (the flag stays).
     */
    async checkRecord(
      record: ArchiveRecord,
      detectedBy: IntegrityAlert['detectedBy'],
    ): Promise<ManifestCheck> {
      const { tenantId, interactionId, manifestSha256, integrityAlert } = record.interaction;
      if (integrityAlert !== undefined)
        return { status: 'invalid', problems: integrityAlert.problems };
      const checked = await check(tenantId, interactionId, manifestSha256);
      if (checked.status === 'invalid') await flag(record, checked.problems, detectedBy);
      return checked;
    },
  };
}
export type ManifestIntegrity = ReturnType<typeof createManifestIntegrity>;

/**
 * Seals an interaction made of several captures (paired recorders): builds its manifest (each
 * capture with its manifest hash, the merged timeline, the interaction's gaps), signs it with the
 * ledger key, stores it where a recording's manifest lives and archives the record. The manifest's
 * bytes depend only on the record, so a repeat (or another instance) writes the same ones.
 */
import {
  ErrorCode,
  RecorderError,
  manifestCaptureOf,
  publicKeyId,
  recordingBlobNames,
  resolveSigner,
  serializeInteractionManifest,
  sha256Hex,
  signManifestWith,
  type InteractionManifest,
  type InteractionRecord,
  type SigningKeyLike,
} from '@attest/core';
import type { RecordingBlobStore, SealedBlobWriter } from '../domain/archive-ports';

export interface InteractionSealDeps {
  readonly blobs: SealedBlobWriter & Pick<RecordingBlobStore, 'readRecordingBlob'>;
  readonly signingKey: SigningKeyLike;
  /** The archive's intake of a sealed record (retention, protection, the `sealed` ledger entry). */
  readonly recordSealed: (interaction: InteractionRecord) => Promise<unknown>;
}

export function createInteractionSeal(deps: InteractionSealDeps) {
  return {
    async sealInteraction(interaction: InteractionRecord): Promise<InteractionRecord> {
      const signer = await resolveSigner(deps.signingKey, publicKeyId);
      const coverage = interaction.coverage ?? [];
      const sealedAt = interaction.endedAt ?? interaction.answeredAt ?? interaction.invitedAt;
      const manifest: InteractionManifest = {
        formatVersion: 1,
        kind: 'interaction',
        tenantId: interaction.tenantId,
        interactionId: interaction.interactionId,
        ...(interaction.callChainId === undefined ? {} : { callChainId: interaction.callChainId }),
        outcome: interaction.outcome,
        ...(coverage[0] === undefined ? {} : { startedAt: coverage[0].startedAt }),
        ...(interaction.endedAt === undefined ? {} : { endedAt: interaction.endedAt }),
        sealedAt,
        signingKeyId: signer.keyId,
        captures: (interaction.captures ?? []).map(manifestCaptureOf),
        timeline: coverage,
        gaps: interaction.gaps,
      };
      const bytes = serializeInteractionManifest(manifest);
      const names = recordingBlobNames(interaction.tenantId, interaction.interactionId);
      const manifestSha256 = sha256Hex(bytes);
      if (!(await deps.blobs.createRecordingBlobOnce(names.manifest, bytes))) {
        const stored = await deps.blobs.readRecordingBlob(names.manifest);
        if (stored === undefined || sha256Hex(stored) !== manifestSha256)
          throw new RecorderError(
            ErrorCode.IntegrityViolation,
            `interaction ${interaction.interactionId} is already sealed with another manifest`,
            { details: { interactionId: interaction.interactionId } },
          );
      }
      const signature = await signManifestWith(bytes, signer);
      // A repeat keeps the first signature: both are valid over the same bytes.
      await deps.blobs.createRecordingBlobOnce(
        names.signature,
        Buffer.from(JSON.stringify(signature)),
      );
      const sealed: InteractionRecord = {
        ...interaction,
        manifestBlobName: names.manifest,
        manifestSha256,
        sealedAt,
      };
      await deps.recordSealed(sealed);
      return sealed;
    },
  };
}

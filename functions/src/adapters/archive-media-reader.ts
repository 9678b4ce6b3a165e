/** Reads a sealed recording back: the manifest, its signature and decrypted (plaintext) streams. */
import {
  blockAad,
  decryptBlock,
  ErrorCode,
  RecorderError,
  recordingBlobNames,
  resolveKeyUnwrapper,
  type KeyUnwrapperLike,
  type ManifestStream,
  type RecordingManifest,
  type WrappedKeyRecord,
} from '@attest/core';
import type { RecordingBlobStore } from '../domain/archive-ports';

export interface StoredManifest {
  readonly manifest: RecordingManifest;
  readonly bytes: Buffer;
  readonly signature: Buffer | undefined;
}

export async function readStoredManifest(
  blobs: RecordingBlobStore,
  tenantId: string,
  interactionId: string,
): Promise<StoredManifest | undefined> {
  const names = recordingBlobNames(tenantId, interactionId);
  const bytes = await blobs.readRecordingBlob(names.manifest);
  if (bytes === undefined) return undefined;
  const signature = await blobs.readRecordingBlob(names.signature);
  return { manifest: JSON.parse(bytes.toString('utf8')) as RecordingManifest, bytes, signature };
}

/**
 * The plaintext of one stream: each stored block decrypted with the recording's data key
 * (unwrapped with the KEK: a local private key or Key Vault) and checked by AES-GCM against its
 * place. Throws ATT_INTEGRITY_VIOLATION when a block is missing or does not decrypt,
 * ATT_NOT_FOUND when the key was destroyed (a shredded recording), and the unwrapper's error
 * (ATT_UNAUTHORIZED, ATT_FORBIDDEN, …) when the KEK refuses.
 */
export async function readPlaintextStream(
  blobs: RecordingBlobStore,
  kekPrivateKey: KeyUnwrapperLike | undefined,
  manifest: RecordingManifest,
  stream: ManifestStream,
): Promise<Buffer> {
  const stored = await blobs.readRecordingBlob(stream.blobName);
  const where = { interactionId: manifest.interactionId, streamId: stream.streamId };
  if (stored === undefined)
    throw new RecorderError(ErrorCode.NotFound, `stream ${stream.streamId} has no stored media`, {
      details: where,
    });
  let dataKey: Buffer | undefined;
  if (manifest.encryption !== undefined) {
    const wrapped = await blobs.readWrappedKey(manifest.tenantId, manifest.interactionId);
    if (wrapped === undefined)
      throw new RecorderError(
        ErrorCode.NotFound,
        `interaction ${manifest.interactionId} has no data key (shredded)`,
        { details: where },
      );
    if (kekPrivateKey === undefined)
      throw new RecorderError(
        ErrorCode.ConfigInvalid,
        'no key-encryption private key is configured for playback and export',
      );
    const record = JSON.parse(wrapped.toString('utf8')) as WrappedKeyRecord;
    dataKey = await resolveKeyUnwrapper(kekPrivateKey).unwrapDataKey(record);
  }
  const parts: Buffer[] = [];
  for (const block of stream.blocks) {
    const bytes = stored.subarray(block.storedOffset, block.storedOffset + block.storedLength);
    if (bytes.length !== block.storedLength) {
      throw new RecorderError(
        ErrorCode.IntegrityViolation,
        `stream ${stream.streamId} block ${block.index} is truncated`,
        { details: { ...where, block: block.index } },
      );
    }
    try {
      parts.push(
        dataKey === undefined
          ? bytes
          : decryptBlock(
              dataKey,
              blockAad(manifest.interactionId, stream.streamId, block.index),
              bytes,
            ),
      );
    } catch (cause) {
      throw new RecorderError(
        ErrorCode.IntegrityViolation,
        `stream ${stream.streamId} block ${block.index} does not decrypt`,
        { cause, details: { ...where, block: block.index } },
      );
    }
  }
  return Buffer.concat(parts);
}

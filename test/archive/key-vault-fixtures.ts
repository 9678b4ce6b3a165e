/**
 * A sealed recording as a media host with Key Vault keys writes it: the fixture recording of
 * `archive-fixtures.ts`, with its data key wrapped by the vault KEK's public key (kekId = the vault
 * key id) and its manifest signed ES256 by the vault's manifest key.
 */
import { createHash } from 'node:crypto';
import {
  serializeManifest,
  signManifestWith,
  signingKeyId,
  unwrapDataKey,
  wrapDataKey,
  type InteractionRecord,
  type RecordingManifest,
  type WrappedKeyRecord,
} from '@attest/core';
import type { KeyVaultKeys } from '../../functions/src/adapters/key-vault-keys';
import { kek, writeSealedRecording } from './archive-fixtures';

export interface BlobWriter {
  putRecording(name: string, data: Buffer): Promise<void>;
  putKey(name: string, data: Buffer): Promise<void>;
}

export async function writeVaultSealedRecording(
  writer: BlobWriter,
  vault: KeyVaultKeys,
  options: {
    tenantId: string;
    interactionId: string;
    recordedUserIds: readonly string[];
    invitedAt: string;
  },
): Promise<{ interaction: InteractionRecord; plaintext: ReadonlyMap<string, Buffer> }> {
  const signer = await vault.signerSource('manifest-signing', signingKeyId)();
  const kekKey = await vault.getPublicKey('recording-kek');
  let manifestBytes: Buffer | undefined;
  const rewriting: BlobWriter = {
    putKey: (name, data) => {
      const dataKey = unwrapDataKey(
        kek.privateKey,
        JSON.parse(data.toString('utf8')) as WrappedKeyRecord,
      );
      return writer.putKey(
        name,
        Buffer.from(
          JSON.stringify(
            wrapDataKey(kekKey.publicKey, kekKey.kid, dataKey, new Date(options.invitedAt)),
          ),
        ),
      );
    },
    putRecording: async (name, data) => {
      if (name.endsWith('/manifest.json')) {
        const manifest = JSON.parse(data.toString('utf8')) as RecordingManifest;
        manifestBytes = serializeManifest({
          ...manifest,
          signingKeyId: signer.keyId,
          ...(manifest.encryption === undefined
            ? {}
            : { encryption: { ...manifest.encryption, kekId: kekKey.kid } }),
        });
        return writer.putRecording(name, manifestBytes);
      }
      if (name.endsWith('/manifest.sig'))
        return writer.putRecording(
          name,
          Buffer.from(JSON.stringify(await signManifestWith(manifestBytes!, signer))),
        );
      return writer.putRecording(name, data);
    },
  };
  const fixture = await writeSealedRecording(rewriting, {
    ...options,
    recordedUserIds: [...options.recordedUserIds],
  });
  return {
    interaction: {
      ...fixture.interaction,
      manifestSha256: createHash('sha256').update(manifestBytes!).digest('hex'),
    },
    plaintext: fixture.plaintext,
  };
}

/**
 * Stores a sealed session's manifest beside its streams: the manifest bytes and their detached
 * signature, under the names core gives them. Returns the manifest's SHA-256, which the archive
 * receives and checks against what it reads back.
 */
import {
  recordingBlobNames,
  serializeManifest,
  sha256Hex,
  signManifestWith,
  type RecordingManifest,
} from '@attest/core';
import type { SessionEnvironment } from './session-environment';

export async function uploadSignedManifest(
  env: Pick<SessionEnvironment, 'store' | 'container' | 'signer'>,
  manifest: RecordingManifest,
): Promise<string> {
  const bytes = serializeManifest(manifest);
  const signature = await signManifestWith(bytes, env.signer);
  const names = recordingBlobNames(manifest.tenantId, manifest.interactionId);
  await env.store.upload(env.container, names.manifest, bytes, 'application/json');
  await env.store.upload(
    env.container,
    names.signature,
    Buffer.from(JSON.stringify(signature)),
    'application/json',
  );
  return sha256Hex(bytes);
}

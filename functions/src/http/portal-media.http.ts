/**
 * What a browser needs to verify a recording itself (docs/portal.md):
 * `GET archive/interactions/{tenantId}/{interactionId}/manifest`: the signed manifest's exact
 * bytes, its detached signature and the manifest public key the deployment publishes;
 * `GET archive/interactions/{tenantId}/{interactionId}/streams/{streamId}/stored`: the stream's
 * stored bytes (ciphertext when encrypted), with HTTP Range, so every block can be hashed
 * against the manifest's `storedSha256` even when it no longer decrypts. Roles, tenant and scope
 * as playback; each call writes one `accessed` ledger entry.
 */
import { readStoredManifest } from '../adapters/archive-media-reader';
import type { ArchiveRecordStore, RecordingBlobStore } from '../domain/archive-ports';
import { accessEntry, refusalOf, type AdminAccess } from './admin-access';
import { interactionSubject, loadRecord, targetOf } from './archive-scope';
import { rangeResponse } from './byte-range';
import { notFound } from './problem';

export interface PortalMediaDeps {
  readonly access: AdminAccess;
  readonly records: ArchiveRecordStore;
  readonly blobs: RecordingBlobStore;
  /** SPKI PEM of the manifest signing key; undefined when not configured. */
  readonly manifestPublicKeyPem: () => Promise<string | undefined>;
}

export function createPortalMediaHandlers(deps: PortalMediaDeps) {
  return {
    manifest: deps.access.route('playback', async (request, principal) => {
      const record = await loadRecord(deps.records, request, principal);
      const subject = interactionSubject(record);
      const refusal = refusalOf(principal, 'playback', subject, targetOf(record));
      if (refusal !== undefined) return refusal;
      const stored = await readStoredManifest(
        deps.blobs,
        record.interaction.tenantId,
        record.interaction.interactionId,
      );
      if (stored === undefined) throw notFound('this interaction has no sealed manifest');
      return {
        response: {
          status: 200,
          jsonBody: {
            manifestBase64: stored.bytes.toString('base64'),
            signature:
              stored.signature === undefined
                ? null
                : (JSON.parse(stored.signature.toString('utf8')) as unknown),
            publicKeyPem: (await deps.manifestPublicKeyPem()) ?? null,
          },
        },
        entry: accessEntry(principal, 'playback', 'allowed', subject, { part: 'manifest' }),
      };
    }),

    stored: deps.access.route('playback', async (request, principal) => {
      const record = await loadRecord(deps.records, request, principal);
      const subject = interactionSubject(record);
      const refusal = refusalOf(principal, 'playback', subject, targetOf(record));
      if (refusal !== undefined) return refusal;
      const stored = await readStoredManifest(
        deps.blobs,
        record.interaction.tenantId,
        record.interaction.interactionId,
      );
      const stream = stored?.manifest.streams.find((s) => s.streamId === request.params.streamId);
      const bytes =
        stream === undefined ? undefined : await deps.blobs.readRecordingBlob(stream.blobName);
      if (stream === undefined || bytes === undefined)
        throw notFound(`stream ${request.params.streamId ?? ''} has no stored media`);
      const range = request.headers.get('range');
      return {
        response: rangeResponse(range, bytes, { 'content-type': 'application/octet-stream' }),
        entry: accessEntry(principal, 'playback', 'allowed', subject, {
          part: 'stored',
          streamId: stream.streamId,
          ...(range === null ? {} : { range: range.slice(0, 60) }),
        }),
      };
    }),
  };
}

/**
 * What a browser needs to verify a recording itself (docs/portal.md):
 * `GET archive/interactions/{tenantId}/{interactionId}/manifest`: the signed manifest's exact
 * bytes, its detached signature and the manifest public key the deployment trusts;
 * `GET archive/interactions/{tenantId}/{interactionId}/streams/{streamId}/stored`: the stream's
 * stored bytes (ciphertext when encrypted), with HTTP Range, so every block can be hashed
 * against the manifest's `storedSha256` even when it no longer decrypts. Roles and scope as
 * playback; each call writes one `accessed` ledger entry.
 */
import type { HttpRequest } from '@azure/functions';
import { ErrorCode, LedgerSubjectType } from '@attest/core';
import { readStoredManifest } from '../adapters/archive-media-reader';
import type {
  ArchiveRecord,
  ArchiveRecordStore,
  RecordingBlobStore,
} from '../domain/archive-ports';
import { rangeResponse } from './byte-range';
import { accessEntry, PortalFault, refusal, type PortalAccess } from './portal-access';

export interface PortalMediaDeps {
  readonly access: PortalAccess;
  readonly records: ArchiveRecordStore;
  readonly blobs: RecordingBlobStore;
  /** SPKI PEM of the manifest signing key; undefined when not configured. */
  readonly manifestPublicKeyPem: () => Promise<string | undefined>;
}

export function createPortalMediaHandlers(deps: PortalMediaDeps) {
  async function loadRecord(request: HttpRequest): Promise<ArchiveRecord> {
    const interactionId = request.params.interactionId ?? '';
    const record = await deps.records.get(request.params.tenantId ?? '', interactionId);
    if (record === undefined)
      throw new PortalFault(
        404,
        ErrorCode.NotFound,
        `interaction ${interactionId} is not archived`,
      );
    return record;
  }
  const subjectOf = (record: ArchiveRecord) => ({
    type: LedgerSubjectType.interaction,
    id: record.interaction.interactionId,
    tenantId: record.interaction.tenantId,
  });
  const targetOf = (record: ArchiveRecord) => ({
    tenantId: record.interaction.tenantId,
    groupIds: record.groupIds,
  });

  return {
    manifest: deps.access.route('playback', async (request, principal) => {
      const record = await loadRecord(request);
      const refused = refusal(principal, 'playback', subjectOf(record), targetOf(record));
      if (refused !== undefined) return refused;
      const stored = await readStoredManifest(
        deps.blobs,
        record.interaction.tenantId,
        record.interaction.interactionId,
      );
      if (stored === undefined)
        throw new PortalFault(404, ErrorCode.NotFound, 'this interaction has no sealed manifest');
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
        entry: accessEntry(principal, 'playback', 'allowed', subjectOf(record), {
          part: 'manifest',
        }),
      };
    }),

    stored: deps.access.route('playback', async (request, principal) => {
      const record = await loadRecord(request);
      const refused = refusal(principal, 'playback', subjectOf(record), targetOf(record));
      if (refused !== undefined) return refused;
      const stored = await readStoredManifest(
        deps.blobs,
        record.interaction.tenantId,
        record.interaction.interactionId,
      );
      const stream = stored?.manifest.streams.find((s) => s.streamId === request.params.streamId);
      const bytes =
        stream === undefined ? undefined : await deps.blobs.readRecordingBlob(stream.blobName);
      if (stream === undefined || bytes === undefined)
        throw new PortalFault(
          404,
          ErrorCode.NotFound,
          `stream ${request.params.streamId ?? ''} has no stored media`,
        );
      const range = request.headers.get('range');
      return {
        response: rangeResponse(range, bytes, { 'content-type': 'application/octet-stream' }),
        entry: accessEntry(principal, 'playback', 'allowed', subjectOf(record), {
          part: 'stored',
          streamId: stream.streamId,
          ...(range === null ? {} : { range: range.slice(0, 60) }),
        }),
      };
    }),
  };
}

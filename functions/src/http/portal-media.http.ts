/**
 * What a browser needs to verify a recording itself (docs/portal.md):
 * `GET archive/interactions/{tenantId}/{interactionId}/manifest`: the signed manifest's exact
 * bytes, its detached signature and the manifest public key the deployment publishes;
 * `GET archive/interactions/{tenantId}/{interactionId}/streams/{streamId}/stored`: the stream's
 * stored bytes (ciphertext when encrypted), with HTTP Range, so every block can be hashed
 * against the manifest's `storedSha256` even when it no longer decrypts;
 * `GET archive/interactions/{tenantId}/{interactionId}/playback`: the playback plan, a lane per
 * speaker (per source for video and screen share) whose segments name the capture and stream that
 * play each interval (for an interaction of several captures, the covering capture of the merged
 * timeline; docs/portal.md). Roles, tenant and scope as playback; each call writes one `accessed`
 * ledger entry.
 */
import {
  isInteractionManifest,
  planCapturePlayback,
  planRecordingPlayback,
  sha256Hex,
  type InteractionManifest,
  type RecordingManifest,
} from '@attest/core';
import type { HttpHandler, HttpRequest } from '@azure/functions';
import { readStoredManifest, type StoredManifest } from '../adapters/archive-media-reader';
import type { ArchiveRecordStore, RecordingBlobStore } from '../domain/archive-ports';
import type { Principal } from '../domain/rbac';
import {
  accessEntry,
  refusalOf,
  type AdminAccess,
  type AdminOutcome,
  type LedgerSubject,
} from './admin-access';
import { interactionSubject, loadRecord, targetOf } from './archive-scope';
import { rangeResponse } from './byte-range';
import { notFound } from './problem';

export interface PortalMediaDeps {
  readonly access: AdminAccess;
  readonly records: ArchiveRecordStore;
  readonly blobs: RecordingBlobStore;
  /** SPKI PEM of the manifest signing key; undefined when not configured. */
  readonly manifestPublicKeyPem: () => Promise<string | undefined>;
  /** SPKI PEM of the key that signs interactions of several captures (the ledger key). */
  readonly interactionPublicKeyPem: () => Promise<string | undefined>;
}

/** The captures' manifests an interaction names, those stored with the hash it lists. */
async function sealedCaptureManifests(
  blobs: RecordingBlobStore,
  manifest: InteractionManifest,
): Promise<Map<string, RecordingManifest>> {
  const found = new Map<string, RecordingManifest>();
  for (const capture of manifest.captures) {
    if (capture.manifestSha256 === undefined) continue;
    const stored = await readStoredManifest(blobs, manifest.tenantId, capture.captureId);
    // A capture whose manifest is not the one the signed interaction lists plays nothing.
    if (stored !== undefined && sha256Hex(stored.bytes) === capture.manifestSha256)
      found.set(capture.captureId, stored.manifest);
  }
  return found;
}

/** What a playback route works with once the caller may play the interaction back. */
interface Playable {
  readonly subject: LedgerSubject;
  /** The interaction's sealed manifest as stored; undefined when it has none. */
  readonly stored: StoredManifest | undefined;
}

/**
 * A `playback` route: the interaction in the caller's tenant (404 otherwise), refused (403, in
 * the ledger) outside their scope, then `work` with its stored manifest.
 */
function playbackRoute(
  deps: PortalMediaDeps,
  work: (request: HttpRequest, principal: Principal, found: Playable) => Promise<AdminOutcome>,
): HttpHandler {
  return deps.access.route('playback', async (request, principal) => {
    const record = await loadRecord(deps.records, request, principal);
    const subject = interactionSubject(record);
    const refusal = refusalOf(principal, 'playback', subject, targetOf(record));
    if (refusal !== undefined) return refusal;
    const { tenantId, interactionId } = record.interaction;
    const stored = await readStoredManifest(deps.blobs, tenantId, interactionId);
    return work(request, principal, { subject, stored });
  });
}

function sealedManifest(stored: StoredManifest | undefined): StoredManifest {
  if (stored === undefined) throw notFound('this interaction has no sealed manifest');
  return stored;
}

export function createPortalMediaHandlers(deps: PortalMediaDeps) {
  return {
    manifest: playbackRoute(deps, async (_request, principal, { subject, stored: found }) => {
      const stored = sealedManifest(found);
      return {
        response: {
          status: 200,
          jsonBody: {
            manifestBase64: stored.bytes.toString('base64'),
            signature:
              stored.signature === undefined
                ? null
                : (JSON.parse(stored.signature.toString('utf8')) as unknown),
            // An interaction of several captures is signed by the function app, a recording by
            // its media host.
            publicKeyPem:
              (isInteractionManifest(stored.manifest)
                ? await deps.interactionPublicKeyPem()
                : await deps.manifestPublicKeyPem()) ?? null,
          },
        },
        entry: accessEntry(principal, 'playback', 'allowed', subject, { part: 'manifest' }),
      };
    }),

    playback: playbackRoute(deps, async (_request, principal, { subject, stored: found }) => {
      const stored = sealedManifest(found);
      const manifest: unknown = stored.manifest;
      const plan = isInteractionManifest(manifest)
        ? planCapturePlayback(manifest, await sealedCaptureManifests(deps.blobs, manifest))
        : planRecordingPlayback(stored.manifest);
      return {
        response: { status: 200, jsonBody: plan },
        entry: accessEntry(principal, 'playback', 'allowed', subject, { part: 'plan' }),
      };
    }),

    stored: playbackRoute(deps, async (request, principal, { subject, stored }) => {
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

/**
 * Where a recording's blobs live: the one builder of their names, used by the media host that
 * writes them and the archive that reads them.
 *
 * - recordings container: `{tenantId}/{interactionId}/manifest.json` (the signed manifest),
 *   `.../manifest.sig` (its detached signature), `.../streams/{streamId}.{extension}` (media),
 *   `.../sessions/{sessionId}.jsonl` (the media session's custody journal: what another media
 *   host needs to adopt and seal the committed media when the session's own host is lost);
 * - keys container (`RECORDING_KEYS_CONTAINER`): `{tenantId}/{interactionId}.json` (the wrapped
 *   data key).
 */
export interface RecordingBlobNames {
  /** The manifest, in the recordings container. */
  readonly manifest: string;
  /** The manifest's detached signature, in the recordings container. */
  readonly signature: string;
  /** The wrapped data key record, in the keys container. */
  readonly wrappedKey: string;
  /** A stream segment's blob, in the recordings container (`extension` without the dot). */
  stream(streamId: string, extension: string): string;
  /** A media session's custody journal (an append blob), in the recordings container. */
  sessionJournal(sessionId: string): string;
}

export function recordingBlobNames(tenantId: string, interactionId: string): RecordingBlobNames {
  const base = `${tenantId}/${interactionId}`;
  return {
    manifest: `${base}/manifest.json`,
    signature: `${base}/manifest.sig`,
    wrappedKey: `${base}.json`,
    stream: (streamId, extension) => `${base}/streams/${streamId}.${extension}`,
    sessionJournal: (sessionId) => `${base}/sessions/${sessionId}.jsonl`,
  };
}

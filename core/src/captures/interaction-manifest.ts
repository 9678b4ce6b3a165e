/**
 * The interaction manifest: the signed record of an interaction made of several captures (paired
 * recorders). It lists every capture with the hash of the capture's own signed manifest, and the
 * merged timeline (which capture covers each interval, and the interaction's gaps). Stored where
 * a recording's manifest is (`recordingBlobNames(tenant, interactionId).manifest`, `.signature`)
 * and signed by the function app's ledger key (the captures' manifests stay signed by their
 * media hosts). Format: `docs/manifest.md`. Pure; no I/O.
 */
import type { KeyObject } from 'node:crypto';
import { isSignatureAlgorithm, verifySignature } from '../crypto/signing';
import type { RecordingGap } from '../control-api';
import type { InteractionOutcome } from '../interaction';
import type { CoverageInterval, InteractionCapture } from './capture-merge';

export const INTERACTION_MANIFEST_KIND = 'interaction' as const;

/** A capture as the interaction manifest lists it. */
export interface InteractionManifestCapture {
  readonly captureId: string;
  readonly callId: string;
  readonly legIndex: number;
  readonly mediaHostId?: string;
  readonly outcome: InteractionOutcome;
  /** Absent when the capture has no sealed manifest (its media host was lost). */
  readonly manifestBlobName?: string;
  readonly manifestSha256?: string;
}

export interface InteractionManifest {
  readonly formatVersion: 1;
  readonly kind: typeof INTERACTION_MANIFEST_KIND;
  readonly tenantId: string;
  readonly interactionId: string;
  readonly callChainId?: string;
  readonly outcome: InteractionOutcome;
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** The last capture's end: the same whichever instance seals (the bytes are reproducible). */
  readonly sealedAt: string;
  readonly signingKeyId: string;
  readonly captures: readonly InteractionManifestCapture[];
  readonly timeline: readonly CoverageInterval[];
  readonly gaps: readonly RecordingGap[];
}

/** Whether parsed manifest JSON is an interaction manifest (not a capture's recording manifest). */
export function isInteractionManifest(value: unknown): value is InteractionManifest {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === INTERACTION_MANIFEST_KIND
  );
}

export function manifestCaptureOf(capture: InteractionCapture): InteractionManifestCapture {
  return {
    captureId: capture.captureId,
    callId: capture.callId,
    legIndex: capture.legIndex,
    ...(capture.mediaHostId === undefined ? {} : { mediaHostId: capture.mediaHostId }),
    outcome: capture.outcome,
    ...(capture.manifestBlobName === undefined
      ? {}
      : { manifestBlobName: capture.manifestBlobName, manifestSha256: capture.manifestSha256 }),
  };
}

/** The bytes stored as the interaction's `manifest.json`. */
export function serializeInteractionManifest(manifest: InteractionManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
}

/**
 * Verifies an interaction manifest: its signature (over the exact bytes), and that every listed
 * capture's manifest hash is the one `captureManifestSha256` reports (the hash of the capture's
 * manifest as found next to it; undefined when it is not there). Problems are located as
 * `manifest.sig`, `capture <captureId>`, `timeline`. Never throws on bad input.
 */
export function verifyInteractionManifest(
  manifestBytes: Buffer,
  signature: Buffer | string,
  publicKey: KeyObject,
  captureManifestSha256: (captureId: string) => string | undefined,
): { readonly problems: readonly string[]; readonly manifest?: InteractionManifest } {
  const problems: string[] = [];
  try {
    const sig = JSON.parse(signature.toString()) as { alg?: unknown; signature?: unknown };
    if (!isSignatureAlgorithm(sig.alg) || typeof sig.signature !== 'string')
      problems.push('manifest.sig: unreadable or unknown algorithm');
    else if (
      !verifySignature(sig.alg, manifestBytes, Buffer.from(sig.signature, 'base64'), publicKey)
    )
      problems.push(`manifest.sig: ${sig.alg} signature does not match the manifest bytes and key`);
  } catch {
    problems.push('manifest.sig: unreadable');
  }
  let manifest: InteractionManifest;
  try {
    const parsed: unknown = JSON.parse(manifestBytes.toString('utf8'));
    if (!isInteractionManifest(parsed) || !Array.isArray(parsed.captures))
      return { problems: [...problems, 'manifest: not an interaction manifest'] };
    manifest = parsed;
  } catch {
    return { problems: [...problems, 'manifest: not JSON'] };
  }
  const ids = new Set(manifest.captures.map((c) => c.captureId));
  for (const capture of manifest.captures) {
    if (capture.manifestSha256 === undefined) continue;
    const found = captureManifestSha256(capture.captureId);
    if (found === undefined) problems.push(`capture ${capture.captureId}: manifest not present`);
    else if (found !== capture.manifestSha256)
      problems.push(`capture ${capture.captureId}: manifest hash differs from the interaction's`);
  }
  for (const interval of manifest.timeline)
    if (interval.captureId !== undefined && !ids.has(interval.captureId))
      problems.push(`timeline: interval at ${interval.startedAt} names an unknown capture`);
  return { problems, manifest };
}

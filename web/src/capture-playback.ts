/**
 * Verifies and loads an interaction made of several captures (paired recorders) for playback:
 * the interaction manifest's signature (the function app's key), each capture manifest's
 * signature (its media host's key) and its SHA-256 against the one the interaction lists, the
 * playback plan against the signed timeline, then every stream a lane plays, block by block.
 * Each speaker is one lane whose element switches capture at the plan's boundaries.
 */
import type { Api } from './api';
import { mergeCoverage, type Coverage } from './components/CaptureCoverage';
import type { Lane, LaneSource } from './components/Player';
import { unknownSpeaker } from './speakers';
import { loadStream, type StreamCheck, type Verified } from './stream-load';
import type { InteractionManifest, Manifest, PlaybackPlan } from './types';
import {
  fromBase64,
  sha256Hex,
  verifyMerkleRoot,
  verifySignature,
  type SignatureRecord,
} from './verify';

interface ManifestBody {
  manifestBase64: string;
  signature: SignatureRecord | null;
  publicKeyPem: string | null;
}

const pathOf = (tenantId: string, interactionId: string) =>
  `/api/archive/interactions/${encodeURIComponent(tenantId)}/${encodeURIComponent(interactionId)}`;

/** Which capture covers which interval, from the signed timeline, in ms from `start`. */
function coverageOf(manifest: InteractionManifest, start: number): Coverage {
  const captures = [...manifest.captures]
    .sort((a, b) => a.legIndex - b.legIndex)
    .map((c) => ({
      captureId: c.captureId,
      label: `Capture ${c.legIndex + 1}${c.mediaHostId === undefined ? '' : ` (media host ${c.mediaHostId})`}`,
    }));
  const intervals = mergeCoverage(
    manifest.timeline.map((i) => ({
      startInMs: Date.parse(i.startedAt) - start,
      endInMs: Date.parse(i.endedAt) - start,
      ...(i.captureId === undefined ? {} : { captureId: i.captureId }),
    })),
  );
  return { captures, intervals };
}

/** Problems of segments the signed timeline does not back (an unknown capture, an uncovered time). */
function planProblems(manifest: InteractionManifest, plan: PlaybackPlan): string[] {
  const sealed = new Set(
    manifest.captures.filter((c) => c.manifestSha256 !== undefined).map((c) => c.captureId),
  );
  const covered = manifest.timeline
    .filter((i) => i.captureId !== undefined)
    .map((i) => ({ from: Date.parse(i.startedAt), to: Date.parse(i.endedAt) }))
    .sort((a, b) => a.from - b.from);
  // A segment may run across consecutive covered intervals (one capture's stream playing on).
  const isCoveredThrough = (from: number, to: number): boolean => {
    let cursor = from;
    for (const interval of covered)
      if (interval.from <= cursor && interval.to > cursor) cursor = interval.to;
    return cursor >= to;
  };
  const problems: string[] = [];
  for (const lane of plan.lanes)
    for (const segment of lane.segments) {
      const isCovered = isCoveredThrough(
        Date.parse(segment.startedAt),
        Date.parse(segment.endedAt),
      );
      if (!sealed.has(segment.captureId) || !isCovered)
        problems.push(
          `playback plan: ${lane.laneId} at ${segment.startedAt} is not backed by the signed timeline`,
        );
    }
  return problems;
}

export async function verifyCapturesAndLoad(
  api: Api,
  body: ManifestBody,
  manifest: InteractionManifest,
  onProgress: (v: Verified) => void,
): Promise<Verified> {
  const base = pathOf(manifest.tenantId, manifest.interactionId);
  const signatureProblems = await verifySignature(
    fromBase64(body.manifestBase64),
    manifest as unknown as Manifest,
    body.signature,
    body.publicKeyPem,
  );
  const plan = await api.get<PlaybackPlan>(`${base}/playback`);
  signatureProblems.push(...planProblems(manifest, plan));

  // Each capture's manifest: signed by its media host, and the one the interaction lists.
  const captures = new Map<string, Manifest>();
  const captureProblems = new Map<string, string[]>();
  for (const captureId of plan.captureIds) {
    const captured = await api.get<ManifestBody>(
      `${pathOf(manifest.tenantId, captureId)}/manifest`,
    );
    const bytes = fromBase64(captured.manifestBase64);
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
    const listed = manifest.captures.find((c) => c.captureId === captureId)?.manifestSha256;
    const problems = [
      ...(await verifySignature(bytes, parsed, captured.signature, captured.publicKeyPem)),
      ...(await verifyMerkleRoot(parsed)),
    ].map((p) => `capture ${captureId}: ${p}`);
    if (listed !== (await sha256Hex(bytes)))
      problems.push(`capture ${captureId}: manifest differs from the one the interaction lists`);
    captures.set(captureId, parsed);
    captureProblems.set(captureId, problems);
  }

  const start = Date.parse(manifest.startedAt ?? plan.startedAt ?? '');
  const end = Date.parse(manifest.endedAt ?? plan.endedAt ?? '');
  const participants = [...captures.values()].flatMap((c) => c.participants);
  const view: Manifest = {
    interactionId: manifest.interactionId,
    tenantId: manifest.tenantId,
    signingKeyId: manifest.signingKeyId,
    startedAt: new Date(start).toISOString(),
    endedAt: new Date(end).toISOString(),
    participants: participants.filter(
      (p, i) => participants.findIndex((q) => q.participantId === p.participantId) === i,
    ),
    streams: [],
    gaps: manifest.gaps,
    merkleRootSha256: '',
  };
  const coverage = coverageOf(manifest, start);
  const streams = plan.lanes.flatMap((lane) =>
    [...new Set(lane.segments.map((s) => `${s.captureId}/${s.streamId}`))].map((key) => ({
      key,
      label: key,
      kind: lane.kind,
      msi: lane.msi,
      ...(lane.participantId === undefined ? {} : { participantId: lane.participantId }),
    })),
  );
  const checks: Record<string, StreamCheck> = {};
  for (const s of streams) checks[s.key] = { state: 'checking', problems: [], blocksChecked: 0 };
  const lanes: Lane[] = [];
  onProgress({
    manifest: view,
    signatureProblems,
    streams,
    checks: { ...checks },
    lanes: [],
    coverage,
  });

  const loaded = new Map<string, Awaited<ReturnType<typeof loadStream>>>();
  for (const lane of plan.lanes) {
    const sources: LaneSource[] = [];
    for (const segment of lane.segments) {
      const key = `${segment.captureId}/${segment.streamId}`;
      const capture = captures.get(segment.captureId);
      const stream = capture?.streams.find((s) => s.streamId === segment.streamId);
      if (capture === undefined || stream === undefined) {
        checks[key] = {
          state: 'failed',
          problems: [`${key}: not in its capture's manifest`],
          blocksChecked: 0,
        };
        continue;
      }
      let result = loaded.get(key);
      if (result === undefined) {
        result = await loadStream(
          api,
          pathOf(manifest.tenantId, segment.captureId),
          capture.interactionId,
          stream,
          start,
        );
        loaded.set(key, result);
        const problems = [...(captureProblems.get(segment.captureId) ?? []), ...result.problems];
        checks[key] = {
          state: problems.length === 0 && signatureProblems.length === 0 ? 'verified' : 'failed',
          problems,
          blocksChecked: result.blocksChecked,
        };
      }
      sources.push({
        key,
        captureId: segment.captureId,
        ...result,
        fromInMs: Date.parse(segment.startedAt) - start,
        toInMs: Date.parse(segment.endedAt) - start,
      });
    }
    const first = sources[0];
    const last = sources[sources.length - 1];
    if (first === undefined || last === undefined) continue;
    lanes.push({
      streamId: lane.laneId,
      // The page names the speaker from the interaction's participants.
      label: unknownSpeaker(lane.msi),
      participantId: lane.participantId,
      msi: lane.msi,
      kind: lane.kind,
      offsetInMs: first.fromInMs,
      durationInMs: last.toInMs - first.fromInMs,
      spanInMs: last.toInMs - first.fromInMs,
      timeline: [],
      url: sources.find((s) => s.url !== undefined)?.url,
      sources,
    });
    onProgress({
      manifest: view,
      signatureProblems,
      streams,
      checks: { ...checks },
      lanes: [...lanes],
      coverage,
    });
  }
  return { manifest: view, signatureProblems, streams, checks, lanes, coverage };
}

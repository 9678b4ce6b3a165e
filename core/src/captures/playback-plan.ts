/**
 * One playback of an interaction across its captures: a lane per speaker (per source for video
 * and screen share) on the interaction's timeline, each lane a list of segments that name the
 * capture and stream that play each interval. The covering capture of the merged timeline plays
 * its interval; where it holds no stream for a lane, another capture's stream of that speaker does.
 * The player fetches and verifies every segment's bytes against that capture's own signed manifest,
 * so nothing it plays is bytes no manifest signs. Pure; no I/O.
 */
import type { StreamKind } from '../control-api';
import type { ManifestStream, RecordingManifest } from '../manifest/manifest';
import type { InteractionManifest } from './interaction-manifest';
import type { CoverageInterval } from './capture-merge';

/** One interval of a lane played from one capture's stream. */
export interface PlaybackSegment {
  readonly captureId: string;
  readonly streamId: string;
  /** The interval on the interaction's timeline (ISO instants) this stream plays. */
  readonly startedAt: string;
  readonly endedAt: string;
}

/** One speaker's audio, or one source's video or screen share, on the interaction's timeline. */
export interface PlaybackLane {
  /** `{kind}:{participantId}`, or `{kind}:msi-{msi}` for a source no participant is known for. */
  readonly laneId: string;
  readonly kind: StreamKind;
  readonly msi: string;
  readonly participantId?: string;
  /** In time order, not overlapping; time between segments has no media in any capture. */
  readonly segments: readonly PlaybackSegment[];
}

export interface PlaybackPlan {
  readonly tenantId: string;
  readonly interactionId: string;
  /** `captures` when the interaction is made of several captures, else `recording`. */
  readonly kind: 'captures' | 'recording';
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** The captures whose manifests the segments name (their ids are their records' ids). */
  readonly captureIds: readonly string[];
  readonly lanes: readonly PlaybackLane[];
}

const ms = (iso: string): number => Date.parse(iso);

/** The lane a stream belongs to, whichever capture recorded it. */
export function laneIdOf(stream: Pick<ManifestStream, 'kind' | 'participantId' | 'msi'>): string {
  return stream.participantId === undefined
    ? `${stream.kind}:msi-${stream.msi}`
    : `${stream.kind}:${stream.participantId}`;
}

interface LaneBuilder {
  readonly kind: StreamKind;
  readonly msi: string;
  readonly participantId?: string;
  readonly segments: PlaybackSegment[];
}

function addSegment(
  lanes: Map<string, LaneBuilder>,
  stream: ManifestStream,
  segment: PlaybackSegment,
) {
  const laneId = laneIdOf(stream);
  let lane = lanes.get(laneId);
  if (lane === undefined) {
    lane = {
      kind: stream.kind,
      msi: stream.msi,
      ...(stream.participantId === undefined ? {} : { participantId: stream.participantId }),
      segments: [],
    };
    lanes.set(laneId, lane);
  }
  const last = lane.segments[lane.segments.length - 1];
  if (
    last !== undefined &&
    last.captureId === segment.captureId &&
    last.streamId === segment.streamId &&
    last.endedAt === segment.startedAt
  )
    lane.segments[lane.segments.length - 1] = { ...last, endedAt: segment.endedAt };
  else lane.segments.push(segment);
}

function lanesOf(builders: Map<string, LaneBuilder>): PlaybackLane[] {
  return [...builders.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([laneId, lane]) => ({ laneId, ...lane }));
}

/**
 * A stream's media on the interaction's timeline, first frame to the end of its media (ms since the
 * epoch): its first frame at `startedAt`, and as long as its media or its timestamps run, whichever
 * is longer (frames can arrive faster than they play, so `endedAt`, the last frame's arrival, can
 * come before the media ends). The span {@link streamMediaPositionInMs} plays.
 */
function spanOf(stream: ManifestStream): { from: number; to: number } {
  const from = ms(stream.startedAt);
  const timestamps =
    Number(BigInt(stream.lastTimestamp100ns) - BigInt(stream.firstTimestamp100ns)) / 10_000;
  return { from, to: from + Math.max(stream.durationInMs, timestamps) };
}

/**
 * One lane's segments within one covered interval `[from, to)`: at each instant the first capture
 * in `order` whose stream of the lane holds media there plays it, until its stream ends, the
 * interval ends or a capture before it in `order` begins media. Where no capture holds media the
 * lane has no segment. (A capture's first frame can come seconds after the start of the interval
 * it covers, while the other capture already recorded that speaker.)
 */
function laneSegmentsIn(
  laneStreams: readonly { captureId: string; streams: readonly ManifestStream[] }[],
  from: number,
  to: number,
): { captureId: string; stream: ManifestStream; from: number; to: number }[] {
  const out: { captureId: string; stream: ManifestStream; from: number; to: number }[] = [];
  let cursor = from;
  while (cursor < to) {
    let chosen: { rank: number; captureId: string; stream: ManifestStream } | undefined;
    laneStreams.forEach(({ captureId, streams }, rank) => {
      if (chosen !== undefined) return;
      const stream = streams.find((s) => spanOf(s).from <= cursor && spanOf(s).to > cursor);
      if (stream !== undefined) chosen = { rank, captureId, stream };
    });
    if (chosen === undefined) {
      const next = Math.min(
        ...laneStreams.flatMap(({ streams }) =>
          streams.map((s) => spanOf(s).from).filter((start) => start > cursor && start < to),
        ),
      );
      if (!Number.isFinite(next)) break;
      cursor = next;
      continue;
    }
    const { rank, captureId, stream } = chosen;
    const takeover = laneStreams
      .slice(0, rank)
      .flatMap(({ streams }) => streams.map((s) => spanOf(s).from).filter((t) => t > cursor));
    const end = Math.min(to, spanOf(stream).to, ...takeover);
    out.push({ captureId, stream, from: cursor, to: end });
    cursor = end;
  }
  return out;
}

const iso = (atInMs: number): string => new Date(atInMs).toISOString();

/**
 * The playback plan of an interaction made of captures: for each covered interval of the signed
 * timeline, each speaker (or source) is played from the covering capture where its stream holds
 * media, else from the first other capture (by leg) whose stream of that speaker does. A lane's
 * segments therefore begin and end with the media, not with the interval. `captureManifests`
 * holds the sealed captures' manifests by capture id; a capture missing from it (never sealed)
 * plays nothing.
 */
export function planCapturePlayback(
  manifest: InteractionManifest,
  captureManifests: ReadonlyMap<string, RecordingManifest>,
): PlaybackPlan {
  const legs = [...manifest.captures]
    .sort((a, b) => a.legIndex - b.legIndex)
    .filter((c) => captureManifests.has(c.captureId));
  const lanes = new Map<string, LaneBuilder>();
  const covered = manifest.timeline.filter(
    (i): i is CoverageInterval & { captureId: string } => i.captureId !== undefined,
  );
  const allLaneIds = new Set(
    legs.flatMap((c) => captureManifests.get(c.captureId)!.streams.map(laneIdOf)),
  );
  for (const interval of covered) {
    const from = ms(interval.startedAt);
    const to = ms(interval.endedAt);
    const order = [
      ...legs.filter((c) => c.captureId === interval.captureId),
      ...legs.filter((c) => c.captureId !== interval.captureId),
    ];
    for (const laneId of allLaneIds) {
      const laneStreams = order.map((capture) => ({
        captureId: capture.captureId,
        streams: captureManifests
          .get(capture.captureId)!
          .streams.filter((s) => laneIdOf(s) === laneId),
      }));
      for (const piece of laneSegmentsIn(laneStreams, from, to))
        addSegment(lanes, piece.stream, {
          captureId: piece.captureId,
          streamId: piece.stream.streamId,
          startedAt: iso(piece.from),
          endedAt: iso(piece.to),
        });
    }
  }
  return {
    tenantId: manifest.tenantId,
    interactionId: manifest.interactionId,
    kind: 'captures',
    ...(manifest.startedAt === undefined ? {} : { startedAt: manifest.startedAt }),
    ...(manifest.endedAt === undefined ? {} : { endedAt: manifest.endedAt }),
    captureIds: legs.map((c) => c.captureId),
    lanes: lanesOf(lanes),
  };
}

/** The playback plan of a single recording: each stream is its own lane, played whole. */
export function planRecordingPlayback(manifest: RecordingManifest): PlaybackPlan {
  const lanes = new Map<string, LaneBuilder>();
  for (const stream of manifest.streams)
    addSegment(lanes, stream, {
      captureId: manifest.interactionId,
      streamId: stream.streamId,
      startedAt: manifest.startedAt,
      endedAt: manifest.endedAt,
    });
  return {
    tenantId: manifest.tenantId,
    interactionId: manifest.interactionId,
    kind: 'recording',
    startedAt: manifest.startedAt,
    endedAt: manifest.endedAt,
    captureIds: [manifest.interactionId],
    lanes: lanesOf(lanes),
  };
}

/**
 * Where a stream's media stands at wall-clock instant `atInMs` (ms since the epoch): its media
 * time in ms, or undefined where it holds nothing (before its first frame, after its last, or in
 * a jump of its timestamps: silence for a speaker, missing frames otherwise). The stream's first
 * frame is at `startedAt`; platform timestamps after it are 100 ns apart from it.
 */
export function streamMediaPositionInMs(
  stream: ManifestStream,
  atInMs: number,
): number | undefined {
  const first = BigInt(stream.firstTimestamp100ns);
  const { from, to } = spanOf(stream);
  const since = atInMs - from;
  const sinceFirst = (timestamp: string) => Number(BigInt(timestamp) - first) / 10_000;
  if (since < 0 || since > to - from) return undefined;
  const marks = (stream.timeline ?? []).map((t) => ({
    mediaInMs: t.mediaInMs,
    atInMs: sinceFirst(t.timestamp100ns),
  }));
  let index = 0;
  for (let i = 0; i < marks.length; i += 1) if (marks[i]!.atInMs <= since) index = i;
  const mark = marks[index] ?? { mediaInMs: 0, atInMs: 0 };
  const media = mark.mediaInMs + (since - mark.atInMs);
  const next = marks[index + 1];
  if (next !== undefined && media >= next.mediaInMs) return undefined;
  return media < stream.durationInMs ? media : undefined;
}

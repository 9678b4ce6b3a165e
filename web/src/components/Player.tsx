/**
 * Synchronised playback of every stream of an interaction on one timeline: a lane per speaker
 * (audio) or source (video, screen share) with mute and solo, gaps drawn with their reasons, one
 * playhead. Each lane plays the bytes fetched (by HTTP Range) and verified before playing.
 */
import { Button, Slider, Text, ToggleButton, makeStyles, tokens } from '@fluentui/react-components';
import { Fragment, useEffect, useRef, useState } from 'react';
import { formatDuration } from '../format';
import { gapReasonWords } from '../reasons';
import type { Gap } from '../types';
import { captureColour, captureLabel, CoverageLegend, type Coverage } from './CaptureCoverage';

export interface Lane {
  readonly streamId: string;
  /** Who the lane is (a participant's name); `labelDetail` the ids behind it, shown on hover. */
  readonly label: string;
  readonly labelDetail?: string;
  /** The participant the manifest maps the lane's source to, and the source's media id. */
  readonly participantId?: string;
  readonly msi?: string;
  readonly kind: 'audio' | 'video' | 'vbss';
  /** Where the stream starts on the interaction's timeline, ms. */
  readonly offsetInMs: number;
  /** Stored media length, ms. */
  readonly durationInMs: number;
  /** Wall-clock span from the first to the last frame, ms (longer than the media when it jumps). */
  readonly spanInMs: number;
  /** Media position at each jump, with the jump's time since the stream's first frame (ms). */
  readonly timeline: readonly { readonly mediaInMs: number; readonly atInMs: number }[];
  /** Object URL of the verified bytes; undefined when they could not be played. */
  readonly url: string | undefined;
  /**
   * An interaction of several captures: the streams this lane plays, each only inside its window
   * on the timeline (the capture covering it). The lane's element switches source at the
   * boundaries; the lane's own fields then describe its whole extent.
   */
  readonly sources?: readonly LaneSource[];
}

/** One capture's stream in a lane, played from `fromInMs` to `toInMs` of the timeline. */
export interface LaneSource {
  readonly key: string;
  /** The capture this source's stream belongs to. */
  readonly captureId?: string;
  readonly offsetInMs: number;
  readonly durationInMs: number;
  readonly spanInMs: number;
  readonly timeline: Lane['timeline'];
  readonly url: string | undefined;
  readonly fromInMs: number;
  readonly toInMs: number;
}

/**
 * The lane's media position at `at` ms on the interaction's timeline, or undefined where the
 * lane has nothing stored (before it starts, after it ends, in a jump: silence or a pause).
 */
export function mediaPositionInMs(lane: Lane, at: number): number | undefined {
  const cue = laneCue(lane, at);
  return cue?.isPlaying === true ? cue.mediaInMs : undefined;
}

type Cue = { mediaInMs: number; isPlaying: boolean };

/**
 * The source a lane plays at `at` and where its element should stand: the source whose window
 * holds `at`, else the next one, cued at its window's start; undefined when none is left.
 */
export function laneCue(lane: Lane, at: number): (Cue & { url: string | undefined }) | undefined {
  if (lane.sources === undefined) {
    const cue = cueOf(lane, at);
    return cue === undefined ? undefined : { ...cue, url: lane.url };
  }
  for (const source of lane.sources) {
    if (at >= source.toInMs) continue;
    const inside = at >= source.fromInMs;
    const cue = cueOf(source, inside ? at : source.fromInMs);
    if (cue === undefined) continue;
    return { mediaInMs: cue.mediaInMs, isPlaying: inside && cue.isPlaying, url: source.url };
  }
  return undefined;
}

/** Where the lane's element should stand at `at`: its media there, or the media that comes next. */
function cueOf(
  lane: Pick<Lane, 'offsetInMs' | 'spanInMs' | 'timeline' | 'durationInMs'>,
  at: number,
): Cue | undefined {
  const since = at - lane.offsetInMs;
  if (since > lane.spanInMs) return undefined;
  if (since < 0) return { mediaInMs: 0, isPlaying: false };
  let index = 0;
  for (let i = 0; i < lane.timeline.length; i++) if (lane.timeline[i]!.atInMs <= since) index = i;
  const entry = lane.timeline[index] ?? { mediaInMs: 0, atInMs: 0 };
  const media = entry.mediaInMs + (since - entry.atInMs);
  const next = lane.timeline[index + 1];
  if (next !== undefined && media >= next.mediaInMs)
    return { mediaInMs: next.mediaInMs, isPlaying: false };
  return media < lane.durationInMs ? { mediaInMs: media, isPlaying: true } : undefined;
}

export const kindWords: Readonly<Record<Lane['kind'], string>> = {
  audio: 'audio',
  video: 'video',
  vbss: 'screen share',
};

const useStyles = makeStyles({
  controls: { display: 'flex', gap: '8px', alignItems: 'center', flexWrap: 'wrap' },
  lane: {
    display: 'grid',
    // A fixed column for mute and solo: every lane's track starts and ends at the same place.
    gridTemplateColumns: 'minmax(10rem, 16rem) 8.5rem 1fr',
    gap: '8px',
    // Lanes whose labels wrap stay apart.
    marginBottom: '6px',
    alignItems: 'center',
    '@media (max-width: 720px)': { gridTemplateColumns: '1fr' },
  },
  laneDetail: {
    display: 'block',
    margin: 0,
    color: tokens.colorNeutralForeground3,
    overflowWrap: 'anywhere',
  },
  track: {
    position: 'relative',
    height: '24px',
    overflow: 'hidden',
    backgroundColor: tokens.colorNeutralBackground3,
    borderRadius: '2px',
  },
  media: {
    position: 'absolute',
    top: '4px',
    bottom: '4px',
    backgroundColor: tokens.colorBrandBackground,
  },
  gap: {
    position: 'absolute',
    top: 0,
    bottom: 0,
    backgroundColor: tokens.colorPaletteRedBackground3,
    backgroundImage: `repeating-linear-gradient(45deg, transparent 0 4px, ${tokens.colorPaletteRedBorder2} 4px 6px)`,
  },
  switch: {
    position: 'absolute',
    top: '-2px',
    bottom: '-2px',
    width: '0',
    borderLeft: `2px dashed ${tokens.colorNeutralForeground2}`,
  },
  head: {
    position: 'absolute',
    top: '-2px',
    bottom: '-2px',
    width: '2px',
    backgroundColor: tokens.colorNeutralForeground1,
  },
  pictures: { display: 'flex', flexWrap: 'wrap', gap: '12px', margin: '8px 0' },
  picture: { margin: 0, width: '320px', maxWidth: '100%' },
  video: { width: '100%', display: 'block', backgroundColor: tokens.colorNeutralBackground3 },
});

export function Player(props: {
  lanes: readonly Lane[];
  gaps: readonly (Gap & { startInMs: number; endInMs: number })[];
  totalInMs: number;
  /** An interaction of several captures: which capture covers which interval. */
  coverage?: Coverage;
}) {
  const styles = useStyles();
  const { coverage } = props;
  const [positionInMs, setPosition] = useState(0);
  const [isPlaying, setPlaying] = useState(false);
  const [muted, setMuted] = useState<ReadonlySet<string>>(new Set());
  const [solo, setSolo] = useState<ReadonlySet<string>>(new Set());
  const elements = useRef(new Map<string, HTMLMediaElement>());
  const clock = useRef<{ startedAtPerf: number; startedAtMs: number } | undefined>(undefined);
  const total = Math.max(1, props.totalInMs, ...props.lanes.map((l) => l.offsetInMs + l.spanInMs));

  // Drive every element from one clock; correct a lane that drifts more than 250 ms.
  const sync = (at: number, playing: boolean) => {
    for (const lane of props.lanes) {
      const el = elements.current.get(lane.streamId);
      if (el === undefined || lane.url === undefined) continue;
      const cue = laneCue(lane, at);
      // A lane of several captures switches its element to the source covering `at`.
      if (cue?.url !== undefined && el.getAttribute('src') !== cue.url) el.src = cue.url;
      const inside = cue?.isPlaying === true && cue.url !== undefined;
      const local = (cue?.mediaInMs ?? 0) / 1000;
      el.muted = muted.has(lane.streamId) || (solo.size > 0 && !solo.has(lane.streamId));
      if (!inside || !playing) {
        if (!el.paused) el.pause();
        // Stand ready at the media that plays next (after silence or a gap, it is already there).
        if (cue !== undefined && Math.abs(el.currentTime - local) > 0.05) el.currentTime = local;
        continue;
      }
      if (Math.abs(el.currentTime - local) > 0.25) el.currentTime = local;
      if (el.paused) void el.play().catch(() => undefined);
    }
  };
  const syncRef = useRef(sync);
  syncRef.current = sync;

  // Paused: every seek cues the lanes.
  useEffect(() => {
    if (!isPlaying) syncRef.current(positionInMs, false);
  }, [isPlaying, positionInMs, props.lanes, muted, solo]);

  // Playing: one animation-frame clock from where the playhead was.
  useEffect(() => {
    if (!isPlaying) return undefined;
    clock.current = { startedAtPerf: performance.now(), startedAtMs: positionInMs };
    let frame = 0;
    const tick = () => {
      const c = clock.current!;
      const at = c.startedAtMs + (performance.now() - c.startedAtPerf);
      if (at >= total) {
        setPosition(total);
        setPlaying(false);
        return;
      }
      setPosition(at);
      syncRef.current(at, true);
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
    // The playhead is read when play starts; a seek while playing restarts the clock (seek below).
  }, [isPlaying, total]);

  const seek = (ms: number) => {
    const wasPlaying = isPlaying;
    setPlaying(false);
    setPosition(Math.min(Math.max(0, ms), total));
    if (wasPlaying) setTimeout(() => setPlaying(true), 0);
  };
  const toggle = (set: ReadonlySet<string>, id: string) => {
    const next = new Set(set);
    if (!next.delete(id)) next.add(id);
    return next;
  };
  const pct = (ms: number) => `${(100 * ms) / total}%`;
  // Pictures stand together above the lanes; each keeps its lane on the timeline below.
  const pictures = props.lanes.filter((l) => l.kind !== 'audio' && l.url !== undefined);

  return (
    <section aria-label="Synchronised playback">
      <div className={styles.controls}>
        <Button appearance="primary" onClick={() => setPlaying((p) => !p)} data-testid="play">
          {isPlaying ? 'Pause' : 'Play'}
        </Button>
        <Text data-testid="position" aria-live="off">
          {formatDuration(positionInMs)} of {formatDuration(total)}
        </Text>
        <Slider
          aria-label="Position on the timeline"
          min={0}
          max={Math.ceil(total)}
          value={Math.round(positionInMs)}
          onChange={(_, d) => seek(d.value)}
          style={{ flex: 1, minWidth: '12rem' }}
          data-testid="seek"
        />
      </div>
      {pictures.length === 0 ? null : (
        <div className={styles.pictures}>
          {pictures.map((lane) => (
            <figure key={lane.streamId} className={styles.picture}>
              <video
                className={styles.video}
                ref={(el) => {
                  if (el) elements.current.set(lane.streamId, el);
                }}
                src={lane.url}
                preload="auto"
                muted
                playsInline
                data-stream={lane.streamId}
                data-offset-ms={lane.offsetInMs}
                aria-label={`${lane.kind === 'vbss' ? 'Screen share' : 'Video'} of ${lane.label}`}
              />
              <Text as="p" size={200} title={lane.labelDetail}>
                {lane.label} ({kindWords[lane.kind]})
              </Text>
            </figure>
          ))}
        </div>
      )}
      {coverage === undefined ? null : (
        <div className={styles.lane}>
          <Text>Capture coverage</Text>
          <span />
          <div className={styles.track} data-testid="coverage" aria-hidden="true">
            {coverage.intervals.map((interval, n) => (
              <div
                key={n}
                className={styles.media}
                style={{
                  left: pct(interval.startInMs),
                  width: pct(interval.endInMs - interval.startInMs),
                  backgroundColor: captureColour(coverage, interval.captureId),
                }}
                data-capture-id={interval.captureId ?? ''}
                data-from-ms={Math.round(interval.startInMs)}
                data-to-ms={Math.round(interval.endInMs)}
                title={`${formatDuration(interval.startInMs)}–${formatDuration(interval.endInMs)}: ${captureLabel(coverage, interval.captureId)}`}
              />
            ))}
            <div className={styles.head} style={{ left: pct(positionInMs) }} />
          </div>
        </div>
      )}
      {props.lanes.map((lane) => (
        <div key={lane.streamId} className={styles.lane}>
          <span title={lane.labelDetail} data-testid={`lane-label-${lane.streamId}`}>
            <Text>
              {lane.label} <Text size={200}>({kindWords[lane.kind]})</Text>
            </Text>
            {lane.labelDetail === undefined ? null : (
              <Text as="p" size={100} className={styles.laneDetail}>
                {lane.labelDetail}
              </Text>
            )}
          </span>
          {lane.kind === 'audio' ? (
            <span>
              <ToggleButton
                size="small"
                checked={muted.has(lane.streamId)}
                onClick={() => setMuted((m) => toggle(m, lane.streamId))}
                aria-label={`Mute ${lane.label}`}
              >
                Mute
              </ToggleButton>{' '}
              <ToggleButton
                size="small"
                checked={solo.has(lane.streamId)}
                onClick={() => setSolo((s) => toggle(s, lane.streamId))}
                aria-label={`Solo ${lane.label}`}
              >
                Solo
              </ToggleButton>
            </span>
          ) : (
            // Pictures have no sound to mute: the column stays for the grid.
            <span />
          )}
          <div
            className={styles.track}
            data-testid={`track-${lane.streamId}`}
            onClick={(e) => {
              const box = e.currentTarget.getBoundingClientRect();
              seek(((e.clientX - box.left) / box.width) * total);
            }}
            aria-hidden="true"
          >
            {lane.sources === undefined || coverage === undefined ? (
              <div
                className={styles.media}
                style={{ left: pct(lane.offsetInMs), width: pct(lane.spanInMs) }}
              />
            ) : (
              // Each capture's part of the lane in its colour, a dashed line where it switches.
              lane.sources.map((source, n) => {
                const before = n === 0 ? undefined : lane.sources?.[n - 1];
                return (
                  <Fragment key={n}>
                    <div
                      className={styles.media}
                      style={{
                        left: pct(source.fromInMs),
                        width: pct(source.toInMs - source.fromInMs),
                        backgroundColor: captureColour(coverage, source.captureId),
                      }}
                      data-capture-id={source.captureId ?? ''}
                    />
                    {before === undefined || before.captureId === source.captureId ? null : (
                      <div
                        className={styles.switch}
                        style={{ left: pct(source.fromInMs) }}
                        data-testid={`capture-switch-${lane.streamId}`}
                        data-at-ms={Math.round(source.fromInMs)}
                        title={`Switches to ${captureLabel(coverage, source.captureId)} at ${formatDuration(source.fromInMs)}`}
                      />
                    )}
                  </Fragment>
                );
              })
            )}
            {props.gaps
              .filter((g) => g.streamId === undefined || g.streamId === lane.streamId)
              .map((g, n) => (
                <div
                  key={n}
                  className={styles.gap}
                  style={{
                    left: pct(g.startInMs),
                    width: pct(Math.max(g.endInMs - g.startInMs, total / 200)),
                  }}
                  title={`Gap: ${gapReasonWords(g.reason)}`}
                />
              ))}
            <div className={styles.head} style={{ left: pct(positionInMs) }} />
          </div>
          {lane.url === undefined || lane.kind !== 'audio' ? null : (
            <audio
              ref={(el) => {
                if (el) elements.current.set(lane.streamId, el);
              }}
              src={lane.url}
              preload="auto"
              data-stream={lane.streamId}
              data-offset-ms={lane.offsetInMs}
            />
          )}
        </div>
      ))}
      {coverage === undefined ? null : <CoverageLegend coverage={coverage} />}
      {props.gaps.length === 0 ? (
        <Text>No gaps: media covers the recorded window.</Text>
      ) : (
        <ul aria-label="Gaps">
          {props.gaps.map((g, n) => (
            <li key={n}>
              <Button
                appearance="transparent"
                size="small"
                data-gap-end-ms={Math.round(g.endInMs)}
                onClick={() => seek(g.endInMs)}
              >{`Gap at ${formatDuration(g.startInMs)}–${formatDuration(g.endInMs)}: ${gapReasonWords(g.reason)}${g.streamId ? ` (${g.streamId})` : ''}; seek past it`}</Button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

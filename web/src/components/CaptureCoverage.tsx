/**
 * Which capture covers which interval of an interaction made of several captures (paired
 * recorders), as its signed timeline says: one colour per capture on the player's timeline, and
 * the same in words for whoever must state it (a compliance officer) or cannot see colours.
 */
import { Text, makeStyles, tokens } from '@fluentui/react-components';
import { formatDuration } from '../format';

/** One interval of the signed timeline, in ms from the interaction's start. */
export interface CoverageInterval {
  readonly startInMs: number;
  readonly endInMs: number;
  /** Absent where no capture covered the interval (a gap of the interaction). */
  readonly captureId?: string;
}

export interface CaptureInfo {
  readonly captureId: string;
  /** `Capture 1 (media host mh-1)`: its place among the legs and where it was recorded. */
  readonly label: string;
}

export interface Coverage {
  readonly captures: readonly CaptureInfo[];
  readonly intervals: readonly CoverageInterval[];
}

const CAPTURE_COLOURS = [
  tokens.colorBrandBackground,
  tokens.colorPaletteTealBackground2,
  tokens.colorPalettePurpleBackground2,
];

/** The colour of a capture on the timeline (by its place in `coverage.captures`). */
export function captureColour(coverage: Coverage, captureId: string | undefined): string {
  const index = coverage.captures.findIndex((c) => c.captureId === captureId);
  return index < 0
    ? tokens.colorNeutralBackground5
    : CAPTURE_COLOURS[index % CAPTURE_COLOURS.length]!;
}

export function captureLabel(coverage: Coverage, captureId: string | undefined): string {
  return coverage.captures.find((c) => c.captureId === captureId)?.label ?? 'no capture (a gap)';
}

/** Consecutive intervals of the same capture as one. */
export function mergeCoverage(intervals: readonly CoverageInterval[]): CoverageInterval[] {
  const merged: CoverageInterval[] = [];
  for (const interval of intervals) {
    const last = merged[merged.length - 1];
    if (
      last !== undefined &&
      last.captureId === interval.captureId &&
      last.endInMs >= interval.startInMs - 1
    )
      merged[merged.length - 1] = { ...last, endInMs: Math.max(last.endInMs, interval.endInMs) };
    else merged.push(interval);
  }
  return merged;
}

const useStyles = makeStyles({
  legend: { margin: '4px 0 8px', paddingLeft: '1.25rem' },
  swatch: {
    display: 'inline-block',
    width: '0.75rem',
    height: '0.75rem',
    marginRight: '6px',
    borderRadius: '2px',
    verticalAlign: 'middle',
  },
});

/** The coverage in words: each interval, the capture that plays it and where it was recorded. */
export function CoverageLegend(props: { coverage: Coverage }) {
  const styles = useStyles();
  const { coverage } = props;
  return (
    <ul className={styles.legend} aria-label="Capture coverage" data-testid="coverage-legend">
      {coverage.intervals.map((interval, n) => (
        <li key={n} data-capture-id={interval.captureId ?? ''}>
          <span
            className={styles.swatch}
            style={{ backgroundColor: captureColour(coverage, interval.captureId) }}
            aria-hidden="true"
          />
          <Text>
            {formatDuration(interval.startInMs)}–{formatDuration(interval.endInMs)}:{' '}
            {captureLabel(coverage, interval.captureId)}
          </Text>
        </li>
      ))}
    </ul>
  );
}

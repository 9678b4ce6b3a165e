/**
 * Analytics for the communications admin: calls per day by type and outcome, answer and
 * recording-start latency (p50/p99) per day, failures and gaps by reason, completeness and storage
 * growth over a period, with the numbers as CSV. The server aggregates (`GET archive/analytics`);
 * this page draws. Loaded on demand: Chart.js travels only to those who open it.
 */
import {
  Button,
  Card,
  Field,
  Input,
  Text,
  Title2,
  Title3,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import {
  BarElement,
  CategoryScale,
  Chart as ChartJS,
  Filler,
  Legend,
  LinearScale,
  LineElement,
  PointElement,
  Tooltip,
  type ChartData,
  type ChartOptions,
} from 'chart.js';
import type { Analytics, DayAnalytics, Percentiles, ReasonCount } from '@attest/core';
import { useState, type FormEvent } from 'react';
import { Bar, Line } from 'react-chartjs-2';
import type { Api } from '../api';
import { Failure, Loaded } from '../components/State';
import { saveFile } from '../download';
import { formatBytes, formatDuration, outcomeWords } from '../format';
import { useResource } from '../load';
import { gapReasonWords } from '../reasons';

ChartJS.register(
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineElement,
  PointElement,
  Tooltip,
);

const useStyles = makeStyles({
  form: { display: 'flex', gap: '12px', flexWrap: 'wrap', alignItems: 'end' },
  summary: { display: 'flex', gap: '12px', flexWrap: 'wrap' },
  figure: { display: 'flex', flexDirection: 'column', gap: '2px', minWidth: '9rem' },
  number: { fontSize: tokens.fontSizeHero700, fontWeight: tokens.fontWeightSemibold },
  grid: {
    display: 'grid',
    gridTemplateColumns: 'repeat(auto-fit, minmax(min(100%, 26rem), 1fr))',
    gap: '16px',
  },
  chart: { position: 'relative', height: '16rem' },
});

/** Colours that stay apart for people with the common colour-vision deficiencies (Okabe-Ito). */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000'];
const OUTCOME_COLOURS: Readonly<Record<string, string>> = {
  recorded: '#009E73',
  recordedWithGaps: '#E69F00',
  noMedia: '#CC79A7',
  rejectedBusy: '#D55E00',
  failed: '#A50026',
  notRecordable: '#7F7F7F',
  inProgress: '#56B4E9',
};

const DAY_IN_MS = 86_400_000;
const dateInput = (ms: number) =>
  new Date(ms - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
/** Midnight of a `YYYY-MM-DD` in the viewer's zone, as an instant. */
const startOfDay = (day: string) => new Date(`${day}T00:00:00`).toISOString();

function stacked(
  days: readonly DayAnalytics[],
  pick: (d: DayAnalytics) => Readonly<Record<string, number>>,
) {
  const keys = [...new Set(days.flatMap((d) => Object.keys(pick(d))))].sort();
  return {
    labels: days.map((d) => d.day),
    datasets: keys.map((key, i) => ({
      label: pick === byOutcome ? outcomeWords(key) : key,
      data: days.map((d) => pick(d)[key] ?? 0),
      backgroundColor: OUTCOME_COLOURS[key] ?? PALETTE[i % PALETTE.length],
    })),
  } satisfies ChartData<'bar'>;
}
const byOutcome = (d: DayAnalytics) => d.byOutcome;
/** `noMediaHostCapacity` → `no media host capacity`. */
const failureWords = (reason: string) => reason.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
const byType = (d: DayAnalytics) => d.byType;

const stackedOptions: ChartOptions<'bar'> = {
  maintainAspectRatio: false,
  animation: false,
  scales: {
    x: { stacked: true },
    y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
  },
};
const lineOptions = (unit: string): ChartOptions<'line'> => ({
  maintainAspectRatio: false,
  animation: false,
  spanGaps: true,
  scales: { y: { beginAtZero: true, title: { display: true, text: unit } } },
});
const reasonOptions: ChartOptions<'bar'> = {
  maintainAspectRatio: false,
  animation: false,
  indexAxis: 'y',
  scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
};

/**
 * A chart with a name for assistive technology and its numbers in words beside it. The chart's
 * canvas (`role="img"`) gets the title and the summary as its accessible name.
 */
function Figure(props: {
  title: string;
  summary: string;
  children: (label: string) => React.ReactNode;
}) {
  const styles = useStyles();
  return (
    <Card role="figure" aria-label={props.title}>
      <Title3 as="h2">{props.title}</Title3>
      <div className={styles.chart}>{props.children(`${props.title}: ${props.summary}`)}</div>
      <Text size={200}>{props.summary}</Text>
    </Card>
  );
}

const latencyText = (label: string, p: Percentiles) =>
  p.count === 0
    ? `${label}: no call measured`
    : `${label}: p50 ${formatDuration(p.p50InMs)}, p99 ${formatDuration(p.p99InMs)} over ${p.count} ${p.count === 1 ? 'call' : 'calls'}`;

function Charts(props: { data: Analytics }) {
  const styles = useStyles();
  const { days, totals, failures, gaps } = props.data;
  const labels = days.map((d) => d.day);
  const latency: ChartData<'line'> = {
    labels,
    datasets: [
      ['Answer p50', (d: DayAnalytics) => d.answerLatency.p50InMs, PALETTE[0]],
      ['Answer p99', (d: DayAnalytics) => d.answerLatency.p99InMs, PALETTE[5]],
      ['Recording start p50', (d: DayAnalytics) => d.recordingStartLatency.p50InMs, PALETTE[3]],
      ['Recording start p99', (d: DayAnalytics) => d.recordingStartLatency.p99InMs, PALETTE[1]],
    ].map(([label, pick, colour]) => ({
      label: label as string,
      data: days.map((d) => (pick as (d: DayAnalytics) => number | undefined)(d) ?? null),
      borderColor: colour as string,
      backgroundColor: colour as string,
    })),
  };
  const reasons = (
    rows: readonly ReasonCount[],
    words: (r: string) => string,
    label: string,
    colour: string,
  ) =>
    ({
      labels: rows.map((r) => words(r.reason)),
      datasets: [{ label, data: rows.map((r) => r.count), backgroundColor: colour }],
    }) satisfies ChartData<'bar'>;
  const completeness: ChartData<'line'> = {
    labels,
    datasets: [
      {
        label: 'Recorded in full (%)',
        data: days.map((d) => d.completenessPercent ?? null),
        borderColor: PALETTE[2],
        backgroundColor: PALETTE[2],
      },
    ],
  };
  const storage: ChartData<'line'> = {
    labels,
    datasets: [
      {
        label: 'Stored since the period began (MiB)',
        data: days.map((d) => Math.round((d.cumulativeStoredBytes / 1024 / 1024) * 100) / 100),
        borderColor: PALETTE[0],
        backgroundColor: 'rgba(0, 114, 178, 0.2)',
        fill: true,
      },
    ],
  };
  const outcomeTotals = Object.entries(
    days.reduce<Record<string, number>>((acc, d) => {
      for (const [k, n] of Object.entries(d.byOutcome)) acc[k] = (acc[k] ?? 0) + n;
      return acc;
    }, {}),
  )
    .map(([k, n]) => `${n} ${outcomeWords(k).toLowerCase()}`)
    .join(', ');
  const typeTotals = Object.entries(
    days.reduce<Record<string, number>>((acc, d) => {
      for (const [k, n] of Object.entries(d.byType)) acc[k] = (acc[k] ?? 0) + n;
      return acc;
    }, {}),
  )
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const reasonText = (rows: readonly ReasonCount[], words: (r: string) => string, none: string) =>
    rows.length === 0 ? none : rows.map((r) => `${words(r.reason)}: ${r.count}`).join('; ');
  return (
    <>
      <div className={styles.summary} data-testid="analytics-summary">
        {[
          ['Calls', String(totals.calls)],
          [
            'Completeness',
            totals.completenessPercent === undefined ? '—' : `${totals.completenessPercent} %`,
          ],
          ['Answer p99', formatDuration(totals.answerLatency.p99InMs)],
          ['Recording start p99', formatDuration(totals.recordingStartLatency.p99InMs)],
          ['Stored', formatBytes(totals.storedBytes)],
        ].map(([label, value]) => (
          <Card key={label} className={styles.figure}>
            <Text size={200}>{label}</Text>
            <Text className={styles.number}>{value}</Text>
          </Card>
        ))}
      </div>
      <div className={styles.grid}>
        <Figure title="Calls per day by outcome" summary={outcomeTotals || 'No calls.'}>
          {(label) => (
            <Bar aria-label={label} data={stacked(days, byOutcome)} options={stackedOptions} />
          )}
        </Figure>
        <Figure title="Calls per day by type" summary={typeTotals || 'No calls.'}>
          {(label) => (
            <Bar aria-label={label} data={stacked(days, byType)} options={stackedOptions} />
          )}
        </Figure>
        <Figure
          title="Answer and recording-start latency"
          summary={`${latencyText('Answer', totals.answerLatency)}. ${latencyText('Recording start', totals.recordingStartLatency)}.`}
        >
          {(label) => <Line aria-label={label} data={latency} options={lineOptions('ms')} />}
        </Figure>
        <Figure
          title="Completeness per day"
          summary={`${totals.recordedInFull} of ${totals.recordable} finished recordable calls recorded in full.`}
        >
          {(label) => (
            <Line
              aria-label={label}
              data={completeness}
              options={{ ...lineOptions('%'), scales: { y: { min: 0, max: 100 } } }}
            />
          )}
        </Figure>
        <Figure
          title="Calls not recorded, by reason"
          summary={reasonText(failures, failureWords, 'Every call was recorded.')}
        >
          {(label) => (
            <Bar
              aria-label={label}
              data={reasons(failures, failureWords, 'Calls', PALETTE[3]!)}
              options={reasonOptions}
            />
          )}
        </Figure>
        <Figure
          title="Gaps by reason"
          summary={reasonText(gaps, gapReasonWords, 'No gaps in the period.')}
        >
          {(label) => (
            <Bar
              aria-label={label}
              data={reasons(gaps, gapReasonWords, 'Gaps', PALETTE[1]!)}
              options={reasonOptions}
            />
          )}
        </Figure>
        <Figure
          title="Storage growth"
          summary={`${formatBytes(totals.storedBytes)} stored by calls of the period.`}
        >
          {(label) => <Line aria-label={label} data={storage} options={lineOptions('MiB')} />}
        </Figure>
      </div>
    </>
  );
}

export default function AnalyticsPage(props: { api: Api }) {
  const styles = useStyles();
  const [from, setFrom] = useState(() => dateInput(Date.now() - 6 * DAY_IN_MS));
  const [to, setTo] = useState(() => dateInput(Date.now()));
  const [period, setPeriod] = useState({ from, to });
  const [error, setError] = useState<Error | undefined>();
  const query = () =>
    new URLSearchParams({
      from: startOfDay(period.from),
      to: new Date(Date.parse(startOfDay(period.to)) + DAY_IN_MS).toISOString(),
      utcOffsetInMinutes: String(-new Date().getTimezoneOffset()),
    });
  const load = useResource<Analytics>(props.api, `/api/archive/analytics?${query().toString()}`);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setPeriod({ from, to });
  };
  const downloadCsv = async () => {
    setError(undefined);
    try {
      const q = query();
      q.set('format', 'csv');
      const response = await props.api.request('GET', `/api/archive/analytics?${q.toString()}`);
      saveFile(await response.blob(), `attest-analytics-${period.from}-${period.to}.csv`);
    } catch (e) {
      setError(e as Error);
    }
  };
  const preset = (days: number) => {
    const f = dateInput(Date.now() - (days - 1) * DAY_IN_MS);
    const t = dateInput(Date.now());
    setFrom(f);
    setTo(t);
    setPeriod({ from: f, to: t });
  };
  return (
    <>
      <Title2 as="h1">Analytics</Title2>
      <form className={styles.form} onSubmit={submit} aria-label="Analytics period">
        <Field label="First day">
          <Input type="date" value={from} onChange={(_, d) => setFrom(d.value)} />
        </Field>
        <Field label="Last day">
          <Input type="date" value={to} onChange={(_, d) => setTo(d.value)} />
        </Field>
        <Button type="submit" appearance="primary">
          Show
        </Button>
        <Button onClick={() => preset(7)}>Last 7 days</Button>
        <Button onClick={() => preset(30)}>Last 30 days</Button>
        <Button onClick={() => preset(90)}>Last 90 days</Button>
        <Button onClick={() => void downloadCsv()}>Download CSV</Button>
      </form>
      <Failure error={error} />
      <Loaded
        load={load}
        what="analytics"
        isEmpty={(d) => d.totals.calls === 0}
        empty="No call was invited in this period."
      >
        {(data) => <Charts data={data} />}
      </Loaded>
    </>
  );
}

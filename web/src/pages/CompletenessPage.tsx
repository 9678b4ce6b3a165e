/** The signed completeness report for a period: view it and download it as signed. */
import { Button, Field, Input, Text, Title2, makeStyles } from '@fluentui/react-components';
import { useState } from 'react';
import type { Api } from '../api';
import { Loaded } from '../components/State';
import { saveFile } from '../download';
import { formatTime } from '../format';
import { useResource } from '../load';

const useStyles = makeStyles({
  form: { display: 'flex', gap: '12px', flexWrap: 'wrap', alignItems: 'end' },
  pre: { overflowX: 'auto', maxHeight: '24rem' },
});

const day = 86_400_000;
const local = (ms: number) =>
  new Date(ms - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

export function CompletenessPage(props: { api: Api }) {
  const styles = useStyles();
  const [from, setFrom] = useState(() => local(Date.now() - 7 * day));
  const [to, setTo] = useState(() => local(Date.now() + 60_000));
  const [period, setPeriod] = useState({ from, to });
  const load = useResource<{
    report: { totals: Record<string, number>; items?: unknown[] };
    signature?: unknown;
  }>(
    props.api,
    `/api/archive/reports/completeness?from=${encodeURIComponent(new Date(period.from).toISOString())}&to=${encodeURIComponent(new Date(period.to).toISOString())}`,
  );
  const download = (data: unknown) =>
    saveFile(
      new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }),
      `completeness-${period.from}-${period.to}.json`,
    );
  return (
    <>
      <Title2 as="h1">Completeness report</Title2>
      <form
        className={styles.form}
        onSubmit={(e) => {
          e.preventDefault();
          setPeriod({ from, to });
        }}
        aria-label="Report period"
      >
        <Field label="From">
          <Input type="datetime-local" value={from} onChange={(_, d) => setFrom(d.value)} />
        </Field>
        <Field label="To">
          <Input type="datetime-local" value={to} onChange={(_, d) => setTo(d.value)} />
        </Field>
        <Button type="submit" appearance="primary">
          Build report
        </Button>
      </form>
      <Loaded load={load} what="the report">
        {(data) => {
          const t = data.report.totals;
          const invites = t.invites ?? 0;
          const recorded = t.recorded ?? 0;
          return (
            <>
              <Text role="status" data-testid="completeness-summary">
                {formatTime(new Date(period.from).toISOString())} to{' '}
                {formatTime(new Date(period.to).toISOString())}: {invites} invites;{' '}
                {invites === 0
                  ? 'nothing to measure'
                  : `${((100 * recorded) / invites).toFixed(1)} % recorded in full`}
                .
              </Text>
              <ul>
                {Object.entries(t).map(([k, v]) => (
                  <li key={k}>
                    {k}: {v}
                  </li>
                ))}
              </ul>
              <Button onClick={() => download(data)}>Download the signed report</Button>
            </>
          );
        }}
      </Loaded>
    </>
  );
}

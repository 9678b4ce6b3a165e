/**
 * The ledger: entries with filters (actor, kind, subject, time), the chain checked in this
 * browser (each entry's SHA-256 over its canonical JSON and its link to the previous one), and
 * the latest signed checkpoint with whether the chain has its head.
 */
import { Badge, Button, Field, Input, Text, Title2, makeStyles } from '@fluentui/react-components';
import { useState } from 'react';
import { canonicalJson } from '../../../core/src/ledger/canonical-json';
import type { Api } from '../api';
import { ListTable } from '../components/ListTable';
import { Loaded } from '../components/State';
import { formatTime } from '../format';
import { useLoad } from '../load';
import { sha256Hex } from '../verify';

const useStyles = makeStyles({
  filters: { display: 'flex', gap: '12px', flexWrap: 'wrap', alignItems: 'end' },
  state: { display: 'flex', gap: '8px', alignItems: 'center', flexWrap: 'wrap' },
  details: { minWidth: '18rem', overflowWrap: 'anywhere' },
  id: { overflowWrap: 'anywhere', minWidth: '8rem' },
  nowrap: { whiteSpace: 'nowrap' },
});

/** Rows shown at first, and added by each "Show more". */
const ROWS = 100;

interface FullEntry {
  readonly seq: number;
  readonly at: string;
  readonly kind: string;
  readonly actor: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly prevSha256: string;
  readonly sha256: string;
  readonly isRedacted?: undefined;
}
/** Another tenant's entry (or the deployment's own): only what links the chain is shown. */
interface RedactedEntry {
  readonly v: number;
  readonly seq: number;
  readonly prevSha256: string;
  readonly sha256: string;
  readonly isRedacted: true;
}
type Entry = FullEntry | RedactedEntry;

interface Checkpoint {
  readonly seq: number;
  readonly headSha256: string;
  readonly at: string;
  readonly keyId: string;
  readonly alg: string;
}

const PAGE = 1000;
const MAX_PAGES = 20;

async function loadLedger(api: Api) {
  const entries: Entry[] = [];
  let checkpoints: Checkpoint[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await api.get<{ entries: Entry[]; checkpoints: Checkpoint[] }>(
      `/api/archive/ledger?fromSeq=${page * PAGE}&toSeq=${page * PAGE + PAGE - 1}`,
    );
    entries.push(...body.entries);
    checkpoints = body.checkpoints;
    if (body.entries.length < PAGE) break;
  }
  const problems: string[] = [];
  let previous: Entry | undefined;
  for (const entry of entries) {
    // A redacted entry's content is not shown, so only its link can be checked here.
    if (entry.isRedacted !== true) {
      const { sha256, ...rest } = entry;
      if ((await sha256Hex(new TextEncoder().encode(canonicalJson(rest)))) !== sha256)
        problems.push(`entry ${entry.seq} was altered`);
    }
    if (previous !== undefined && entry.prevSha256 !== previous.sha256)
      problems.push(`entry ${entry.seq} does not link to entry ${previous.seq}`);
    previous = entry;
  }
  const latest = [...checkpoints].sort((a, b) => b.seq - a.seq)[0];
  const headEntry = latest === undefined ? undefined : entries.find((e) => e.seq === latest.seq);
  if (latest !== undefined && headEntry !== undefined && headEntry.sha256 !== latest.headSha256)
    problems.push(`the checkpoint at entry ${latest.seq} names a head the chain does not have`);
  return { entries, latest, problems, isComplete: entries.length < PAGE * MAX_PAGES };
}

export function AuditPage(props: { api: Api }) {
  const styles = useStyles();
  const load = useLoad(() => loadLedger(props.api), []);
  const [filter, setFilter] = useState({ actor: '', kind: '', subject: '', since: '' });
  const [shown, setShown] = useState(ROWS);
  const set = (name: keyof typeof filter) => (_: unknown, d: { value: string }) =>
    setFilter((f) => ({ ...f, [name]: d.value }));
  const sinceMs = filter.since === '' ? undefined : Date.parse(filter.since);
  const matches = (e: Entry): e is FullEntry =>
    e.isRedacted !== true &&
    e.actor.includes(filter.actor.trim()) &&
    e.kind.toLowerCase().includes(filter.kind.trim().toLowerCase()) &&
    `${e.subjectType}:${e.subjectId}`.includes(filter.subject.trim()) &&
    (sinceMs === undefined || Number.isNaN(sinceMs) || Date.parse(e.at) >= sinceMs);
  return (
    <>
      <Title2 as="h1">Audit ledger</Title2>
      <Loaded
        load={load}
        what="the ledger"
        isEmpty={(d) => d.entries.length === 0}
        empty="The ledger has no entries yet."
      >
        {(data) => {
          const matching = data.entries.filter(matches).reverse();
          return (
            <>
              <div data-testid="chain-state" className={styles.state}>
                {data.problems.length === 0 ? (
                  <Badge color="success">Chain intact</Badge>
                ) : (
                  <Badge color="danger">Chain broken</Badge>
                )}{' '}
                <Text>
                  {data.problems.length === 0
                    ? `${data.entries.length} entries checked in this browser: every link holds, and the hash of each of your tenant's ${data.entries.filter((e) => e.isRedacted !== true).length} entries (others are redacted).`
                    : data.problems.slice(0, 5).join('; ')}
                </Text>
              </div>
              <Text data-testid="checkpoint">
                {data.latest === undefined
                  ? 'No signed checkpoint yet (the checkpoint timer signs the head every hour).'
                  : `Latest signed checkpoint: entry ${data.latest.seq} at ${formatTime(data.latest.at)}, ${data.latest.alg} key ${data.latest.keyId.slice(0, 16)}…`}
              </Text>
              <div className={styles.filters} role="search" aria-label="Filter the ledger">
                <Field label="Actor">
                  <Input value={filter.actor} onChange={set('actor')} />
                </Field>
                <Field label="Kind">
                  <Input value={filter.kind} onChange={set('kind')} />
                </Field>
                <Field label="Subject">
                  <Input value={filter.subject} onChange={set('subject')} />
                </Field>
                <Field label="Since">
                  <Input type="datetime-local" value={filter.since} onChange={set('since')} />
                </Field>
              </div>
              <ListTable
                label="Ledger entries"
                rows={matching.slice(0, shown)}
                rowKey={(e) => String(e.seq)}
                columns={[
                  { header: '#', cell: (e) => e.seq },
                  { header: 'Time', cell: (e) => formatTime(e.at), className: styles.nowrap },
                  { header: 'Kind', cell: (e) => e.kind },
                  { header: 'Actor', cell: (e) => e.actor, className: styles.id },
                  {
                    header: 'Subject',
                    cell: (e) => `${e.subjectType} ${e.subjectId}`,
                    className: styles.id,
                  },
                  {
                    header: 'Details',
                    cell: (e) =>
                      Object.entries(e.details)
                        .filter(([k]) => k !== 'roles')
                        .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
                        .join(', '),
                    className: styles.details,
                  },
                ]}
              />
              <div className={styles.state}>
                <Text role="status">
                  Showing {Math.min(shown, matching.length)} of {matching.length} matching entries,
                  newest first.
                </Text>
                {shown < matching.length ? (
                  <Button onClick={() => setShown((n) => n + ROWS)}>Show more</Button>
                ) : null}
              </div>
            </>
          );
        }}
      </Loaded>
    </>
  );
}

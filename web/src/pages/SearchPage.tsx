/** Search archived interactions (results are limited by the server to the caller's scope). */
import {
  Button,
  Dropdown,
  Field,
  Input,
  Option,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title2,
  makeStyles,
} from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import type { Api } from '../api';
import { Loaded } from '../components/State';
import { between, formatDuration, formatTime } from '../format';
import { useLoad } from '../load';
import { Link, navigate } from '../router';
import type { CallRow } from '../types';
import { outcomeBadge } from './CallsPage';

const useStyles = makeStyles({
  form: { display: 'flex', gap: '12px', flexWrap: 'wrap', alignItems: 'end' },
});

const FIELDS = ['recordedUserId', 'from', 'to', 'type', 'callChainId'] as const;
const PAGE_SIZE = 25;

export function SearchPage(props: { api: Api; query: URLSearchParams }) {
  const styles = useStyles();
  const [draft, setDraft] = useState<Record<string, string>>(() =>
    Object.fromEntries(FIELDS.map((f) => [f, props.query.get(f) ?? ''])),
  );
  const [page, setPage] = useState(0);
  const queryString = props.query.toString();
  const load = useLoad(
    () =>
      props.api.get<{ items: CallRow[]; count: number }>(
        `/api/archive/interactions?${queryString}`,
      ),
    [queryString],
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const f of FIELDS) {
      const value = draft[f]?.trim() ?? '';
      if (value === '') continue;
      params.set(f, f === 'from' || f === 'to' ? new Date(value).toISOString() : value);
    }
    setPage(0);
    navigate(`search?${params.toString()}`);
  };
  const set = (name: string) => (_: unknown, data: { value: string }) =>
    setDraft((d) => ({ ...d, [name]: data.value }));
  return (
    <>
      <Title2 as="h1">Search</Title2>
      <form
        className={styles.form}
        onSubmit={submit}
        role="search"
        aria-label="Search interactions"
      >
        <Field label="Recorded user id">
          <Input value={draft.recordedUserId} onChange={set('recordedUserId')} />
        </Field>
        <Field label="From">
          <Input type="datetime-local" value={draft.from} onChange={set('from')} />
        </Field>
        <Field label="To">
          <Input type="datetime-local" value={draft.to} onChange={set('to')} />
        </Field>
        <Field label="Type">
          <Dropdown
            value={draft.type === '' ? 'Any' : draft.type}
            selectedOptions={[draft.type ?? '']}
            onOptionSelect={(_, d) => setDraft((x) => ({ ...x, type: d.optionValue ?? '' }))}
          >
            {['', 'p2p', 'pstn', 'groupCall', 'meeting', 'broadcast'].map((t) => (
              <Option key={t} value={t}>
                {t === '' ? 'Any' : t}
              </Option>
            ))}
          </Dropdown>
        </Field>
        <Field label="Call chain id">
          <Input value={draft.callChainId} onChange={set('callChainId')} />
        </Field>
        <Button appearance="primary" type="submit">
          Search
        </Button>
      </form>
      <Loaded
        load={load}
        what="interactions"
        isEmpty={(d) => d.items.length === 0}
        empty="No interaction you may see matches."
      >
        {(data) => {
          const sorted = [...data.items].sort(
            (a, b) => Date.parse(b.invitedAt) - Date.parse(a.invitedAt),
          );
          const pages = Math.max(1, Math.ceil(sorted.length / PAGE_SIZE));
          const shown = sorted.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
          return (
            <div style={{ overflowX: 'auto' }}>
              <Text role="status">
                {data.count} interactions, newest first · page {page + 1} of {pages}
              </Text>
              <Table aria-label="Interactions" size="small">
                <TableHeader>
                  <TableRow>
                    <TableHeaderCell>Invited</TableHeaderCell>
                    <TableHeaderCell>Type</TableHeaderCell>
                    <TableHeaderCell>Direction</TableHeaderCell>
                    <TableHeaderCell>Duration</TableHeaderCell>
                    <TableHeaderCell>Outcome</TableHeaderCell>
                    <TableHeaderCell>Recorded users</TableHeaderCell>
                    <TableHeaderCell>Open</TableHeaderCell>
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {shown.map((row) => (
                    <TableRow key={row.interactionId}>
                      <TableCell>{formatTime(row.invitedAt)}</TableCell>
                      <TableCell>{row.type}</TableCell>
                      <TableCell>{row.direction}</TableCell>
                      <TableCell>
                        {formatDuration(between(row.answeredAt ?? row.invitedAt, row.endedAt))}
                      </TableCell>
                      <TableCell>{outcomeBadge(row.outcome)}</TableCell>
                      <TableCell>{row.recordedUserIds.join(', ')}</TableCell>
                      <TableCell>
                        <Link
                          to={`search/${encodeURIComponent(row.tenantId)}/${encodeURIComponent(row.interactionId)}`}
                        >
                          Open interaction {row.interactionId.slice(0, 8)}
                        </Link>
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
              <div style={{ display: 'flex', gap: 8 }}>
                <Button disabled={page === 0} onClick={() => setPage((p) => p - 1)}>
                  Previous page
                </Button>
                <Button disabled={page + 1 >= pages} onClick={() => setPage((p) => p + 1)}>
                  Next page
                </Button>
              </div>
            </div>
          );
        }}
      </Loaded>
    </>
  );
}

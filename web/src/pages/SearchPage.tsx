/**
 * Search archived interactions: every filter, the order and the page are the server's (results
 * are limited to the caller's scope there), with the number of matches and their counts.
 */
import {
  Badge,
  Button,
  Dropdown,
  Field,
  Input,
  Option,
  Text,
  Title2,
  makeStyles,
} from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import type { Api } from '../api';
import { ListTable, type Column } from '../components/ListTable';
import { Loaded } from '../components/State';
import { between, formatDuration, formatTime, OUTCOME_WORDS, outcomeWords } from '../format';
import { useResource } from '../load';
import { Link, navigate } from '../router';
import type { CallRow } from '../types';
import { outcomeBadge } from './CallsPage';

const useStyles = makeStyles({
  form: { display: 'flex', gap: '12px', flexWrap: 'wrap', alignItems: 'end' },
  counts: { display: 'flex', gap: '6px', flexWrap: 'wrap', alignItems: 'center' },
  pager: { display: 'flex', gap: '8px', alignItems: 'center', flexWrap: 'wrap' },
});

/** Filters the server applies (GET archive/interactions). */
const FIELDS = [
  'recordedUserId',
  'participant',
  'from',
  'to',
  'type',
  'direction',
  'outcome',
  'dialedNumber',
  'originNumber',
  'customData',
  'holdState',
  'callChainId',
] as const;
const PAGE_SIZE = 25;

const INTERACTION_COLUMNS: readonly Column<CallRow>[] = [
  { header: 'Invited', cell: (row) => formatTime(row.invitedAt) },
  { header: 'Type', cell: (row) => row.type },
  { header: 'Direction', cell: (row) => row.direction },
  {
    header: 'Duration',
    cell: (row) => formatDuration(between(row.answeredAt ?? row.invitedAt, row.endedAt)),
  },
  { header: 'Outcome', cell: (row) => outcomeBadge(row.outcome) },
  { header: 'Recorded users', cell: (row) => row.recordedUserIds.join(', ') },
  {
    header: 'Open',
    cell: (row) => (
      <Link
        to={`search/${encodeURIComponent(row.tenantId)}/${encodeURIComponent(row.interactionId)}`}
      >
        Open interaction {row.interactionId.slice(0, 8)}
      </Link>
    ),
  },
];
const CHOICES: Readonly<Record<string, readonly [string, string][]>> = {
  type: [
    ['', 'Any'],
    ['p2p', 'p2p'],
    ['pstn', 'pstn'],
    ['groupCall', 'groupCall'],
    ['meeting', 'meeting'],
    ['broadcast', 'broadcast'],
  ],
  direction: [
    ['', 'Any'],
    ['inbound', 'Inbound'],
    ['outbound', 'Outbound'],
  ],
  outcome: [['', 'Any'], ...Object.entries(OUTCOME_WORDS)],
  holdState: [
    ['', 'Any'],
    ['held', 'Under a legal hold'],
    ['notHeld', 'Not held'],
  ],
  sort: [
    ['invitedAt', 'Invited'],
    ['duration', 'Duration'],
    ['type', 'Type'],
    ['direction', 'Direction'],
    ['outcome', 'Outcome'],
  ],
};

interface SearchAnswer {
  readonly items: CallRow[];
  readonly count: number;
  readonly offset: number;
  readonly limit: number;
  readonly isTruncated: boolean;
  readonly counts: Readonly<Record<'byOutcome' | 'byType' | 'byDirection', Record<string, number>>>;
}

function Choice(props: {
  label: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
}) {
  const options = CHOICES[props.name] ?? [];
  return (
    <Field label={props.label}>
      <Dropdown
        value={options.find(([v]) => v === props.value)?.[1] ?? props.value}
        selectedOptions={[props.value]}
        onOptionSelect={(_, d) => props.onChange(d.optionValue ?? '')}
      >
        {options.map(([value, text]) => (
          <Option key={value} value={value} text={text}>
            {text}
          </Option>
        ))}
      </Dropdown>
    </Field>
  );
}

export function SearchPage(props: { api: Api; query: URLSearchParams }) {
  const styles = useStyles();
  const [draft, setDraft] = useState<Record<string, string>>(() =>
    Object.fromEntries(FIELDS.map((f) => [f, props.query.get(f) ?? ''])),
  );
  const withLimit = new URLSearchParams(props.query);
  withLimit.set('limit', String(PAGE_SIZE));
  const sort = props.query.get('sort') ?? 'invitedAt';
  const order = props.query.get('order') ?? 'desc';
  const load = useResource<SearchAnswer>(
    props.api,
    `/api/archive/interactions?${withLimit.toString()}`,
  );
  const go = (changes: Record<string, string>) => {
    const params = new URLSearchParams(props.query);
    for (const [k, v] of Object.entries(changes))
      if (v === '') params.delete(k);
      else params.set(k, v);
    navigate(`search?${params.toString()}`);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const f of FIELDS) {
      const value = draft[f]?.trim() ?? '';
      if (value === '') continue;
      params.set(f, f === 'from' || f === 'to' ? new Date(value).toISOString() : value);
    }
    params.set('sort', sort);
    params.set('order', order);
    navigate(`search?${params.toString()}`);
  };
  const set = (name: string) => (_: unknown, data: { value: string }) =>
    setDraft((d) => ({ ...d, [name]: data.value }));
  const choose = (name: string) => (value: string) => setDraft((d) => ({ ...d, [name]: value }));
  const text = (name: string, label: string, placeholder?: string) => (
    <Field label={label}>
      <Input value={draft[name]} onChange={set(name)} placeholder={placeholder} />
    </Field>
  );
  return (
    <>
      <Title2 as="h1">Search</Title2>
      <form
        className={styles.form}
        onSubmit={submit}
        role="search"
        aria-label="Search interactions"
      >
        {text('recordedUserId', 'Recorded user id')}
        {text('participant', 'Participant', 'name, id or phone')}
        <Field label="From">
          <Input type="datetime-local" value={draft.from} onChange={set('from')} />
        </Field>
        <Field label="To">
          <Input type="datetime-local" value={draft.to} onChange={set('to')} />
        </Field>
        <Choice label="Type" name="type" value={draft.type ?? ''} onChange={choose('type')} />
        <Choice
          label="Direction"
          name="direction"
          value={draft.direction ?? ''}
          onChange={choose('direction')}
        />
        <Choice
          label="Outcome"
          name="outcome"
          value={draft.outcome ?? ''}
          onChange={choose('outcome')}
        />
        {text('dialedNumber', 'Dialed number')}
        {text('originNumber', 'Origin number')}
        {text('customData', 'Business data', 'key=value or text')}
        <Choice
          label="Legal hold"
          name="holdState"
          value={draft.holdState ?? ''}
          onChange={choose('holdState')}
        />
        {text('callChainId', 'Call chain id')}
        <Button appearance="primary" type="submit">
          Search
        </Button>
      </form>
      <Loaded
        load={load}
        what="interactions"
        isEmpty={(d) => d.count === 0}
        empty="No interaction you may see matches."
      >
        {(data) => {
          const pages = Math.max(1, Math.ceil(data.count / PAGE_SIZE));
          const page = Math.floor(data.offset / PAGE_SIZE);
          return (
            <div style={{ overflowX: 'auto', display: 'flex', flexDirection: 'column', gap: 8 }}>
              <div className={styles.counts} data-testid="search-counts">
                <Text role="status">
                  {data.count}
                  {data.isTruncated ? '+' : ''} {data.count === 1 ? 'interaction' : 'interactions'}{' '}
                  · page {page + 1} of {pages}
                </Text>
                {Object.entries(data.counts.byOutcome).map(([k, n]) => (
                  <Badge key={k} appearance="tint" color="informative">
                    {outcomeWords(k)}: {n}
                  </Badge>
                ))}
                {Object.entries(data.counts.byDirection).map(([k, n]) => (
                  <Badge key={k} appearance="outline">
                    {k}: {n}
                  </Badge>
                ))}
              </div>
              <div className={styles.pager}>
                <Choice
                  label="Sort by"
                  name="sort"
                  value={sort}
                  onChange={(v) => go({ sort: v, offset: '' })}
                />
                <Button
                  onClick={() => go({ order: order === 'asc' ? 'desc' : 'asc', offset: '' })}
                  aria-label={`Order: ${order === 'asc' ? 'ascending' : 'descending'}; reverse it`}
                >
                  {order === 'asc' ? 'Ascending ↑' : 'Descending ↓'}
                </Button>
              </div>
              <ListTable
                label="Interactions"
                rows={data.items}
                rowKey={(row) => row.interactionId}
                columns={INTERACTION_COLUMNS}
              />
              <div className={styles.pager}>
                <Button
                  disabled={page === 0}
                  onClick={() => go({ offset: String((page - 1) * PAGE_SIZE) })}
                >
                  Previous page
                </Button>
                <Button
                  disabled={page + 1 >= pages}
                  onClick={() => go({ offset: String((page + 1) * PAGE_SIZE) })}
                >
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

/** Live and recent calls of the admin's tenant, with filters, refreshing every 5 seconds. */
import {
  Badge,
  Dropdown,
  Field,
  Input,
  Option,
  Text,
  Title2,
  makeStyles,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { Api } from '../api';
import { ListTable, type Column } from '../components/ListTable';
import { Loaded } from '../components/State';
import { formatTime, outcomeWords, OUTCOME_WORDS } from '../format';
import { useResource } from '../load';
import { Link } from '../router';
import type { CallRow } from '../types';

const useStyles = makeStyles({
  filters: { display: 'flex', gap: '12px', flexWrap: 'wrap', alignItems: 'end' },
});

export function outcomeBadge(outcome: string | undefined) {
  const color =
    outcome === 'recorded'
      ? 'success'
      : outcome === 'inProgress'
        ? 'brand'
        : outcome === 'recordedWithGaps'
          ? 'warning'
          : 'danger';
  return (
    <Badge appearance="tint" color={color}>
      {outcomeWords(outcome)}
    </Badge>
  );
}

const CALL_COLUMNS: readonly Column<CallRow>[] = [
  { header: 'Invited', cell: (row) => formatTime(row.invitedAt) },
  { header: 'Type', cell: (row) => row.type },
  { header: 'Direction', cell: (row) => row.direction },
  { header: 'Outcome', cell: (row) => outcomeBadge(row.outcome) },
  { header: 'Recorded users', cell: (row) => row.recordedUserIds.join(', ') },
  {
    header: 'Call',
    cell: (row) => (
      <Link to={`calls/${encodeURIComponent(row.callId)}`}>
        Story of call {row.callId.slice(0, 8)}
      </Link>
    ),
  },
];

const STATES = ['recent', 'live', ...Object.keys(OUTCOME_WORDS).filter((o) => o !== 'inProgress')];
const TYPES = ['', 'p2p', 'pstn', 'groupCall', 'meeting', 'broadcast'];

export function CallsPage(props: { api: Api }) {
  const styles = useStyles();
  const [state, setState] = useState('recent');
  const [type, setType] = useState('');
  const [user, setUser] = useState('');
  const [since, setSince] = useState('');
  const load = useResource<{ value: CallRow[] }>(
    props.api,
    `/api/calls?state=${encodeURIComponent(state)}&top=200`,
    { refreshInMs: 5000 },
  );
  const sinceMs = since === '' ? undefined : Date.parse(since);
  const matches = (row: CallRow) =>
    (type === '' || row.type === type) &&
    (user.trim() === '' || row.recordedUserIds.some((id) => id.includes(user.trim()))) &&
    (sinceMs === undefined || Number.isNaN(sinceMs) || Date.parse(row.invitedAt) >= sinceMs);
  return (
    <>
      <Title2 as="h1">Calls</Title2>
      <div className={styles.filters} role="search" aria-label="Filter calls">
        <Field label="State">
          <Dropdown
            value={
              state === 'recent' ? 'Recent (24 h)' : state === 'live' ? 'Live' : outcomeWords(state)
            }
            selectedOptions={[state]}
            onOptionSelect={(_, d) => setState(d.optionValue ?? 'recent')}
          >
            {STATES.map((s) => (
              <Option key={s} value={s}>
                {s === 'recent' ? 'Recent (24 h)' : s === 'live' ? 'Live' : outcomeWords(s)}
              </Option>
            ))}
          </Dropdown>
        </Field>
        <Field label="Type">
          <Dropdown
            value={type === '' ? 'Any' : type}
            selectedOptions={[type]}
            onOptionSelect={(_, d) => setType(d.optionValue ?? '')}
          >
            {TYPES.map((t) => (
              <Option key={t} value={t}>
                {t === '' ? 'Any' : t}
              </Option>
            ))}
          </Dropdown>
        </Field>
        <Field label="Recorded user id">
          <Input value={user} onChange={(_, d) => setUser(d.value)} placeholder="object id" />
        </Field>
        <Field label="Invited since">
          <Input type="datetime-local" value={since} onChange={(_, d) => setSince(d.value)} />
        </Field>
      </div>
      <Loaded
        load={load}
        what="calls"
        isEmpty={(d) => d.value.filter(matches).length === 0}
        empty="No calls match these filters."
      >
        {(data) => (
          <>
            <Text size={200} role="status">
              {data.value.filter(matches).length} calls · refreshed{' '}
              {load.state === 'ready' ? formatTime(load.loadedAt.toISOString()) : ''}
            </Text>
            <ListTable
              label="Calls"
              rows={data.value.filter(matches)}
              rowKey={(row) => row.interactionId}
              columns={CALL_COLUMNS}
            />
          </>
        )}
      </Loaded>
    </>
  );
}

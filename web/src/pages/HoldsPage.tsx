/** Legal holds: list what each holds, create one with a scope, release (compliance officers only). */
import {
  Badge,
  Button,
  Field,
  Input,
  Textarea,
  Title2,
  Title3,
  makeStyles,
} from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import type { Api } from '../api';
import { ListTable } from '../components/ListTable';
import { Failure, Loaded } from '../components/State';
import { formatTime } from '../format';
import { useAction, useResource } from '../load';
import type { Hold } from '../types';

const useStyles = makeStyles({
  form: { display: 'flex', gap: '12px', flexWrap: 'wrap', alignItems: 'end' },
});

function scopeWords(scope: Readonly<Record<string, unknown>>): string {
  const parts: string[] = [];
  const users = scope.recordedUserIds;
  if (Array.isArray(users) && users.length > 0) parts.push(`recorded users ${users.join(', ')}`);
  const ids = scope.interactionIds;
  if (Array.isArray(ids) && ids.length > 0) parts.push(`interactions ${ids.join(', ')}`);
  if (typeof scope.from === 'string') parts.push(`invited from ${formatTime(scope.from)}`);
  if (typeof scope.to === 'string') parts.push(`invited before ${formatTime(scope.to)}`);
  return parts.length === 0 ? 'everything in the tenant' : parts.join('; ');
}

export function HoldsPage(props: { api: Api; canChange: boolean }) {
  const styles = useStyles();
  const load = useResource<{ items: Hold[] }>(props.api, '/api/archive/holds');
  const action = useAction();
  const [draft, setDraft] = useState({
    matterId: '',
    description: '',
    users: '',
    interactions: '',
    from: '',
    to: '',
  });
  const create = (event: FormEvent) => {
    event.preventDefault();
    const list = (text: string) => text.split(/[\s,]+/).filter((s) => s !== '');
    const scope: Record<string, unknown> = {};
    if (list(draft.users).length > 0) scope.recordedUserIds = list(draft.users);
    if (list(draft.interactions).length > 0) scope.interactionIds = list(draft.interactions);
    if (draft.from !== '') scope.from = new Date(draft.from).toISOString();
    if (draft.to !== '') scope.to = new Date(draft.to).toISOString();
    return action.run(async () => {
      await props.api.post('/api/archive/holds', {
        matterId: draft.matterId,
        description: draft.description,
        scope,
      });
      setDraft({ matterId: '', description: '', users: '', interactions: '', from: '', to: '' });
      load.reload();
    });
  };
  const release = (holdId: string) =>
    action.run(async () => {
      await props.api.post(`/api/archive/holds/${encodeURIComponent(holdId)}/release`, {});
      load.reload();
    });
  const set = (name: keyof typeof draft) => (_: unknown, d: { value: string }) =>
    setDraft((x) => ({ ...x, [name]: d.value }));
  return (
    <>
      <Title2 as="h1">Legal holds</Title2>
      <Failure error={action.error} />
      {props.canChange ? (
        <form className={styles.form} onSubmit={(e) => void create(e)} aria-label="Place a hold">
          <Title3 as="h2" style={{ width: '100%' }}>
            Place a hold
          </Title3>
          <Field label="Matter id" required>
            <Input value={draft.matterId} onChange={set('matterId')} />
          </Field>
          <Field label="Description" required>
            <Textarea value={draft.description} onChange={set('description')} />
          </Field>
          <Field label="Recorded user ids">
            <Input value={draft.users} onChange={set('users')} placeholder="comma separated" />
          </Field>
          <Field label="Interaction ids">
            <Input
              value={draft.interactions}
              onChange={set('interactions')}
              placeholder="comma separated"
            />
          </Field>
          <Field label="Invited from">
            <Input type="datetime-local" value={draft.from} onChange={set('from')} />
          </Field>
          <Field label="Invited before">
            <Input type="datetime-local" value={draft.to} onChange={set('to')} />
          </Field>
          <Button appearance="primary" type="submit">
            Place hold
          </Button>
        </form>
      ) : null}
      <Loaded
        load={load}
        what="holds"
        isEmpty={(d) => d.items.length === 0}
        empty="No legal hold has been placed."
      >
        {(data) => (
          <ListTable
            label="Holds"
            rows={data.items}
            rowKey={(h) => h.holdId}
            columns={[
              { header: 'Matter', cell: (h) => h.matterId },
              { header: 'Description', cell: (h) => h.description },
              { header: 'Holds', cell: (h) => scopeWords(h.scope) },
              { header: 'Placed', cell: (h) => formatTime(h.createdAt) },
              {
                header: 'State',
                cell: (h) =>
                  h.releasedAt === undefined ? (
                    <Badge color="warning">Active</Badge>
                  ) : (
                    <Badge color="informative">Released {formatTime(h.releasedAt)}</Badge>
                  ),
              },
              {
                header: 'Action',
                cell: (h) =>
                  props.canChange && h.releasedAt === undefined ? (
                    <Button size="small" onClick={() => void release(h.holdId)}>
                      Release {h.matterId}
                    </Button>
                  ) : null,
              },
            ]}
          />
        )}
      </Loaded>
    </>
  );
}

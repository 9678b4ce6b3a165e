/**
 * Deletions waiting for a second person's decision (two-person rule). The server says which ones
 * the signed-in officer may decide: never their own request, which is shown as waiting for
 * someone else. The server refuses self-approval whatever the page sends.
 */
import { Button, Text, Title2 } from '@fluentui/react-components';
import { useState } from 'react';
import type { Api } from '../api';
import { ListTable } from '../components/ListTable';
import { Failure, Loaded } from '../components/State';
import { formatTime } from '../format';
import { useAction, useResource } from '../load';
import { Link } from '../router';
import type { CallRow } from '../types';

interface Waiting {
  readonly instanceId: string;
  readonly tenantId: string;
  readonly interactionId: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly interaction: CallRow;
  readonly retentionClass?: string;
  readonly isOwnRequest: boolean;
  readonly canDecide: boolean;
}

export function DispositionsPage(props: { api: Api }) {
  const load = useResource<{ items: Waiting[]; count: number }>(
    props.api,
    '/api/archive/dispositions',
  );
  const action = useAction();
  const [decided, setDecided] = useState<Readonly<Record<string, string>>>({});
  const decide = (w: Waiting, isApproved: boolean) =>
    action.run(async () => {
      await props.api.post(
        `/api/archive/dispositions/${encodeURIComponent(w.tenantId)}/${encodeURIComponent(w.interactionId)}/decision`,
        { isApproved },
      );
      setDecided((d) => ({
        ...d,
        [w.instanceId]: isApproved ? 'Approved: the deletion goes ahead' : 'Rejected: kept',
      }));
    });
  return (
    <>
      <Title2 as="h1">Dispositions</Title2>
      <Text>
        A person’s request to delete an interaction waits here for a second compliance officer.
        Whoever asked cannot decide it.
      </Text>
      <Failure error={action.error} />
      <Loaded
        load={load}
        what="dispositions"
        isEmpty={(d) => d.items.length === 0}
        empty="No deletion is waiting for a decision."
      >
        {(data) => (
          <ListTable
            label="Dispositions waiting for a decision"
            rows={data.items}
            rowKey={(w) => w.instanceId}
            columns={[
              {
                header: 'Interaction',
                cell: (w) => (
                  <Link
                    to={`search/${encodeURIComponent(w.tenantId)}/${encodeURIComponent(w.interactionId)}`}
                  >
                    Interaction {w.interactionId.slice(0, 8)}
                  </Link>
                ),
              },
              { header: 'Invited', cell: (w) => formatTime(w.interaction.invitedAt) },
              {
                header: 'Retention',
                cell: (w) =>
                  `${w.retentionClass ?? '—'}, expired ${formatTime(w.interaction.expiresAt)}`,
              },
              {
                header: 'Requested',
                cell: (w) =>
                  `${w.requestedBy === 'system' ? 'Retention job' : w.requestedBy}, ${formatTime(w.requestedAt)}`,
              },
              {
                header: 'Decision',
                cell: (w) =>
                  decided[w.instanceId] !== undefined ? (
                    <Text role="status">{decided[w.instanceId]}</Text>
                  ) : w.isOwnRequest ? (
                    <Text>You asked for this deletion: a second officer must decide.</Text>
                  ) : w.canDecide ? (
                    <div style={{ display: 'flex', gap: 8 }}>
                      <Button
                        appearance="primary"
                        aria-label={`Approve deletion of ${w.interactionId.slice(0, 8)}`}
                        onClick={() => void decide(w, true)}
                      >
                        Approve
                      </Button>
                      <Button
                        aria-label={`Reject deletion of ${w.interactionId.slice(0, 8)}`}
                        onClick={() => void decide(w, false)}
                      >
                        Reject
                      </Button>
                    </div>
                  ) : (
                    <Text>Outside what you may decide.</Text>
                  ),
              },
            ]}
          />
        )}
      </Loaded>
    </>
  );
}

/**
 * Deletions waiting for a second person's decision (two-person rule). The server says which ones
 * the signed-in officer may decide: never their own request, which is shown as waiting for
 * someone else. The server refuses self-approval whatever the page sends.
 */
import {
  Button,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title2,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { Api } from '../api';
import { Failure, Loaded } from '../components/State';
import { formatTime } from '../format';
import { useLoad } from '../load';
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
  const load = useLoad(
    () => props.api.get<{ items: Waiting[]; count: number }>('/api/archive/dispositions'),
    [],
  );
  const [error, setError] = useState<Error | undefined>();
  const [decided, setDecided] = useState<Readonly<Record<string, string>>>({});
  const decide = async (w: Waiting, isApproved: boolean) => {
    setError(undefined);
    try {
      await props.api.post(
        `/api/archive/dispositions/${encodeURIComponent(w.tenantId)}/${encodeURIComponent(w.interactionId)}/decision`,
        { isApproved },
      );
      setDecided((d) => ({
        ...d,
        [w.instanceId]: isApproved ? 'Approved: the deletion goes ahead' : 'Rejected: kept',
      }));
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <>
      <Title2 as="h1">Dispositions</Title2>
      <Text>
        A person’s request to delete an interaction waits here for a second compliance officer.
        Whoever asked cannot decide it.
      </Text>
      <Failure error={error} />
      <Loaded
        load={load}
        what="dispositions"
        isEmpty={(d) => d.items.length === 0}
        empty="No deletion is waiting for a decision."
      >
        {(data) => (
          <div style={{ overflowX: 'auto' }}>
            <Table aria-label="Dispositions waiting for a decision" size="small">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Interaction</TableHeaderCell>
                  <TableHeaderCell>Invited</TableHeaderCell>
                  <TableHeaderCell>Retention</TableHeaderCell>
                  <TableHeaderCell>Requested</TableHeaderCell>
                  <TableHeaderCell>Decision</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {data.items.map((w) => (
                  <TableRow key={w.instanceId}>
                    <TableCell>
                      <Link
                        to={`search/${encodeURIComponent(w.tenantId)}/${encodeURIComponent(w.interactionId)}`}
                      >
                        Interaction {w.interactionId.slice(0, 8)}
                      </Link>
                    </TableCell>
                    <TableCell>{formatTime(w.interaction.invitedAt)}</TableCell>
                    <TableCell>
                      {w.retentionClass ?? '—'}, expired {formatTime(w.interaction.expiresAt)}
                    </TableCell>
                    <TableCell>
                      {w.requestedBy === 'system' ? 'Retention job' : w.requestedBy},{' '}
                      {formatTime(w.requestedAt)}
                    </TableCell>
                    <TableCell>
                      {decided[w.instanceId] !== undefined ? (
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
                      )}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </div>
        )}
      </Loaded>
    </>
  );
}

/** The media host fleet: health, capacity, region, version; drain and undrain. */
import {
  Badge,
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
import { formatBytes, formatTime } from '../format';
import { useLoad } from '../load';

interface HostRow {
  readonly hostId: string;
  readonly version: string;
  readonly region: string;
  readonly zone?: string;
  readonly isDraining: boolean;
  /** Why and until when the host drains (a scale-in hands its calls back at `deadlineAt`). */
  readonly drain?: { readonly reason: string; readonly deadlineAt?: string };
  readonly isDrainingByAdmin?: boolean;
  readonly isStale: boolean;
  readonly receivedAt: string;
  readonly capacity: {
    readonly maxSessions?: number;
    readonly activeSessions?: number;
    readonly [k: string]: unknown;
  };
  readonly spoolBytes: number;
  readonly spoolLimitInBytes: number;
  readonly bridge?: { readonly sdkVersion?: string; readonly certificateExpiresAt?: string };
}

export function MediaHostsPage(props: { api: Api }) {
  const load = useLoad(() => props.api.get<{ value: HostRow[] }>('/api/mediahosts'), [], {
    refreshInMs: 5000,
  });
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const setDraining = async (hostId: string, isDraining: boolean) => {
    setBusy(hostId);
    setError(undefined);
    try {
      await props.api.post(`/api/mediahosts/${encodeURIComponent(hostId)}/drain`, { isDraining });
      load.reload();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <>
      <Title2 as="h1">Media hosts</Title2>
      <Failure error={error} />
      <Loaded
        load={load}
        what="media hosts"
        isEmpty={(d) => d.value.length === 0}
        empty="No media host has sent a heartbeat."
      >
        {(data) => (
          <div style={{ overflowX: 'auto' }}>
            <Table aria-label="Media hosts" size="small">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Host</TableHeaderCell>
                  <TableHeaderCell>Health</TableHeaderCell>
                  <TableHeaderCell>Sessions</TableHeaderCell>
                  <TableHeaderCell>Spool</TableHeaderCell>
                  <TableHeaderCell>Region</TableHeaderCell>
                  <TableHeaderCell>Version</TableHeaderCell>
                  <TableHeaderCell>Last heartbeat</TableHeaderCell>
                  <TableHeaderCell>Action</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {data.value.map((h) => {
                  const draining = h.isDraining || h.isDrainingByAdmin === true;
                  return (
                    <TableRow key={h.hostId}>
                      <TableCell>{h.hostId}</TableCell>
                      <TableCell>
                        {h.isStale ? (
                          <Badge color="danger">No heartbeat</Badge>
                        ) : draining ? (
                          <Badge color="warning">
                            {h.drain?.reason === 'scaleIn'
                              ? `Draining for scale-in${h.drain.deadlineAt !== undefined ? ` until ${formatTime(h.drain.deadlineAt)}` : ''}`
                              : 'Draining'}
                          </Badge>
                        ) : (
                          <Badge color="success">Healthy</Badge>
                        )}
                      </TableCell>
                      <TableCell>
                        {String(h.capacity.activeSessions ?? '?')} of{' '}
                        {String(h.capacity.maxSessions ?? '?')}
                      </TableCell>
                      <TableCell>
                        {formatBytes(h.spoolBytes)} of {formatBytes(h.spoolLimitInBytes)}
                      </TableCell>
                      <TableCell>
                        {h.region}
                        {h.zone !== undefined ? ` · zone ${h.zone}` : ''}
                      </TableCell>
                      <TableCell>
                        {h.version}
                        {h.bridge?.sdkVersion ? ` · bridge SDK ${h.bridge.sdkVersion}` : ''}
                        {h.bridge?.certificateExpiresAt
                          ? ` · certificate expires ${formatTime(h.bridge.certificateExpiresAt)}`
                          : ''}
                      </TableCell>
                      <TableCell>{formatTime(h.receivedAt)}</TableCell>
                      <TableCell>
                        <Button
                          size="small"
                          disabled={busy === h.hostId}
                          aria-label={draining ? `Undrain ${h.hostId}` : `Drain ${h.hostId}`}
                          onClick={() => void setDraining(h.hostId, !draining)}
                        >
                          {draining ? 'Undrain' : 'Drain'}
                        </Button>
                      </TableCell>
                    </TableRow>
                  );
                })}
              </TableBody>
            </Table>
            <Text size={200}>
              A draining host takes no new calls; calls it records go on until they end.
            </Text>
          </div>
        )}
      </Loaded>
    </>
  );
}

/** The media host fleet: health, capacity, region, version; drain and undrain. */
import { Badge, Button, Text, Title2 } from '@fluentui/react-components';
import type { Api } from '../api';
import { ListTable } from '../components/ListTable';
import { Failure, Loaded } from '../components/State';
import { formatBytes, formatTime } from '../format';
import { useAction, useResource } from '../load';

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

const isDraining = (h: HostRow) => h.isDraining || h.isDrainingByAdmin === true;

function health(h: HostRow) {
  if (h.isStale) return <Badge color="danger">No heartbeat</Badge>;
  if (!isDraining(h)) return <Badge color="success">Healthy</Badge>;
  return (
    <Badge color="warning">
      {h.drain?.reason === 'scaleIn'
        ? `Draining for scale-in${h.drain.deadlineAt !== undefined ? ` until ${formatTime(h.drain.deadlineAt)}` : ''}`
        : 'Draining'}
    </Badge>
  );
}

function versionWords(h: HostRow): string {
  return (
    h.version +
    (h.bridge?.sdkVersion ? ` · bridge SDK ${h.bridge.sdkVersion}` : '') +
    (h.bridge?.certificateExpiresAt
      ? ` · certificate expires ${formatTime(h.bridge.certificateExpiresAt)}`
      : '')
  );
}

export function MediaHostsPage(props: { api: Api }) {
  const load = useResource<{ value: HostRow[] }>(props.api, '/api/mediahosts', {
    refreshInMs: 5000,
  });
  const action = useAction();
  const setDraining = (hostId: string, shouldDrain: boolean) =>
    action.run(async () => {
      await props.api.post(`/api/mediahosts/${encodeURIComponent(hostId)}/drain`, {
        isDraining: shouldDrain,
      });
      load.reload();
    }, hostId);
  return (
    <>
      <Title2 as="h1">Media hosts</Title2>
      <Failure error={action.error} />
      <Loaded
        load={load}
        what="media hosts"
        isEmpty={(d) => d.value.length === 0}
        empty="No media host has sent a heartbeat."
      >
        {(data) => (
          <div>
            <ListTable
              label="Media hosts"
              rows={data.value}
              rowKey={(h) => h.hostId}
              columns={[
                { header: 'Host', cell: (h) => h.hostId },
                { header: 'Health', cell: health },
                {
                  header: 'Sessions',
                  cell: (h) =>
                    `${String(h.capacity.activeSessions ?? '?')} of ${String(h.capacity.maxSessions ?? '?')}`,
                },
                {
                  header: 'Spool',
                  cell: (h) =>
                    `${formatBytes(h.spoolBytes)} of ${formatBytes(h.spoolLimitInBytes)}`,
                },
                {
                  header: 'Region',
                  cell: (h) => `${h.region}${h.zone !== undefined ? ` · zone ${h.zone}` : ''}`,
                },
                { header: 'Version', cell: versionWords },
                { header: 'Last heartbeat', cell: (h) => formatTime(h.receivedAt) },
                {
                  header: 'Action',
                  cell: (h) => (
                    <Button
                      size="small"
                      disabled={action.running === h.hostId}
                      aria-label={isDraining(h) ? `Undrain ${h.hostId}` : `Drain ${h.hostId}`}
                      onClick={() => void setDraining(h.hostId, !isDraining(h))}
                    >
                      {isDraining(h) ? 'Undrain' : 'Drain'}
                    </Button>
                  ),
                },
              ]}
            />
            <Text size={200}>
              A draining host takes no new calls; calls it records go on until they end.
            </Text>
          </div>
        )}
      </Loaded>
    </>
  );
}

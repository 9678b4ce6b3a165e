/**
 * Exports: start one for a search or a hold, watch its progress and download the package (the
 * server audits the download) to check it with `attest verify`.
 */
import {
  Button,
  Dropdown,
  Field,
  Input,
  Option,
  ProgressBar,
  Text,
  Title2,
  Title3,
  makeStyles,
} from '@fluentui/react-components';
import { useEffect, useState, type FormEvent } from 'react';
import type { Api } from '../api';
import { Failure } from '../components/State';
import { saveFile } from '../download';
import { useResource } from '../load';
import type { Hold } from '../types';

const useStyles = makeStyles({
  form: { display: 'flex', gap: '12px', flexWrap: 'wrap', alignItems: 'end' },
  progress: { display: 'flex', flexDirection: 'column', gap: '8px', alignItems: 'start' },
  heading: { overflowWrap: 'anywhere' },
});

/** `attachment; filename="x.zip"` → `x.zip`. */
function fileNameOf(disposition: string | null, fallback: string): string {
  const match = /filename="?([^";]+)"?/i.exec(disposition ?? '');
  return match?.[1] ?? fallback;
}

interface ExportStatus {
  readonly exportId: string;
  readonly state: 'running' | 'completed' | 'failed';
  readonly progress?: { phase?: string; done?: number; total?: number };
  readonly error?: string;
  readonly result?: { outputDir?: string; interactionCount?: number } & Record<string, unknown>;
  /** Where the finished package is downloaded, when the server offers it. */
  readonly downloadUri?: string;
}

export function ExportsPage(props: { api: Api }) {
  const styles = useStyles();
  const holds = useResource<{ items: Hold[] }>(props.api, '/api/archive/holds');
  const [holdId, setHoldId] = useState('');
  const [recordedUserId, setRecordedUserId] = useState('');
  const [error, setError] = useState<Error | undefined>();
  const [exportId, setExportId] = useState<string | undefined>();
  const [status, setStatus] = useState<ExportStatus | undefined>();
  useEffect(() => {
    if (exportId === undefined) return undefined;
    let stop = false;
    const poll = async () => {
      try {
        const s = await props.api.get<ExportStatus>(
          `/api/archive/exports/${encodeURIComponent(exportId)}`,
        );
        if (stop) return;
        setStatus(s);
        if (s.state === 'running') setTimeout(() => void poll(), 1000);
      } catch (e) {
        if (!stop) setError(e as Error);
      }
    };
    void poll();
    return () => {
      stop = true;
    };
  }, [exportId, props.api]);
  const start = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setStatus(undefined);
    try {
      const body =
        holdId !== ''
          ? { holdId }
          : {
              query: recordedUserId.trim() === '' ? {} : { recordedUserId: recordedUserId.trim() },
            };
      const started = await props.api.post<{ exportId: string }>('/api/archive/exports', body);
      setExportId(started.exportId);
    } catch (e) {
      setError(e as Error);
    }
  };
  const download = async (uri: string, id: string) => {
    setError(undefined);
    try {
      const response = await props.api.request('GET', uri);
      saveFile(
        await response.blob(),
        fileNameOf(response.headers.get('content-disposition'), `attest-export-${id}.zip`),
      );
    } catch (e) {
      setError(e as Error);
    }
  };
  const activeHolds =
    holds.state === 'ready' ? holds.data.items.filter((h) => h.releasedAt === undefined) : [];
  const p = status?.progress;
  return (
    <>
      <Title2 as="h1">Exports</Title2>
      <Failure error={error} />
      <form className={styles.form} onSubmit={(e) => void start(e)} aria-label="Start an export">
        <Field label="Everything under a hold">
          <Dropdown
            value={
              holdId === ''
                ? 'No hold (use the search below)'
                : (activeHolds.find((h) => h.holdId === holdId)?.matterId ?? holdId)
            }
            selectedOptions={[holdId]}
            onOptionSelect={(_, d) => setHoldId(d.optionValue ?? '')}
          >
            <Option value="">No hold (use the search below)</Option>
            {activeHolds.map((h) => (
              <Option key={h.holdId} value={h.holdId}>
                {h.matterId}
              </Option>
            ))}
          </Dropdown>
        </Field>
        <Field label="Or recorded user id (empty: every interaction you may export)">
          <Input
            value={recordedUserId}
            onChange={(_, d) => setRecordedUserId(d.value)}
            disabled={holdId !== ''}
          />
        </Field>
        <Button appearance="primary" type="submit">
          Start export
        </Button>
      </form>
      {exportId === undefined ? (
        <Text>No export started from this page yet.</Text>
      ) : (
        <section aria-label="Export progress" className={styles.progress}>
          <Title3 as="h2" className={styles.heading}>
            Export {exportId}
          </Title3>
          <Text role="status" data-testid="export-state">
            {status === undefined
              ? 'Starting…'
              : status.state === 'running'
                ? `Running: ${p?.phase ?? 'working'} ${p?.done ?? 0} of ${p?.total ?? '?'}`
                : status.state === 'completed'
                  ? `Completed: ${status.result?.interactionCount === 1 ? '1 interaction' : `${String(status.result?.interactionCount ?? 'its')} interactions`}. ${status.downloadUri === undefined ? `The package is at ${String(status.result?.outputDir ?? 'the export folder')} on the server` : 'Download the package'}; check it with attest verify.`
                  : `Failed: ${status.error ?? 'see the service logs'}. Start it again with the same id to resume.`}
          </Text>
          {status?.state === 'completed' && status.downloadUri !== undefined ? (
            <Button
              appearance="primary"
              onClick={() => void download(status.downloadUri!, exportId)}
            >
              Download the package
            </Button>
          ) : null}
          {status?.state === 'running' ? (
            <ProgressBar
              value={p?.total ? (p.done ?? 0) / p.total : undefined}
              aria-label="Export progress"
            />
          ) : null}
        </section>
      )}
    </>
  );
}

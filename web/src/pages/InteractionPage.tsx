/**
 * One archived interaction: metadata, participants, synchronised playback and a verified badge
 * per stream computed here with WebCrypto (signature, chain, Merkle root, every block's SHA-256).
 */
import {
  Badge,
  Card,
  CardHeader,
  makeStyles,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title2,
  Title3,
} from '@fluentui/react-components';
import { useEffect, useRef, useState } from 'react';
import type { Api } from '../api';
import type { Session } from '../auth';
import { RequestDeletion } from '../components/RequestDeletion';
import { Loaded } from '../components/State';
import { kindWords, Player, type Lane } from '../components/Player';
import { between, formatDuration, formatTime } from '../format';
import { useResource } from '../load';
import { Link } from '../router';
import { verifyCapturesAndLoad } from '../capture-playback';
import { loadStream, type StreamCheck, type Verified } from '../stream-load';
import {
  knownParticipants,
  labelLanes,
  participantName,
  speakerLabel,
  unknownSpeaker,
} from '../speakers';
import type { CallRow, InteractionManifest, Manifest, Participant } from '../types';
import { fromBase64, verifyMerkleRoot, verifySignature, type SignatureRecord } from '../verify';
import { outcomeBadge } from './CallsPage';

const useStyles = makeStyles({
  meta: { display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '4px 16px' },
});

async function verifyAndLoad(
  api: Api,
  base: string,
  onProgress: (v: Verified) => void,
): Promise<Verified> {
  const body = await api.get<{
    manifestBase64: string;
    signature: SignatureRecord | null;
    publicKeyPem: string | null;
  }>(`${base}/manifest`);
  const bytes = fromBase64(body.manifestBase64);
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Manifest | InteractionManifest;
  // An interaction of several captures plays each speaker from the capture covering each interval.
  if ('kind' in parsed && parsed.kind === 'interaction')
    return verifyCapturesAndLoad(api, body, parsed, onProgress);
  const manifest = parsed as Manifest;
  const signatureProblems = [
    ...(await verifySignature(bytes, manifest, body.signature, body.publicKeyPem)),
    ...(await verifyMerkleRoot(manifest)),
  ];
  const start = Date.parse(manifest.startedAt);
  const checks: Record<string, StreamCheck> = {};
  const streams = manifest.streams.map((s) => ({
    key: s.streamId,
    label: s.streamId,
    kind: s.kind,
    msi: s.msi,
    ...(s.participantId === undefined ? {} : { participantId: s.participantId }),
  }));
  const lanes: Lane[] = [];
  for (const s of manifest.streams)
    checks[s.streamId] = { state: 'checking', problems: [], blocksChecked: 0 };
  onProgress({ manifest, signatureProblems, streams, checks: { ...checks }, lanes: [] });
  for (const stream of manifest.streams) {
    const loaded = await loadStream(api, base, manifest.interactionId, stream, start);
    const participant = manifest.participants.find((p) => p.participantId === stream.participantId);
    lanes.push({
      streamId: stream.streamId,
      label: unknownSpeaker(stream.msi),
      participantId: participant?.participantId,
      msi: stream.msi,
      kind: stream.kind,
      offsetInMs: loaded.offsetInMs,
      durationInMs: loaded.durationInMs,
      spanInMs: loaded.spanInMs,
      timeline: loaded.timeline,
      url: loaded.url,
    });
    checks[stream.streamId] = {
      state: loaded.problems.length === 0 && signatureProblems.length === 0 ? 'verified' : 'failed',
      problems: loaded.problems,
      blocksChecked: loaded.blocksChecked,
    };
    onProgress({ manifest, signatureProblems, streams, checks: { ...checks }, lanes: [...lanes] });
  }
  return { manifest, signatureProblems, streams, checks, lanes };
}

function Badges(props: { verified: Verified; participants: readonly Participant[] }) {
  const { verified, participants } = props;
  return (
    <Table aria-label="Integrity of each stream" size="small">
      <TableHeader>
        <TableRow>
          <TableHeaderCell>Stream</TableHeaderCell>
          <TableHeaderCell>Integrity</TableHeaderCell>
          <TableHeaderCell>Detail</TableHeaderCell>
        </TableRow>
      </TableHeader>
      <TableBody>
        {verified.streams.map((s) => {
          const check = verified.checks[s.key];
          const problems = [...verified.signatureProblems, ...(check?.problems ?? [])];
          return (
            <TableRow key={s.key} data-testid={`integrity-${s.key}`}>
              <TableCell>
                {/* Whose stream, as the lanes name it; the ids as secondary text. */}
                <Text block>
                  {speakerLabel(s, participants).label} ({kindWords[s.kind]})
                </Text>
                <Text size={200}>{s.label}</Text>
              </TableCell>
              <TableCell>
                {check?.state === 'checking' ? (
                  <Spinner size="tiny" label="Checking" />
                ) : check?.state === 'verified' ? (
                  <Badge color="success" data-verdict="verified">
                    Verified
                  </Badge>
                ) : (
                  <Badge color="danger" data-verdict="failed">
                    Not verified
                  </Badge>
                )}
              </TableCell>
              <TableCell>
                {check?.state === 'verified'
                  ? `Signature, chain and ${check.blocksChecked} block hashes checked in this browser.`
                  : problems.join('; ')}
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}

export function InteractionPage(props: {
  api: Api;
  tenantId: string;
  interactionId: string;
  session: Session;
}) {
  const styles = useStyles();
  const base = `/api/archive/interactions/${encodeURIComponent(props.tenantId)}/${encodeURIComponent(props.interactionId)}`;
  const meta = useResource<{
    interaction: CallRow;
    state: string;
    participants?: readonly Participant[];
  }>(props.api, base);
  const [verified, setVerified] = useState<Verified | undefined>();
  const [error, setError] = useState<string | undefined>();
  // Lanes take names only from the interaction's participant list; the list below also shows
  // those the signed manifest names that it lacks (by id).
  const listed = meta.state === 'ready' ? (meta.data.participants ?? []) : [];
  const participants = knownParticipants(listed, verified?.manifest.participants ?? []);
  useEffect(() => {
    let isCurrent = true;
    setVerified(undefined);
    setError(undefined);
    verifyAndLoad(props.api, base, (v) => isCurrent && setVerified(v)).catch((e: unknown) => {
      if (isCurrent) setError(e instanceof Error ? e.message : String(e));
    });
    return () => {
      isCurrent = false;
    };
  }, [props.api, base]);
  // Object URLs live as long as the page: progress updates hand the same URLs on.
  const urls = useRef(new Set<string>());
  for (const lane of verified?.lanes ?? [])
    for (const url of [lane.url, ...(lane.sources ?? []).map((s) => s.url)])
      if (url) urls.current.add(url);
  useEffect(() => {
    const held = urls.current;
    return () => {
      for (const url of held) URL.revokeObjectURL(url);
      held.clear();
    };
  }, [base]);
  return (
    <>
      <Link to="search">← Search</Link>
      <Title2 as="h1">Interaction {props.interactionId}</Title2>
      <Loaded load={meta} what="the interaction">
        {({ interaction: i, state }) => (
          <Card>
            <CardHeader header={<Title3 as="h2">Metadata</Title3>} />
            <div className={styles.meta}>
              <Text>Outcome</Text>
              <span>{outcomeBadge(i.outcome)}</span>
              <Text>Type</Text>
              <Text>
                {i.type}, {i.direction}
              </Text>
              <Text>Invited</Text>
              <Text>{formatTime(i.invitedAt)}</Text>
              <Text>Duration</Text>
              <Text>{formatDuration(between(i.answeredAt ?? i.invitedAt, i.endedAt))}</Text>
              <Text>Recorded users</Text>
              <Text>{i.recordedUserIds.join(', ')}</Text>
              {i.dialedNumber ? (
                <>
                  <Text>Dialed</Text>
                  <Text>{i.dialedNumber}</Text>
                </>
              ) : null}
              <Text>Archive</Text>
              <Text>
                {state}; retention {i.retentionClass ?? '—'} until {formatTime(i.expiresAt)}
              </Text>
            </div>
            {props.session.roles.includes('complianceOfficer') && state !== 'deleted' ? (
              <RequestDeletion api={props.api} path={base} />
            ) : null}
          </Card>
        )}
      </Loaded>
      <Title3 as="h2">Playback and integrity</Title3>
      {error !== undefined ? (
        <Text role="alert">Playback is not available: {error}</Text>
      ) : verified === undefined ? (
        <Spinner size="small" label="Fetching and verifying the manifest…" />
      ) : (
        <>
          <Badges verified={verified} participants={listed} />
          <Player
            lanes={labelLanes(verified.lanes, listed)}
            totalInMs={
              Date.parse(verified.manifest.endedAt) - Date.parse(verified.manifest.startedAt)
            }
            gaps={verified.manifest.gaps.map((g) => ({
              ...g,
              startInMs: Date.parse(g.startedAt) - Date.parse(verified.manifest.startedAt),
              endInMs: Date.parse(g.endedAt) - Date.parse(verified.manifest.startedAt),
            }))}
            {...(verified.coverage === undefined ? {} : { coverage: verified.coverage })}
          />
          <Title3 as="h2">Participants</Title3>
          <ul>
            {participants.map((p) => (
              <li key={p.participantId} title={`participant ${p.participantId}`}>
                {participantName(p)}: media sources {p.msis.join(', ') || 'none'}
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

/** The story of one call: every step from invite to archive, in order, with latencies and reasons. */
import {
  Card,
  CardHeader,
  makeStyles,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Text,
  Title2,
  Title3,
  tokens,
} from '@fluentui/react-components';
import type { Api } from '../api';
import { Loaded } from '../components/State';
import { between, formatBytes, formatDuration, formatTime, resultWords } from '../format';
import { useResource } from '../load';
import { gapReasonWords, policyEffect, reasonSentence } from '../reasons';
import { Link } from '../router';
import type { CallView } from '../types';
import { outcomeBadge } from './CallsPage';

const useStyles = makeStyles({
  story: {
    listStyle: 'none',
    padding: 0,
    margin: 0,
    display: 'flex',
    flexDirection: 'column',
    gap: '2px',
  },
  step: {
    display: 'grid',
    gridTemplateColumns: 'minmax(9rem, 14rem) 1fr',
    gap: '12px',
    padding: '8px 12px',
    borderLeft: `3px solid ${tokens.colorBrandStroke1}`,
    '@media (max-width: 720px)': { gridTemplateColumns: '1fr' },
  },
  bad: { borderLeft: `3px solid ${tokens.colorPaletteRedBorder2}` },
  muted: { color: tokens.colorNeutralForeground3 },
  mono: { fontFamily: tokens.fontFamilyMonospace, wordBreak: 'break-all' },
});

interface Step {
  readonly at: string | undefined;
  readonly title: string;
  readonly detail?: string;
  readonly isBad?: boolean;
}

export function storyOf(view: CallView): Step[] {
  const i = view.interaction;
  if (i === undefined) return [];
  const steps: Step[] = [];
  const numbers = [
    i.originNumber && `from ${i.originNumber}`,
    i.dialedNumber && `dialed ${i.dialedNumber}`,
  ]
    .filter(Boolean)
    .join(', ');
  steps.push({
    at: i.invitedAt,
    title: 'Invite received',
    detail: `${i.type} call, ${i.direction}${numbers ? ` (${numbers})` : ''}; recorded user${i.recordedUserIds.length === 1 ? '' : 's'} ${i.recordedUserIds.join(', ') || 'none'} (under a compliance recording policy)${i.region ? `, region ${i.region}` : ''}.`,
  });
  if (i.answeredAt !== undefined)
    steps.push({
      at: i.answeredAt,
      title: 'Answered',
      detail: `${formatDuration(between(i.invitedAt, i.answeredAt))} after the invite${i.mediaHostId ? ` on media host ${i.mediaHostId}` : ''}${i.mediaSessionId ? `, session ${i.mediaSessionId}` : ''}.`,
    });
  for (const change of i.recordingStatusHistory)
    steps.push({
      at: change.at,
      title: `Recording status set: ${change.status}`,
      detail: `${change.isConfirmed ? 'Confirmed by Graph (200)' : 'Not confirmed by Graph'}; ${formatDuration(between(i.answeredAt ?? i.invitedAt, change.at))} after the answer.`,
      isBad: !change.isConfirmed,
    });
  for (const p of view.participants) {
    const who = p.displayName ?? p.identityId ?? p.participantId;
    if (p.joinedAt !== undefined)
      steps.push({
        at: p.joinedAt,
        title: `Joined: ${who}`,
        detail: `${p.identityKind}${p.role ? `, ${p.role}` : ''}; media source ${p.msis.join(', ') || 'none'}.`,
      });
    if (p.leftAt !== undefined) steps.push({ at: p.leftAt, title: `Left: ${who}` });
  }
  for (const gap of i.gaps)
    steps.push({
      at: gap.startedAt,
      title: `Gap: ${gapReasonWords(gap.reason)}`,
      detail: `${formatDuration(between(gap.startedAt, gap.endedAt))} not recorded${gap.streamId ? ` on ${gap.streamId}` : ' on every stream'}.`,
      isBad: true,
    });
  if (i.endedAt !== undefined && i.outcome === 'rejectedBusy')
    steps.push({
      at: i.endedAt,
      title: 'Rejected (busy)',
      detail: 'The recorder declined the invite; Teams applied the policy to the user’s call.',
      isBad: true,
    });
  else if (i.endedAt !== undefined)
    steps.push({
      at: i.endedAt,
      title: 'Terminated',
      detail: `${resultWords(i.resultCode, i.resultSubcode)}${i.resultCode === undefined ? '' : ` (code ${i.resultCode}${i.resultSubcode === undefined ? '' : `, subcode ${i.resultSubcode}`})`}.`,
    });
  if (i.sealedAt !== undefined)
    steps.push({
      at: i.sealedAt,
      title: 'Sealed',
      detail: `Signed manifest, SHA-256 ${i.manifestSha256 ?? 'unknown'}.`,
    });
  if (i.retentionClass !== undefined)
    steps.push({
      at: i.sealedAt,
      title: 'Archived',
      detail: `Retention class ${i.retentionClass}${i.expiresAt ? `, kept until ${formatTime(i.expiresAt)}` : ''}.`,
    });
  return steps.sort((a, b) =>
    a.at === undefined ? 1 : b.at === undefined ? -1 : Date.parse(a.at) - Date.parse(b.at),
  );
}

export function CallDetailPage(props: { api: Api; callId: string }) {
  const styles = useStyles();
  const load = useResource<CallView>(props.api, `/api/calls/${encodeURIComponent(props.callId)}`, {
    refreshInMs: 10_000,
  });
  return (
    <>
      <Link to="calls">← Calls</Link>
      <Title2 as="h1">Call {props.callId}</Title2>
      <Loaded load={load} what="the call">
        {(view) => {
          const i = view.interaction;
          const isShort =
            i !== undefined &&
            i.outcome !== 'recorded' &&
            i.outcome !== 'recordedWithGaps' &&
            i.outcome !== 'inProgress';
          return (
            <>
              {i === undefined ? (
                <Text>
                  The recorder has no interaction record for this call; only the orchestration below
                  is known.
                </Text>
              ) : (
                <Text>
                  {outcomeBadge(i.outcome)} {reasonSentence(i.outcomeReason, i.outcome)}
                </Text>
              )}
              {isShort ? (
                <MessageBar intent="warning">
                  <MessageBarBody>
                    <MessageBarTitle>Why it was not recorded</MessageBarTitle>
                    {reasonSentence(i.outcomeReason, i.outcome)} {policyEffect(i.outcome, i.type)}
                  </MessageBarBody>
                </MessageBar>
              ) : null}
              <Title3 as="h2">Story</Title3>
              <ol className={styles.story} aria-label="What happened, in order">
                {storyOf(view).map((step, index) => (
                  <li
                    key={index}
                    className={step.isBad ? `${styles.step} ${styles.bad}` : styles.step}
                  >
                    <Text className={styles.muted}>{formatTime(step.at)}</Text>
                    <div>
                      <Text block weight="semibold">
                        {step.title}
                      </Text>
                      {step.detail === undefined ? null : <Text block>{step.detail}</Text>}
                    </div>
                  </li>
                ))}
              </ol>
              <Title3 as="h2">Streams</Title3>
              {view.streams.length === 0 ? (
                <Text>No media was stored for this call.</Text>
              ) : (
                <ul>
                  {view.streams.map((s) => (
                    <li key={s.streamId}>
                      {s.streamId}: {s.kind}, {formatBytes(s.bytes)},{' '}
                      {formatDuration(s.durationInMs)}
                    </li>
                  ))}
                </ul>
              )}
              <Card>
                <CardHeader header={<Title3 as="h2">Orchestration</Title3>} />
                {view.orchestration === undefined ? (
                  <Text>
                    No lifecycle orchestration was found (it may have been purged after 30 days).
                  </Text>
                ) : (
                  <>
                    <Text>
                      Status {view.orchestration.runtimeStatus ?? 'unknown'}, started{' '}
                      {formatTime(view.orchestration.createdTime)}, last update{' '}
                      {formatTime(view.orchestration.lastUpdatedTime)}.
                    </Text>
                    {view.orchestration.history === undefined ? null : (
                      <ol aria-label="Orchestration history">
                        {view.orchestration.history.map((h, n) => (
                          <li key={n}>
                            {formatTime(h.Timestamp ?? h.timestamp)} {h.EventType ?? h.eventType}{' '}
                            {h.FunctionName ?? h.Name ?? h.name ?? ''}
                          </li>
                        ))}
                      </ol>
                    )}
                  </>
                )}
              </Card>
              {view.relatedInteractionIds.length === 0 ? null : (
                <Text>Other legs of this call chain: {view.relatedInteractionIds.join(', ')}</Text>
              )}
            </>
          );
        }}
      </Loaded>
    </>
  );
}

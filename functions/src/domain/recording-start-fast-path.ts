/**
 * The recording-status fast path: on `established`, the webhook itself sets Graph's recording
 * status and, only after its 200, tells the media host to persist, inside the same request
 * (waiting for a durable episode and an activity cost seconds of unstored media under load).
 * Once per call leg across instances: a conditional write on the call's row claims it. Graph 429
 * (Retry-After) and 5xx are retried within a bounded budget; the lifecycle learns what happened
 * from the report and does the rest (or all of it, when the fast path gave up).
 */
import { interactionIdForCall } from '@attest/core';
import type { RecordingStartReport } from './call-lifecycle.contract';
import { OrchestratorNames } from './call-lifecycle.contract';
import type {
  GraphCalls,
  GraphResult,
  InteractionRow,
  InteractionStore,
  KnownInteractionRow,
  MediaHostControl,
  MediaSessionRef,
  RecordingStartClaim,
} from './recorder-ports';
import type { StructuredLog } from '../logging/structured-log';
import { errorCodeOf } from '@attest/core';
import { withMediaHostRetries } from './media-host-retries';

export interface RecordingStartOptions {
  /** How long after `established` a retry may still be sent. Default 3000. */
  readonly budgetInMs?: number;
  /** Graph requests at most. Default 4. */
  readonly maxAttempts?: number;
  /** Wait before retrying a 5xx without Retry-After. Default 200. */
  readonly retryDelayInMs?: number;
  /**
   * How long `established` waits for an invite still being answered, possibly on another
   * instance (its row without the answer's media session yet): Graph sends `established` right
   * after the answer, before the invite's handler has written what the fast path needs. Default
   * 1000.
   */
  readonly unfinishedInviteWaitInMs?: number;
  /** Between two reads of such a row. Default 50. */
  readonly unfinishedInvitePollInMs?: number;
}

export interface RecordingStartDeps {
  readonly graph: GraphCalls;
  readonly media: MediaHostControl;
  readonly interactions: InteractionStore;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly options?: RecordingStartOptions;
}

/** `reported`: raise the report to the lifecycle. `notMine`: forward `established` as it came. */
export type RecordingStartResult =
  | { readonly kind: 'reported'; readonly report: RecordingStartReport }
  | { readonly kind: 'notMine'; readonly why: 'taken' | 'ineligible' | 'absent' };

/**
 * The wait before the next attempt after `result`, or undefined to stop: stop on 200, 404 and a
 * non-retryable failure, after `maxAttempts`, or when the retry would be sent after the budget.
 */
export function nextAttemptDelay(
  result: GraphResult,
  attempt: number,
  elapsedInMs: number,
  options: Required<RecordingStartOptions>,
): number | undefined {
  if (attempt >= options.maxAttempts) return undefined;
  const delayInMs =
    result.kind === 'throttled'
      ? result.retryAfterInMs
      : result.kind === 'failed' && result.isRetryable
        ? options.retryDelayInMs * attempt
        : undefined;
  if (delayInMs === undefined || elapsedInMs + delayInMs > options.budgetInMs) return undefined;
  return delayInMs;
}

/** The lifecycle versions that expect the report (V3 and later). */
const FAST_PATH_VERSIONS: ReadonlySet<string | undefined> = new Set([
  OrchestratorNames.callLifecycle,
  OrchestratorNames.callLifecycleV3,
]);

/** Only rows of lifecycles that expect the report, with a media session to persist. */
const isFastPathRow = (row: InteractionRow): boolean =>
  FAST_PATH_VERSIONS.has(row.lifecycleVersion) &&
  row.mediaHostId !== undefined &&
  row.mediaSessionId !== undefined &&
  row.mediaControlUrl !== undefined;

/**
 * An invite still being answered: inserted (`answering`, in progress), its answer's columns not
 * written yet. Its lifecycle will expect the report, so `established` waits for the row instead
 * of going to a lifecycle that would wait for a report nobody sends.
 */
const isInviteUnfinished = (row: InteractionRow): boolean =>
  row.callState === 'answering' && row.outcome === 'inProgress';

/**
 * Claims the recording start; a row whose invite is unfinished is read again until
 * `unfinishedInviteWaitInMs` after `establishedAt` has passed.
 */
async function claimOnceReady(
  deps: RecordingStartDeps,
  call: { readonly tenantId: string; readonly callId: string },
  establishedAt: Date,
  options: Required<RecordingStartOptions>,
  known: KnownInteractionRow | undefined,
): Promise<RecordingStartClaim> {
  const interactionId = interactionIdForCall(call.callId);
  // Counted as well as measured: a clock that stands still (tests) still ends the wait.
  let waitedInMs = 0;
  for (;;) {
    const claim = await deps.interactions.claimRecordingStart(
      call.tenantId,
      interactionId,
      establishedAt.toISOString(),
      isFastPathRow,
      waitedInMs === 0 ? known : undefined,
    );
    // No row means no invite answered anywhere (the answer waits for the insert): nothing to wait for.
    const isPending =
      claim.kind === 'ineligible' && claim.row !== undefined && isInviteUnfinished(claim.row);
    const elapsedInMs = Math.max(waitedInMs, deps.now().getTime() - establishedAt.getTime());
    if (
      !isPending ||
      elapsedInMs + options.unfinishedInvitePollInMs > options.unfinishedInviteWaitInMs
    )
      return claim;
    await deps.sleep(options.unfinishedInvitePollInMs);
    waitedInMs += options.unfinishedInvitePollInMs;
  }
}

export async function startRecordingOnEstablished(
  deps: RecordingStartDeps,
  call: { readonly tenantId: string; readonly callId: string },
  establishedAt: Date,
  log: StructuredLog,
  known?: KnownInteractionRow,
): Promise<RecordingStartResult> {
  const options: Required<RecordingStartOptions> = {
    budgetInMs: deps.options?.budgetInMs ?? 3_000,
    maxAttempts: deps.options?.maxAttempts ?? 4,
    retryDelayInMs: deps.options?.retryDelayInMs ?? 200,
    unfinishedInviteWaitInMs: deps.options?.unfinishedInviteWaitInMs ?? 1_000,
    unfinishedInvitePollInMs: deps.options?.unfinishedInvitePollInMs ?? 50,
  };
  const interactionId = interactionIdForCall(call.callId);
  const claim = await claimOnceReady(deps, call, establishedAt, options, known);
  if (claim.kind !== 'claimed') {
    log.info('recording start left to the lifecycle', { why: claim.kind });
    return { kind: 'notMine', why: claim.kind };
  }
  const { row } = claim;
  const session: MediaSessionRef = {
    hostId: row.mediaHostId ?? '',
    controlUrl: row.mediaControlUrl ?? '',
    sessionId: row.mediaSessionId ?? '',
  };
  let graph: GraphResult;
  for (let attempt = 1; ; attempt += 1) {
    graph = await deps.graph.updateRecordingStatus(
      call.tenantId,
      call.callId,
      'recording',
      `attest:${call.callId}`,
    );
    const elapsedInMs = deps.now().getTime() - establishedAt.getTime();
    const delayInMs = nextAttemptDelay(graph, attempt, elapsedInMs, options);
    if (delayInMs === undefined) break;
    log.warn('updateRecordingStatus retried on the fast path', { kind: graph.kind, delayInMs });
    await deps.sleep(delayInMs);
  }
  const base = { establishedAt: establishedAt.toISOString(), graph };
  if (graph.kind !== 'ok') {
    log.warn('fast path could not set the recording status', { kind: graph.kind });
    return { kind: 'reported', report: base };
  }
  const confirmedAt = deps.now().toISOString();
  let persisted: RecordingStartReport['persisted'];
  try {
    const status = await withMediaHostRetries(
      () => deps.media.startPersisting(session, confirmedAt),
      deps.sleep,
      (attempt, error) =>
        log.warn('persist request retried on the fast path', {
          attempt,
          reason: errorCodeOf(error) ?? 'ATT_INTERNAL',
        }),
    );
    persisted = { ok: true, state: status.state };
  } catch (error) {
    persisted = { ok: false, reason: errorCodeOf(error) ?? 'ATT_INTERNAL' };
  }
  if (persisted.ok) {
    // The live listing shows the call as recording at once; the lifecycle writes nothing here.
    await deps.interactions
      .update(call.tenantId, interactionId, {
        callState: 'established',
        recordingStatusHistory: [{ status: 'recording', at: confirmedAt, isConfirmed: true }],
      })
      .catch(() => log.warn('recording start not written to the interaction'));
    log.info('recording started on the fast path', {
      recordingStatusInMs: Date.parse(confirmedAt) - establishedAt.getTime(),
    });
  } else {
    log.error('media host did not start persisting after the recording status', {
      reason: persisted.reason,
      hostId: session.hostId,
    });
  }
  return { kind: 'reported', report: { ...base, confirmedAt, persisted } };
}

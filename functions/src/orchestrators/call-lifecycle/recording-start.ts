/**
 * The recording start of a `callLifecycle` run and what can stop it: setting Graph's recording
 * status (honouring Retry-After), starting persistence only after Graph's 200, the V3 fast
 * path's report and its bounded wait, forwarding rosters to the media host, and the loss of the
 * media host. Each function is a step of the run; its yield sequence is part of the golden traces.
 */
import type { Task } from 'durable-functions';
import type { ParticipantMapping, RecordingStatus, RecordingStatusChange } from '@attest/core';
import {
  ActivityNames,
  type GraphActivityResult,
  type MediaActivityResult,
  type RecordingStartReport,
  type StartRecordingResult,
} from '../../domain/call-lifecycle.contract';
import { publishStatus, updateInteraction, type LifecycleRun, type Step } from './lifecycle-run';

const DEFAULT_RECORDING_START_WAIT_IN_MS = 15_000;

interface RecordingStart {
  readonly isConfirmed: boolean;
  /** V2 only: the media host's answer to start persisting, asked right after Graph confirmed. */
  readonly persisted?: MediaActivityResult;
}

/**
 * Sets the Graph recording status, honouring Retry-After; returns whether Graph confirmed it.
 * With `andPersist` (V2, status `recording`) each attempt is one `startRecording` activity, and
 * `persisted` is the media host's answer once Graph confirmed.
 */
function* setRecordingStatus(
  run: LifecycleRun,
  status: RecordingStatus,
  andPersist: boolean,
): Generator<Task, RecordingStart, unknown> {
  const { context, input, settings } = run;
  for (let attempt = 1; attempt <= settings.recordingStatusMaxAttempts; attempt += 1) {
    let result: GraphActivityResult;
    let persisted: MediaActivityResult | undefined;
    if (andPersist) {
      const started = (yield context.df.callActivity(ActivityNames.startRecording, {
        tenantId: input.tenantId,
        callId: input.callId,
        session: input.session,
      })) as StartRecordingResult;
      result = started.graph;
      persisted = started.persisted;
    } else {
      result = (yield context.df.callActivity(ActivityNames.updateRecordingStatus, {
        tenantId: input.tenantId,
        callId: input.callId,
        status,
      })) as GraphActivityResult;
    }
    if (result.kind === 'ok')
      return persisted === undefined ? { isConfirmed: true } : { isConfirmed: true, persisted };
    if (result.kind === 'notFound') {
      run.ended ??= { reason: 'callGone' };
      return { isConfirmed: false };
    }
    if (result.kind === 'failed' && !result.isRetryable) break;
    if (attempt === settings.recordingStatusMaxAttempts) break;
    const delayInMs =
      result.kind === 'throttled' ? result.retryAfterInMs : settings.graphRetryDelayInMs;
    run.log.warn('updateRecordingStatus retry scheduled', {
      status,
      attempt,
      delayInMs,
      kind: result.kind,
    });
    yield context.df.createTimer(new Date(run.nowMs() + delayInMs));
  }
  return { isConfirmed: false };
}

/** Sets the recording status and appends the attempt's result to the status history. */
export function* recordStatus(
  run: LifecycleRun,
  status: RecordingStatus,
  andPersist = false,
): Generator<Task, RecordingStart, unknown> {
  const start = yield* setRecordingStatus(run, status, andPersist);
  const change: RecordingStatusChange = {
    status,
    at: run.nowIso(),
    isConfirmed: start.isConfirmed,
  };
  run.state.statusHistory = [...run.state.statusHistory, change];
  return start;
}

/** The media host can no longer record: a gap from now, Graph told `failed`, the row updated. */
export function* onMediaHostLost(run: LifecycleRun, reason: string): Step {
  const { state } = run;
  if (state.isMediaHostLost) return;
  state.isMediaHostLost = true;
  state.failureReason ??= 'mediaHostLost';
  const at = run.nowIso();
  state.gaps = [...state.gaps, { startedAt: at, endedAt: at, reason: 'mediaHostLost' }];
  run.log.error('media host lost: recording cannot continue', {
    reason,
    hostId: run.input.session.hostId,
  });
  // Graph was told `recording` (even if persistence never started): tell it the truth.
  const last = state.statusHistory[state.statusHistory.length - 1];
  if (last?.status === 'recording' && last.isConfirmed) {
    yield* recordStatus(run, 'failed');
  }
  publishStatus(run);
  yield* updateInteraction(run, {
    gaps: state.gaps,
    recordingStatusHistory: state.statusHistory,
    callState: 'failed',
    outcomeReason: reason,
  });
}

/** V1, V2: `established`; the lifecycle starts recording at once. */
export function* onEstablished(run: LifecycleRun, at: string): Step {
  markEstablished(run, at);
  run.log.info('call established');
  yield* startRecording(run);
}

function markEstablished(run: LifecycleRun, at: string): void {
  run.state.phase = 'established';
  run.state.establishedAt = at;
  run.state.lastKeepAliveAt = run.nowIso();
  run.state.lastHealthCheckAt = run.nowIso();
}

/** Sets the recording status and, after Graph's 200, starts persisting (V3: the fallback). */
export function* startRecording(run: LifecycleRun): Step {
  const { context, input, state } = run;
  state.recordingStartDueAt = undefined;
  const start = yield* recordStatus(run, 'recording', run.version.startsRecordingInOneActivity);
  if (start.isConfirmed) {
    // Only after Graph's 200 may the media host store media (V2's activity did it already).
    const persisted =
      start.persisted ??
      ((yield context.df.callActivity(ActivityNames.startPersisting, {
        session: input.session,
        recordingConfirmedAt: run.nowIso(),
      })) as MediaActivityResult);
    if (persisted.ok) {
      state.isRecordingConfirmed = true;
      state.recordingConfirmedAt = run.nowIso();
      run.log.info('recording started');
    } else {
      yield* onMediaHostLost(run, persisted.reason);
    }
  } else if (run.ended === undefined) {
    state.failureReason = 'recordingStatusNotConfirmed';
    run.log.error('recording status not confirmed: media will not be stored');
    yield context.df.callActivity(ActivityNames.abortMediaSession, {
      session: input.session,
      reason: 'recordingStatusNotConfirmed',
    });
  }
  yield* forwardPending(run);
  publishStatus(run);
  yield* updateInteraction(run, {
    callState: state.failureReason === undefined ? 'established' : 'failed',
    recordingStatusHistory: state.statusHistory,
    ...(state.failureReason === undefined ? {} : { outcomeReason: state.failureReason }),
  });
}

/** Forwards the roster that arrived before persistence started, once it has. */
function* forwardPending(run: LifecycleRun): Step {
  const { state } = run;
  if (state.isRecordingConfirmed && state.pendingMappings !== undefined) {
    const mappings = state.pendingMappings;
    state.pendingMappings = undefined;
    yield* forwardParticipants(run, mappings);
  }
}

/** Tells the media host whose media each MSI carries; a failure means the host is lost. */
export function* forwardParticipants(
  run: LifecycleRun,
  mappings: readonly ParticipantMapping[],
): Step {
  const result = (yield run.context.df.callActivity(ActivityNames.forwardParticipants, {
    session: run.input.session,
    mappings,
  })) as MediaActivityResult;
  if (!result.ok) yield* onMediaHostLost(run, result.reason);
}

/** V3: `established` without the fast path's report yet; wait for it a bounded time. */
export function onEstablishedAwaitingReport(run: LifecycleRun, at: string): void {
  markEstablished(run, at);
  // The fast path's budget runs from when the webhook received `established`.
  run.state.recordingStartDueAt = new Date(
    Date.parse(at) + (run.settings.recordingStartWaitInMs ?? DEFAULT_RECORDING_START_WAIT_IN_MS),
  ).toISOString();
  run.log.info('call established; waiting for the recording start report');
}

/** V3: what the webhook's fast path did; if Graph did not confirm, the lifecycle takes over. */
export function* onRecordingStartReport(
  run: LifecycleRun,
  report: RecordingStartReport,
  at: string,
): Step {
  const { state } = run;
  // `at` and `establishedAt` are the webhook's clock, kept in history: replay sees the same.
  if (state.phase === 'awaitingEstablished') {
    // The keepAlive clock starts when the call was established, not when the report came.
    const since = report.establishedAt < run.nowIso() ? report.establishedAt : run.nowIso();
    state.phase = 'established';
    state.establishedAt = report.establishedAt;
    state.lastKeepAliveAt = since;
    state.lastHealthCheckAt = since;
  }
  state.recordingStartDueAt = undefined;
  const { graph } = report;
  if (graph.kind === 'ok') {
    const confirmedAt = report.confirmedAt ?? at;
    state.statusHistory = [
      ...state.statusHistory,
      { status: 'recording', at: confirmedAt, isConfirmed: true },
    ];
    if (report.persisted?.ok === true) {
      state.isRecordingConfirmed = true;
      state.recordingConfirmedAt = confirmedAt;
      run.log.info('recording started by the fast path');
      yield* forwardPending(run);
      publishStatus(run);
    } else {
      yield* onMediaHostLost(
        run,
        report.persisted?.ok === false ? report.persisted.reason : 'persistenceNotStarted',
      );
    }
    return;
  }
  if (graph.kind === 'notFound') {
    run.ended ??= { reason: 'callGone' };
    return;
  }
  // Throttled past the fast path's budget, or failed: honour Retry-After, then do it here.
  const waitInMs = graph.kind === 'throttled' ? graph.retryAfterInMs : 0;
  run.log.warn('fast path did not set the recording status; the lifecycle sets it', {
    kind: graph.kind,
    waitInMs,
  });
  if (waitInMs > 0) yield run.context.df.createTimer(new Date(run.nowMs() + waitInMs));
  yield* startRecording(run);
}

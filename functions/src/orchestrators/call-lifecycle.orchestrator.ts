/**
 * `callLifecycleV3` (and `callLifecycleV2`, `callLifecycleV1`): one instance per recorder call
 * leg, from the answer to the sealed, persisted interaction. Deterministic: yields only `context.df` tasks, reads time
 * only from `currentUtcDateTime`, takes every setting from its input. Each version's yield
 * sequence is frozen by its golden trace test; a change ships as the next version.
 *
 * Versions: V1 starts recording with two activities (`updateRecordingStatus(recording)`, then
 * `startPersisting`). V2 does both in one activity (`startRecording`: persisting still only after
 * Graph's 200), one episode and one hand-off fewer before media is stored. V1 stays registered
 * for instances started before the upgrade. V3 leaves the recording start to the webhook's fast
 * path (`updateRecordingStatus` and persisting inside the `established` request) and learns what
 * it did from a `recordingStart` event; without that report within `recordingStartWaitInMs`, or
 * when Graph did not confirm, it starts recording itself as V2 does. V3 also decides honest
 * outcomes (`noMedia`, the `beforeRecordingStatus` gap) with `decideOutcome`.
 *
 * Events: every notification arrives as the external event `callEvent`. The SDK serves waiters
 * of one name last-in-first-out, so a waiter abandoned when a timer wins can still receive a
 * later event; all waiters are therefore kept and swept for results, and deliveries are deduped
 * by id. Unconsumed events are lost on continueAsNew, so it only happens with no event pending.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import type {
  ParticipantMapping,
  RecordingGap,
  RecordingStatus,
  RecordingStatusChange,
  ResultInfo,
  SealSummary,
} from '@attest/core';
import {
  ActivityNames,
  CALL_EVENT_NAME,
  type CallEvent,
  type CallLifecycleInput,
  type CallLifecycleOutput,
  type CallLifecycleState,
  type GraphActivityResult,
  type MediaActivityResult,
  type RecordingStartReport,
  type SealActivityResult,
  type StartRecordingResult,
} from '../domain/call-lifecycle.contract';
import {
  applyRoster,
  isHealthCheckDue,
  isKeepAliveDue,
  keepAliveRetryBase,
  markLeft,
  nextDueAt,
} from '../domain/call-lifecycle.rules';
import { decideOutcome } from '../domain/call-outcome';
import type { InteractionPatch } from '../domain/recorder-ports';
import { replaySafeLogger } from './replay-safe-logger';

// Constants, so identical on every replay.
const storageRetry = new df.RetryOptions(2_000, 5);
const MAX_REMEMBERED_DELIVERIES = 200;
const DEFAULT_RECORDING_START_WAIT_IN_MS = 15_000;

type Step = Generator<Task, void, unknown>;
interface RecordingStart {
  readonly isConfirmed: boolean;
  /** V2 only: the media host's answer to start persisting, asked right after Graph confirmed. */
  readonly persisted?: MediaActivityResult;
}
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface LifecycleVersion {
  /** V2, V3: `startRecording` sets the Graph status and starts persisting in one activity. */
  readonly startsRecordingInOneActivity: boolean;
  /** V3: the webhook starts recording and reports it; the lifecycle is the fallback. */
  readonly hasRecordingFastPath: boolean;
}

export const callLifecycleV1: OrchestrationHandler = createCallLifecycle({
  startsRecordingInOneActivity: false,
  hasRecordingFastPath: false,
});
export const callLifecycleV2: OrchestrationHandler = createCallLifecycle({
  startsRecordingInOneActivity: true,
  hasRecordingFastPath: false,
});
export const callLifecycleV3: OrchestrationHandler = createCallLifecycle({
  startsRecordingInOneActivity: true,
  hasRecordingFastPath: true,
});
/** The version new calls start. */
export const callLifecycle: OrchestrationHandler = callLifecycleV3;

function createCallLifecycle(version: LifecycleVersion): OrchestrationHandler {
  return function* (
    context: OrchestrationContext,
  ): Generator<Task, CallLifecycleOutput | undefined, unknown> {
    return yield* runCallLifecycle(context, version);
  };
}

function* runCallLifecycle(
  context: OrchestrationContext,
  version: LifecycleVersion,
): Generator<Task, CallLifecycleOutput | undefined, unknown> {
  const input = context.df.getInput<CallLifecycleInput>();
  const { settings } = input;
  const log = replaySafeLogger(context, {
    callId: input.callId,
    interactionId: input.interactionId,
  });
  const nowMs = (): number => context.df.currentUtcDateTime.getTime();
  const nowIso = (): string => context.df.currentUtcDateTime.toISOString();

  const state: Mutable<CallLifecycleState> = input.state
    ? { ...input.state, execution: input.state.execution + 1 }
    : {
        phase: 'awaitingEstablished',
        execution: 0,
        lastKeepAliveAt: nowIso(),
        lastHealthCheckAt: nowIso(),
        isRecordingConfirmed: false,
        isMediaHostLost: false,
        healthFailures: 0,
        statusHistory: [],
        gaps: [],
        participants: {},
        seenDeliveryIds: [],
      };
  const waiters: Task[] = [];
  let eventsHandled = 0;
  let ended:
    { readonly reason: string; readonly resultInfo?: ResultInfo; readonly at?: string } | undefined;

  const publishStatus = (): void => {
    const last = state.statusHistory[state.statusHistory.length - 1];
    context.df.setCustomStatus({
      phase: state.phase,
      recordingStatus: last?.status,
      isRecordingConfirmed: state.isRecordingConfirmed,
      isMediaHostLost: state.isMediaHostLost,
      failureReason: state.failureReason,
      execution: state.execution,
    });
  };

  const takeDeliveredEvents = (): CallEvent[] => {
    const delivered: CallEvent[] = [];
    for (let i = waiters.length - 1; i >= 0; i -= 1) {
      const waiter = waiters[i];
      if (waiter?.isCompleted === true) {
        waiters.splice(i, 1);
        delivered.push(waiter.result as CallEvent);
      }
    }
    // Serving order is LIFO inside the SDK: restore arrival order.
    return delivered.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  };

  function* updateInteraction(patch: InteractionPatch): Step {
    yield context.df.callActivityWithRetry(ActivityNames.updateInteraction, storageRetry, {
      tenantId: input.tenantId,
      interactionId: input.interactionId,
      patch,
    });
  }

  /**
   * Sets the Graph recording status, honouring Retry-After; returns whether Graph confirmed it.
   * With `andPersist` (V2, status `recording`) each attempt is one `startRecording` activity, and
   * `persisted` is the media host's answer once Graph confirmed.
   */
  function* setRecordingStatus(
    status: RecordingStatus,
    andPersist: boolean,
  ): Generator<Task, RecordingStart, unknown> {
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
        ended ??= { reason: 'callGone' };
        return { isConfirmed: false };
      }
      if (result.kind === 'failed' && !result.isRetryable) break;
      if (attempt === settings.recordingStatusMaxAttempts) break;
      const delayInMs =
        result.kind === 'throttled' ? result.retryAfterInMs : settings.graphRetryDelayInMs;
      log.warn('updateRecordingStatus retry scheduled', {
        status,
        attempt,
        delayInMs,
        kind: result.kind,
      });
      yield context.df.createTimer(new Date(nowMs() + delayInMs));
    }
    return { isConfirmed: false };
  }

  function* recordStatus(
    status: RecordingStatus,
    andPersist = false,
  ): Generator<Task, RecordingStart, unknown> {
    const start = yield* setRecordingStatus(status, andPersist);
    const change: RecordingStatusChange = { status, at: nowIso(), isConfirmed: start.isConfirmed };
    state.statusHistory = [...state.statusHistory, change];
    return start;
  }

  function* onMediaHostLost(reason: string): Step {
    if (state.isMediaHostLost) return;
    state.isMediaHostLost = true;
    state.failureReason ??= 'mediaHostLost';
    const at = nowIso();
    state.gaps = [...state.gaps, { startedAt: at, endedAt: at, reason: 'mediaHostLost' }];
    log.error('media host lost: recording cannot continue', {
      reason,
      hostId: input.session.hostId,
    });
    // Graph was told `recording` (even if persistence never started): tell it the truth.
    const last = state.statusHistory[state.statusHistory.length - 1];
    if (last?.status === 'recording' && last.isConfirmed) {
      yield* recordStatus('failed');
    }
    publishStatus();
    yield* updateInteraction({
      gaps: state.gaps,
      recordingStatusHistory: state.statusHistory,
      callState: 'failed',
      outcomeReason: reason,
    });
  }

  function* onEstablished(at: string): Step {
    state.phase = 'established';
    state.establishedAt = at;
    state.lastKeepAliveAt = nowIso();
    state.lastHealthCheckAt = nowIso();
    log.info('call established');
    yield* startRecording();
  }

  /** Sets the recording status and, after Graph's 200, starts persisting (V3: the fallback). */
  function* startRecording(): Step {
    state.recordingStartDueAt = undefined;
    const start = yield* recordStatus('recording', version.startsRecordingInOneActivity);
    if (start.isConfirmed) {
      // Only after Graph's 200 may the media host store media (V2's activity did it already).
      const persisted =
        start.persisted ??
        ((yield context.df.callActivity(ActivityNames.startPersisting, {
          session: input.session,
          recordingConfirmedAt: nowIso(),
        })) as MediaActivityResult);
      if (persisted.ok) {
        state.isRecordingConfirmed = true;
        state.recordingConfirmedAt = nowIso();
        log.info('recording started');
      } else {
        yield* onMediaHostLost(persisted.reason);
      }
    } else if (ended === undefined) {
      state.failureReason = 'recordingStatusNotConfirmed';
      log.error('recording status not confirmed: media will not be stored');
      yield context.df.callActivity(ActivityNames.abortMediaSession, {
        session: input.session,
        reason: 'recordingStatusNotConfirmed',
      });
    }
    yield* forwardPending();
    publishStatus();
    yield* updateInteraction({
      callState: state.failureReason === undefined ? 'established' : 'failed',
      recordingStatusHistory: state.statusHistory,
      ...(state.failureReason === undefined ? {} : { outcomeReason: state.failureReason }),
    });
  }

  function* forwardPending(): Step {
    if (state.isRecordingConfirmed && state.pendingMappings !== undefined) {
      const mappings = state.pendingMappings;
      state.pendingMappings = undefined;
      yield* forward(mappings);
    }
  }

  /** V3: `established` without the fast path's report yet; wait for it a bounded time. */
  function onEstablishedAwaitingReport(at: string): void {
    state.phase = 'established';
    state.establishedAt = at;
    state.lastKeepAliveAt = nowIso();
    state.lastHealthCheckAt = nowIso();
    // The fast path's budget runs from when the webhook received `established`.
    state.recordingStartDueAt = new Date(
      Date.parse(at) + (settings.recordingStartWaitInMs ?? DEFAULT_RECORDING_START_WAIT_IN_MS),
    ).toISOString();
    log.info('call established; waiting for the recording start report');
  }

  /** V3: what the webhook's fast path did; if Graph did not confirm, the lifecycle takes over. */
  function* onRecordingStartReport(report: RecordingStartReport, at: string): Step {
    // `at` and `establishedAt` are the webhook's clock, kept in history: replay sees the same.
    if (state.phase === 'awaitingEstablished') {
      // The keepAlive clock starts when the call was established, not when the report came.
      const since = report.establishedAt < nowIso() ? report.establishedAt : nowIso();
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
        log.info('recording started by the fast path');
        yield* forwardPending();
        publishStatus();
      } else {
        yield* onMediaHostLost(
          report.persisted?.ok === false ? report.persisted.reason : 'persistenceNotStarted',
        );
      }
      return;
    }
    if (graph.kind === 'notFound') {
      ended ??= { reason: 'callGone' };
      return;
    }
    // Throttled past the fast path's budget, or failed: honour Retry-After, then do it here.
    const waitInMs = graph.kind === 'throttled' ? graph.retryAfterInMs : 0;
    log.warn('fast path did not set the recording status; the lifecycle sets it', {
      kind: graph.kind,
      waitInMs,
    });
    if (waitInMs > 0) yield context.df.createTimer(new Date(nowMs() + waitInMs));
    yield* startRecording();
  }

  function* forward(mappings: readonly ParticipantMapping[]): Step {
    const result = (yield context.df.callActivity(ActivityNames.forwardParticipants, {
      session: input.session,
      mappings,
    })) as MediaActivityResult;
    if (!result.ok) yield* onMediaHostLost(result.reason);
  }

  function* handle(event: CallEvent): Step {
    if (state.seenDeliveryIds.includes(event.deliveryId)) return;
    state.seenDeliveryIds = [...state.seenDeliveryIds, event.deliveryId].slice(
      -MAX_REMEMBERED_DELIVERIES,
    );
    eventsHandled += 1;
    switch (event.kind) {
      case 'callState':
        if (event.state === 'terminated') {
          ended = { reason: 'terminated', resultInfo: event.resultInfo, at: event.at };
        } else if (event.state === 'established' && state.phase === 'awaitingEstablished') {
          if (version.hasRecordingFastPath) onEstablishedAwaitingReport(event.at);
          else yield* onEstablished(event.at);
        }
        return;
      case 'recordingStart':
        if (
          version.hasRecordingFastPath &&
          (state.phase === 'awaitingEstablished' || state.recordingStartDueAt !== undefined)
        )
          yield* onRecordingStartReport(event, event.at);
        return;
      case 'roster':
        state.participants = applyRoster(state.participants, event.participants, event.at);
        if (state.phase === 'established' && state.isRecordingConfirmed && !state.isMediaHostLost) {
          yield* forward(event.mappings);
        } else {
          state.pendingMappings = event.mappings;
        }
        return;
      case 'participantLeft':
        state.participants = markLeft(state.participants, event.participantId, event.at);
        return;
      case 'mediaHost':
        if (event.eventKind === 'persistenceFailed') {
          yield* onMediaHostLost(event.reason ?? 'persistenceFailed');
        } else if (event.eventKind === 'connectionLost') {
          log.warn('media connection lost', { hostId: input.session.hostId });
        }
        return;
    }
  }

  function* onTick(): Step {
    if (state.phase === 'awaitingEstablished') {
      ended = { reason: 'notEstablished' };
      log.warn('call not established in time');
      return;
    }
    const now = nowMs();
    if (state.recordingStartDueAt !== undefined && now >= Date.parse(state.recordingStartDueAt)) {
      log.warn('no recording start report in time; the lifecycle sets the recording status');
      yield* startRecording();
    }
    if (isKeepAliveDue(state, settings, now)) {
      const result = (yield context.df.callActivity(ActivityNames.keepAlive, {
        tenantId: input.tenantId,
        callId: input.callId,
      })) as GraphActivityResult;
      if (result.kind === 'ok') {
        // V3 keeps the cadence (the next one is due an interval after this one was due), so
        // episode latency does not stretch the interval; never more than one interval behind.
        state.lastKeepAliveAt = version.hasRecordingFastPath
          ? new Date(
              Math.max(
                Date.parse(state.lastKeepAliveAt) + settings.keepAliveIntervalInMs,
                nowMs() - settings.keepAliveIntervalInMs,
              ),
            ).toISOString()
          : nowIso();
      } else if (result.kind === 'notFound') {
        ended = { reason: 'callGone' };
        return;
      } else {
        // Try again after Retry-After (or the default delay) rather than a full interval.
        const delayInMs =
          result.kind === 'throttled' ? result.retryAfterInMs : settings.graphRetryDelayInMs;
        state.lastKeepAliveAt = keepAliveRetryBase(settings, nowMs(), delayInMs);
        log.warn('keepAlive failed', { kind: result.kind, delayInMs });
      }
    }
    if (isHealthCheckDue(state, settings, now)) {
      const health = (yield context.df.callActivity(ActivityNames.checkMediaSession, {
        session: input.session,
      })) as MediaActivityResult;
      state.lastHealthCheckAt = nowIso();
      if (health.ok && health.state !== 'failed' && health.state !== 'aborted') {
        state.healthFailures = 0;
      } else {
        state.healthFailures += 1;
        const reason = health.ok ? `session${health.state ?? ''}` : health.reason;
        if (state.healthFailures >= settings.mediaHealthFailureThreshold || health.ok) {
          yield* onMediaHostLost(reason);
        }
      }
    }
  }

  const isTickDue = (): boolean =>
    state.phase === 'established' &&
    ((state.recordingStartDueAt !== undefined &&
      nowMs() >= Date.parse(state.recordingStartDueAt)) ||
      isKeepAliveDue(state, settings, nowMs()) ||
      isHealthCheckDue(state, settings, nowMs()));

  const wakeAt = (): Date => {
    const due = nextDueAt(state, settings, input.answeredAt, nowMs());
    return state.recordingStartDueAt !== undefined &&
      Date.parse(state.recordingStartDueAt) < due.getTime()
      ? new Date(Math.max(Date.parse(state.recordingStartDueAt), nowMs()))
      : due;
  };

  publishStatus();
  while (ended === undefined) {
    let events = takeDeliveredEvents();
    if (events.length === 0) {
      if (eventsHandled >= settings.maxEventsPerExecution && state.phase === 'established') {
        log.info('continuing as new', { eventsHandled, execution: state.execution });
        context.df.continueAsNew({ ...input, state });
        return undefined;
      }
      const waiter = context.df.waitForExternalEvent(CALL_EVENT_NAME);
      waiters.push(waiter);
      const timer = context.df.createTimer(wakeAt());
      const winner = yield context.df.Task.any([waiter, timer]);
      if (winner === timer) {
        // V3: an event delivered in the same episode (`terminated`) goes first, so no keepAlive
        // is sent for a call that has already ended.
        if (version.hasRecordingFastPath)
          for (const event of takeDeliveredEvents()) {
            yield* handle(event);
            if (ended !== undefined) break;
          }
        if (ended !== undefined) continue;
        eventsHandled += 1;
        yield* onTick();
        continue;
      }
      timer.cancel();
      events = takeDeliveredEvents();
    }
    for (const event of events) {
      yield* handle(event);
      if (ended !== undefined) break;
    }
    // V3: a steady stream of events (roster updates every few hundred ms in a busy meeting) would
    // always win the race against the timer and starve keepAlive; do what is due after them.
    if (version.hasRecordingFastPath && ended === undefined && isTickDue()) {
      eventsHandled += 1;
      yield* onTick();
    }
  }
  return yield* finish(ended);

  /** V1, V2: gaps and outcome as those versions shipped them. */
  function legacyOutcome(
    endReason: string,
    seal: SealSummary | undefined,
    endedAt: string,
  ): { output: CallLifecycleOutput; gaps: readonly RecordingGap[] } {
    const ownGaps: RecordingGap[] = state.gaps.map((gap) =>
      gap.reason === 'mediaHostLost' && gap.endedAt === gap.startedAt ? { ...gap, endedAt } : gap,
    );
    const gaps = [...ownGaps, ...(seal?.gaps ?? [])];
    if (state.phase === 'awaitingEstablished')
      return {
        gaps,
        output: {
          outcome: 'failed',
          outcomeReason: endReason === 'terminated' ? 'endedBeforeEstablished' : endReason,
        },
      };
    if (state.failureReason !== undefined || seal === undefined)
      return {
        gaps,
        output: { outcome: 'failed', outcomeReason: state.failureReason ?? endReason },
      };
    return { gaps, output: { outcome: gaps.length > 0 ? 'recordedWithGaps' : 'recorded' } };
  }

  function* finish(end: {
    readonly reason: string;
    readonly resultInfo?: ResultInfo;
    readonly at?: string;
  }): Generator<Task, CallLifecycleOutput, unknown> {
    let seal: SealSummary | undefined;
    if (state.isRecordingConfirmed) {
      const sealed = (yield context.df.callActivity(ActivityNames.sealRecording, {
        session: input.session,
      })) as SealActivityResult;
      if (sealed.ok) seal = sealed.summary;
      else {
        state.failureReason ??= 'sealFailed';
        log.error('seal failed', { reason: sealed.reason });
      }
    } else if (state.failureReason === undefined) {
      yield context.df.callActivity(ActivityNames.abortMediaSession, {
        session: input.session,
        reason: end.reason,
      });
    }
    // V3: the webhook's receipt of `terminated` when later (events are stamped on receipt).
    const endedAt =
      version.hasRecordingFastPath && end.at !== undefined && end.at > nowIso() ? end.at : nowIso();
    let output: CallLifecycleOutput;
    let gaps: readonly RecordingGap[];
    if (version.hasRecordingFastPath) {
      const decided = decideOutcome({
        establishedAt: state.phase === 'established' ? state.establishedAt : undefined,
        recordingConfirmedAt: state.isRecordingConfirmed ? state.recordingConfirmedAt : undefined,
        endReason: end.reason,
        failureReason: state.failureReason,
        endedAt,
        lifecycleGaps: state.gaps,
        seal,
      });
      gaps = decided.gaps;
      output =
        decided.outcome === 'recorded' || decided.outcome === 'recordedWithGaps'
          ? { outcome: decided.outcome }
          : { outcome: decided.outcome, outcomeReason: decided.outcomeReason };
    } else {
      ({ output, gaps } = legacyOutcome(end.reason, seal, endedAt));
    }
    output = {
      ...output,
      resultCode: end.resultInfo?.code,
      resultSubcode: end.resultInfo?.subcode,
    };
    yield context.df.callActivityWithRetry(ActivityNames.finalizeInteraction, storageRetry, {
      tenantId: input.tenantId,
      interactionId: input.interactionId,
      patch: {
        outcome: output.outcome,
        outcomeReason: output.outcomeReason,
        endedAt,
        resultCode: output.resultCode,
        resultSubcode: output.resultSubcode,
        recordingStatusHistory: state.statusHistory,
        gaps,
        callState: 'ended',
        ...(seal === undefined
          ? {}
          : {
              manifestBlobName: seal.manifestBlobName,
              manifestSha256: seal.manifestSha256,
              sealedAt: endedAt,
            }),
      },
      participants: Object.values(state.participants),
      seal,
    });
    log.info('call finished', {
      outcome: output.outcome,
      reason: output.outcomeReason ?? end.reason,
    });
    return output;
  }
}

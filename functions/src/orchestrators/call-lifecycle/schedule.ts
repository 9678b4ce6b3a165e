/**
 * The timed work of a `callLifecycle` run: when it wakes, and what it does then (the V3 fallback
 * recording start, keepAlive every interval, the media session's health check). The due times are
 * the pure rules of `domain/call-lifecycle.rules.ts`; this module yields the activities.
 */
import {
  ActivityNames,
  type GraphActivityResult,
  type MediaActivityResult,
} from '../../domain/call-lifecycle.contract';
import {
  isHealthCheckDue,
  isKeepAliveDue,
  keepAliveRetryBase,
  nextDueAt,
} from '../../domain/call-lifecycle.rules';
import type { LifecycleRun, Step } from './lifecycle-run';
import { onMediaHostLost, startRecording } from './recording-start';

/** Does what is due now: the V3 fallback recording start, a keepAlive, a health check. */
export function* onTick(run: LifecycleRun): Step {
  const { context, input, settings, state } = run;
  if (state.phase === 'awaitingEstablished') {
    run.ended = { reason: 'notEstablished' };
    run.log.warn('call not established in time');
    return;
  }
  const now = run.nowMs();
  if (state.recordingStartDueAt !== undefined && now >= Date.parse(state.recordingStartDueAt)) {
    run.log.warn('no recording start report in time; the lifecycle sets the recording status');
    yield* startRecording(run);
  }
  if (isKeepAliveDue(state, settings, now)) {
    const result = (yield context.df.callActivity(ActivityNames.keepAlive, {
      tenantId: input.tenantId,
      callId: input.callId,
    })) as GraphActivityResult;
    if (result.kind === 'ok') {
      // V3 keeps the cadence (the next one is due an interval after this one was due), so
      // episode latency does not stretch the interval; never more than one interval behind.
      state.lastKeepAliveAt = run.version.hasRecordingFastPath
        ? new Date(
            Math.max(
              Date.parse(state.lastKeepAliveAt) + settings.keepAliveIntervalInMs,
              run.nowMs() - settings.keepAliveIntervalInMs,
            ),
          ).toISOString()
        : run.nowIso();
    } else if (result.kind === 'notFound') {
      run.ended = { reason: 'callGone' };
      return;
    } else {
      // Try again after Retry-After (or the default delay) rather than a full interval.
      const delayInMs =
        result.kind === 'throttled' ? result.retryAfterInMs : settings.graphRetryDelayInMs;
      state.lastKeepAliveAt = keepAliveRetryBase(settings, run.nowMs(), delayInMs);
      run.log.warn('keepAlive failed', { kind: result.kind, delayInMs });
    }
  }
  if (isHealthCheckDue(state, settings, now)) {
    const health = (yield context.df.callActivity(ActivityNames.checkMediaSession, {
      session: input.session,
    })) as MediaActivityResult;
    state.lastHealthCheckAt = run.nowIso();
    if (health.ok && health.state !== 'failed' && health.state !== 'aborted') {
      state.healthFailures = 0;
    } else {
      state.healthFailures += 1;
      const reason = health.ok ? `session${health.state ?? ''}` : health.reason;
      if (state.healthFailures >= settings.mediaHealthFailureThreshold || health.ok) {
        yield* onMediaHostLost(run, reason);
      }
    }
  }
}

/** Whether timed work is due now (V3 checks after a burst of events, which beat the timer). */
export function isTickDue(run: LifecycleRun): boolean {
  const { state, settings } = run;
  return (
    state.phase === 'established' &&
    ((state.recordingStartDueAt !== undefined &&
      run.nowMs() >= Date.parse(state.recordingStartDueAt)) ||
      isKeepAliveDue(state, settings, run.nowMs()) ||
      isHealthCheckDue(state, settings, run.nowMs()))
  );
}

/** When the run's timer should fire: the earliest due work. */
export function wakeAt(run: LifecycleRun): Date {
  const { state } = run;
  const due = nextDueAt(state, run.settings, run.input.answeredAt, run.nowMs());
  return state.recordingStartDueAt !== undefined &&
    Date.parse(state.recordingStartDueAt) < due.getTime()
    ? new Date(Math.max(Date.parse(state.recordingStartDueAt), run.nowMs()))
    : due;
}

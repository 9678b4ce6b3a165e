/**
 * `callLifecycleV4` (and `V3`, `V2`, `V1`): one instance per recorder call
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
 * outcomes (`noMedia`, the `beforeRecordingStatus` gap) with `decideOutcome`. V4 also acts on
 * `hostStarted`, raised when the function app starts: it asks Graph for the call and ends at once
 * when the call ended while the app was down (its `terminated` was lost), instead of at the next
 * keepAlive.
 *
 * Events: every notification arrives as the external event `callEvent`. The SDK serves waiters
 * of one name last-in-first-out, so a waiter abandoned when a timer wins can still receive a
 * later event; all waiters are therefore kept and swept for results, and deliveries are deduped
 * by id. Unconsumed events are lost on continueAsNew, so it only happens with no event pending.
 *
 * This module holds the versions, the event loop and the event dispatch; the steps are in
 * `call-lifecycle/`: `lifecycle-run.ts` (a run's state and helpers), `recording-start.ts`,
 * `schedule.ts` (keepAlive, health checks, when to wake), `call-check.ts` (V4's lookup of the call
 * when the app started) and `finish.ts` (seal and outcome).
 */
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import {
  CALL_EVENT_NAME,
  type CallEvent,
  type CallLifecycleOutput,
} from '../domain/call-lifecycle.contract';
import { applyRoster, markLeft } from '../domain/call-lifecycle.rules';
import { presencesWithJoin, presencesWithLeave } from '../domain/recorded-user-joins';
import { onHostStarted } from './call-lifecycle/call-check';
import { finish } from './call-lifecycle/finish';
import {
  startRun,
  publishStatus,
  type LifecycleRun,
  type LifecycleVersion,
  type Step,
} from './call-lifecycle/lifecycle-run';
import {
  forwardParticipants,
  onEstablished,
  onEstablishedAwaitingReport,
  onMediaHostLost,
  onRecordingStartReport,
} from './call-lifecycle/recording-start';
import { isTickDue, onTick, wakeAt } from './call-lifecycle/schedule';

const MAX_REMEMBERED_DELIVERIES = 200;

export const callLifecycleV1: OrchestrationHandler = createCallLifecycle({
  startsRecordingInOneActivity: false,
  hasRecordingFastPath: false,
  checksCallWhenHostStarts: false,
});
export const callLifecycleV2: OrchestrationHandler = createCallLifecycle({
  startsRecordingInOneActivity: true,
  hasRecordingFastPath: false,
  checksCallWhenHostStarts: false,
});
export const callLifecycleV3: OrchestrationHandler = createCallLifecycle({
  startsRecordingInOneActivity: true,
  hasRecordingFastPath: true,
  checksCallWhenHostStarts: false,
});
export const callLifecycleV4: OrchestrationHandler = createCallLifecycle({
  startsRecordingInOneActivity: true,
  hasRecordingFastPath: true,
  checksCallWhenHostStarts: true,
});
/** The version new calls start. */
export const callLifecycle: OrchestrationHandler = callLifecycleV4;

function createCallLifecycle(version: LifecycleVersion): OrchestrationHandler {
  return function* (
    context: OrchestrationContext,
  ): Generator<Task, CallLifecycleOutput | undefined, unknown> {
    return yield* runCallLifecycle(context, version);
  };
}

/** Completed waiters' events, in arrival order; the waiters are removed. */
function takeDeliveredEvents(waiters: Task[]): CallEvent[] {
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
}

/** Handles one delivered event; a repeated delivery id changes nothing. */
function* handle(run: LifecycleRun, event: CallEvent): Step {
  const { state, version } = run;
  state.seenDeliveryIds = [...state.seenDeliveryIds, event.deliveryId].slice(
    -MAX_REMEMBERED_DELIVERIES,
  );
  switch (event.kind) {
    case 'meeting':
      state.meeting = { ...state.meeting, ...event.meeting };
      return;
    case 'callState':
      if (event.meeting !== undefined) state.meeting = { ...state.meeting, ...event.meeting };
      if (event.state === 'terminated') {
        run.ended = { reason: 'terminated', resultInfo: event.resultInfo, at: event.at };
      } else if (event.state === 'established' && state.phase === 'awaitingEstablished') {
        if (version.hasRecordingFastPath) onEstablishedAwaitingReport(run, event.at);
        else yield* onEstablished(run, event.at);
      }
      return;
    case 'recordingStart':
      if (
        version.hasRecordingFastPath &&
        (state.phase === 'awaitingEstablished' || state.recordingStartDueAt !== undefined)
      )
        yield* onRecordingStartReport(run, event, event.at);
      return;
    case 'roster':
      state.participants = applyRoster(state.participants, event.participants, event.at);
      if (state.phase === 'established' && state.isRecordingConfirmed && !state.isMediaHostLost) {
        yield* forwardParticipants(run, event.mappings);
      } else {
        state.pendingMappings = event.mappings;
      }
      return;
    case 'participantLeft':
      state.participants = markLeft(state.participants, event.participantId, event.at);
      state.joinedRecordedUsers =
        presencesWithLeave(state.joinedRecordedUsers, event.participantId, event.at) ??
        state.joinedRecordedUsers;
      return;
    case 'recordedUserJoined':
      state.joinedRecordedUsers =
        presencesWithJoin(state.joinedRecordedUsers, event, event.at) ?? state.joinedRecordedUsers;
      return;
    case 'hostStarted':
      // Earlier versions ignore it (the start-up sweep raises it to V4 instances only).
      if (version.checksCallWhenHostStarts) yield* onHostStarted(run);
      return;
    case 'mediaHost':
      if (event.eventKind === 'persistenceFailed') {
        yield* onMediaHostLost(run, event.reason ?? 'persistenceFailed');
      } else if (event.eventKind === 'connectionLost') {
        run.log.warn('media connection lost', { hostId: run.input.session.hostId });
      }
      return;
  }
}

function* runCallLifecycle(
  context: OrchestrationContext,
  version: LifecycleVersion,
): Generator<Task, CallLifecycleOutput | undefined, unknown> {
  const run = startRun(context, version);
  const { state, settings } = run;
  const waiters: Task[] = [];
  let eventsHandled = 0;
  const handleNew = function* (event: CallEvent): Step {
    if (state.seenDeliveryIds.includes(event.deliveryId)) return;
    eventsHandled += 1;
    yield* handle(run, event);
  };

  publishStatus(run);
  while (run.ended === undefined) {
    let events = takeDeliveredEvents(waiters);
    if (events.length === 0) {
      if (eventsHandled >= settings.maxEventsPerExecution && state.phase === 'established') {
        run.log.info('continuing as new', { eventsHandled, execution: state.execution });
        context.df.continueAsNew({ ...run.input, state });
        return undefined;
      }
      const waiter = context.df.waitForExternalEvent(CALL_EVENT_NAME);
      waiters.push(waiter);
      const timer = context.df.createTimer(wakeAt(run));
      const winner = yield context.df.Task.any([waiter, timer]);
      if (winner === timer) {
        // V3: an event delivered in the same episode (`terminated`) goes first, so no keepAlive
        // is sent for a call that has already ended.
        if (version.hasRecordingFastPath)
          for (const event of takeDeliveredEvents(waiters)) {
            yield* handleNew(event);
            if (run.ended !== undefined) break;
          }
        if (run.ended !== undefined) continue;
        eventsHandled += 1;
        yield* onTick(run);
        continue;
      }
      timer.cancel();
      events = takeDeliveredEvents(waiters);
    }
    for (const event of events) {
      yield* handleNew(event);
      if (run.ended !== undefined) break;
    }
    // V3: a steady stream of events (roster updates every few hundred ms in a busy meeting) would
    // always win the race against the timer and starve keepAlive; do what is due after them.
    if (version.hasRecordingFastPath && run.ended === undefined && isTickDue(run)) {
      eventsHandled += 1;
      yield* onTick(run);
    }
  }
  return yield* finish(run, run.ended);
}

/** The only place the recorder's functions are registered with the Functions host. */
import { app, type HttpHandler, type TimerHandler } from '@azure/functions';
import * as df from 'durable-functions';
import type { RecorderActivities } from '../activities/recorder.activities';
import { ActivityNames, OrchestratorNames } from '../domain/call-lifecycle.contract';
import {
  callLifecycleV1,
  callLifecycleV2,
  callLifecycleV3,
  callLifecycleV4,
} from '../orchestrators/call-lifecycle.orchestrator';
import { DELIVERY_LOG_SWEEP_SCHEDULE } from '../timers/delivery-log-sweep.timer';
import { LIFECYCLE_CALL_CHECK_SCHEDULE } from '../timers/lifecycle-call-check.timer';
import { LIFECYCLE_HISTORY_PURGE_SCHEDULE } from '../timers/lifecycle-history-purge.timer';

export interface RecorderHttpHandlers {
  readonly calling: HttpHandler;
  readonly heartbeat: HttpHandler;
  readonly mediaHostEvents: HttpHandler;
  readonly listMediaHosts: HttpHandler;
  readonly drainMediaHost: HttpHandler;
  readonly getCall: HttpHandler;
  readonly listCalls: HttpHandler;
  /** PCI pause and resume of a live call's recording. */
  readonly pauseRecording: HttpHandler;
  readonly resumeRecording: HttpHandler;
  readonly deliveryLogSweep: TimerHandler;
  readonly lifecycleHistoryPurge: TimerHandler;
  /** At every host start: running lifecycles ask Graph whether their call ended meanwhile. */
  readonly lifecycleCallCheck: TimerHandler;
}

export function registerRecorder(
  handlers: RecorderHttpHandlers,
  activities: RecorderActivities,
): void {
  const client = [df.input.durableClient()];
  // Authentication is done in the handlers (JWT / control key), hence `anonymous`.
  app.http('recorderCalling', {
    route: 'calling',
    methods: ['POST'],
    authLevel: 'anonymous',
    extraInputs: client,
    handler: handlers.calling,
  });
  app.http('recorderCallingCallback', {
    route: 'calling/{callId}',
    methods: ['POST'],
    authLevel: 'anonymous',
    extraInputs: client,
    handler: handlers.calling,
  });
  app.http('recorderMediaHostHeartbeat', {
    route: 'mediahosts/heartbeat',
    methods: ['POST'],
    authLevel: 'anonymous',
    handler: handlers.heartbeat,
  });
  app.http('recorderMediaHostEvents', {
    route: 'mediahosts/events',
    methods: ['POST'],
    authLevel: 'anonymous',
    extraInputs: client,
    handler: handlers.mediaHostEvents,
  });
  app.http('recorderListMediaHosts', {
    route: 'mediahosts',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: handlers.listMediaHosts,
  });
  app.http('recorderDrainMediaHost', {
    route: 'mediahosts/{hostId}/drain',
    methods: ['POST'],
    authLevel: 'anonymous',
    handler: handlers.drainMediaHost,
  });
  app.http('recorderGetCall', {
    route: 'calls/{callId}',
    methods: ['GET'],
    authLevel: 'anonymous',
    extraInputs: client,
    handler: handlers.getCall,
  });
  app.http('recorderListCalls', {
    route: 'calls',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: handlers.listCalls,
  });

  app.http('recorderPauseRecording', {
    route: 'calls/{callId}/pause',
    methods: ['POST'],
    authLevel: 'anonymous',
    handler: handlers.pauseRecording,
  });
  app.http('recorderResumeRecording', {
    route: 'calls/{callId}/resume',
    methods: ['POST'],
    authLevel: 'anonymous',
    handler: handlers.resumeRecording,
  });

  app.timer('recorderDeliveryLogSweep', {
    schedule: DELIVERY_LOG_SWEEP_SCHEDULE,
    handler: handlers.deliveryLogSweep,
  });
  app.timer('recorderLifecycleHistoryPurge', {
    schedule: LIFECYCLE_HISTORY_PURGE_SCHEDULE,
    extraInputs: client,
    handler: handlers.lifecycleHistoryPurge,
  });
  app.timer('recorderLifecycleCallCheck', {
    schedule: LIFECYCLE_CALL_CHECK_SCHEDULE,
    // The point of it: notifications sent while the app was down are never redelivered.
    runOnStartup: true,
    extraInputs: client,
    handler: handlers.lifecycleCallCheck,
  });

  df.app.orchestration(OrchestratorNames.callLifecycle, callLifecycleV4);
  // Instances started before V4 replay with the code that started them.
  df.app.orchestration(OrchestratorNames.callLifecycleV3, callLifecycleV3);
  df.app.orchestration(OrchestratorNames.callLifecycleV2, callLifecycleV2);
  df.app.orchestration(OrchestratorNames.callLifecycleV1, callLifecycleV1);
  df.app.activity(ActivityNames.startRecording, {
    handler: (input: Parameters<RecorderActivities['startRecording']>[0]) =>
      activities.startRecording(input),
  });
  df.app.activity(ActivityNames.updateRecordingStatus, {
    handler: (input: Parameters<RecorderActivities['updateRecordingStatus']>[0]) =>
      activities.updateRecordingStatus(input),
  });
  df.app.activity(ActivityNames.keepAlive, {
    handler: (input: Parameters<RecorderActivities['keepAlive']>[0]) => activities.keepAlive(input),
  });
  df.app.activity(ActivityNames.getCallState, {
    handler: (input: Parameters<RecorderActivities['getCallState']>[0]) =>
      activities.getCallState(input),
  });
  df.app.activity(ActivityNames.startPersisting, {
    handler: (input: Parameters<RecorderActivities['startPersisting']>[0]) =>
      activities.startPersisting(input),
  });
  df.app.activity(ActivityNames.forwardParticipants, {
    handler: (input: Parameters<RecorderActivities['forwardParticipants']>[0]) =>
      activities.forwardParticipants(input),
  });
  df.app.activity(ActivityNames.checkMediaSession, {
    handler: (input: Parameters<RecorderActivities['checkMediaSession']>[0]) =>
      activities.checkMediaSession(input),
  });
  df.app.activity(ActivityNames.abortMediaSession, {
    handler: (input: Parameters<RecorderActivities['abortMediaSession']>[0]) =>
      activities.abortMediaSession(input),
  });
  df.app.activity(ActivityNames.sealRecording, {
    handler: (input: Parameters<RecorderActivities['sealRecording']>[0]) =>
      activities.sealRecording(input),
  });
  df.app.activity(ActivityNames.updateInteraction, {
    handler: (input: Parameters<RecorderActivities['updateInteraction']>[0]) =>
      activities.updateInteraction(input),
  });
  df.app.activity(ActivityNames.finalizeInteraction, {
    handler: (input: Parameters<RecorderActivities['finalizeInteraction']>[0]) =>
      activities.finalizeInteraction(input),
  });
}

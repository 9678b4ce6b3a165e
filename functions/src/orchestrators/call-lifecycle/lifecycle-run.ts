/**
 * One run (episode replay) of a `callLifecycle` orchestration: its input, the state it carries
 * across `continueAsNew`, how the call ended once known, and the small helpers every step uses
 * (time from `currentUtcDateTime`, the custom status, interaction updates). The steps in this
 * folder take the run and mutate its state; the orchestrator module wires them into the loop.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ResultInfo } from '@attest/core';
import {
  ActivityNames,
  type CallLifecycleInput,
  type CallLifecycleSettings,
  type CallLifecycleState,
} from '../../domain/call-lifecycle.contract';
import type { InteractionPatch } from '../../domain/recorder-ports';
import { replaySafeLogger, type OrchestrationLogger } from '../replay-safe-logger';

// Constants, so identical on every replay.
export const storageRetry = new df.RetryOptions(2_000, 5);

export type Step = Generator<Task, void, unknown>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Which shipped version is running; each flag is one behaviour a later version added. */
export interface LifecycleVersion {
  /** V2, V3: `startRecording` sets the Graph status and starts persisting in one activity. */
  readonly startsRecordingInOneActivity: boolean;
  /** V3: the webhook starts recording and reports it; the lifecycle is the fallback. */
  readonly hasRecordingFastPath: boolean;
  /** V4: asks Graph for the call when the function app started (`hostStarted`). */
  readonly checksCallWhenHostStarts: boolean;
}

/** Why and when the call ended, once it has. */
export interface CallEnd {
  readonly reason: string;
  readonly resultInfo?: ResultInfo;
  /** V3: when the webhook received `terminated`, ISO 8601. */
  readonly at?: string;
}

export interface LifecycleRun {
  readonly context: OrchestrationContext;
  readonly version: LifecycleVersion;
  readonly input: CallLifecycleInput;
  readonly settings: CallLifecycleSettings;
  readonly log: OrchestrationLogger;
  readonly state: Mutable<CallLifecycleState>;
  ended: CallEnd | undefined;
  nowMs(): number;
  nowIso(): string;
}

/** The run of this episode: the input's state after `continueAsNew`, else a fresh one. */
export function startRun(context: OrchestrationContext, version: LifecycleVersion): LifecycleRun {
  const input = context.df.getInput<CallLifecycleInput>();
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
  return {
    context,
    version,
    input,
    settings: input.settings,
    log: replaySafeLogger(context, { callId: input.callId, interactionId: input.interactionId }),
    state,
    ended: undefined,
    nowMs: () => context.df.currentUtcDateTime.getTime(),
    nowIso,
  };
}

/** Publishes the run's state as the orchestration's custom status (shown by status queries). */
export function publishStatus(run: LifecycleRun): void {
  const { state } = run;
  const last = state.statusHistory[state.statusHistory.length - 1];
  run.context.df.setCustomStatus({
    phase: state.phase,
    recordingStatus: last?.status,
    isRecordingConfirmed: state.isRecordingConfirmed,
    isMediaHostLost: state.isMediaHostLost,
    failureReason: state.failureReason,
    execution: state.execution,
  });
}

/** Patches the interaction row (retried: storage errors are transient). */
export function* updateInteraction(run: LifecycleRun, patch: InteractionPatch): Step {
  yield run.context.df.callActivityWithRetry(ActivityNames.updateInteraction, storageRetry, {
    tenantId: run.input.tenantId,
    interactionId: run.input.interactionId,
    patch,
  });
}

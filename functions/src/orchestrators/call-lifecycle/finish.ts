/**
 * The end of a `callLifecycle` run: seal the recording (or abort a session that never
 * recorded), decide the outcome and gaps (`domain/call-outcome.ts`, by version), and hand the final
 * interaction record (`domain/final-interaction.ts`) to `finalizeInteraction`.
 */
import type { Task } from 'durable-functions';
import type { SealSummary } from '@attest/core';
import {
  ActivityNames,
  type CallLifecycleOutput,
  type SealActivityResult,
  type SealInput,
} from '../../domain/call-lifecycle.contract';
import { decideLegacyOutcome, decideOutcome, type CallOutcome } from '../../domain/call-outcome';
import { finalInteractionRecord } from '../../domain/final-interaction';
import { recordedUsersOf } from '../../domain/recorded-user-joins';
import type { InteractionPatch } from '../../domain/recorder-ports';
import { storageRetry, type CallEnd, type LifecycleRun } from './lifecycle-run';

/** Seals or aborts, decides the outcome, finalises the interaction; returns the output. */
export function* finish(
  run: LifecycleRun,
  end: CallEnd,
): Generator<Task, CallLifecycleOutput, unknown> {
  const { context, input, state } = run;
  let seal: SealSummary | undefined;
  if (state.isRecordingConfirmed) {
    const sealInput: SealInput = {
      session: input.session,
      recording: {
        tenantId: input.tenantId,
        interactionId: input.interactionId,
        callId: input.callId,
      },
    };
    const sealed = (yield context.df.callActivity(
      ActivityNames.sealRecording,
      sealInput,
    )) as SealActivityResult;
    if (sealed.ok) {
      seal = sealed.summary;
      // Lost without the lifecycle noticing before the end: the seal's gap says from when.
      if (sealed.adoptedFromLostHost === true) state.failureReason ??= 'mediaHostLost';
    } else {
      state.failureReason ??= 'sealFailed';
      run.log.error('seal failed', { reason: sealed.reason });
    }
  } else if (state.failureReason === undefined) {
    yield context.df.callActivity(ActivityNames.abortMediaSession, {
      session: input.session,
      reason: end.reason,
    });
  }
  const { hasRecordingFastPath } = run.version;
  // V3: the webhook's receipt of `terminated` when later (events are stamped on receipt).
  const endedAt =
    hasRecordingFastPath && end.at !== undefined && end.at > run.nowIso() ? end.at : run.nowIso();
  const decided: CallOutcome = hasRecordingFastPath
    ? decideOutcome({
        establishedAt: state.phase === 'established' ? state.establishedAt : undefined,
        recordingConfirmedAt: state.isRecordingConfirmed ? state.recordingConfirmedAt : undefined,
        endReason: end.reason,
        failureReason: state.failureReason,
        endedAt,
        lifecycleGaps: state.gaps,
        seal,
      })
    : decideLegacyOutcome({
        isEstablished: state.phase === 'established',
        endReason: end.reason,
        failureReason: state.failureReason,
        endedAt,
        lifecycleGaps: state.gaps,
        seal,
      });
  const output: CallLifecycleOutput = {
    ...(decided.outcome === 'recorded' || decided.outcome === 'recordedWithGaps'
      ? { outcome: decided.outcome }
      : { outcome: decided.outcome, outcomeReason: decided.outcomeReason }),
    resultCode: end.resultInfo?.code,
    resultSubcode: end.resultInfo?.subcode,
  };
  const patch: InteractionPatch = {
    outcome: output.outcome,
    // A leg whose lost host's media was adopted keeps why it has gaps.
    outcomeReason:
      output.outcomeReason ??
      (decided.outcome === 'recordedWithGaps' ? state.failureReason : undefined),
    endedAt,
    resultCode: output.resultCode,
    resultSubcode: output.resultSubcode,
    recordingStatusHistory: state.statusHistory,
    gaps: decided.gaps,
    callState: 'ended',
    // Users who joined later (participantJoining): with the invite's users, the record's.
    ...(input.interaction === undefined || state.joinedRecordedUsers === undefined
      ? {}
      : recordedUsersOf(input.interaction.recordedUserIds, state.joinedRecordedUsers)),
    ...(seal === undefined
      ? {}
      : {
          manifestBlobName: seal.manifestBlobName,
          manifestSha256: seal.manifestSha256,
          sealedAt: endedAt,
        }),
  };
  yield context.df.callActivityWithRetry(ActivityNames.finalizeInteraction, storageRetry, {
    tenantId: input.tenantId,
    interactionId: input.interactionId,
    patch,
    participants: Object.values(state.participants),
    seal,
    // The final record, for the archive as is (instances started without it: the row's).
    ...(input.interaction === undefined
      ? {}
      : { interaction: finalInteractionRecord(input.interaction, state.meeting, patch) }),
  });
  run.log.info('call finished', {
    outcome: output.outcome,
    reason: output.outcomeReason ?? end.reason,
  });
  return output;
}

/**
 * The I/O steps of `callLifecycle`. Expected failures (Graph throttling, a lost media host) are
 * returned as values so the orchestrator decides deterministically; storage errors throw
 * (retryable) and the orchestrator retries them.
 */
import {
  errorCodeOf,
  type InteractionParticipant,
  type InteractionRecord,
  type InteractionStream,
} from '@attest/core';
import type { ArchiveIntake } from '../domain/archive-intake';
import type {
  FinalizeInteractionInput,
  ForwardParticipantsInput,
  GraphActivityResult,
  KeepAliveInput,
  MediaActivityResult,
  SealActivityResult,
  SessionInput,
  StartPersistingInput,
  StartRecordingInput,
  StartRecordingResult,
  UpdateInteractionInput,
  UpdateRecordingStatusInput,
} from '../domain/call-lifecycle.contract';
import type { GraphCalls, InteractionStore, MediaHostControl } from '../domain/recorder-ports';
import type { StructuredLog } from '../logging/structured-log';

export interface RecorderActivityDeps {
  readonly graph: GraphCalls;
  readonly media: MediaHostControl;
  readonly interactions: InteractionStore;
  readonly archive: ArchiveIntake;
  readonly log: StructuredLog;
}

const failureReason = (error: unknown): string => errorCodeOf(error) ?? 'ATT_INTERNAL';

export function createRecorderActivities(deps: RecorderActivityDeps) {
  const updateRecordingStatus = async (
    input: UpdateRecordingStatusInput,
  ): Promise<GraphActivityResult> => {
    const result = await deps.graph.updateRecordingStatus(
      input.tenantId,
      input.callId,
      input.status,
      `attest:${input.callId}`,
    );
    deps.log.info('updateRecordingStatus sent', {
      callId: input.callId,
      status: input.status,
      result: result.kind,
    });
    return result;
  };
  const startPersisting = async (input: StartPersistingInput): Promise<MediaActivityResult> => {
    try {
      const status = await deps.media.startPersisting(input.session, input.recordingConfirmedAt);
      return { ok: true, state: status.state };
    } catch (error) {
      return { ok: false, reason: failureReason(error) };
    }
  };
  return {
    updateRecordingStatus,

    /**
     * Recording start in one step (callLifecycleV2): Graph first; the media host may persist only
     * once Graph answered 200. Saves the lifecycle an episode and a hand-off between the two.
     * Run again (at least once), both requests are idempotent.
     */
    async startRecording(input: StartRecordingInput): Promise<StartRecordingResult> {
      const graph = await updateRecordingStatus({
        tenantId: input.tenantId,
        callId: input.callId,
        status: 'recording',
      });
      if (graph.kind !== 'ok') return { graph };
      const persisted = await startPersisting({
        session: input.session,
        recordingConfirmedAt: new Date().toISOString(),
      });
      return { graph, persisted };
    },

    async keepAlive(input: KeepAliveInput): Promise<GraphActivityResult> {
      return deps.graph.keepAlive(input.tenantId, input.callId);
    },

    startPersisting,

    async forwardParticipants(input: ForwardParticipantsInput): Promise<MediaActivityResult> {
      try {
        const status = await deps.media.updateParticipants(input.session, input.mappings);
        return { ok: true, state: status.state };
      } catch (error) {
        return { ok: false, reason: failureReason(error) };
      }
    },

    async checkMediaSession(input: SessionInput): Promise<MediaActivityResult> {
      try {
        const status = await deps.media.getSession(input.session);
        return { ok: true, state: status.state };
      } catch (error) {
        return { ok: false, reason: failureReason(error) };
      }
    },

    async abortMediaSession(input: SessionInput): Promise<MediaActivityResult> {
      try {
        await deps.media.abort(input.session, input.reason ?? 'callEnded');
        return { ok: true };
      } catch (error) {
        return { ok: false, reason: failureReason(error) };
      }
    },

    async sealRecording(input: SessionInput): Promise<SealActivityResult> {
      try {
        return { ok: true, summary: await deps.media.seal(input.session) };
      } catch (error) {
        return { ok: false, reason: failureReason(error) };
      }
    },

    async updateInteraction(input: UpdateInteractionInput): Promise<void> {
      await deps.interactions.update(input.tenantId, input.interactionId, input.patch);
    },

    /** Idempotent: upserts rows and hands the final record to the archive (itself idempotent). */
    async finalizeInteraction(input: FinalizeInteractionInput): Promise<void> {
      const participants: InteractionParticipant[] = input.participants.map((p) => ({
        interactionId: input.interactionId,
        participantId: p.participantId,
        identityKind: p.identityKind,
        identityId: p.identityId,
        displayName: p.displayName,
        joinedAt: p.joinedAt,
        leftAt: p.leftAt,
        msis: p.msis,
        isInLobby: p.wasInLobby,
        role: p.hasShared ? 'presenter' : undefined,
      }));
      const streams: InteractionStream[] = (input.seal?.streams ?? []).map((s) => ({
        interactionId: input.interactionId,
        streamId: s.streamId,
        kind: s.kind,
        msi: s.msi,
        participantId: s.participantId,
        blobName: s.blobName,
        bytes: s.bytes,
        durationInMs: s.durationInMs,
      }));
      await deps.interactions.upsertParticipants(participants);
      await deps.interactions.upsertStreams(streams);
      await deps.interactions.update(input.tenantId, input.interactionId, input.patch);
      const record = await deps.interactions.get(input.tenantId, input.interactionId);
      if (record !== undefined) {
        const interaction: InteractionRecord & { callState?: string } = { ...record };
        delete interaction.callState;
        await deps.archive.recordSealed(interaction);
      }
      deps.log.info('interaction finalized', {
        callId: record?.callId,
        interactionId: input.interactionId,
        outcome: input.patch.outcome,
        streamCount: streams.length,
        participantCount: participants.length,
      });
    },
  };
}
export type RecorderActivities = ReturnType<typeof createRecorderActivities>;

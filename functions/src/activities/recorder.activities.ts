/**
 * The I/O steps of `callLifecycle`. Expected failures (Graph throttling, a lost media host) are
 * returned as values so the orchestrator decides deterministically; storage errors throw
 * (retryable) and the orchestrator retries them.
 */
import {
  ErrorCode,
  errorCodeOf,
  interactionParticipantOf,
  interactionStreamOf,
  type InteractionRecord,
} from '@attest/core';
import type { ArchiveIntake } from '../domain/archive-intake';
import type {
  CallStateActivityResult,
  FinalizeInteractionInput,
  ForwardParticipantsInput,
  GraphActivityResult,
  KeepAliveInput,
  MediaActivityResult,
  SealActivityResult,
  SealInput,
  SessionInput,
  StartPersistingInput,
  StartRecordingInput,
  StartRecordingResult,
  UpdateInteractionInput,
  UpdateRecordingStatusInput,
} from '../domain/call-lifecycle.contract';
import { finishCapture, type PairedInteractionStore } from '../domain/paired-captures';
import type {
  GraphCalls,
  InteractionStore,
  MediaHostControl,
  MediaSessionRef,
} from '../domain/recorder-ports';
import { withMediaHostRetries } from '../domain/media-host-retries';
import type { StructuredLog } from '../logging/structured-log';

export interface RecorderActivityDeps {
  readonly graph: GraphCalls;
  readonly media: MediaHostControl;
  readonly interactions: InteractionStore;
  readonly archive: ArchiveIntake;
  /** Paired recorders' interactions: a finished capture joins (and may seal) its interaction. */
  readonly pairs?: PairedInteractionStore;
  readonly log: StructuredLog;
  /** Waits between retries of a media host request. Default: a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Whether a media host still heartbeats. A host that stopped (its registry row is older than
   * the stale limit) gets no new calls, and its live calls are lost even while its control API
   * still answers (a host cut off from the function app's heartbeat route, or hung).
   * Default: every host is taken as heartbeating.
   */
  readonly isHeartbeating?: (hostId: string) => Promise<boolean>;
  /**
   * Control URLs of healthy media hosts other than `lostHostId`, best first: those asked to
   * adopt a session whose own host cannot seal it. Default: none (a lost host's seal fails).
   */
  readonly adoptionHosts?: (lostHostId: string) => Promise<readonly string[]>;
}

const failureReason = (error: unknown): string => errorCodeOf(error) ?? 'ATT_INTERNAL';

export function createRecorderActivities(deps: RecorderActivityDeps) {
  /**
   * Lifecycles started before they carried the interaction record finalise without one: their
   * record is the row's record columns (read once, at the end).
   */
  const startedWithoutRecord = async (
    tenantId: string,
    interactionId: string,
  ): Promise<InteractionRecord | undefined> => {
    const row = await deps.interactions.get(tenantId, interactionId);
    if (row === undefined) return undefined;
    const interaction: InteractionRecord & { callState?: string } = { ...row };
    delete interaction.callState;
    return interaction;
  };
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
  /** An idempotent media host request, asked again after a timeout or a refused connection. */
  const retried = <T>(what: string, session: MediaSessionRef, request: () => Promise<T>) =>
    withMediaHostRetries(
      request,
      deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      (attempt, error) =>
        deps.log.warn('media host request retried', {
          request: what,
          hostId: session.hostId,
          attempt,
          reason: failureReason(error),
        }),
    );
  const startPersisting = async (input: StartPersistingInput): Promise<MediaActivityResult> => {
    try {
      const status = await retried('persist', input.session, () =>
        deps.media.startPersisting(input.session, input.recordingConfirmedAt),
      );
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

    async getCallState(input: KeepAliveInput): Promise<CallStateActivityResult> {
      return deps.graph.getCall(input.tenantId, input.callId);
    },

    startPersisting,

    async forwardParticipants(input: ForwardParticipantsInput): Promise<MediaActivityResult> {
      try {
        const status = await retried('participants', input.session, () =>
          deps.media.updateParticipants(input.session, input.mappings),
        );
        return { ok: true, state: status.state };
      } catch (error) {
        return { ok: false, reason: failureReason(error) };
      }
    },

    async checkMediaSession(input: SessionInput): Promise<MediaActivityResult> {
      try {
        if (deps.isHeartbeating !== undefined && !(await deps.isHeartbeating(input.session.hostId)))
          return { ok: false, reason: 'mediaHostHeartbeatLost' };
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

    /**
     * Seals through the session's host; when that host cannot (lost: killed, unreachable, no
     * longer heartbeating), another healthy host adopts the session from storage and seals what
     * was committed, with the lost span as a `mediaHostLost` gap.
     */
    async sealRecording(input: SealInput): Promise<SealActivityResult> {
      let reason: string;
      try {
        return { ok: true, summary: await deps.media.seal(input.session) };
      } catch (error) {
        reason = failureReason(error);
      }
      const { recording } = input;
      if (recording === undefined || deps.adoptionHosts === undefined) return { ok: false, reason };
      const lostHostId = input.session.hostId;
      for (const controlUrl of await deps.adoptionHosts(lostHostId)) {
        try {
          const summary = await deps.media.adopt(controlUrl, input.session.sessionId, {
            ...recording,
            lostUntil: new Date().toISOString(),
          });
          deps.log.warn('lost media session adopted by another media host', {
            callId: recording.callId,
            interactionId: recording.interactionId,
            lostHostId,
            streamCount: summary.streams.length,
          });
          return { ok: true, summary, adoptedFromLostHost: true };
        } catch (error) {
          reason = failureReason(error);
          // Nothing committed (no journal): no other host would find more.
          if (reason === ErrorCode.MediaSessionFailed) break;
        }
      }
      deps.log.error('lost media session not adopted', {
        callId: recording.callId,
        interactionId: recording.interactionId,
        lostHostId,
        reason,
      });
      return { ok: false, reason };
    },

    async updateInteraction(input: UpdateInteractionInput): Promise<void> {
      await deps.interactions.update(input.tenantId, input.interactionId, input.patch);
    },

    /**
     * Idempotent: upserts the participant and stream rows, applies the final patch to the
     * interaction row, and hands the lifecycle's final record to the archive (itself idempotent).
     */
    async finalizeInteraction(input: FinalizeInteractionInput): Promise<void> {
      const participants = input.participants.map((p) =>
        interactionParticipantOf(input.interactionId, p),
      );
      const streams = (input.seal?.streams ?? []).map((s) =>
        interactionStreamOf(input.interactionId, s),
      );
      await deps.interactions.upsertParticipants(participants);
      await deps.interactions.upsertStreams(streams);
      await deps.interactions.update(input.tenantId, input.interactionId, input.patch);
      const interaction =
        input.interaction ?? (await startedWithoutRecord(input.tenantId, input.interactionId));
      if (interaction !== undefined) {
        await deps.archive.recordSealed(interaction, input.participants);
        if (deps.pairs !== undefined && interaction.pairedInteractionId !== undefined)
          await finishCapture({ store: deps.pairs, sealer: deps.archive }, interaction, deps.log);
      }
      deps.log.info('interaction finalized', {
        callId: interaction?.callId,
        interactionId: input.interactionId,
        outcome: input.patch.outcome,
        streamCount: streams.length,
        participantCount: participants.length,
      });
    },
  };
}
export type RecorderActivities = ReturnType<typeof createRecorderActivities>;

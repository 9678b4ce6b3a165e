/** The outcome view of a conversation: everything a test or the CLI needs to judge what Teams would have done. */
import type { CallContext, Conversation } from './call-model';

export function outcomeOf(ctx: CallContext, conv: Conversation): Record<string, unknown> {
  return {
    conversationId: conv.id,
    callChainId: conv.chainId,
    kind: conv.spec.kind,
    tenantId: conv.tenant.id,
    state: conv.state,
    endReason: conv.endReason ?? null,
    startedAt: ctx.iso(conv.startedAtMs),
    endedAt: conv.endedAtMs !== undefined ? ctx.iso(conv.endedAtMs) : null,
    participants: conv.participants.map((p) => ({
      index: p.index,
      participantId: p.participantId,
      kind: p.identity.kind,
      userId: p.userId ?? null,
      audioMsi: p.audioMsi,
      videoMsi: p.videoMsi,
      vbssMsi: p.vbssMsi,
      isPresent: p.isPresent,
      status: p.status,
      statusReason: p.statusReason ?? null,
      policy: p.policyIdentity ?? null,
      notice: p.notice ?? null,
    })),
    legs: conv.legIds.map((id) => {
      const leg = ctx.legs.get(id);
      if (leg === undefined) return { callId: id };
      return {
        callId: leg.callId,
        applicationInstanceId: leg.instance.id,
        botAppId: leg.bot.appId,
        // The recorder's own participant id (`myParticipantId`): paired legs are ordered by it.
        myParticipantId: leg.myParticipantId,
        slot: leg.slot,
        state: leg.state,
        outcome: leg.outcome,
        invitedAt: ctx.iso(leg.invitedAtMs),
        answeredAt: leg.answeredAtMs !== undefined ? ctx.iso(leg.answeredAtMs) : null,
        answerLatencyInMs:
          leg.answeredAtMs !== undefined ? leg.answeredAtMs - leg.invitedAtMs : null,
        observedParticipantIds: [...leg.observedParticipantIds],
        participantCapacity: leg.participantCapacity ?? null,
        recordingStatus: leg.recordingStatus,
        recordingHistory: leg.recordingHistory,
        terminatedResult: leg.terminatedResult ?? null,
        media: leg.media ? { ...leg.media.stats } : null,
        mediaError: leg.mediaError ?? null,
      };
    }),
    events: conv.events,
  };
}

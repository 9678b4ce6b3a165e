/** Admin status API: `GET /api/calls/{callId}` and `GET /api/calls?state=live|recent|<outcome>`. */
import type { HttpHandler, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ErrorCode, InteractionOutcome, interactionIdForCall, lifecycleInstanceId } from '@attest/core';
import type { InteractionFilter, InteractionStore, LifecycleClient } from '../domain/recorder-ports';
import type { AdminAuthorizer } from './admin-auth';
import { problem } from './problem';

export interface CallsAdminDeps {
  readonly admin: AdminAuthorizer;
  readonly interactions: InteractionStore;
  readonly lifecycle: (context: InvocationContext) => LifecycleClient;
  readonly now: () => Date;
  /** `recent` covers this window. Default 24 h. */
  readonly recentWindowInMs?: number;
}

export function createGetCallHandler(deps: CallsAdminDeps): HttpHandler {
  return async (request, context): Promise<HttpResponseInit> => {
    const denied = await deps.admin.authorize(request);
    if (denied !== undefined) return denied;
    const callId = request.params.callId ?? '';
    const interactionId = interactionIdForCall(callId);
    const [interaction, orchestration] = await Promise.all([
      deps.interactions.findByInteractionId(interactionId),
      deps.lifecycle(context).getStatus(lifecycleInstanceId(callId)).catch(() => undefined),
    ]);
    if (interaction === undefined && orchestration === undefined) {
      return problem(404, ErrorCode.NotFound, '[ATT_NOT_FOUND] no call with that id');
    }
    const [participants, streams, related] = await Promise.all([
      deps.interactions.listParticipants(interactionId),
      deps.interactions.listStreams(interactionId),
      interaction?.callChainId === undefined
        ? Promise.resolve([])
        : deps.interactions.list({ callChainId: interaction.callChainId, top: 50 }),
    ]);
    return {
      status: 200,
      jsonBody: {
        callId,
        interaction,
        outcome: interaction?.outcome,
        recordingStatusHistory: interaction?.recordingStatusHistory ?? [],
        orchestration,
        participants,
        streams,
        relatedInteractionIds: related.map((r) => r.interactionId).filter((id) => id !== interactionId),
      },
    };
  };
}

const outcomes = new Set<string>(Object.values(InteractionOutcome));

export function createListCallsHandler(deps: CallsAdminDeps): HttpHandler {
  return async (request): Promise<HttpResponseInit> => {
    const denied = await deps.admin.authorize(request);
    if (denied !== undefined) return denied;
    const state = request.query.get('state') ?? 'recent';
    const topRaw = request.query.get('top');
    const top = topRaw === null ? 100 : Number(topRaw);
    if (!Number.isInteger(top) || top < 1 || top > 1000) return problem(400, ErrorCode.InvalidRequest, '[ATT_INVALID_REQUEST] top must be an integer from 1 to 1000');
    let filter: InteractionFilter;
    if (state === 'live') filter = { outcome: InteractionOutcome.inProgress, top };
    else if (state === 'recent') filter = { invitedAfter: new Date(deps.now().getTime() - (deps.recentWindowInMs ?? 86_400_000)).toISOString(), top };
    else if (outcomes.has(state)) filter = { outcome: state, top };
    else return problem(400, ErrorCode.InvalidRequest, `[ATT_INVALID_REQUEST] state must be live, recent or one of: ${[...outcomes].join(', ')}`);
    const rows = await deps.interactions.list(filter);
    return { status: 200, jsonBody: { state, value: rows } };
  };
}

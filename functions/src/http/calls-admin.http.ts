/** Admin status API: `GET /api/calls/{callId}` and `GET /api/calls?state=live|recent|<outcome>`. */
import type { HttpHandler, HttpResponseInit, InvocationContext } from '@azure/functions';
import {
  ErrorCode,
  InteractionOutcome,
  interactionIdForCall,
  lifecycleInstanceId,
} from '@attest/core';
import type {
  InteractionFilter,
  InteractionStore,
  LifecycleClient,
} from '../domain/recorder-ports';
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
    const checked = await deps.admin.check(request);
    if (!checked.isAllowed) return checked.response;
    const callId = request.params.callId ?? '';
    const interactionId = interactionIdForCall(callId);
    const [interaction, orchestration] = await Promise.all([
      deps.interactions.findByInteractionId(interactionId),
      deps
        .lifecycle(context)
        .getStatus(lifecycleInstanceId(callId))
        .catch(() => undefined),
    ]);
    // Another tenant's call is not shown, not even that it exists.
    const isOtherTenant =
      interaction !== undefined
        ? interaction.tenantId !== checked.tenantId
        : tenantOf(orchestration) !== checked.tenantId;
    if ((interaction === undefined && orchestration === undefined) || isOtherTenant) {
      return problem(404, ErrorCode.NotFound, '[ATT_NOT_FOUND] no call with that id');
    }
    const [participants, streams, related] = await Promise.all([
      deps.interactions.listParticipants(interactionId),
      deps.interactions.listStreams(interactionId),
      interaction?.callChainId === undefined
        ? Promise.resolve([])
        : deps.interactions.list({
            callChainId: interaction.callChainId,
            tenantId: checked.tenantId,
            top: 50,
          }),
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
        relatedInteractionIds: related
          .map((r) => r.interactionId)
          .filter((id) => id !== interactionId),
      },
    };
  };
}

const outcomes = new Set<string>(Object.values(InteractionOutcome));

/** The tenant in a lifecycle orchestration's input (a call whose record is gone). */
function tenantOf(orchestration: unknown): string | undefined {
  const input = (orchestration as { input?: { tenantId?: unknown } } | undefined)?.input;
  return typeof input?.tenantId === 'string' ? input.tenantId : undefined;
}

export function createListCallsHandler(deps: CallsAdminDeps): HttpHandler {
  return async (request): Promise<HttpResponseInit> => {
    const checked = await deps.admin.check(request);
    if (!checked.isAllowed) return checked.response;
    const { tenantId } = checked;
    const state = request.query.get('state') ?? 'recent';
    const topRaw = request.query.get('top');
    const top = topRaw === null ? 100 : Number(topRaw);
    if (!Number.isInteger(top) || top < 1 || top > 1000)
      return problem(
        400,
        ErrorCode.InvalidRequest,
        '[ATT_INVALID_REQUEST] top must be an integer from 1 to 1000',
      );
    let filter: InteractionFilter;
    if (state === 'live') filter = { outcome: InteractionOutcome.inProgress, tenantId, top };
    else if (state === 'recent')
      filter = {
        invitedAfter: new Date(
          deps.now().getTime() - (deps.recentWindowInMs ?? 86_400_000),
        ).toISOString(),
        tenantId,
        top,
      };
    else if (outcomes.has(state)) filter = { outcome: state, tenantId, top };
    else
      return problem(
        400,
        ErrorCode.InvalidRequest,
        `[ATT_INVALID_REQUEST] state must be live, recent or one of: ${[...outcomes].join(', ')}`,
      );
    const rows = await deps.interactions.list(filter);
    return { status: 200, jsonBody: { state, value: rows } };
  };
}

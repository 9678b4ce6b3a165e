/**
 * Admin status API: `GET /api/calls/{callId}` and `GET /api/calls?state=live|recent|<outcome>`,
 * for a tenant's admins (`viewCalls`), within the caller's tenant, one ledger entry per decision.
 */
import type { HttpHandler, InvocationContext } from '@azure/functions';
import {
  InteractionOutcome,
  interactionIdForCall,
  LedgerSubjectType,
  lifecycleInstanceId,
} from '@attest/core';
import type {
  InteractionFilter,
  InteractionStore,
  LifecycleClient,
} from '../domain/recorder-ports';
import { accessEntry, refusalOf, type AdminAccess } from './admin-access';
import { badRequest, notFound } from './problem';

export interface CallsAdminDeps {
  readonly access: AdminAccess;
  readonly interactions: InteractionStore;
  readonly lifecycle: (context: InvocationContext) => LifecycleClient;
  readonly now: () => Date;
  /** `recent` covers this window. Default 24 h. */
  readonly recentWindowInMs?: number;
}

export function createGetCallHandler(deps: CallsAdminDeps): HttpHandler {
  return deps.access.route('viewCalls', async (request, principal, context) => {
    const callId = request.params.callId ?? '';
    const subject = { type: LedgerSubjectType.interaction, id: interactionIdForCall(callId) };
    const refusal = refusalOf(principal, 'viewCalls', subject);
    if (refusal !== undefined) return refusal;
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
        ? interaction.tenantId !== principal.tenantId
        : tenantOf(orchestration) !== principal.tenantId;
    if ((interaction === undefined && orchestration === undefined) || isOtherTenant)
      throw notFound('[ATT_NOT_FOUND] no call with that id');
    const [participants, streams, related] = await Promise.all([
      deps.interactions.listParticipants(interactionId),
      deps.interactions.listStreams(interactionId),
      interaction?.callChainId === undefined
        ? Promise.resolve([])
        : deps.interactions.list({
            callChainId: interaction.callChainId,
            tenantId: principal.tenantId,
            top: 50,
          }),
    ]);
    return {
      response: {
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
      },
      entry: accessEntry(principal, 'viewCalls', 'allowed', subject),
    };
  });
}

const outcomes = new Set<string>(Object.values(InteractionOutcome));

/** The tenant in a lifecycle orchestration's input (a call whose record is gone). */
function tenantOf(orchestration: unknown): string | undefined {
  const input = (orchestration as { input?: { tenantId?: unknown } } | undefined)?.input;
  return typeof input?.tenantId === 'string' ? input.tenantId : undefined;
}

export function createListCallsHandler(deps: CallsAdminDeps): HttpHandler {
  return deps.access.route(
    'viewCalls',
    async (request, principal) => {
      const subject = { type: LedgerSubjectType.query, id: 'calls' };
      const refusal = refusalOf(principal, 'viewCalls', subject);
      if (refusal !== undefined) return refusal;
      const { tenantId } = principal;
      const state = request.query.get('state') ?? 'recent';
      const topRaw = request.query.get('top');
      const top = topRaw === null ? 100 : Number(topRaw);
      if (!Number.isInteger(top) || top < 1 || top > 1000)
        throw badRequest('[ATT_INVALID_REQUEST] top must be an integer from 1 to 1000');
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
        throw badRequest(
          `[ATT_INVALID_REQUEST] state must be live, recent or one of: ${[...outcomes].join(', ')}`,
        );
      const rows = await deps.interactions.list(filter);
      return {
        response: { status: 200, jsonBody: { state, value: rows } },
        entry: accessEntry(principal, 'viewCalls', 'allowed', subject, {
          state,
          resultCount: rows.length,
        }),
      };
    },
    { query: ['state', 'top'] },
  );
}

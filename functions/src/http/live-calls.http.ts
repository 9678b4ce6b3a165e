/**
 * `GET /api/archive/live`: the calls of the caller's tenant being recorded right now that the
 * caller may listen in to (`liveListen`, by role and scope). Says nothing a listen needs (no
 * media host, no token): listening is `POST archive/calls/{callId}/listen`, audited on its own.
 * One `accessed` ledger entry per request.
 */
import type { HttpHandler } from '@azure/functions';
import { InteractionOutcome, LedgerSubjectType } from '@attest/core';
import { authorize } from '../domain/rbac';
import type { InteractionStore } from '../domain/recorder-ports';
import { accessEntry, refusalOf, type AdminAccess } from './admin-access';
import type { LiveCallLocator } from './live-listen.http';

export interface LiveCallsDeps {
  readonly access: AdminAccess;
  readonly interactions: Pick<InteractionStore, 'list'>;
  readonly calls: LiveCallLocator;
  /** Calls in progress read at most. Default 200. */
  readonly maxCalls?: number;
}

export function createLiveCallsHandler(deps: LiveCallsDeps): HttpHandler {
  return deps.access.route('liveListen', async (_request, principal) => {
    const subject = { type: LedgerSubjectType.query, id: 'live' };
    const refusal = refusalOf(principal, 'liveListen', subject);
    if (refusal !== undefined) return refusal;
    const inProgress = await deps.interactions.list({
      tenantId: principal.tenantId,
      outcome: InteractionOutcome.inProgress,
      top: deps.maxCalls ?? 200,
    });
    const items = [];
    for (const interaction of inProgress) {
      const live = await deps.calls.getLiveCall(interaction.callId);
      if (live === undefined || live.tenantId !== principal.tenantId) continue;
      const target = { tenantId: live.tenantId, groupIds: live.groupIds };
      if (!authorize(principal, 'liveListen', target).isAllowed) continue;
      items.push({
        callId: interaction.callId,
        interactionId: interaction.interactionId,
        type: interaction.type,
        direction: interaction.direction,
        invitedAt: interaction.invitedAt,
        answeredAt: interaction.answeredAt,
        recordedUserIds: interaction.recordedUserIds,
      });
    }
    return {
      response: { status: 200, jsonBody: { items, count: items.length } },
      entry: accessEntry(principal, 'liveListen', 'listed', subject, {
        resultCount: items.length,
      }),
    };
  });
}

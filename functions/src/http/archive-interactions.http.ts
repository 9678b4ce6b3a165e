/**
 * Archive routes on interactions: search, metadata, media (playback and download) and deletion.
 * Every read is within the caller's tenant (see archive-scope.ts).
 */
import { canonicalJson, ErrorCode, LedgerSubjectType } from '@attest/core';
import { readPlaintextStream, readStoredManifest } from '../adapters/archive-media-reader';
import { parseSearchQuery, SEARCH_PARAMETERS } from '../domain/archive-search';
import { authorize, type ArchiveAction } from '../domain/rbac';
import { accessEntry, refusalOf, type AdminAccess } from './admin-access';
import type { ArchiveAdminDeps } from './archive-admin.http';
import { interactionSubject, loadRecord, targetOf } from './archive-scope';
import { badRequest, HttpFault, notFound, problem } from './problem';

type Deps = Pick<ArchiveAdminDeps, 'records' | 'blobs' | 'kekPrivateKey' | 'activities'>;

export function createInteractionRoutes(deps: Deps, access: AdminAccess) {
  return {
    /** GET archive/interactions?recordedUserId&from&to&type&callChainId&limit */
    search: access.route(
      'search',
      async (request, principal) => {
        const { query, problems } = parseSearchQuery(request.query, principal.tenantId);
        const subject = { type: LedgerSubjectType.query, id: 'search' };
        if (problems.length > 0) throw badRequest(problems.join('; '));
        const refusal = refusalOf(principal, 'search', subject);
        if (refusal !== undefined) return refusal;
        const items = [];
        for await (const record of deps.records.search(query)) {
          if (authorize(principal, 'search', targetOf(record)).isAllowed)
            items.push(record.interaction);
        }
        const queryJson = JSON.parse(canonicalJson(query)) as Record<string, unknown>;
        return {
          response: { status: 200, jsonBody: { items, count: items.length } },
          entry: accessEntry(principal, 'search', 'allowed', subject, {
            query: queryJson,
            resultCount: items.length,
          }),
        };
      },
      { query: SEARCH_PARAMETERS },
    ),

    /** GET archive/interactions/{tenantId}/{interactionId} */
    viewMetadata: access.route('viewMetadata', async (request, principal) => {
      const record = await loadRecord(deps.records, request, principal);
      const subject = interactionSubject(record);
      const refusal = refusalOf(principal, 'viewMetadata', subject, targetOf(record));
      if (refusal !== undefined) return refusal;
      return {
        response: {
          status: 200,
          jsonBody: {
            interaction: record.interaction,
            state: record.state,
            tombstone: record.tombstone,
          },
        },
        entry: accessEntry(principal, 'viewMetadata', 'allowed', subject),
      };
    }),

    /** GET archive/interactions/{tenantId}/{interactionId}/streams/{streamId}[?download=true] */
    media: access.route(
      'playback',
      async (request, principal) => {
        const download = request.query.get('download');
        if (download !== null && download !== 'true' && download !== 'false')
          throw badRequest('download must be true or false');
        const action: ArchiveAction = download === 'true' ? 'download' : 'playback';
        const record = await loadRecord(deps.records, request, principal);
        const subject = interactionSubject(record);
        const refusal = refusalOf(principal, action, subject, targetOf(record));
        if (refusal !== undefined) return refusal;
        const stored = await readStoredManifest(
          deps.blobs,
          record.interaction.tenantId,
          record.interaction.interactionId,
        );
        const stream = stored?.manifest.streams.find((s) => s.streamId === request.params.streamId);
        if (stored === undefined || stream === undefined)
          throw notFound(`stream ${request.params.streamId ?? ''} does not exist`);
        const body = await readPlaintextStream(
          deps.blobs,
          deps.kekPrivateKey,
          stored.manifest,
          stream,
        );
        const headers: Record<string, string> = { 'content-type': stream.contentType };
        if (action === 'download')
          headers['content-disposition'] = `attachment; filename="${stream.streamId}"`;
        return {
          response: { status: 200, headers, body },
          entry: accessEntry(principal, action, 'allowed', subject, { streamId: stream.streamId }),
        };
      },
      { query: ['download'] },
    ),

    /** DELETE archive/interactions/{tenantId}/{interactionId}: only expired, unheld, auto-disposition data. */
    deleteInteraction: access.route('deleteInteraction', async (request, principal) => {
      const record = await loadRecord(deps.records, request, principal);
      const subject = interactionSubject(record);
      const refusal = refusalOf(principal, 'deleteInteraction', subject, targetOf(record));
      if (refusal !== undefined) return refusal;
      if (record.dispositionMode === 'approval')
        throw new HttpFault(
          409,
          ErrorCode.RetentionLocked,
          "this retention class needs a second person's approval: use the disposition",
        );
      const outcome = await deps.activities.disposeInteraction({
        tenantId: record.interaction.tenantId,
        interactionId: record.interaction.interactionId,
        approvedBy: principal.userId,
      });
      if (outcome.status === 'refused') {
        const code =
          outcome.reason === 'legalHold' ? ErrorCode.LegalHold : ErrorCode.RetentionLocked;
        return {
          response: problem(409, code, `interaction may not be deleted (${outcome.reason})`),
          entry: accessEntry(principal, 'deleteInteraction', `refused:${outcome.reason}`, subject),
        };
      }
      if (outcome.status === 'alreadyDeleted')
        return {
          response: { status: 204 },
          entry: accessEntry(principal, 'deleteInteraction', 'alreadyDeleted', subject),
        };
      return { response: { status: 204 } };
    }),
  };
}

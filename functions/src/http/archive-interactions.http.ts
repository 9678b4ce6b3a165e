/**
 * Archive routes on interactions: search, metadata, media (playback and download) and deletion.
 * Every read is within the caller's tenant (see archive-scope.ts).
 */
import {
  canonicalJson,
  ErrorCode,
  holdMatches,
  isHoldActive,
  LedgerEntryKind,
  type InteractionParticipant,
  LedgerSubjectType,
} from '@attest/core';
import { z } from 'zod';
import type { ArchiveRecord, CallLog } from '../domain/archive-ports';
import { readPlaintextStream, readStoredManifest } from '../adapters/archive-media-reader';
import { dispositionInstanceId } from '../domain/archive-names';
import {
  DEFAULT_SEARCH_LIMIT,
  matchesParticipant,
  MAX_SEARCH_SCAN,
  parseSearchQuery,
  parseSearchView,
  SEARCH_PARAMETERS,
  searchCounts,
  sortInteractions,
} from '../domain/archive-search';
import { authorize, type ArchiveAction } from '../domain/rbac';
import { accessEntry, refusalOf, type AdminAccess } from './admin-access';
import type { ArchiveAdminDeps } from './archive-admin.http';
import { interactionSubject, loadRecord, targetOf } from './archive-scope';
import { rangeResponse } from './byte-range';
import { badRequest, conflict, notFound, problem } from './problem';
import { parseBody, textSchema } from './request-body';

const changeRetentionClassBody = z.strictObject({
  retentionClass: textSchema(64),
  reason: textSchema(500),
});

type Deps = Pick<
  ArchiveAdminDeps,
  | 'records'
  | 'callLog'
  | 'holds'
  | 'clock'
  | 'blobs'
  | 'kekPrivateKey'
  | 'archive'
  | 'dispositions'
  | 'manualDisposition'
  | 'integrity'
>;

const DAY_IN_MS = 86_400_000;
const DEFAULT_MANUAL_DISPOSITION = {
  approvalTimeoutInMs: 14 * DAY_IN_MS,
  reminderIntervalInMs: 2 * DAY_IN_MS,
};

/**
 * Who took part, as the call's participant rows hold them (names and numbers the page shows
 * beside each speaker's lane), those of every capture for an interaction of several. None for a
 * deleted interaction: its tombstone keeps no personal data.
 */
async function participantsOf(
  callLog: CallLog,
  record: ArchiveRecord,
): Promise<readonly InteractionParticipant[]> {
  if (record.state === 'deleted') return [];
  const { interactionId, captures = [] } = record.interaction;
  const ids = [interactionId, ...captures.map((c) => c.captureId)];
  const rows = (await Promise.all(ids.map((id) => callLog.listParticipants(id)))).flat();
  return rows.filter(
    (row, i) => rows.findIndex((other) => other.participantId === row.participantId) === i,
  );
}

export function createInteractionRoutes(deps: Deps, access: AdminAccess) {
  return {
    /**
     * GET archive/interactions?recordedUserId&from&to&type&callChainId&direction&outcome
     * &dialedNumber&originNumber&customData&participant&holdState&sort&order&offset&limit:
     * one page (`limit`, default 100) of the matches in the caller's scope, sorted, with the
     * number of matches and their counts by outcome, type and direction.
     */
    search: access.route(
      'search',
      async (request, principal) => {
        const { query, problems } = parseSearchQuery(request.query, principal.tenantId);
        const { view, problems: viewProblems } = parseSearchView(request.query);
        const subject = { type: LedgerSubjectType.query, id: 'search' };
        if (problems.length + viewProblems.length > 0)
          throw badRequest([...problems, ...viewProblems].join('; '));
        const refusal = refusalOf(principal, 'search', subject);
        if (refusal !== undefined) return refusal;
        const now = deps.clock.now();
        const activeHolds =
          view.holdState === undefined
            ? []
            : (await deps.holds.list(principal.tenantId)).filter((h) => isHoldActive(h, now));
        const matched = [];
        let scanned = 0;
        for await (const record of deps.records.search({ ...query, limit: MAX_SEARCH_SCAN })) {
          scanned += 1;
          if (!authorize(principal, 'search', targetOf(record)).isAllowed) continue;
          const { interaction } = record;
          if (view.holdState !== undefined) {
            const isHeld = activeHolds.some((h) => holdMatches(h, interaction));
            if (isHeld !== (view.holdState === 'held')) continue;
          }
          if (
            view.participant !== undefined &&
            !matchesParticipant(
              await deps.callLog.listParticipants(interaction.interactionId),
              view.participant,
            )
          )
            continue;
          matched.push(interaction);
        }
        const pageSize = query.limit ?? DEFAULT_SEARCH_LIMIT;
        const items = sortInteractions(matched, view).slice(view.offset, view.offset + pageSize);
        const queryJson = JSON.parse(canonicalJson({ ...query, ...view })) as Record<
          string,
          unknown
        >;
        return {
          response: {
            status: 200,
            jsonBody: {
              items,
              count: matched.length,
              offset: view.offset,
              limit: pageSize,
              sort: view.sort,
              order: view.order,
              isTruncated: scanned >= MAX_SEARCH_SCAN,
              counts: searchCounts(matched),
            },
          },
          entry: accessEntry(principal, 'search', 'allowed', subject, {
            query: queryJson,
            resultCount: matched.length,
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
            participants: await participantsOf(deps.callLog, record),
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
        // Media leaves only when its signed manifest still verifies (and was never found not to).
        const checked = await deps.integrity.checkRecord(record, 'playback');
        if (checked.status === 'invalid')
          return {
            response: problem(
              409,
              ErrorCode.IntegrityViolation,
              `interaction ${record.interaction.interactionId}: its signed manifest does not verify; ${action} refused (an integrity alert was raised)`,
              { interactionId: record.interaction.interactionId },
            ),
            entry: accessEntry(principal, action, 'refused:integrity', subject, {
              streamId: (request.params.streamId ?? '').slice(0, 100),
              problemCount: checked.problems.length,
            }),
          };
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
        const range = request.headers.get('range');
        return {
          response: rangeResponse(range, body, headers),
          entry: accessEntry(principal, action, 'allowed', subject, {
            streamId: stream.streamId,
            ...(range === null ? {} : { range: range.slice(0, 60) }),
          }),
        };
      },
      { query: ['download'] },
    ),

    /**
     * POST archive/interactions/{tenantId}/{interactionId}/retention `{ retentionClass, reason }`:
     * moves a sealed interaction to another class that keeps it at least as long. 200 with the
     * interaction; 409 when not sealed, already in the class, or the class would shorten it.
     */
    changeRetentionClass: access.route('changeRetentionClass', async (request, principal) => {
      const record = await loadRecord(deps.records, request, principal);
      const subject = interactionSubject(record);
      const refusal = refusalOf(principal, 'changeRetentionClass', subject, targetOf(record));
      if (refusal !== undefined) return refusal;
      const body = await parseBody(request, changeRetentionClassBody);
      const changed = await deps.archive.changeRetentionClass({
        tenantId: record.interaction.tenantId,
        interactionId: record.interaction.interactionId,
        className: body.retentionClass,
        reason: body.reason,
        actor: principal.userId,
      });
      // The activity wrote the decision's entry (retentionClassChanged).
      return { response: { status: 200, jsonBody: { interaction: changed.record.interaction } } };
    }),

    /**
     * DELETE archive/interactions/{tenantId}/{interactionId}: asks for the deletion of an
     * interaction retention and holds allow to go. Two-person rule: the deletion waits for a
     * second authorised person's approval (`decision` route); the requester can never approve it.
     * 202 with the disposition to follow; 409 while retention or a hold forbids it.
     */
    deleteInteraction: access.route('deleteInteraction', async (request, principal) => {
      const record = await loadRecord(deps.records, request, principal);
      const subject = interactionSubject(record);
      const refusal = refusalOf(principal, 'deleteInteraction', subject, targetOf(record));
      if (refusal !== undefined) return refusal;
      const { tenantId, interactionId } = record.interaction;
      const check = await deps.archive.checkDisposition({ tenantId, interactionId });
      if (check.action === 'skip') {
        if (check.reason === 'alreadyDeleted')
          return {
            response: { status: 204 },
            entry: accessEntry(principal, 'deleteInteraction', 'alreadyDeleted', subject),
          };
        const code = check.reason === 'legalHold' ? ErrorCode.LegalHold : ErrorCode.RetentionLocked;
        return {
          response: problem(409, code, `interaction may not be deleted (${check.reason ?? ''})`),
          entry: accessEntry(
            principal,
            'deleteInteraction',
            `refused:${check.reason ?? ''}`,
            subject,
          ),
        };
      }
      const instanceId = dispositionInstanceId(tenantId, interactionId);
      const settings = deps.manualDisposition ?? DEFAULT_MANUAL_DISPOSITION;
      const started = await deps.dispositions.startIfIdle(instanceId, {
        tenantId,
        interactionId,
        mode: 'approval',
        requestedBy: principal.userId,
        approvalTimeoutInMs: settings.approvalTimeoutInMs,
        reminderIntervalInMs: settings.reminderIntervalInMs,
      });
      if (started === 'alreadyRunning')
        throw conflict('a disposition of this interaction is already waiting for a decision');
      return {
        response: {
          status: 202,
          jsonBody: { state: 'awaitingApproval', requestedBy: principal.userId },
        },
        entry: {
          kind: LedgerEntryKind.dispositionRequested,
          actor: principal.userId,
          tenantId,
          subjectType: LedgerSubjectType.interaction,
          subjectId: interactionId,
          details: { action: 'deleteInteraction', mode: 'approval' },
        },
      };
    }),
  };
}

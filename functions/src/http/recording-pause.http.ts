/**
 * PCI pause: `POST /api/calls/{callId}/pause` `{ "reason"?: "pci" }` and
 * `POST /api/calls/{callId}/resume` stop and restart storing a live call's media while a payment
 * card is read out (docs/pci-pause.md). Allowed to the `Attest.RecordingController` role within
 * its scope groups (`pauseRecording`), within the caller's tenant: another tenant's call is
 * answered like one that is not live (404). Every recorder leg of the call (every recorded user's,
 * and a paired recorder's) is paused, so no leg keeps the card number. The media host records the
 * paused span as a gap with the reason and who paused; each request writes one ledger entry
 * (`recordingPaused` / `recordingResumed` with the actor, the reason and the legs, or the refusal).
 * Teams keeps showing `recording` during a pause (docs/pci-pause.md says why).
 */
import type { HttpHandler, HttpRequest } from '@azure/functions';
import {
  ErrorCode,
  interactionIdForCall,
  isRecorderError,
  LedgerEntryKind,
  LedgerSubjectType,
} from '@attest/core';
import { z } from 'zod';
import type { ArchiveAction, Principal } from '../domain/rbac';
import type {
  InteractionRow,
  InteractionStore,
  MediaSessionRef,
  PersistencePauseControl,
} from '../domain/recorder-ports';
import { refusalOf, type AdminAccess, type AdminOutcome } from './admin-access';
import { notFound, problem } from './problem';
import { parseBody } from './request-body';

export interface RecordingPauseDeps {
  readonly access: AdminAccess;
  readonly interactions: Pick<InteractionStore, 'findByInteractionId' | 'get' | 'list'>;
  readonly control: PersistencePauseControl;
  /** Groups of an interaction's recorded users, as the archive recorded them (scope). */
  readonly recordedGroupsOf: (
    tenantId: string,
    interactionId: string,
  ) => Promise<readonly string[]>;
}

const ACTION: ArchiveAction = 'pauseRecording';
/** Call states in which the media host stores media (set by the webhook and the lifecycle). */
const LIVE_CALL_STATES: ReadonlySet<string> = new Set(['answered', 'established']);
/** Recorder legs of one call (a group call: one per recorded user; paired recorders: two). */
const MAX_LEGS = 50;

const pauseBody = z.strictObject({
  reason: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,31}$/, 'must be a word of letters, digits and dashes')
    .optional(),
});
const resumeBody = z.strictObject({});

/** A leg whose media session may be paused now. */
interface LiveLeg {
  readonly interactionId: string;
  readonly session: MediaSessionRef;
}

function liveLegOf(row: InteractionRow | undefined): LiveLeg | undefined {
  if (
    row === undefined ||
    row.endedAt !== undefined ||
    row.callState === undefined ||
    !LIVE_CALL_STATES.has(row.callState) ||
    row.mediaHostId === undefined ||
    row.mediaSessionId === undefined ||
    row.mediaControlUrl === undefined
  )
    return undefined;
  return {
    interactionId: row.interactionId,
    session: {
      hostId: row.mediaHostId,
      sessionId: row.mediaSessionId,
      controlUrl: row.mediaControlUrl,
    },
  };
}

/** The body through its schema; no body at all is `{}` (both routes have only optional members). */
async function bodyOf<T>(request: HttpRequest, schema: z.ZodType<T>): Promise<T | undefined> {
  const text = await request.clone().text();
  return text.trim() === '' ? undefined : parseBody(request, schema);
}

export function createRecordingPauseHandlers(deps: RecordingPauseDeps): {
  readonly pause: HttpHandler;
  readonly resume: HttpHandler;
} {
  /** The call's live legs in the caller's tenant: 404 when the call is not live there. */
  async function liveLegs(principal: Principal, callId: string): Promise<LiveLeg[]> {
    const row = await deps.interactions.findByInteractionId(interactionIdForCall(callId));
    const leg = row?.tenantId === principal.tenantId ? liveLegOf(row) : undefined;
    if (row === undefined || leg === undefined)
      throw notFound(`call ${callId} is not being recorded now`);
    if (row.callChainId === undefined) return [leg];
    const related = await deps.interactions.list({
      tenantId: principal.tenantId,
      callChainId: row.callChainId,
      top: MAX_LEGS,
    });
    const others = await Promise.all(
      related
        .filter((r) => r.interactionId !== row.interactionId)
        .map(async (r) =>
          liveLegOf(await deps.interactions.get(principal.tenantId, r.interactionId)),
        ),
    );
    return [leg, ...others.filter((l): l is LiveLeg => l !== undefined)];
  }

  function run(kind: 'pause' | 'resume'): HttpHandler {
    return deps.access.route(ACTION, async (request, principal): Promise<AdminOutcome> => {
      const callId = request.params.callId ?? '';
      const subject = { type: LedgerSubjectType.interaction, id: interactionIdForCall(callId) };
      const byRole = refusalOf(principal, ACTION, subject);
      if (byRole !== undefined) return byRole;
      // A resume takes no members; its body is still checked (an unknown member is a 400).
      let reason = 'pci';
      if (kind === 'pause') reason = (await bodyOf(request, pauseBody))?.reason ?? reason;
      else await bodyOf(request, resumeBody);
      const legs = await liveLegs(principal, callId);
      // Every leg must be in the caller's scope: a pause changes what is kept of each.
      for (const leg of legs) {
        const groupIds = await deps.recordedGroupsOf(principal.tenantId, leg.interactionId);
        const outOfScope = refusalOf(principal, ACTION, subject, {
          tenantId: principal.tenantId,
          groupIds,
        });
        if (outOfScope !== undefined) return outOfScope;
      }
      const actor = principal.userId;
      const changed: string[] = [];
      const failed: string[] = [];
      for (const leg of legs) {
        try {
          if (kind === 'pause') await deps.control.pausePersistence(leg.session, { reason, actor });
          else await deps.control.resumePersistence(leg.session, { actor });
          changed.push(leg.interactionId);
        } catch (error) {
          if (!isRecorderError(error)) throw error;
          failed.push(leg.interactionId);
        }
      }
      const entry = {
        kind: kind === 'pause' ? LedgerEntryKind.recordingPaused : LedgerEntryKind.recordingResumed,
        actor,
        tenantId: principal.tenantId,
        subjectType: LedgerSubjectType.interaction,
        subjectId: subject.id,
        details: {
          action: ACTION,
          outcome: failed.length === 0 ? (kind === 'pause' ? 'paused' : 'resumed') : 'partial',
          roles: principal.roles.join(','),
          callId,
          ...(kind === 'pause' ? { reason } : {}),
          legs: changed,
          failedLegs: failed,
        },
      };
      if (changed.length === 0)
        return {
          response: problem(
            503,
            ErrorCode.MediaHostUnavailable,
            `the media host of call ${callId} did not ${kind} its recording; try again`,
          ),
          entry: {
            ...entry,
            kind: LedgerEntryKind.accessed,
            details: { ...entry.details, outcome: 'failed' },
          },
        };
      return {
        response: {
          status: 200,
          jsonBody: {
            callId,
            state: kind === 'pause' ? 'paused' : 'recording',
            ...(kind === 'pause' ? { reason } : {}),
            legs: changed,
            failedLegs: failed,
          },
        },
        entry,
      };
    });
  }

  return { pause: run('pause'), resume: run('resume') };
}

/**
 * The final interaction record, built by the call lifecycle from what it owns: the record as the
 * answered invite made it, what the call's updates showed about its meeting, and the lifecycle's
 * final patch (outcome, gaps, status history, seal). Pure; the lifecycle hands the result to
 * `finalizeInteraction`, which gives it to the archive as is.
 */
import type { InteractionRecord } from '@attest/core';
import type { MeetingFacts } from './call-lifecycle.contract';
import type { InteractionPatch } from './recorder-ports';

/** The record completed with the meeting facts and the patch's record fields. */
export function finalInteractionRecord(
  invited: InteractionRecord,
  meeting: MeetingFacts | undefined,
  patch: InteractionPatch,
): InteractionRecord {
  return {
    ...invited,
    ...(meeting === undefined
      ? {}
      : {
          type: 'meeting',
          ...(meeting.meetingId === undefined ? {} : { meetingId: meeting.meetingId }),
          ...(meeting.joinWebUrl === undefined ? {} : { joinWebUrl: meeting.joinWebUrl }),
        }),
    ...recordFieldsOf(patch),
  };
}

/** The row's operational columns: they describe the live call, not the record. */
const ROW_ONLY: ReadonlySet<string> = new Set([
  'callState',
  'mediaSessionId',
  'mediaControlUrl',
  'lifecycleVersion',
]);

/** The patch's record fields; one left undefined keeps the record's (as a table merge does). */
function recordFieldsOf(patch: InteractionPatch): Partial<InteractionRecord> {
  return Object.fromEntries(
    Object.entries(patch).filter(([key, field]) => field !== undefined && !ROW_ONLY.has(key)),
  );
}

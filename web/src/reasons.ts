/**
 * Why a call was not recorded (or not fully), in one sentence a communications admin can act on,
 * and what the compliance policy did to the user's call. Text only: the outcome and its reason
 * code come from the server.
 */
const REASONS: Readonly<Record<string, string>> = {
  noMediaHostCapacity:
    'No media host had room for the call, so the recorder answered busy; add capacity or undrain a host.',
  tenantNotServed:
    'The invite came from a tenant this deployment does not serve (ATTEST_SERVED_TENANT_IDS).',
  inviteHandlingFailed:
    'The recorder failed while handling the invite; see the function app logs for the call id.',
  mediaHostLost:
    'The media host recording the call stopped reporting, so media after that point was lost.',
  endedBeforeEstablished:
    'The call ended before it was established, so there was nothing to record.',
  notEstablished: 'The call never reached the established state within the deadline.',
  recordingStatusNotConfirmed:
    'Graph did not confirm the recording status (updateRecordingStatus), so no media could be kept.',
  deadlineMissed: 'The recorder did not answer within the 5 s Teams allows for policy recording.',
  unauthorized:
    'Microsoft Graph refused the recorder’s token: check the app registration’s secret or certificate.',
  forbidden: 'Microsoft Graph refused the operation: the app lacks a permission or admin consent.',
  throttled: 'Microsoft Graph throttled the recorder (429) and the retries ran out.',
};

const GAP_REASONS: Readonly<Record<string, string>> = {
  pci: 'paused for payment card data',
  mediaHostLost: 'media host lost',
  framesMissing: 'frames missing',
  storageOutage: 'storage outage',
  notPersisting: 'before recording was confirmed',
  recordingStartLatency: 'recording start latency',
  beforeRecordingStatus: 'before recording status',
  noMediaReceived: 'no media received',
  spoolFull: 'local spool full',
  paused: 'paused',
  sourceQueueOverflow: 'media bridge queue overflow',
};

export function gapReasonWords(reason: string): string {
  return GAP_REASONS[reason] ?? reason.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

export function reasonSentence(reason: string | undefined, outcome: string | undefined): string {
  if (outcome === 'recorded') return 'The call was recorded in full.';
  if (outcome === 'inProgress') return 'The call is in progress.';
  if (outcome === 'recordedWithGaps')
    return 'The call was recorded; media is missing only in the gaps listed in the story, each with its reason.';
  if (outcome === 'noMedia' && reason === undefined)
    return 'The recording status was set, but no media reached storage; see the gaps for why.';
  if (reason === undefined) return 'The recorder reported no reason.';
  const [head = '', detail] = reason.split(':', 2);
  const base = REASONS[head];
  if (head === 'answerFailed')
    return `Answering the invite failed${detail ? ` (Graph: ${detail})` : ''}${detail === undefined ? '' : `: ${REASONS[detail] ?? 'see the function app logs'}`}`;
  return base ?? `The recorder reported “${reason}”.`;
}

/** What the policy does to the user's call when the recorder is missing (ARCHITECTURE.md §6). */
export function policyEffect(outcome: string | undefined, type: string | undefined): string {
  if (outcome === 'recorded' || outcome === 'inProgress' || outcome === 'recordedWithGaps')
    return '';
  // The recorder stayed in the call: the policy let it go on, whatever reached storage.
  if (outcome === 'noMedia') return 'The recorder stayed in the call, so Teams let the call go on.';
  const meeting = type === 'meeting' || type === 'broadcast';
  return meeting
    ? 'With RequiredBeforeMeetingJoin / RequiredDuringMeeting on (the default), Teams kept the user out of or removed them from the meeting.'
    : 'With RequiredBeforeCallEstablishment / RequiredDuringCall on (the default), Teams cancelled or ended the user’s call.';
}

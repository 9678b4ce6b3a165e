/** Times in the viewer's own zone, durations and the words for outcomes and codes. */
// dateStyle/timeStyle cannot be combined with timeZoneName, hence the fields.
const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

export function formatTime(iso: string | undefined): string {
  if (iso === undefined || iso === '') return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export function formatClock(iso: string | undefined): string {
  if (iso === undefined) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : timeOnly.format(date);
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s % 60)} s`;
}

export function between(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  return Date.parse(to) - Date.parse(from);
}

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '—';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export const OUTCOME_WORDS: Readonly<Record<string, string>> = {
  inProgress: 'In progress',
  recorded: 'Recorded',
  recordedWithGaps: 'Recorded with gaps',
  noMedia: 'No media',
  rejectedBusy: 'Rejected (busy)',
  notRecordable: 'Not recordable',
  failed: 'Failed',
};

export function outcomeWords(outcome: string | undefined): string {
  return outcome === undefined ? 'Unknown' : (OUTCOME_WORDS[outcome] ?? outcome);
}

/** Graph call end codes (resultInfo code/subcode) in words. */
export function resultWords(code: number | undefined, subcode: number | undefined): string {
  if (code === undefined) return 'no result reported';
  const known: Record<string, string> = {
    '200/0': 'the call ended normally',
    '200/5000': 'the call ended normally (hung up)',
    '200/7000': 'the call was ended by the user',
    '200/7015': 'a participant left',
    '408/8537': 'Teams ended the call because no keep-alive arrived within 45 minutes',
    '480/0': 'the recorder was unavailable and the call could not be recorded',
    '486/0': 'the recorder answered busy (no media host could take the call)',
    '500/0': 'a server error in Teams ended the call',
    '503/0': 'the service was unavailable',
    '410/0': 'the call was already gone',
    '403/0': 'Teams refused the recorder (authentication or permissions)',
  };
  return (
    known[`${code}/${subcode ?? 0}`] ??
    known[`${code}/0`] ??
    `Teams reported code ${code}${subcode === undefined ? '' : `, subcode ${subcode}`}`
  );
}

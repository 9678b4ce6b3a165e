/** Deterministic ids shared by every deployable. Pure functions; no I/O. */

/** Durable instance id of a call leg's lifecycle orchestration (≤ 100 chars, no `/ \ # ?`). */
export function lifecycleInstanceId(callId: string): string {
  return `call-${sanitizeKey(callId)}`;
}

/** An interaction is one recorded call leg; its id is the recorder leg's Graph call id. */
export function interactionIdForCall(callId: string): string {
  return sanitizeKey(callId);
}

/** Makes a value safe as an Azure Table PartitionKey/RowKey or a durable instance id. */
export function sanitizeKey(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[/\\#?\u0000-\u001f\u007f-\u009f]/g, '_').slice(0, 90);
}

/**
 * Tolerant parsing of Graph calling webhook bodies (`commsNotifications`).
 *
 * Real traffic and the documentation disagree in several ways, all accepted here:
 * - the item addresses its resource as `resourceUrl` (v1.0) or `resource` (legacy `/app/calls/...`);
 * - enum values arrive in camelCase (docs) or PascalCase (SDK traffic): compared case-insensitively;
 * - `resultInfo.code` / `subcode` are numbers or numeric strings;
 * - `resourceData` is one entity or an array of entities.
 * Pure functions; no I/O.
 */

export const ChangeType = { created: 'created', updated: 'updated', deleted: 'deleted' } as const;
export type ChangeType = (typeof ChangeType)[keyof typeof ChangeType];

export const CallState = {
  incoming: 'incoming',
  establishing: 'establishing',
  ringing: 'ringing',
  established: 'established',
  hold: 'hold',
  transferring: 'transferring',
  transferAccepted: 'transferAccepted',
  redirecting: 'redirecting',
  terminating: 'terminating',
  terminated: 'terminated',
  unknown: 'unknown',
} as const;
export type CallState = (typeof CallState)[keyof typeof CallState];

/** A JSON object as received; fields are read through the helpers below. */
export type JsonObject = Readonly<Record<string, unknown>>;

export interface ResultInfo {
  readonly code?: number;
  readonly subcode?: number;
  readonly message?: string;
}

/** One `commsNotification` item, normalised. */
export type CommsNotification =
  | CallNotification
  | ParticipantsNotification
  | ParticipantJoiningNotification
  | ParticipantLeftNotification
  | OtherNotification;

interface NotificationBase {
  readonly changeType: ChangeType;
  /** `resourceUrl` or, failing that, `resource`, as sent. */
  readonly resourceUrl: string;
  /** The call id from the resource path or the entity, when one can be found. */
  readonly callId: string | undefined;
  /** Index of the item inside `value`, for dedupe keys. */
  readonly index: number;
}

export interface CallNotification extends NotificationBase {
  readonly kind: 'call';
  readonly state: CallState;
  readonly resultInfo?: ResultInfo;
  /** The call entity as received (for the invite analysis). */
  readonly call: JsonObject;
}

export interface ParticipantsNotification extends NotificationBase {
  readonly kind: 'participants';
  readonly participants: readonly JsonObject[];
}

export interface ParticipantJoiningNotification extends NotificationBase {
  readonly kind: 'participantJoining';
  readonly entity: JsonObject;
}

export interface ParticipantLeftNotification extends NotificationBase {
  readonly kind: 'participantLeft';
  readonly participantId: string | undefined;
  readonly entity: JsonObject;
}

export interface OtherNotification extends NotificationBase {
  readonly kind: 'other';
}

/** Thrown (as a value, never for a valid-but-unknown shape) when a body is not a notification batch. */
export class NotificationParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotificationParseError';
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a property ignoring the case of its name (PascalCase bodies exist in the wild). */
export function prop(object: JsonObject | undefined, name: string): unknown {
  if (object === undefined) return undefined;
  if (name in object) return object[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(object)) if (key.toLowerCase() === lower) return object[key];
  return undefined;
}

export function objectProp(object: JsonObject | undefined, name: string): JsonObject | undefined {
  const value = prop(object, name);
  return isJsonObject(value) ? value : undefined;
}

export function stringProp(object: JsonObject | undefined, name: string): string | undefined {
  const value = prop(object, name);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function arrayProp(object: JsonObject | undefined, name: string): readonly unknown[] {
  const value = prop(object, name);
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}

/** Matches a received enum value against the known values case-insensitively. */
export function normaliseEnum<T extends string>(
  raw: unknown,
  values: Readonly<Record<string, T>>,
  fallback: T,
): T {
  if (typeof raw !== 'string') return fallback;
  const lower = raw.trim().toLowerCase();
  for (const value of Object.values(values)) if (value.toLowerCase() === lower) return value;
  return fallback;
}

/** `code`/`subcode` as numbers whether they arrived as numbers or numeric strings. */
export function parseResultInfo(raw: unknown): ResultInfo | undefined {
  if (!isJsonObject(raw)) return undefined;
  const toNumber = (value: unknown): number | undefined => {
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
      return Number(value);
    }
    return undefined;
  };
  const message = prop(raw, 'message');
  return {
    code: toNumber(prop(raw, 'code')),
    subcode: toNumber(prop(raw, 'subcode')),
    message: typeof message === 'string' ? message : undefined,
  };
}

const callIdInPath = /\/calls\/([^/?#]+)/i;

/** The call id inside `/communications/calls/{id}/...` or `/app/calls/{id}/...`. */
export function callIdFromResource(resource: string): string | undefined {
  const match = callIdInPath.exec(resource);
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
}

function odataType(entity: JsonObject | undefined): string {
  return (stringProp(entity, '@odata.type') ?? '').toLowerCase();
}

/**
 * Parses a webhook body (already JSON-decoded). Accepts `{ value: [...] }` (any casing of
 * `value`), and a single item without the envelope. Throws {@link NotificationParseError} only
 * when the body is not a notification batch at all; unknown resources become `kind: 'other'`.
 */
export function parseCommsNotifications(body: unknown): readonly CommsNotification[] {
  if (!isJsonObject(body)) throw new NotificationParseError('body is not a JSON object');
  const rawItems = prop(body, 'value');
  const items: readonly unknown[] = Array.isArray(rawItems)
    ? rawItems
    : prop(body, 'changeType') !== undefined
      ? [body]
      : [];
  if (!Array.isArray(rawItems) && items.length === 0) {
    throw new NotificationParseError('body has no "value" array of notifications');
  }
  return items.map((item, index) => parseItem(item, index));
}

function parseItem(item: unknown, index: number): CommsNotification {
  if (!isJsonObject(item)) throw new NotificationParseError(`value[${index}] is not an object`);
  const rawChange = prop(item, 'changeType');
  const changeType = normaliseEnum<ChangeType | 'invalid'>(
    rawChange,
    { ...ChangeType, invalid: 'invalid' },
    'invalid',
  );
  if (changeType === 'invalid') {
    throw new NotificationParseError(`value[${index}].changeType is missing or unknown`);
  }
  const resourceUrl = stringProp(item, 'resourceUrl') ?? stringProp(item, 'resource') ?? '';
  const rawData = prop(item, 'resourceData');
  const entities = (
    Array.isArray(rawData) ? rawData : rawData === undefined ? [] : [rawData]
  ).filter(isJsonObject);
  const first = entities[0];
  const type = odataType(first);
  const pathCallId = callIdFromResource(resourceUrl);
  const base = { changeType, resourceUrl, index };

  if (type.endsWith('participantjoiningnotification')) {
    const call = objectProp(first, 'call');
    return {
      ...base,
      kind: 'participantJoining',
      callId: pathCallId ?? callIdFromOdata(call),
      entity: first ?? {},
    };
  }
  if (type.endsWith('participantleftnotification')) {
    return {
      ...base,
      kind: 'participantLeft',
      callId: pathCallId ?? callIdFromOdata(objectProp(first, 'call')),
      participantId: stringProp(first, 'participantId'),
      entity: first ?? {},
    };
  }
  if (/\/participants\/?$/i.test(resourceUrl) || type.endsWith('.participant')) {
    return { ...base, kind: 'participants', callId: pathCallId, participants: entities };
  }
  if (
    type.endsWith('.call') ||
    (first !== undefined &&
      prop(first, 'state') !== undefined &&
      /\/calls\/[^/]+\/?$/i.test(resourceUrl))
  ) {
    const call = first ?? {};
    const state = normaliseEnum(prop(call, 'state'), CallState, CallState.unknown);
    return {
      ...base,
      kind: 'call',
      callId: pathCallId ?? stringProp(call, 'id'),
      state,
      resultInfo: parseResultInfo(prop(call, 'resultInfo')),
      call,
    };
  }
  return { ...base, kind: 'other', callId: pathCallId };
}

function callIdFromOdata(call: JsonObject | undefined): string | undefined {
  const id = stringProp(call, 'id');
  if (id !== undefined) return id;
  const odataId = stringProp(call, '@odata.id');
  return odataId === undefined ? undefined : callIdFromResource(odataId);
}

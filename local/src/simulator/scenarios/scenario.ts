/**
 * Scenario files: a call (kind, tenant, participants with scripted timelines) plus delivery
 * quirks and the expected outcome. JSON, validated with messages that name the file and field.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConversationKind, NotRecordableReason } from '../policy/policy-engine';

export const TimelineAction = {
  join: 'join',
  leave: 'leave',
  speak: 'speak',
  mute: 'mute',
  unmute: 'unmute',
  videoOn: 'videoOn',
  videoOff: 'videoOff',
  shareOn: 'shareOn',
  shareOff: 'shareOff',
  admit: 'admit',
} as const;
export type TimelineAction = (typeof TimelineAction)[keyof typeof TimelineAction];

export interface TimelineEvent {
  readonly atInMs: number;
  readonly action: TimelineAction;
  /** For `speak`: how long. */
  readonly durationInMs?: number;
}

export interface ScenarioParticipant {
  /** A directory user id of the call's tenant (recorded when a policy applies). */
  readonly user?: string;
  /** A PSTN party: E.164 number. */
  readonly phone?: string;
  /** An anonymous guest's display name. */
  readonly guest?: string;
  /** A user of another tenant (federated). */
  readonly federatedTenantId?: string;
  readonly role?: 'caller' | 'callee' | 'organizer' | 'attendee' | 'presenter';
  /** Starts in the lobby (meetings) until an `admit` event. */
  readonly isInLobby?: boolean;
  /** Default: joins at 0 unless the timeline has a `join`. */
  readonly timeline?: readonly TimelineEvent[];
}

export interface ScenarioDelivery {
  /** Deliver every invite twice. */
  readonly duplicateInvite?: boolean;
  /** Deliver `established` before `establishing`. */
  readonly establishedBeforeEstablishing?: boolean;
  /** Never deliver the invite (the recorder is unreachable): the answer deadline decides. */
  readonly dropInvite?: boolean;
  /** The platform drops every accepted recorder leg at this offset (500/1005 media connectivity). */
  readonly dropRecorderAtInMs?: number;
  /**
   * The platform drops one accepted recorder leg (the first answered) at this offset, as when
   * its media host dies: with a paired or concurrent recorder the call goes on recorded.
   */
  readonly dropOneRecorderAtInMs?: number;
  /** The platform establishes an answered leg (state and notifications) this long after the answer. */
  readonly establishAfterInMs?: number;
}

export interface CallSpec {
  readonly kind: ConversationKind;
  readonly tenantId: string;
  readonly subject?: string;
  readonly participants: readonly ScenarioParticipant[];
  /** When the call ends (ms after start); absent: it runs until ended through the control API. */
  readonly durationInMs?: number;
  /** The leg reached the recorded user by forward/transfer/delegation/call group/simultaneous ring. */
  readonly reroute?: {
    readonly kind:
      'forward' | 'transfer' | 'delegation' | 'callGroup' | 'simultaneousRing' | 'callQueue';
    readonly transferorUser?: string;
  };
  readonly notRecordable?: NotRecordableReason;
  readonly delivery?: ScenarioDelivery;
  /**
   * The Teams media region the invites name (`botData.mediaHostedRegion`, e.g. `EUWE`, `USEA`):
   * where the call's media is hosted. Default `EUWE`.
   */
  readonly mediaRegion?: string;
}

export interface ScenarioExpectation {
  /** Expected conversation end reason (`completed`, `blocked`, `droppedByPolicy`, …). */
  readonly endReason?: string;
  /** Expected per-user status by directory user id. */
  readonly users?: Readonly<Record<string, string>>;
}

/**
 * What `npm run scenario` does to Attest's media host fleet around the call (the simulator plays
 * the call and ignores this; the fleet is Attest's, reached through its admin API and the
 * Instance Metadata Service stand-in that `npm start` runs).
 */
export interface ScenarioFleet {
  /**
   * Before the call, an operator drains every media host in this Azure region (the region the
   * call's media is nearest), so the call spills over to the next region; undrained after.
   */
  readonly drainRegion?: string;
  /**
   * This long after the recording started, a scale-in is scheduled (a `Terminate` scheduled
   * event) for the instance of the media host recording the call.
   */
  readonly scaleInAtInMs?: number;
  /** The scale-in's notice (`NotBefore` less now). Default 900 000 (Azure's longest). */
  readonly scaleInNoticeInMs?: number;
  /**
   * The call's legs are to reach this many different instances of the function app (2 to 4):
   * `npm start` must run them behind the simulator's front door (`ATTEST_START_FUNCTION_INSTANCES`).
   */
  readonly functionInstances?: number;
}

export interface Scenario {
  readonly name: string;
  readonly description?: string;
  readonly call: CallSpec;
  readonly fleet?: ScenarioFleet;
  readonly expect?: ScenarioExpectation;
}

export class ScenarioError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: ${problems.join('; ')}`);
    this.name = 'ScenarioError';
  }
}

const kinds = new Set<string>(Object.values(ConversationKind));
const actions = new Set<string>(Object.values(TimelineAction));
const notRecordable = new Set<string>(Object.values(NotRecordableReason));
const roles = new Set(['caller', 'callee', 'organizer', 'attendee', 'presenter']);
const rerouteKinds = new Set([
  'forward',
  'transfer',
  'delegation',
  'callGroup',
  'simultaneousRing',
  'callQueue',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a call spec; `at` prefixes field names (e.g. `call`). Returns the problems found. */
export function callSpecProblems(value: unknown, at: string): string[] {
  const problems: string[] = [];
  if (!isObject(value)) return [`${at} must be an object`];
  if (typeof value.kind !== 'string' || !kinds.has(value.kind))
    problems.push(`${at}.kind must be one of ${[...kinds].join(', ')}`);
  if (typeof value.tenantId !== 'string' || value.tenantId === '')
    problems.push(`${at}.tenantId must be a non-empty string`);
  if (
    value.durationInMs !== undefined &&
    (typeof value.durationInMs !== 'number' || value.durationInMs <= 0)
  )
    problems.push(`${at}.durationInMs must be a positive number`);
  if (
    value.mediaRegion !== undefined &&
    (typeof value.mediaRegion !== 'string' || !/^[A-Za-z0-9]{2,40}$/.test(value.mediaRegion))
  )
    problems.push(`${at}.mediaRegion must be a region code such as EUWE`);
  if (
    value.notRecordable !== undefined &&
    (typeof value.notRecordable !== 'string' || !notRecordable.has(value.notRecordable))
  ) {
    problems.push(`${at}.notRecordable must be one of ${[...notRecordable].join(', ')}`);
  }
  if (
    value.reroute !== undefined &&
    (!isObject(value.reroute) ||
      typeof value.reroute.kind !== 'string' ||
      !rerouteKinds.has(value.reroute.kind))
  ) {
    problems.push(`${at}.reroute.kind must be one of ${[...rerouteKinds].join(', ')}`);
  }
  if (!Array.isArray(value.participants) || value.participants.length === 0) {
    problems.push(`${at}.participants must be a non-empty array`);
    return problems;
  }
  value.participants.forEach((p: unknown, i) => {
    const pa = `${at}.participants[${i}]`;
    if (!isObject(p)) {
      problems.push(`${pa} must be an object`);
      return;
    }
    const idKinds = ['user', 'phone', 'guest'].filter((k) => p[k] !== undefined);
    if (idKinds.length !== 1) problems.push(`${pa} needs exactly one of user, phone, guest`);
    for (const k of idKinds)
      if (typeof p[k] !== 'string' || p[k] === '')
        problems.push(`${pa}.${k} must be a non-empty string`);
    if (typeof p.phone === 'string' && !/^\+[1-9]\d{6,14}$/.test(p.phone))
      problems.push(`${pa}.phone must be an E.164 number like +14255550100`);
    if (p.role !== undefined && (typeof p.role !== 'string' || !roles.has(p.role)))
      problems.push(`${pa}.role must be one of ${[...roles].join(', ')}`);
    if (p.timeline !== undefined) {
      if (!Array.isArray(p.timeline)) {
        problems.push(`${pa}.timeline must be an array`);
        return;
      }
      p.timeline.forEach((e: unknown, j) => {
        const ea = `${pa}.timeline[${j}]`;
        if (!isObject(e)) return problems.push(`${ea} must be an object`);
        if (typeof e.atInMs !== 'number' || e.atInMs < 0)
          problems.push(`${ea}.atInMs must be a number >= 0`);
        if (typeof e.action !== 'string' || !actions.has(e.action))
          problems.push(`${ea}.action must be one of ${[...actions].join(', ')}`);
        if (e.action === 'speak' && (typeof e.durationInMs !== 'number' || e.durationInMs <= 0))
          problems.push(`${ea}.durationInMs must be a positive number for speak`);
        return undefined;
      });
    }
  });
  if (value.delivery !== undefined) {
    if (!isObject(value.delivery)) problems.push(`${at}.delivery must be an object`);
    else {
      for (const key of ['duplicateInvite', 'establishedBeforeEstablishing', 'dropInvite']) {
        if (value.delivery[key] !== undefined && typeof value.delivery[key] !== 'boolean')
          problems.push(`${at}.delivery.${key} must be a boolean`);
      }
      for (const key of ['dropRecorderAtInMs', 'dropOneRecorderAtInMs', 'establishAfterInMs']) {
        const offset = value.delivery[key];
        if (offset !== undefined && (typeof offset !== 'number' || offset < 0))
          problems.push(`${at}.delivery.${key} must be a number >= 0`);
      }
    }
  }
  return problems;
}

function fleetProblems(value: unknown): string[] {
  if (value === undefined) return [];
  if (!isObject(value)) return ['fleet must be an object'];
  const problems: string[] = [];
  if (
    value.drainRegion !== undefined &&
    (typeof value.drainRegion !== 'string' || !/^[a-z0-9]+$/.test(value.drainRegion))
  )
    problems.push('fleet.drainRegion must be an Azure region name such as westeurope');
  for (const key of ['scaleInAtInMs', 'scaleInNoticeInMs']) {
    const offset = value[key];
    if (offset !== undefined && (typeof offset !== 'number' || offset < 0))
      problems.push(`fleet.${key} must be a number >= 0`);
  }
  const instances = value.functionInstances;
  if (
    instances !== undefined &&
    (typeof instances !== 'number' ||
      !Number.isInteger(instances) ||
      instances < 2 ||
      instances > 4)
  )
    problems.push('fleet.functionInstances must be an integer from 2 to 4');
  return problems;
}

export function parseScenario(text: string, source: string): Scenario {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(source, [
      `not valid JSON (${err instanceof Error ? err.message : 'parse error'})`,
    ]);
  }
  if (!isObject(value)) throw new ScenarioError(source, ['the file must hold a JSON object']);
  const problems: string[] = [];
  if (typeof value.name !== 'string' || value.name === '')
    problems.push('name must be a non-empty string');
  problems.push(...callSpecProblems(value.call, 'call'));
  if (value.expect !== undefined && !isObject(value.expect))
    problems.push('expect must be an object');
  problems.push(...fleetProblems(value.fleet));
  if (problems.length > 0) throw new ScenarioError(source, problems);
  return value as unknown as Scenario;
}

export function loadScenarioFile(path: string): Scenario {
  if (!existsSync(path)) throw new ScenarioError(path, ['file not found']);
  return parseScenario(readFileSync(path, 'utf8'), path);
}

/** Finds `<name>.json` in the scenario folder, or loads `name` as a path. */
export function resolveScenario(nameOrPath: string, scenarioDir: string): Scenario {
  if (nameOrPath.endsWith('.json') || nameOrPath.includes('/')) return loadScenarioFile(nameOrPath);
  const path = join(scenarioDir, `${nameOrPath}.json`);
  if (!existsSync(path)) {
    const known = existsSync(scenarioDir)
      ? readdirSync(scenarioDir)
          .filter((n) => n.endsWith('.json') && n !== 'directory.json')
          .map((n) => basename(n, '.json'))
      : [];
    throw new ScenarioError(path, [
      `unknown scenario '${nameOrPath}'; known: ${known.join(', ') || 'none'}`,
    ]);
  }
  return loadScenarioFile(path);
}

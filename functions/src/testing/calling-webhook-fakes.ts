/**
 * Fakes of the calling webhook's ports and request builders, shared by its unit tests.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import type { CreateMediaSessionRequest } from '@attest/core';
import type { CallLifecycleSettings } from '../domain/call-lifecycle.contract';
import { MediaHostPool } from '../domain/media-host-pool';
import type {
  AnswerOptions,
  GraphCalls,
  GraphResult,
  InteractionPatch,
  InteractionRow,
  InteractionStore,
  LifecycleClient,
  MediaHostControl,
  MediaHostRecord,
  MediaHostRegistry,
} from '../domain/recorder-ports';
import type { TokenVerifier } from '../domain/token-verifier';
import { RateLimitedLog } from '../logging/structured-log';
import { createCallingWebhookHandler } from '../http/calling-webhook.http';

export const NOW = new Date('2030-01-01T00:00:00Z');
export const settings: CallLifecycleSettings = {
  keepAliveIntervalInMs: 900_000,
  mediaHealthCheckIntervalInMs: 60_000,
  mediaHealthFailureThreshold: 2,
  establishTimeoutInMs: 120_000,
  recordingStatusMaxAttempts: 5,
  graphRetryDelayInMs: 1_000,
  maxEventsPerExecution: 200,
};

/** The webhook's ports as small fakes that record what the handler did. */
export class Fakes {
  graphCalls: { op: string; callId: string; arg?: unknown }[] = [];
  graphAnswer: GraphResult = { kind: 'ok', status: 202 };
  rows = new Map<string, InteractionRow>();
  isFastPathOn = false;
  isPersistingFailing = false;
  recordingStatuses: GraphResult[] = [];
  persisting: { sessionId: string; at: string }[] = [];
  starts: { name: string; instanceId: string; input: unknown }[] = [];
  raises: { instanceId: string; payload: unknown }[] = [];
  existing = new Set<string>();
  sessions: CreateMediaSessionRequest[] = [];
  hosts: MediaHostRecord[] = [
    {
      hostId: 'mh-1',
      controlUrl: 'http://127.0.0.1:9',
      region: 'EUNO',
      isDraining: false,
      capacity: { maxSessions: 10, activeSessions: 0 },
      version: '1',
      spoolBytes: 0,
      spoolLimitInBytes: 1,
      sentAt: NOW.toISOString(),
      receivedAt: NOW.toISOString(),
    },
  ];
  aborted: string[] = [];
  isTokenValid = true;
  lines: unknown[][] = [];

  graph: GraphCalls = {
    answer: (_t, callId, options: AnswerOptions) => {
      this.graphCalls.push({ op: 'answer', callId, arg: options });
      return Promise.resolve(this.graphAnswer);
    },
    reject: (_t, callId, reason) => {
      this.graphCalls.push({ op: 'reject', callId, arg: reason });
      return Promise.resolve({ kind: 'ok', status: 202 });
    },
    updateRecordingStatus: (_t, callId, status) => {
      this.graphCalls.push({ op: 'updateRecordingStatus', callId, arg: status });
      return Promise.resolve(this.recordingStatuses.shift() ?? { kind: 'ok', status: 200 });
    },
    keepAlive: () => Promise.resolve({ kind: 'ok', status: 200 }),
    getCall: () => Promise.resolve({ kind: 'found', state: 'established' }),
  };
  registry: MediaHostRegistry = {
    upsertHeartbeat: () => Promise.resolve(),
    list: () => Promise.resolve(this.hosts),
    get: (id) => Promise.resolve(this.hosts.find((h) => h.hostId === id)),
    setDraining: () => Promise.resolve(true),
  };
  control: MediaHostControl = {
    // Idempotent per call like the media host: a repeat gets the live session back.
    createSession: (_url, request) => {
      const isExisting =
        this.sessions.some((r) => r.callId === request.callId) &&
        !this.aborted.includes(`s-${request.callId}`);
      this.sessions.push(request);
      return Promise.resolve({
        sessionId: `s-${request.callId}`,
        mediaHostId: 'mh-1',
        mediaConfigBlob: '{"v":1}',
        ...(isExisting ? { isExisting } : {}),
      });
    },
    startPersisting: (session, at) => {
      this.persisting.push({ sessionId: session.sessionId, at });
      return this.isPersistingFailing
        ? Promise.reject(new Error('media host down'))
        : Promise.resolve({
            sessionId: session.sessionId,
            callId: 'c',
            state: 'persisting',
            framesReceived: 0,
            framesDroppedBeforePersist: 0,
            bytesCommitted: 0,
          });
    },
    updateParticipants: () => Promise.reject(new Error('unused')),
    getSession: () => Promise.reject(new Error('unused')),
    seal: () => Promise.reject(new Error('unused')),
    adopt: () => Promise.reject(new Error('unused')),
    abort: (session) => {
      this.aborted.push(session.sessionId);
      return Promise.resolve();
    },
    setDraining: () => Promise.resolve(),
  };
  /** Each row's version (its ETag is `v<n>`), moved on by every write. */
  versions = new Map<string, number>();
  /** Claims that had to read the row (no known ETag, or the row changed since). */
  claimReads = 0;
  #written(id: string): string {
    const version = (this.versions.get(id) ?? 0) + 1;
    this.versions.set(id, version);
    return `v${version}`;
  }
  interactions: InteractionStore = {
    createIfAbsent: (record, extra) => {
      if (this.rows.has(record.interactionId)) return Promise.resolve(false);
      this.rows.set(record.interactionId, { ...record, ...extra });
      this.#written(record.interactionId);
      return Promise.resolve(true);
    },
    update: (_t, id, patch: InteractionPatch) => {
      this.rows.set(id, { ...this.rows.get(id)!, ...patch });
      return Promise.resolve(this.#written(id));
    },
    modify: (_t, id, change) => {
      const row = this.rows.get(id);
      if (row === undefined) return Promise.resolve('absent');
      const patch = change(row);
      if (patch === undefined) return Promise.resolve('unchanged');
      this.rows.set(id, { ...row, ...patch });
      return Promise.resolve('updated');
    },
    // Off unless a test turns it on: rows then behave as a lifecycle before the fast path wrote
    // them, and `established` goes to the lifecycle as it came.
    claimRecordingStart: (_t, id, claimedAt, isEligible, known) => {
      // Like a Merge: only the claim column is written; the claim returns the row it was made on.
      const claim = (row: InteractionRow) => {
        this.rows.set(id, { ...this.rows.get(id)!, recordingStartClaimedAt: claimedAt });
        this.#written(id);
        return Promise.resolve({
          kind: 'claimed' as const,
          row: { ...row, recordingStartClaimedAt: claimedAt },
        });
      };
      if (
        this.isFastPathOn &&
        known !== undefined &&
        known.etag === `v${this.versions.get(id) ?? 0}` &&
        isEligible(known.row)
      )
        return claim(known.row);
      this.claimReads += 1;
      const row = this.rows.get(id);
      if (row === undefined) return Promise.resolve({ kind: 'absent' });
      if (!this.isFastPathOn) return Promise.resolve({ kind: 'ineligible' });
      if (!isEligible(row)) return Promise.resolve({ kind: 'ineligible', row });
      if (row.recordingStartClaimedAt !== undefined) return Promise.resolve({ kind: 'taken' });
      return claim(row);
    },
    get: (_t, id) => Promise.resolve(this.rows.get(id)),
    findByInteractionId: (id) => Promise.resolve(this.rows.get(id)),
    list: () => Promise.resolve([...this.rows.values()]),
    upsertParticipants: () => Promise.resolve(),
    upsertStreams: () => Promise.resolve(),
    listParticipants: () => Promise.resolve([]),
    listStreams: () => Promise.resolve([]),
  };
  lifecycle: LifecycleClient = {
    start: (name, instanceId, input) => {
      this.starts.push({ name, instanceId, input });
      this.existing.add(instanceId);
      return Promise.resolve('started');
    },
    raise: (instanceId, _e, payload) => {
      if (!this.existing.has(instanceId)) return Promise.resolve('notFound');
      this.raises.push({ instanceId, payload });
      return Promise.resolve('raised');
    },
    getStatus: () => Promise.resolve(undefined),
  };
  verifier: TokenVerifier = {
    verify: () =>
      Promise.resolve(
        this.isTokenValid
          ? {
              isValid: true,
              token: {
                issuer: 'i',
                audience: 'a',
                tenantId: 'tenant-a',
                subject: 's',
                roles: [],
                expiresAt: NOW,
                claims: {},
              },
            }
          : { isValid: false, reason: 'badSignature' },
      ),
  };

  /** `onSleep` runs when the handler sleeps (after the wait is recorded), e.g. to let another instance go on. */
  handler(sleeps: number[] = [], onSleep: () => Promise<void> = () => Promise.resolve()) {
    return createCallingWebhookHandler({
      verifier: this.verifier,
      graph: this.graph,
      pool: new MediaHostPool(this.registry, this.control, {
        staleAfterInMs: 30_000,
        now: () => NOW,
      }),
      mediaControl: this.control,
      interactions: this.interactions,
      archive: {
        recordInvite: () => Promise.resolve(),
        recordSealed: () => Promise.resolve(),
        sealInteraction: (interaction) => Promise.resolve(interaction),
      },
      lifecycle: () => this.lifecycle,
      settings: {
        servedTenantIds: ['tenant-a'],
        publicBaseUrl: 'https://rec.example',
        participantCapacity: 200,
        lifecycle: settings,
        raiseAttempts: 3,
        raiseRetryDelayInMs: 5,
      },
      now: () => NOW,
      sleep: (ms) => {
        sleeps.push(ms);
        return onSleep();
      },
      authFailureLog: this.authLog,
    });
  }
  authLog = new RateLimitedLog(60_000, () => NOW.getTime());

  context(): InvocationContext {
    return new InvocationContext({
      functionName: 'recorderCalling',
      logHandler: (level, ...args) => this.lines.push([level, ...args]),
    });
  }
}

export function request(
  body: unknown,
  headers: Record<string, string> = { authorization: 'Bearer x' },
): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: 'http://localhost/api/calling',
    headers,
    body: { string: typeof body === 'string' ? body : JSON.stringify(body) },
  });
}

export function invite(callId = 'call-1', extra: Record<string, unknown> = {}) {
  return {
    value: [
      {
        changeType: 'created',
        resourceUrl: `/communications/calls/${callId}`,
        resourceData: {
          '@odata.type': '#microsoft.graph.call',
          state: 'incoming',
          tenantId: 'tenant-a',
          callChainId: 'chain-1',
          source: {
            id: 'p-user',
            identity: { user: { id: 'user-1', displayName: 'Someone', tenantId: 'tenant-a' } },
          },
          targets: [{ id: 'bot', identity: { applicationInstance: { id: 'inst' } } }],
          incomingContext: { observedParticipantId: 'p-user', sourceParticipantId: 'p-user' },
          ...extra,
        },
      },
    ],
  };
}
export const stateUpdate = (callId: string, state: string) => ({
  value: [
    {
      changeType: 'updated',
      resourceUrl: `/communications/calls/${callId}`,
      resourceData: { '@odata.type': '#microsoft.graph.call', state },
    },
  ],
});

/**
 * A minimal policy recorder for simulator tests. It verifies nothing: on an invite it answers
 * (or rejects, or ignores) through the simulator's Graph API with a media config blob pointing at
 * a test media listener, sets `recording` once the call is established, and keeps every
 * notification it received.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MediaConfigBlob } from '@attest/core';

export interface ReceivedNotification {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: {
    value?: {
      changeType?: string;
      resourceUrl?: string;
      resourceData?: Record<string, unknown> | Record<string, unknown>[];
    }[];
  };
}

export type InviteAction = 'answer' | 'reject' | 'ignore';

export interface TestRecorderOptions {
  readonly simulatorUrl: string;
  readonly tenantId: string;
  readonly appId: string;
  readonly appSecret: string;
  readonly mediaEndpoint: string;
  readonly onInvite?: (callId: string, index: number) => InviteAction;
  readonly setRecording?: boolean;
  readonly participantCapacity?: number;
  readonly joiningResponse?: 'acceptJoinResponse' | 'rejectJoinResponse' | 'inviteNewBotResponse';
  /** `callOptions` of the answer (e.g. `{ isDeltaRosterEnabled: true }`), read at answer time. */
  answerCallOptions?: Record<string, unknown>;
}

export interface TestRecorder {
  readonly url: string;
  readonly webhookUrl: string;
  readonly received: ReceivedNotification[];
  readonly answered: string[];
  readonly graphStatuses: { op: string; callId: string; status: number }[];
  /** Media session id per call id. */
  readonly sessions: Map<string, string>;
  /** Notifications being handled (Graph calls in progress). */
  inFlight(): number;
  graph(method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestRecorder(options: TestRecorderOptions): Promise<TestRecorder> {
  const received: ReceivedNotification[] = [];
  const answered: string[] = [];
  const graphStatuses: { op: string; callId: string; status: number }[] = [];
  const sessions = new Map<string, string>();
  const recordingSet = new Set<string>();
  let token: string | undefined;
  let invites = 0;
  let inFlight = 0;

  const getToken = async (): Promise<string> => {
    if (token) return token;
    const response = await fetch(`${options.simulatorUrl}/${options.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: options.appId,
        client_secret: options.appSecret,
        scope: 'https://graph.microsoft.com/.default',
      }),
    });
    token = ((await response.json()) as { access_token: string }).access_token;
    return token;
  };
  const send = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${options.simulatorUrl}/v1.0${path}`, {
      method,
      headers: { authorization: `Bearer ${await getToken()}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  // Tests move the simulator's clock by hours: a token may expire between calls.
  const graph = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const first = await send(method, path, body);
    if (first.status !== 401) return first;
    token = undefined;
    return send(method, path, body);
  };

  let url = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: ReceivedNotification['body'] = {};
      try {
        body = JSON.parse(text) as ReceivedNotification['body'];
      } catch {
        body = {};
      }
      received.push({ path: req.url ?? '', headers: req.headers, body });
      const item = body.value?.[0];
      const data = item?.resourceData;
      const odataType = !Array.isArray(data) ? data?.['@odata.type'] : undefined;
      const type = typeof odataType === 'string' ? odataType : '';
      if (type === '#microsoft.graph.participantJoiningNotification') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            '@odata.type': `#microsoft.graph.${options.joiningResponse ?? 'acceptJoinResponse'}`,
            ...(options.joiningResponse === 'rejectJoinResponse' ? { reason: 'busy' } : {}),
          }),
        );
        return;
      }
      res.writeHead(202);
      res.end();
      inFlight += 1;
      void handle(item?.changeType ?? '', item?.resourceUrl ?? '', data)
        .catch(() => undefined) // the simulator may already be closing
        .finally(() => {
          inFlight -= 1;
        });
    });
  });

  const handle = async (changeType: string, resourceUrl: string, data: unknown): Promise<void> => {
    const callId = /\/communications\/calls\/([^/]+)$/.exec(resourceUrl)?.[1];
    if (callId === undefined || Array.isArray(data) || typeof data !== 'object' || data === null)
      return;
    const rawState = (data as { state?: unknown }).state;
    const state = typeof rawState === 'string' ? rawState.toLowerCase() : '';
    if (changeType.toLowerCase() === 'created' && state === 'incoming') {
      if (answered.includes(callId)) return; // duplicate invite
      const action = options.onInvite?.(callId, invites++) ?? 'answer';
      if (action === 'ignore') return;
      answered.push(callId);
      if (action === 'reject') {
        const r = await graph('POST', `/communications/calls/${callId}/reject`, { reason: 'busy' });
        graphStatuses.push({ op: 'reject', callId, status: r.status });
        return;
      }
      const sessionId = randomUUID();
      sessions.set(callId, sessionId);
      const blob: MediaConfigBlob = {
        v: 1,
        endpoint: options.mediaEndpoint,
        sessionId,
        token: `token-${sessionId}`,
      };
      const r = await graph('POST', `/communications/calls/${callId}/answer`, {
        callbackUri: `${url}/api/calling/notification`,
        acceptedModalities: ['audio', 'video', 'videoBasedScreenSharing'],
        mediaConfig: {
          '@odata.type': '#microsoft.graph.appHostedMediaConfig',
          blob: JSON.stringify(blob),
        },
        ...(options.participantCapacity !== undefined
          ? { participantCapacity: options.participantCapacity }
          : {}),
        ...(options.answerCallOptions !== undefined
          ? {
              callOptions: {
                '@odata.type': '#microsoft.graph.incomingCallOptions',
                ...options.answerCallOptions,
              },
            }
          : {}),
      });
      graphStatuses.push({ op: 'answer', callId, status: r.status });
      return;
    }
    if (state === 'established' && options.setRecording !== false && !recordingSet.has(callId)) {
      recordingSet.add(callId);
      const r = await graph('POST', `/communications/calls/${callId}/updateRecordingStatus`, {
        clientContext: callId,
        status: 'recording',
      });
      graphStatuses.push({ op: 'updateRecordingStatus', callId, status: r.status });
    }
  };

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    webhookUrl: `${url}/api/calling`,
    received,
    answered,
    graphStatuses,
    sessions,
    inFlight: () => inFlight,
    graph,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls until `predicate` holds (network work completes asynchronously), or fails after `timeoutInMs`. */
export async function waitUntil(
  predicate: () => boolean,
  what: string,
  timeoutInMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

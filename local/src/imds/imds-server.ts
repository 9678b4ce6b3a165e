/**
 * A stand-in for Azure's Instance Metadata Service, the parts a media host reads: scheduled
 * events (`GET /metadata/scheduledevents?api-version=2020-07-01`, acknowledged with
 * `POST … {"StartRequests":[{"EventId":…}]}`) and compute metadata
 * (`GET /metadata/instance/compute`). Like IMDS it refuses a request without `Metadata: true`
 * and one without `api-version`. One stand-in may serve several local media hosts, as one scale
 * set placement group receives every instance's events: each event names the instances it
 * affects in `Resources`, and each host reads only its own.
 * Tests and scenarios schedule events in process ({@link ImdsStandIn.scheduleEvent}) or over
 * `POST /_imds/events`, read what was acknowledged (`GET /_imds/events`) and remove an event
 * (`DELETE /_imds/events/{eventId}`). Loopback only, plain HTTP (as IMDS).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInEvent {
  readonly EventId: string;
  readonly EventType: string;
  readonly ResourceType: 'VirtualMachine';
  readonly Resources: readonly string[];
  EventStatus: 'Scheduled' | 'Started';
  NotBefore: string;
  readonly Description: string;
  readonly EventSource: 'Platform' | 'User';
  readonly DurationInSeconds: number;
}

export interface ScheduleEventOptions {
  /** `Terminate` (scale-in), `Preempt` (spot eviction), `Reboot`, `Redeploy`, `Freeze`. */
  readonly eventType: string;
  /** Instance names the event affects. */
  readonly resources: readonly string[];
  /** When the platform may start without an acknowledgement. */
  readonly notBefore: Date;
  readonly eventSource?: 'Platform' | 'User';
}

export interface ImdsStandInOptions {
  /** What `GET /metadata/instance/compute` answers. */
  readonly compute?: { readonly name: string; readonly location: string; readonly zone: string };
  readonly port?: number;
}

export interface ImdsStandIn {
  readonly url: string;
  scheduleEvent(options: ScheduleEventOptions): StandInEvent;
  /** Removes an event (a cancelled scale-in, or one the platform finished). */
  removeEvent(eventId: string): void;
  /** Event ids acknowledged with StartRequests, in order. */
  acknowledged(): readonly string[];
  events(): readonly StandInEvent[];
  close(): Promise<void>;
}

const METADATA_HEADER_MISSING = { error: 'Bad request. Required metadata header not specified' };

export async function startImdsStandIn(options: ImdsStandInOptions = {}): Promise<ImdsStandIn> {
  const events = new Map<string, StandInEvent>();
  const acknowledged: string[] = [];
  let incarnation = 1;
  const compute = options.compute ?? { name: 'local-0', location: 'local', zone: '' };

  const scheduleEvent = (schedule: ScheduleEventOptions): StandInEvent => {
    const event: StandInEvent = {
      EventId: randomUUID().toUpperCase(),
      EventType: schedule.eventType,
      ResourceType: 'VirtualMachine',
      Resources: [...schedule.resources],
      EventStatus: 'Scheduled',
      NotBefore: schedule.notBefore.toUTCString(),
      Description: `${schedule.eventType} scheduled by the local stand-in`,
      EventSource: schedule.eventSource ?? 'Platform',
      DurationInSeconds: -1,
    };
    events.set(event.EventId, event);
    incarnation += 1;
    return event;
  };

  const send = (res: ServerResponse, status: number, body?: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 64 * 1024) throw new Error('body too large');
      chunks.push(chunk as Buffer);
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://imds');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/metadata/')) {
      if (req.headers.metadata !== 'true') return send(res, 400, METADATA_HEADER_MISSING);
      if (!url.searchParams.has('api-version'))
        return send(res, 400, { error: 'Bad request. api-version was not specified' });
    }
    if (url.pathname === '/metadata/scheduledevents' && method === 'GET')
      return send(res, 200, { DocumentIncarnation: incarnation, Events: [...events.values()] });
    if (url.pathname === '/metadata/scheduledevents' && method === 'POST') {
      const body = (await readBody(req).catch(() => undefined)) as
        { StartRequests?: { EventId?: unknown }[] } | undefined;
      if (!Array.isArray(body?.StartRequests))
        return send(res, 400, { error: 'Bad request. StartRequests is required' });
      for (const request of body.StartRequests) {
        const event = typeof request.EventId === 'string' ? events.get(request.EventId) : undefined;
        if (event === undefined || event.EventStatus === 'Started') continue;
        event.EventStatus = 'Started';
        event.NotBefore = '';
        acknowledged.push(event.EventId);
        incarnation += 1;
      }
      return send(res, 200);
    }
    if (url.pathname === '/metadata/instance/compute' && method === 'GET')
      return send(res, 200, compute);
    if (url.pathname === '/_imds/events' && method === 'GET')
      return send(res, 200, { events: [...events.values()], acknowledged });
    if (url.pathname === '/_imds/events' && method === 'POST') {
      const body = (await readBody(req).catch(() => undefined)) as
        { eventType?: unknown; resources?: unknown; notBeforeInMs?: unknown } | undefined;
      const resources = Array.isArray(body?.resources)
        ? body.resources.filter((r): r is string => typeof r === 'string')
        : [];
      const notBeforeInMs = typeof body?.notBeforeInMs === 'number' ? body.notBeforeInMs : 900_000;
      if (typeof body?.eventType !== 'string' || resources.length === 0)
        return send(res, 400, { error: 'eventType and resources are required' });
      return send(
        res,
        201,
        scheduleEvent({
          eventType: body.eventType,
          resources,
          notBefore: new Date(Date.now() + notBeforeInMs),
        }),
      );
    }
    const eventPath = /^\/_imds\/events\/([^/]+)$/.exec(url.pathname);
    if (eventPath !== null && method === 'DELETE') {
      // The platform finished (the instance was removed) or the scale-in was cancelled.
      if (events.delete(decodeURIComponent(eventPath[1]!))) incarnation += 1;
      return send(res, 204);
    }
    return send(res, 404, { error: 'Not found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { error: 'Internal error' }));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    scheduleEvent,
    removeEvent(eventId) {
      if (events.delete(eventId)) incarnation += 1;
    },
    acknowledged: () => [...acknowledged],
    events: () => [...events.values()],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

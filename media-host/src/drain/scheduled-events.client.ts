/**
 * Azure Instance Metadata Service (IMDS) for a media host: the scheduled events of its instance
 * (`GET /metadata/scheduledevents?api-version=2020-07-01`, acknowledged with
 * `POST … {"StartRequests":[{"EventId":…}]}`) and the instance's compute metadata (its name as the
 * events name it, its region and zone). Every request carries `Metadata: true`, as IMDS requires.
 * In Azure the base URL is `http://169.254.169.254`; locally a stand-in serves the same protocol.
 */

export const SCHEDULED_EVENTS_API_VERSION = '2020-07-01';
export const INSTANCE_METADATA_API_VERSION = '2021-02-01';
export const AZURE_IMDS_URL = 'http://169.254.169.254';

/** One scheduled event as IMDS lists it. */
export interface ScheduledEvent {
  readonly EventId: string;
  /** `Freeze`, `Reboot`, `Redeploy`, `Preempt`, `Terminate`. */
  readonly EventType: string;
  readonly ResourceType: string;
  /** The instance names the event affects. */
  readonly Resources: readonly string[];
  /** `Scheduled` (may be acknowledged) or `Started`. */
  readonly EventStatus: string;
  /** RFC 1123 date (`Mon, 19 Sep 2016 18:29:47 GMT`); empty once started. */
  readonly NotBefore: string;
  readonly Description?: string;
  readonly EventSource?: string;
  readonly DurationInSeconds?: number;
}

export interface ScheduledEventsDocument {
  readonly DocumentIncarnation: number;
  readonly Events: readonly ScheduledEvent[];
}

/** The compute metadata the media host uses. */
export interface InstanceCompute {
  readonly name: string;
  readonly location: string;
  /** Empty when the instance is in no availability zone. */
  readonly zone: string;
}

export interface InstanceMetadataClient {
  getScheduledEvents(): Promise<ScheduledEventsDocument>;
  /** Lets the platform start the event now (the instance is drained). */
  acknowledge(eventId: string): Promise<void>;
  getCompute(): Promise<InstanceCompute>;
}

export interface InstanceMetadataClientOptions {
  /** `http://169.254.169.254` in Azure. */
  readonly baseUrl: string;
  readonly fetch?: typeof fetch;
  /** Per request; default 5000. IMDS answers locally, a slow answer means it is unavailable. */
  readonly timeoutInMs?: number;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** Reads a scheduled events document, keeping only well-formed events. */
export function parseScheduledEvents(value: unknown): ScheduledEventsDocument {
  if (!isObject(value)) throw new Error('scheduled events: body is not a JSON object');
  const events = Array.isArray(value.Events) ? value.Events : [];
  return {
    DocumentIncarnation:
      typeof value.DocumentIncarnation === 'number' ? value.DocumentIncarnation : 0,
    Events: events.filter(isObject).flatMap((e): ScheduledEvent[] =>
      typeof e.EventId === 'string' && typeof e.EventType === 'string'
        ? [
            {
              EventId: e.EventId,
              EventType: e.EventType,
              ResourceType: typeof e.ResourceType === 'string' ? e.ResourceType : '',
              Resources: Array.isArray(e.Resources)
                ? e.Resources.filter((r): r is string => typeof r === 'string')
                : [],
              EventStatus: typeof e.EventStatus === 'string' ? e.EventStatus : '',
              NotBefore: typeof e.NotBefore === 'string' ? e.NotBefore : '',
              ...(typeof e.Description === 'string' ? { Description: e.Description } : {}),
              ...(typeof e.EventSource === 'string' ? { EventSource: e.EventSource } : {}),
              ...(typeof e.DurationInSeconds === 'number'
                ? { DurationInSeconds: e.DurationInSeconds }
                : {}),
            },
          ]
        : [],
    ),
  };
}

export function createInstanceMetadataClient(
  options: InstanceMetadataClientOptions,
): InstanceMetadataClient {
  const doFetch = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, '');
  const eventsUrl = `${base}/metadata/scheduledevents?api-version=${SCHEDULED_EVENTS_API_VERSION}`;
  const request = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const response = await doFetch(url, {
      ...init,
      headers: {
        Metadata: 'true',
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      signal: AbortSignal.timeout(options.timeoutInMs ?? 5000),
    });
    if (!response.ok) throw new Error(`instance metadata answered ${response.status}`);
    return response;
  };
  return {
    async getScheduledEvents() {
      return parseScheduledEvents(await (await request(eventsUrl)).json());
    },
    async acknowledge(eventId) {
      await request(eventsUrl, {
        method: 'POST',
        body: JSON.stringify({ StartRequests: [{ EventId: eventId }] }),
      });
    },
    async getCompute() {
      const url = `${base}/metadata/instance/compute?api-version=${INSTANCE_METADATA_API_VERSION}`;
      const body: unknown = await (await request(url)).json();
      if (!isObject(body) || typeof body.name !== 'string')
        throw new Error('instance metadata: compute has no name');
      return {
        name: body.name,
        location: typeof body.location === 'string' ? body.location : '',
        zone: typeof body.zone === 'string' ? body.zone : '',
      };
    },
  };
}

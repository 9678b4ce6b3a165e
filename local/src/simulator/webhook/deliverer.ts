/**
 * Delivers notifications to a recorder the way Teams does: POST with a Bot Framework-issued JWT,
 * Teams' observed headers, 302/307 redirects followed, any 2xx counted as delivered. Every
 * attempt and response is recorded.
 */
import { randomUUID } from 'node:crypto';
import type { SimClock } from '../util/clock';
import type { SimLogger } from '../util/http';
import { WebhookFrontDoor } from './front-door';

export interface DeliveryRecord {
  readonly id: string;
  readonly callId: string;
  readonly kind: string;
  readonly at: string;
  /** The URL first tried. */
  readonly url: string;
  /** The URL that produced the final response (after redirects). */
  finalUrl: string;
  /** The instance URL the front door sent the final attempt to, when a route applied. */
  routedUrl?: string;
  readonly redirects: { readonly status: number; readonly location: string }[];
  status?: number;
  isDelivered: boolean;
  responseBody?: string;
  error?: string;
  readonly body: unknown;
}

export interface DeliveryRequest {
  readonly callId: string;
  readonly kind: string;
  readonly url: string;
  readonly body: unknown;
  /** Exact JSON text to send instead of `JSON.stringify(body)` (raw injected notifications). */
  readonly rawBody?: string;
  readonly bearerToken: string;
  readonly chainId: string;
  readonly callerRegion?: string;
}

export interface DelivererOptions {
  readonly clock: SimClock;
  readonly log: SimLogger;
  readonly maxRedirects?: number;
  readonly timeoutInMs?: number;
  /** Routes deliveries to a scaled-out recorder's instances; default: none. */
  readonly frontDoor?: WebhookFrontDoor;
}

const MAX_RECORDED_RESPONSE_CHARS = 64 * 1024;

export class WebhookDeliverer {
  readonly records: DeliveryRecord[] = [];
  /** Deliveries started and not yet finished. */
  inFlight = 0;
  /** The load balancer in front of scaled-out recorders (no routes: URLs as given). */
  readonly frontDoor: WebhookFrontDoor;
  readonly #options: DelivererOptions;

  constructor(options: DelivererOptions) {
    this.#options = options;
    this.frontDoor = options.frontDoor ?? new WebhookFrontDoor();
  }

  async deliver(request: DeliveryRequest): Promise<DeliveryRecord> {
    const record: DeliveryRecord = {
      id: randomUUID(),
      callId: request.callId,
      kind: request.kind,
      at: new Date(this.#options.clock.nowInMs()).toISOString(),
      url: request.url,
      finalUrl: request.url,
      redirects: [],
      isDelivered: false,
      body: request.rawBody !== undefined ? request.rawBody : request.body,
    };
    this.records.push(record);
    this.inFlight += 1;
    const text = request.rawBody ?? JSON.stringify(request.body);
    let url = request.url;
    const maxRedirects = this.#options.maxRedirects ?? 5;
    try {
      for (let hop = 0; ; hop += 1) {
        const target = this.frontDoor.route(url, request.callId);
        if (target !== url) record.routedUrl = target;
        else delete record.routedUrl;
        const response = await fetch(target, {
          method: 'POST',
          redirect: 'manual',
          signal: AbortSignal.timeout(this.#options.timeoutInMs ?? 15_000),
          headers: {
            authorization: `Bearer ${request.bearerToken}`,
            'content-type': 'application/json; charset=utf-8',
            accept: 'application/json',
            'user-agent': 'Microsoft-Skype/3.0,(Calling/1.0)',
            'x-microsoft-skype-chain-id': request.chainId,
            'x-microsoft-skype-message-id': randomUUID(),
            'x-microsoft-skype-caller-region': request.callerRegion ?? 'EUWE',
          },
          body: text,
        });
        const location = response.headers.get('location');
        if (
          (response.status === 302 || response.status === 307) &&
          location &&
          hop < maxRedirects
        ) {
          await response.body?.cancel();
          url = new URL(location, target).toString();
          record.redirects.push({ status: response.status, location: url });
          record.finalUrl = url;
          continue;
        }
        record.status = response.status;
        record.responseBody = (await response.text()).slice(0, MAX_RECORDED_RESPONSE_CHARS);
        record.isDelivered = response.status >= 200 && response.status < 300;
        break;
      }
    } catch (err) {
      record.error = err instanceof Error ? err.message : 'delivery failed';
    } finally {
      this.inFlight -= 1;
    }
    this.#options.log(record.isDelivered ? 'debug' : 'warn', 'notification delivery finished', {
      callId: request.callId,
      kind: request.kind,
      status: record.status ?? 0,
      redirects: record.redirects.length,
      error: record.error,
    });
    return record;
  }
}

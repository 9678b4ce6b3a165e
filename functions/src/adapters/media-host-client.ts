/**
 * HTTPS client of the media host control API (`core/src/control-api.ts`), bearer-authenticated.
 * The hosts are reached by private address (`https://10.0.1.4:7400`) while their certificate is
 * issued for their public name, so with `certificateDomains` set the certificate must chain to a
 * trusted CA and name a host in one of those domains; without it, the URL's host must be in the
 * certificate (locally: 127.0.0.1, from the simulator's CA, trusted through NODE_EXTRA_CA_CERTS).
 * The control key never travels over plain HTTP except to a loopback address.
 */
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import {
  ErrorCode,
  RecorderError,
  type AdoptSessionRequest,
  type CreateMediaSessionRequest,
  type CreateMediaSessionResponse,
  type MediaSessionStatus,
  type ParticipantMapping,
  type PausePersistenceRequest,
  type ResumePersistenceRequest,
  type SealSummary,
} from '@attest/core';
import type {
  MediaHostControl,
  MediaSessionRef,
  PersistencePauseControl,
} from '../domain/recorder-ports';

export interface MediaHostClientOptions {
  readonly controlKey: string;
  readonly timeoutInMs: number;
  /** Seal writes the manifest: allow it longer. Default 30 s. */
  readonly sealTimeoutInMs?: number;
  /**
   * `ATTEST_MEDIA_CONTROL_CERT_DOMAINS`: the DNS domains of the media hosts' certificate names
   * (for example `media.contoso.com`); the control API's certificate must name a host in one of
   * them. Empty or unset: the certificate must name the URL's host.
   */
  readonly certificateDomains?: readonly string[];
}

/**
 * Whether a certificate names a host in `domain` (`a.<domain>` or `*.<domain>`), by its DNS
 * subject alternative names (RFC 6125: the common name is not consulted when they exist).
 */
export function certificateNamesHostIn(cert: PeerCertificate, domain: string): boolean {
  const suffix = `.${domain.toLowerCase().replace(/^\.+|\.+$/g, '')}`;
  const names = (cert.subjectaltname ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
  return names.some((name) => {
    if (!name.endsWith(suffix)) return false;
    const label = name.slice(0, -suffix.length);
    return label === '*' || /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label);
  });
}

const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/i;

export class MediaHostClient implements MediaHostControl, PersistencePauseControl {
  readonly #agent: Agent;

  constructor(private readonly options: MediaHostClientOptions) {
    const domains = options.certificateDomains ?? [];
    this.#agent = new Agent({
      keepAlive: true,
      // The chain is verified as usual (rejectUnauthorized); only the name check changes.
      ...(domains.length > 0
        ? {
            checkServerIdentity: (_host: string, cert: PeerCertificate) =>
              domains.some((domain) => certificateNamesHostIn(cert, domain))
                ? undefined
                : new Error(`the media host's certificate names no host in ${domains.join(', ')}`),
          }
        : { checkServerIdentity }),
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  createSession(
    controlUrl: string,
    request: CreateMediaSessionRequest,
  ): Promise<CreateMediaSessionResponse> {
    return this.#call<CreateMediaSessionResponse>('POST', controlUrl, '/v1/sessions', request);
  }

  startPersisting(
    session: MediaSessionRef,
    recordingConfirmedAt: string,
  ): Promise<MediaSessionStatus> {
    return this.#call(
      'POST',
      session.controlUrl,
      `/v1/sessions/${encodeURIComponent(session.sessionId)}/persist`,
      { recordingConfirmedAt },
    );
  }

  updateParticipants(
    session: MediaSessionRef,
    participants: readonly ParticipantMapping[],
  ): Promise<MediaSessionStatus> {
    return this.#call(
      'PUT',
      session.controlUrl,
      `/v1/sessions/${encodeURIComponent(session.sessionId)}/participants`,
      { participants },
    );
  }

  getSession(session: MediaSessionRef): Promise<MediaSessionStatus> {
    return this.#call(
      'GET',
      session.controlUrl,
      `/v1/sessions/${encodeURIComponent(session.sessionId)}`,
    );
  }

  seal(session: MediaSessionRef): Promise<SealSummary> {
    return this.#call(
      'POST',
      session.controlUrl,
      `/v1/sessions/${encodeURIComponent(session.sessionId)}/seal`,
      undefined,
      this.options.sealTimeoutInMs ?? 30_000,
    );
  }

  pausePersistence(
    session: MediaSessionRef,
    request: PausePersistenceRequest,
  ): Promise<MediaSessionStatus> {
    return this.#call(
      'POST',
      session.controlUrl,
      `/v1/sessions/${encodeURIComponent(session.sessionId)}/pause`,
      request,
    );
  }

  resumePersistence(
    session: MediaSessionRef,
    request: ResumePersistenceRequest,
  ): Promise<MediaSessionStatus> {
    return this.#call(
      'POST',
      session.controlUrl,
      `/v1/sessions/${encodeURIComponent(session.sessionId)}/resume`,
      request,
    );
  }

  adopt(controlUrl: string, sessionId: string, request: AdoptSessionRequest): Promise<SealSummary> {
    return this.#call(
      'POST',
      controlUrl,
      `/v1/sessions/${encodeURIComponent(sessionId)}/adopt`,
      request,
      this.options.sealTimeoutInMs ?? 30_000,
    );
  }

  async abort(session: MediaSessionRef, reason: string): Promise<void> {
    await this.#call(
      'POST',
      session.controlUrl,
      `/v1/sessions/${encodeURIComponent(session.sessionId)}/abort`,
      { reason },
    );
  }

  async setDraining(controlUrl: string, isDraining: boolean): Promise<void> {
    await this.#call('POST', controlUrl, '/v1/drain', { isDraining });
  }

  async #call<T>(
    method: string,
    baseUrl: string,
    path: string,
    body?: unknown,
    timeoutInMs = this.options.timeoutInMs,
  ): Promise<T> {
    let response: { status: number; text: string };
    try {
      response = await this.#send(
        method,
        new URL(`${baseUrl.replace(/\/+$/, '')}${path}`),
        body === undefined ? undefined : JSON.stringify(body),
        timeoutInMs,
      );
    } catch (error) {
      throw new RecorderError(
        ErrorCode.MediaHostUnavailable,
        'media host control API unreachable; check the host',
        {
          retryable: true,
          cause: error,
          details: { path: path.split('/').slice(0, 3).join('/') },
        },
      );
    }
    const { text } = response;
    if (response.status < 200 || response.status > 299) {
      let code = '';
      try {
        const parsed = (JSON.parse(text) as { code?: unknown }).code;
        code = typeof parsed === 'string' ? parsed : '';
      } catch {
        code = '';
      }
      const isServerSide =
        response.status >= 500 || response.status === 429 || response.status === 408;
      throw new RecorderError(
        isServerSide ? ErrorCode.MediaHostUnavailable : ErrorCode.MediaSessionFailed,
        `media host answered ${response.status}${code === '' ? '' : ` (${code})`}`,
        { retryable: isServerSide, details: { status: response.status, code } },
      );
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  #send(
    method: string,
    url: URL,
    body: string | undefined,
    timeoutInMs: number,
  ): Promise<{ status: number; text: string }> {
    const isHttps = url.protocol === 'https:';
    if (!isHttps && !(url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname)))
      return Promise.reject(
        new Error('the control API must be https unless it is on this machine (loopback)'),
      );
    const options: RequestOptions = {
      method,
      headers: {
        authorization: `Bearer ${this.options.controlKey}`,
        ...(body === undefined
          ? {}
          : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
      },
      signal: AbortSignal.timeout(timeoutInMs),
      ...(isHttps ? { agent: this.#agent } : {}),
    };
    return new Promise((resolve, reject) => {
      const onResponse = (response: IncomingMessage): void => {
        const parts: Buffer[] = [];
        response.on('data', (chunk: Buffer) => parts.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(parts).toString('utf8'),
          }),
        );
      };
      const request = isHttps
        ? httpsRequest(url, options, onResponse)
        : httpRequest(url, options, onResponse);
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** HTTP client of the media host control API (`core/src/control-api.ts`), bearer-authenticated. */
import {
  ErrorCode,
  RecorderError,
  type CreateMediaSessionRequest,
  type CreateMediaSessionResponse,
  type MediaSessionStatus,
  type ParticipantMapping,
  type SealSummary,
} from '@attest/core';
import type { MediaHostControl, MediaSessionRef } from '../domain/recorder-ports';

export interface MediaHostClientOptions {
  readonly controlKey: string;
  readonly timeoutInMs: number;
  /** Seal writes the manifest: allow it longer. Default 30 s. */
  readonly sealTimeoutInMs?: number;
}

export class MediaHostClient implements MediaHostControl {
  constructor(private readonly options: MediaHostClientOptions) {}

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
    let response: Response;
    try {
      response = await fetch(`${baseUrl.replace(/\/+$/, '')}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.controlKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutInMs),
      });
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
    const text = await response.text();
    if (!response.ok) {
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
}

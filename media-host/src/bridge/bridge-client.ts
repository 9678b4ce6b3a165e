/**
 * The media host's client of the .NET bridge's control API (loopback HTTP, bearer key; the
 * bridge's `ControlApi`): create a call's sockets and get the media platform's configuration blob,
 * forward the roster, end the call, read its health. Errors are `RecorderError`s that name the
 * bridge; bodies and keys are never logged.
 */
import {
  ErrorCode,
  RecorderError,
  type MediaBridgeHealth,
  type ParticipantMapping,
} from '@attest/core';

export interface BridgeClientOptions {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly controlKey: string;
  readonly fetch?: typeof fetch;
  /** Per request; default 4 s (an invite's answer waits for the blob). */
  readonly timeoutInMs?: number;
}

export interface CreateBridgeCallRequest {
  readonly sessionId: string;
  readonly token: string;
  /** `tcp://127.0.0.1:<port>` of the media host's loopback listener. */
  readonly ingestEndpoint: string;
}

export interface BridgeClient {
  /** Creates the call's sockets; returns the media platform's configuration (Graph's blob). Idempotent per session. */
  createCall(request: CreateBridgeCallRequest): Promise<string>;
  /** Replaces the call's roster (video subscriptions follow it). */
  updateRoster(sessionId: string, participants: readonly ParticipantMapping[]): Promise<void>;
  /** Ends the call (idempotent). */
  endCall(sessionId: string): Promise<void>;
  /** The bridge's health report, without `checkedAt`. */
  getHealth(): Promise<Omit<MediaBridgeHealth, 'checkedAt' | 'isReachable'>>;
}

export function createBridgeClient(options: BridgeClientOptions): BridgeClient {
  const doFetch = options.fetch ?? fetch;
  const timeoutInMs = options.timeoutInMs ?? 4000;
  const request = async (method: string, path: string, body?: unknown): Promise<Response> => {
    let response: Response;
    try {
      response = await doFetch(`${options.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.controlKey}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutInMs),
      });
    } catch (error) {
      throw new RecorderError(ErrorCode.MediaHostUnavailable, 'the media bridge did not answer', {
        retryable: true,
        cause: error,
      });
    }
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { code?: string };
      throw new RecorderError(
        ErrorCode.MediaHostUnavailable,
        `the media bridge refused ${method} ${path.split('/').slice(0, 3).join('/')} (${response.status} ${problem.code ?? ''})`,
        { retryable: response.status >= 500, details: { status: response.status } },
      );
    }
    return response;
  };
  return {
    async createCall(call) {
      const response = await request('POST', '/v1/calls', call);
      const body = (await response.json()) as { mediaConfigBlob?: unknown };
      if (typeof body.mediaConfigBlob !== 'string' || body.mediaConfigBlob.length === 0)
        throw new RecorderError(ErrorCode.MediaHostUnavailable, 'the media bridge sent no blob', {
          retryable: true,
        });
      return body.mediaConfigBlob;
    },
    async updateRoster(sessionId, participants) {
      await request('PUT', `/v1/calls/${encodeURIComponent(sessionId)}/roster`, {
        participants: participants.map((p) => ({
          msi: p.msi,
          participantId: p.participantId,
          kind: p.kind,
        })),
      });
    },
    async endCall(sessionId) {
      await request('DELETE', `/v1/calls/${encodeURIComponent(sessionId)}`);
    },
    async getHealth() {
      const response = await request('GET', '/v1/health');
      return (await response.json()) as Omit<MediaBridgeHealth, 'checkedAt' | 'isReachable'>;
    },
  };
}

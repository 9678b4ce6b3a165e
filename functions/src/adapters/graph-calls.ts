/**
 * Graph calling adapter: answer, reject, updateRecordingStatus, keepAlive, get call through
 * `@microsoft/microsoft-graph-client`, with app-only tokens from Entra (`ClientSecretCredential`)
 * cached per tenant and refreshed ahead of expiry so that no answer waits for a token.
 * The SDK's own retry middleware is left out on purpose: throttling (429 + Retry-After) is
 * returned to the caller, which waits durably instead of blocking the request.
 */
import {
  Client,
  GraphError,
  HTTPMessageHandler,
  ResponseType,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import type { AccessToken, TokenCredential } from '@azure/identity';
import {
  CallState,
  normaliseEnum,
  parseResultInfo,
  prop,
  type JsonObject,
  type RecordingStatus,
} from '@attest/core';
import type {
  AnswerOptions,
  GraphCallLookup,
  GraphCalls,
  GraphResult,
  RejectReason,
} from '../domain/recorder-ports';

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export interface TokenCacheOptions {
  /** Builds the credential for one tenant (ClientSecretCredential in production). */
  readonly createCredential: (tenantId: string) => TokenCredential;
  /** Refresh this long before expiry; the cached token is still served meanwhile. */
  readonly refreshAheadInMs: number;
  readonly scope?: string;
  readonly now?: () => number;
  readonly onRefreshFailed?: (tenantId: string, error: unknown) => void;
}

/** App-only Graph tokens per tenant, refreshed in the background ahead of expiry. */
export class GraphTokenCache {
  readonly #options: TokenCacheOptions;
  readonly #credentials = new Map<string, TokenCredential>();
  readonly #tokens = new Map<string, AccessToken>();
  readonly #refreshing = new Map<string, Promise<AccessToken>>();

  constructor(options: TokenCacheOptions) {
    this.#options = options;
  }

  async getToken(tenantId: string): Promise<string> {
    const now = (this.#options.now ?? Date.now)();
    const cached = this.#tokens.get(tenantId);
    if (cached !== undefined && cached.expiresOnTimestamp - now > this.#options.refreshAheadInMs)
      return cached.token;
    if (cached !== undefined && cached.expiresOnTimestamp - now > 30_000) {
      // Inside the refresh window: serve the cached token, refresh without waiting.
      this.#refresh(tenantId).catch((error: unknown) =>
        this.#options.onRefreshFailed?.(tenantId, error),
      );
      return cached.token;
    }
    return (await this.#refresh(tenantId)).token;
  }

  /** Fetches tokens for the given tenants ahead of the first call. Never throws. */
  async warmUp(tenantIds: readonly string[]): Promise<void> {
    await Promise.all(
      tenantIds.map((tenantId) =>
        this.#refresh(tenantId).catch((error: unknown) =>
          this.#options.onRefreshFailed?.(tenantId, error),
        ),
      ),
    );
  }

  #refresh(tenantId: string): Promise<AccessToken> {
    let pending = this.#refreshing.get(tenantId);
    if (pending === undefined) {
      let credential = this.#credentials.get(tenantId);
      if (credential === undefined) {
        credential = this.#options.createCredential(tenantId);
        this.#credentials.set(tenantId, credential);
      }
      pending = credential
        .getToken(this.#options.scope ?? GRAPH_SCOPE)
        .then((token) => {
          if (token === null) throw new Error('no token returned');
          this.#tokens.set(tenantId, token);
          return token;
        })
        .finally(() => this.#refreshing.delete(tenantId));
      this.#refreshing.set(tenantId, pending);
    }
    return pending;
  }
}

export interface GraphCallsOptions {
  readonly baseUrl: string;
  readonly tokens: GraphTokenCache;
  readonly timeoutInMs: number;
}

function retryAfterInMs(error: { headers?: Headers }): number {
  const raw = error.headers?.get('retry-after');
  if (raw === undefined || raw === null) return 1_000;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : 1_000;
}

export function toGraphResult(error: unknown): GraphResult {
  const status =
    error instanceof GraphError
      ? error.statusCode
      : typeof (error as { statusCode?: unknown })?.statusCode === 'number'
        ? (error as { statusCode: number }).statusCode
        : -1;
  // The SDK throws when a 2xx reply is not the JSON it expected (Graph answers 202 with no body).
  if (status >= 200 && status < 300) return { kind: 'ok', status };
  if (status === 429)
    return { kind: 'throttled', retryAfterInMs: retryAfterInMs(error as { headers?: Headers }) };
  if (status === 404) return { kind: 'notFound' };
  return { kind: 'failed', status, isRetryable: status <= 0 || status === 408 || status >= 500 };
}

export class GraphCallsAdapter implements GraphCalls {
  readonly #options: GraphCallsOptions;
  readonly #clients = new Map<string, Client>();

  constructor(options: GraphCallsOptions) {
    this.#options = options;
  }

  answer(tenantId: string, callId: string, options: AnswerOptions): Promise<GraphResult> {
    return this.#post(tenantId, `/communications/calls/${encodeURIComponent(callId)}/answer`, {
      callbackUri: options.callbackUri,
      acceptedModalities: ['audio', 'video', 'videoBasedScreenSharing'],
      mediaConfig: {
        '@odata.type': '#microsoft.graph.appHostedMediaConfig',
        blob: options.mediaConfigBlob,
      },
      ...(options.participantCapacity === undefined
        ? {}
        : { participantCapacity: options.participantCapacity }),
    });
  }

  reject(tenantId: string, callId: string, reason: RejectReason): Promise<GraphResult> {
    return this.#post(tenantId, `/communications/calls/${encodeURIComponent(callId)}/reject`, {
      reason,
    });
  }

  updateRecordingStatus(
    tenantId: string,
    callId: string,
    status: RecordingStatus,
    clientContext: string,
  ): Promise<GraphResult> {
    return this.#post(
      tenantId,
      `/communications/calls/${encodeURIComponent(callId)}/updateRecordingStatus`,
      {
        clientContext: clientContext.slice(0, 256),
        status,
      },
    );
  }

  keepAlive(tenantId: string, callId: string): Promise<GraphResult> {
    return this.#post(
      tenantId,
      `/communications/calls/${encodeURIComponent(callId)}/keepAlive`,
      undefined,
    );
  }

  async getCall(tenantId: string, callId: string): Promise<GraphCallLookup> {
    try {
      const call = (await this.#client(tenantId)
        .api(`/communications/calls/${encodeURIComponent(callId)}`)
        .options({ signal: AbortSignal.timeout(this.#options.timeoutInMs) })
        .get()) as JsonObject;
      const resultInfo = parseResultInfo(prop(call, 'resultInfo'));
      return {
        kind: 'found',
        // Enum values arrive in camelCase or PascalCase.
        state: normaliseEnum(prop(call, 'state'), CallState, CallState.unknown),
        ...(resultInfo === undefined ? {} : { resultInfo }),
      };
    } catch (error) {
      const result = toGraphResult(error);
      // A 2xx without the JSON body the SDK expected tells nothing about the call's state.
      return result.kind === 'ok'
        ? { kind: 'failed', status: result.status, isRetryable: true }
        : result;
    }
  }

  async #post(tenantId: string, path: string, body: unknown): Promise<GraphResult> {
    try {
      await this.#client(tenantId)
        .api(path)
        .responseType(ResponseType.RAW)
        .options({ signal: AbortSignal.timeout(this.#options.timeoutInMs) })
        .post(body ?? {})
        .then((response: Response) => {
          if (!response.ok)
            throw Object.assign(new Error(`graph answered ${response.status}`), {
              statusCode: response.status,
              headers: response.headers,
            });
        });
      return { kind: 'ok', status: 200 };
    } catch (error) {
      return toGraphResult(error);
    }
  }

  #client(tenantId: string): Client {
    let client = this.#clients.get(tenantId);
    if (client === undefined) {
      client = createGraphClient(this.#options.baseUrl, () =>
        this.#options.tokens.getToken(tenantId),
      );
      this.#clients.set(tenantId, client);
    }
    return client;
  }
}

/** A Graph v1.0 client for one tenant's app-only token, without the SDK's retry middleware. */
export function createGraphClient(baseUrl: string, getToken: () => Promise<string>): Client {
  return Client.initWithMiddleware({
    baseUrl: `${baseUrl}/`,
    defaultVersion: 'v1.0',
    middleware: [new BearerTokenMiddleware(getToken), new HTTPMessageHandler()],
  });
}

/**
 * Adds the app token to every request. (The SDK's AuthenticationHandler only does so for https
 * Graph hosts; the configured base URL is already the trusted Graph endpoint.)
 */
class BearerTokenMiddleware implements Middleware {
  #next: Middleware | undefined;

  constructor(private readonly getToken: () => Promise<string>) {}

  async execute(context: Context): Promise<void> {
    const token = await this.getToken();
    const options = (context.options ??= {});
    const headers = new Headers(options.headers);
    headers.set('Authorization', `Bearer ${token}`);
    options.headers = Object.fromEntries(headers.entries());
    if (this.#next === undefined) throw new Error('graph middleware chain has no transport');
    await this.#next.execute(context);
  }

  setNext(next: Middleware): void {
    this.#next = next;
  }
}

/**
 * The simulated Entra ID: per-tenant OpenID metadata, JWKS, the OAuth2 client-credentials token
 * endpoint (errors shaped like Entra's, with AADSTS codes), user tokens for portal users, and the
 * Teams/Bot Framework OpenID metadata whose keys sign webhook deliveries.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Directory, PortalRole } from '../policy/model';
import { transitiveGroupIds } from '../graph/directory-api';
import type { SimClock } from '../util/clock';
import { sendJson } from '../util/http';
import {
  createSigningKey,
  signJwt,
  toJwk,
  verifyJwt,
  type JwtCheck,
  type SigningKey,
} from '../util/jwt';

export const GRAPH_AUDIENCES = [
  'https://graph.microsoft.com',
  '00000003-0000-0000-c000-000000000000',
] as const;
export const TEAMS_WEBHOOK_ISSUER = 'https://api.botframework.com';
/** Default audience of portal user tokens; configurable per simulator. */
export const DEFAULT_PORTAL_AUDIENCE = 'api://attest-portal';
const ACCESS_TOKEN_LIFETIME_IN_S = 3599;

export interface EntraOptions {
  readonly baseUrl: () => string;
  readonly directory: () => Directory;
  readonly clock: SimClock;
  readonly portalAudience?: string;
  /**
   * Most groups a user token lists before Entra replaces them with the overage claim. Default
   * 200 (Entra's limit for JWTs).
   */
  readonly groupsOverageLimit?: number;
}

/** Entra's limit of groups in a JWT before the overage claim replaces them. */
export const GROUPS_OVERAGE_LIMIT = 200;

interface AadError {
  readonly status: number;
  readonly error: string;
  readonly code: number;
  readonly text: string;
}

/** How long one webhook token is reused (it is valid for an hour). */
const WEBHOOK_TOKEN_REUSE_IN_S = 600;

export class SimulatedEntra {
  /** Signs Entra access tokens (app and user). */
  readonly tokenKey: SigningKey = createSigningKey();
  /** Signs Teams' webhook deliveries; published in the Bot Framework-style metadata. */
  readonly webhookKey: SigningKey = createSigningKey();
  readonly #options: EntraOptions;

  constructor(options: EntraOptions) {
    this.#options = options;
  }

  get portalAudience(): string {
    // Default: the first bot's app id, which is what the recorder's admin API accepts by default.
    return (
      this.#options.portalAudience ??
      this.#options.directory().bots[0]?.appId ??
      DEFAULT_PORTAL_AUDIENCE
    );
  }

  /** Path of the OpenID metadata that lists the webhook signing keys (mirrors Teams' `/v1/.well-known/OpenIdConfiguration`). */
  static readonly webhookMetadataPath = '/v1/.well-known/OpenIdConfiguration';
  static readonly webhookKeysPath = '/v1/.well-known/keys';

  /** Fault injection: every OpenID metadata and JWKS request answers 503 while set. */
  isMetadataUnavailable = false;
  /** Metadata and JWKS requests answered 503 because of {@link isMetadataUnavailable}. */
  metadataRequestsRefused = 0;

  /** Handles an Entra or metadata route; returns false when the path is not one of them. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    readBody: () => Promise<string>,
  ): Promise<boolean> {
    const base = this.#options.baseUrl();
    const path = url.pathname;
    if (this.isMetadataUnavailable && path.toLowerCase().includes('/.well-known/')) {
      this.metadataRequestsRefused += 1;
      sendJson(res, 503, { error: 'temporarily_unavailable' });
      return true;
    }
    if (
      req.method === 'GET' &&
      (path.toLowerCase() === SimulatedEntra.webhookMetadataPath.toLowerCase() ||
        path.toLowerCase() === '/botframework/v1/.well-known/openidconfiguration')
    ) {
      sendJson(res, 200, {
        issuer: TEAMS_WEBHOOK_ISSUER,
        authorization_endpoint: `${base}/botframework/v1/authorize`,
        jwks_uri: `${base}${SimulatedEntra.webhookKeysPath}`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
      return true;
    }
    if (
      req.method === 'GET' &&
      (path === SimulatedEntra.webhookKeysPath || path === '/botframework/v1/.well-known/keys')
    ) {
      sendJson(res, 200, { keys: [{ ...toJwk(this.webhookKey), endorsements: ['msteams'] }] });
      return true;
    }
    if (req.method === 'GET' && path === '/common/discovery/instance') {
      const host = new URL(base).host;
      sendJson(res, 200, {
        tenant_discovery_endpoint: `${base}/{tenantid}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
      return true;
    }
    const match =
      /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|oauth2\/v2\.0\/token)$/.exec(
        path,
      );
    if (!match) return false;
    const tenantSegment = decodeURIComponent(match[1] ?? '');
    const route = match[2];
    if (route === 'discovery/v2.0/keys' && req.method === 'GET') {
      sendJson(res, 200, { keys: [toJwk(this.tokenKey)] });
      return true;
    }
    if (route === 'v2.0/.well-known/openid-configuration' && req.method === 'GET') {
      const tenant = this.#tenantOf(tenantSegment);
      if (tenant === undefined) {
        this.#sendAadError(res, {
          status: 400,
          error: 'invalid_tenant',
          code: 90002,
          text: `Tenant '${tenantSegment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
        });
        return true;
      }
      sendJson(res, 200, {
        token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${base}/${tenant}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${base}/oidc/userinfo`,
        authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid', 'oid', 'roles'],
        tenant_region_scope: 'EU',
        cloud_instance_name: 'microsoftonline.com',
      });
      return true;
    }
    if (route === 'oauth2/v2.0/token' && req.method === 'POST') {
      const form = new URLSearchParams(await readBody());
      await this.#token(res, tenantSegment, form, req.headers.authorization);
      return true;
    }
    return false;
  }

  #tenantOf(segment: string): string | undefined {
    const directory = this.#options.directory();
    const hit = directory.tenants.find((t) => t.id.toLowerCase() === segment.toLowerCase());
    return hit?.id;
  }

  async #token(
    res: ServerResponse,
    tenantSegment: string,
    form: URLSearchParams,
    authorization: string | undefined,
  ): Promise<void> {
    let clientId = form.get('client_id') ?? undefined;
    let clientSecret = form.get('client_secret') ?? undefined;
    if (authorization?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(authorization.slice(6), 'base64')
        .toString('utf8')
        .split(':', 2);
      clientId ??= decodeURIComponent(id ?? '');
      clientSecret ??= decodeURIComponent(secret ?? '');
    }
    const tenantId = this.#tenantOf(tenantSegment);
    if (tenantId === undefined) {
      return this.#sendAadError(res, {
        status: 400,
        error: 'invalid_request',
        code: 90002,
        text: `Tenant '${tenantSegment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      });
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return this.#sendAadError(res, {
        status: 400,
        error: 'unsupported_grant_type',
        code: 70003,
        text: 'The app requested an unsupported grant type.',
      });
    }
    const scope = form.get('scope') ?? '';
    if (!scope.split(' ').some((s) => s.endsWith('/.default'))) {
      return this.#sendAadError(res, {
        status: 400,
        error: 'invalid_scope',
        code: 1002012,
        text: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      });
    }
    const bot = this.#options.directory().bots.find((b) => b.appId === clientId);
    const consented =
      bot !== undefined &&
      (bot.homeTenantId === tenantId || (bot.consentedTenantIds ?? []).includes(tenantId));
    if (bot === undefined || !consented) {
      return this.#sendAadError(res, {
        status: 400,
        error: 'unauthorized_client',
        code: 700016,
        text: `Application with identifier '${clientId ?? ''}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      });
    }
    if (clientSecret === undefined || clientSecret === '') {
      return this.#sendAadError(res, {
        status: 401,
        error: 'invalid_client',
        code: 7000216,
        text: "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
      });
    }
    if (clientSecret !== bot.clientSecret) {
      return this.#sendAadError(res, {
        status: 401,
        error: 'invalid_client',
        code: 7000215,
        text: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${bot.appId}'.`,
      });
    }
    const resource =
      scope
        .split(' ')
        .find((s) => s.endsWith('/.default'))
        ?.replace(/\/\.default$/, '') ?? '';
    const nowInS = Math.floor(this.#options.clock.nowInMs() / 1000);
    const token = await signJwt(this.tokenKey, {
      aud: resource === 'https://graph.microsoft.com' ? 'https://graph.microsoft.com' : resource,
      iss: `https://sts.windows.net/${tenantId}/`,
      iat: nowInS,
      nbf: nowInS,
      exp: nowInS + ACCESS_TOKEN_LIFETIME_IN_S,
      appid: bot.appId,
      azp: bot.appId,
      idtyp: 'app',
      oid: bot.appId,
      sub: bot.appId,
      tid: tenantId,
      roles: ['Calls.AccessMedia.All', 'Calls.JoinGroupCall.All', 'Calls.JoinGroupCallAsGuest.All'],
      ver: '1.0',
    });
    sendJson(res, 200, {
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_LIFETIME_IN_S,
      ext_expires_in: ACCESS_TOKEN_LIFETIME_IN_S,
      access_token: token,
    });
  }

  #sendAadError(res: ServerResponse, e: AadError): void {
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const timestamp = new Date(this.#options.clock.nowInMs())
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d{3}Z$/, 'Z');
    sendJson(res, e.status, {
      error: e.error,
      error_description: `AADSTS${e.code}: ${e.text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [e.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${this.#options.baseUrl()}/error?code=${e.code}`,
    });
  }

  /** Checks a Graph bearer token: our signature, Graph audience, unexpired. */
  verifyGraphToken(token: string): Promise<JwtCheck> {
    return verifyJwt(token, [this.tokenKey], {
      nowInMs: this.#options.clock.nowInMs(),
      audience: GRAPH_AUDIENCES,
      skewInS: 0,
    });
  }

  /** A portal user token (`roles` from the directory unless overridden). */
  async issueUserToken(input: {
    tenantId: string;
    userId: string;
    roles?: readonly PortalRole[];
    audience?: string;
    lifetimeInS?: number;
    /** Security group ids for the `groups` claim; default the user's transitive groups. */
    groups?: readonly string[];
    /** Replace the groups with the overage claim whatever their number. */
    isGroupsOverage?: boolean;
  }): Promise<{ access_token: string; expires_in: number; token_type: 'Bearer' } | undefined> {
    const tenant = this.#options.directory().tenants.find((t) => t.id === input.tenantId);
    const user = tenant?.users.find(
      (u) => u.id === input.userId || u.userPrincipalName === input.userId,
    );
    if (tenant === undefined || user === undefined) return undefined;
    const nowInS = Math.floor(this.#options.clock.nowInMs() / 1000);
    const lifetime = input.lifetimeInS ?? ACCESS_TOKEN_LIFETIME_IN_S;
    const groups = input.groups ?? transitiveGroupIds(tenant, user.id);
    // Over the limit Entra leaves the groups out and points at Graph instead ("groups overage").
    const groupClaims =
      input.isGroupsOverage === true ||
      groups.length > (this.#options.groupsOverageLimit ?? GROUPS_OVERAGE_LIMIT)
        ? {
            _claim_names: { groups: 'src1' },
            _claim_sources: {
              src1: {
                endpoint: `${this.#options.baseUrl()}/v1.0/users/${user.id}/getMemberObjects`,
              },
            },
          }
        : groups.length > 0
          ? { groups: [...groups] }
          : {};
    const token = await signJwt(this.tokenKey, {
      aud: input.audience ?? this.portalAudience,
      iss: `${this.#options.baseUrl()}/${tenant.id}/v2.0`,
      iat: nowInS,
      nbf: nowInS,
      exp: nowInS + lifetime,
      oid: user.id,
      sub: user.id,
      tid: tenant.id,
      name: user.displayName,
      preferred_username: user.userPrincipalName ?? `${user.id}@${tenant.id}`,
      roles: input.roles ?? user.portalRoles ?? [],
      ...groupClaims,
      ver: '2.0',
    });
    return { access_token: token, expires_in: lifetime, token_type: 'Bearer' };
  }

  /**
   * The JWT Teams puts in `Authorization: Bearer` of a webhook delivery. Like the service, one
   * token (valid an hour) is reused for many deliveries: a new one is signed when the last is
   * ten minutes old.
   */
  signWebhookToken(botAppId: string, tenantId: string): Promise<string> {
    const key = `${botAppId}\u0000${tenantId}`;
    const nowInS = Math.floor(this.#options.clock.nowInMs() / 1000);
    const cached = this.#webhookTokens.get(key);
    if (
      cached !== undefined &&
      nowInS >= cached.issuedAtInS &&
      nowInS - cached.issuedAtInS < WEBHOOK_TOKEN_REUSE_IN_S
    )
      return cached.token;
    const token = this.#signNewWebhookToken(botAppId, tenantId, nowInS);
    this.#webhookTokens.set(key, { token, issuedAtInS: nowInS });
    return token;
  }

  readonly #webhookTokens = new Map<
    string,
    { readonly token: Promise<string>; readonly issuedAtInS: number }
  >();

  #signNewWebhookToken(botAppId: string, tenantId: string, nowInS: number): Promise<string> {
    return signJwt(this.webhookKey, {
      aud: botAppId,
      iss: TEAMS_WEBHOOK_ISSUER,
      tid: tenantId,
      iat: nowInS,
      nbf: nowInS,
      exp: nowInS + 3600,
    });
  }
}

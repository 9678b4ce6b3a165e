/**
 * The simulated Entra ID's interactive sign-in for single-page apps: the OAuth 2.0 authorization
 * endpoint with a sign-in page listing the tenant's directory users, the authorization code grant
 * with PKCE (S256 only, as Entra requires for SPAs) and the refresh token grant on the token
 * endpoint, and CORS on the endpoints a browser calls (metadata, keys, token). `@azure/msal-browser`
 * signs in against it unchanged. A simulator: choosing a user is the whole authentication.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Directory, DirectoryUser } from '../policy/model';
import type { SimClock } from '../util/clock';
import { sendJson } from '../util/http';
import { signJwt } from '../util/jwt';
import type { SimulatedEntra } from './entra';

const CODE_LIFETIME_IN_MS = 5 * 60_000;
const REFRESH_LIFETIME_IN_MS = 24 * 60 * 60_000;
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

export interface EntraSignInOptions {
  readonly baseUrl: () => string;
  readonly directory: () => Directory;
  readonly clock: SimClock;
  readonly entra: SimulatedEntra;
}

interface Grant {
  readonly tenantId: string;
  readonly userId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly nonce?: string;
  readonly codeChallenge: string;
  readonly expiresAtInMs: number;
}

interface RefreshGrant {
  readonly tenantId: string;
  readonly userId: string;
  readonly clientId: string;
  readonly scope: string;
  readonly expiresAtInMs: number;
}

const ROUTE =
  /^\/([^/]+)\/(oauth2\/v2\.0\/authorize|oauth2\/v2\.0\/token|v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|oauth2\/v2\.0\/logout)$/;

/** The authorization request parameters the sign-in page carries through its form. */
const AUTHORIZE_PARAMS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
] as const;

export class SimulatedEntraSignIn {
  readonly #options: EntraSignInOptions;
  readonly #codes = new Map<string, Grant>();
  readonly #refreshTokens = new Map<string, RefreshGrant>();

  constructor(options: EntraSignInOptions) {
    this.#options = options;
  }

  /**
   * Handles the sign-in routes; returns false for anything else. For the metadata and keys routes
   * it only adds CORS headers and returns false, so {@link SimulatedEntra} answers them.
   */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    readBody: () => Promise<string>,
  ): Promise<boolean> {
    const match = ROUTE.exec(url.pathname);
    if (match === null) return false;
    const tenantId = this.#tenantOf(decodeURIComponent(match[1] ?? ''));
    const route = match[2];
    const origin = req.headers.origin;
    if (typeof origin === 'string' && route !== 'oauth2/v2.0/authorize') {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers':
          'content-type, client-request-id, x-client-sku, x-client-ver, x-client-os, x-client-cpu, x-ms-lib-capability, x-client-current-telemetry, x-client-last-telemetry, x-app-name, x-app-ver, return-client-request-id',
        'access-control-max-age': '600',
      });
      res.end();
      return true;
    }
    if (route === 'oauth2/v2.0/logout' && req.method === 'GET') {
      const target = url.searchParams.get('post_logout_redirect_uri');
      if (target !== null && isHttpUrl(target)) {
        res.writeHead(302, { location: target });
        res.end();
      } else sendHtml(res, 200, page('Signed out', '<p>You have signed out.</p>'));
      return true;
    }
    if (route === 'oauth2/v2.0/authorize') {
      if (tenantId === undefined) {
        sendHtml(res, 400, page('Sign-in error', '<p>AADSTS90002: tenant not found.</p>'));
        return true;
      }
      if (req.method === 'GET') {
        this.#signInPage(res, tenantId, url.searchParams);
        return true;
      }
      if (req.method === 'POST') {
        this.#issueCode(res, tenantId, new URLSearchParams(await readBody()));
        return true;
      }
      return false;
    }
    if (route === 'oauth2/v2.0/token' && req.method === 'POST' && tenantId !== undefined) {
      const text = await readBody();
      const form = new URLSearchParams(text);
      const grantType = form.get('grant_type');
      if (grantType === 'authorization_code') {
        await this.#redeemCode(res, tenantId, form);
        return true;
      }
      if (grantType === 'refresh_token') {
        await this.#redeemRefresh(res, tenantId, form);
        return true;
      }
      // Other grants (client credentials) belong to SimulatedEntra; hand it the body read here.
      return this.#options.entra.handle(req, res, url, () => Promise.resolve(text));
    }
    return false;
  }

  #tenantOf(segment: string): string | undefined {
    return this.#options
      .directory()
      .tenants.find((t) => t.id.toLowerCase() === segment.toLowerCase())?.id;
  }

  #users(tenantId: string): readonly DirectoryUser[] {
    const tenant = this.#options.directory().tenants.find((t) => t.id === tenantId);
    return (tenant?.users ?? []).filter((u) => (u.portalRoles ?? []).length > 0);
  }

  #signInPage(res: ServerResponse, tenantId: string, params: URLSearchParams): void {
    const problem = authorizeProblem(params);
    if (problem !== undefined) {
      sendHtml(res, 400, page('Sign-in error', `<p>${escapeHtml(problem)}</p>`));
      return;
    }
    const hidden = AUTHORIZE_PARAMS.map((name) => {
      const value = params.get(name);
      return value === null
        ? ''
        : `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
    }).join('');
    const buttons = this.#users(tenantId)
      .map(
        (u) =>
          `<li><button type="submit" name="user" value="${escapeHtml(u.id)}">` +
          `<strong>${escapeHtml(u.displayName)}</strong><span>${escapeHtml(u.userPrincipalName ?? u.id)}</span>` +
          `<span>${escapeHtml((u.portalRoles ?? []).join(', '))}</span></button></li>`,
      )
      .join('');
    const body =
      `<p>Teams simulator directory, tenant <code>${escapeHtml(tenantId)}</code>. Pick an account.</p>` +
      `<form method="post">${hidden}<ul>${buttons || '<li>No user of this tenant has a portal role.</li>'}</ul></form>`;
    sendHtml(res, 200, page('Sign in', body));
  }

  #issueCode(res: ServerResponse, tenantId: string, form: URLSearchParams): void {
    const problem = authorizeProblem(form);
    if (problem !== undefined) {
      sendHtml(res, 400, page('Sign-in error', `<p>${escapeHtml(problem)}</p>`));
      return;
    }
    const user = this.#users(tenantId).find((u) => u.id === form.get('user'));
    if (user === undefined) {
      sendHtml(res, 400, page('Sign-in error', '<p>Choose one of the listed accounts.</p>'));
      return;
    }
    const code = randomBytes(32).toString('base64url');
    const nonce = form.get('nonce');
    this.#codes.set(code, {
      tenantId,
      userId: user.id,
      clientId: form.get('client_id') ?? '',
      redirectUri: form.get('redirect_uri') ?? '',
      scope: form.get('scope') ?? '',
      ...(nonce === null ? {} : { nonce }),
      codeChallenge: form.get('code_challenge') ?? '',
      expiresAtInMs: this.#options.clock.nowInMs() + CODE_LIFETIME_IN_MS,
    });
    const answer = new URLSearchParams({ code, client_info: clientInfo(user.id, tenantId) });
    const state = form.get('state');
    if (state !== null) answer.set('state', state);
    const target = new URL(form.get('redirect_uri') ?? '');
    // Entra answers SPAs in the fragment unless the request asked for the query.
    if (form.get('response_mode') === 'query') {
      for (const [k, v] of answer) target.searchParams.set(k, v);
    } else target.hash = answer.toString();
    res.writeHead(302, { location: target.toString() });
    res.end();
  }

  async #redeemCode(res: ServerResponse, tenantId: string, form: URLSearchParams): Promise<void> {
    const code = form.get('code') ?? '';
    const grant = this.#codes.get(code);
    this.#codes.delete(code);
    const fail = (text: string, aadCode: number) =>
      sendJson(res, 400, {
        error: 'invalid_grant',
        error_description: `AADSTS${aadCode}: ${text}`,
        error_codes: [aadCode],
      });
    if (
      grant === undefined ||
      grant.tenantId !== tenantId ||
      grant.expiresAtInMs < this.#options.clock.nowInMs()
    )
      return fail('The provided authorization code is invalid or has expired.', 70008);
    if (grant.clientId !== form.get('client_id'))
      return fail('The client id does not match the one the code was issued to.', 700005);
    if (grant.redirectUri !== form.get('redirect_uri'))
      return fail('The redirect URI does not match the one of the authorization request.', 50148);
    const verifier = form.get('code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (verifier === '' || challenge !== grant.codeChallenge)
      return fail('The code_verifier does not match the code_challenge.', 501481);
    await this.#sendTokens(res, grant);
  }

  async #redeemRefresh(
    res: ServerResponse,
    tenantId: string,
    form: URLSearchParams,
  ): Promise<void> {
    const token = form.get('refresh_token') ?? '';
    const grant = this.#refreshTokens.get(token);
    if (
      grant === undefined ||
      grant.tenantId !== tenantId ||
      grant.clientId !== form.get('client_id') ||
      grant.expiresAtInMs < this.#options.clock.nowInMs()
    ) {
      sendJson(res, 400, {
        error: 'invalid_grant',
        error_description: 'AADSTS700082: The refresh token has expired or is invalid.',
        error_codes: [700082],
      });
      return;
    }
    this.#refreshTokens.delete(token);
    await this.#sendTokens(res, { ...grant, scope: form.get('scope') ?? grant.scope });
  }

  async #sendTokens(
    res: ServerResponse,
    grant: Pick<Grant, 'tenantId' | 'userId' | 'clientId' | 'scope' | 'nonce'>,
  ): Promise<void> {
    const apiScopes = grant.scope.split(' ').filter((s) => s !== '' && !OIDC_SCOPES.has(s));
    // The resource of `api://x/.default` or `<appId>/access_as_user` is what precedes the last `/`.
    const resource = apiScopes[0]?.replace(/\/[^/]*$/, '');
    const access = await this.#options.entra.issueUserToken({
      tenantId: grant.tenantId,
      userId: grant.userId,
      ...(resource === undefined || resource === '' ? {} : { audience: resource }),
    });
    if (access === undefined) {
      sendJson(res, 400, {
        error: 'invalid_grant',
        error_description: 'AADSTS50034: The user account does not exist in this directory.',
        error_codes: [50034],
      });
      return;
    }
    const user = this.#users(grant.tenantId).find((u) => u.id === grant.userId);
    const nowInS = Math.floor(this.#options.clock.nowInMs() / 1000);
    const idToken = await signJwt(this.#options.entra.tokenKey, {
      aud: grant.clientId,
      iss: `${this.#options.baseUrl()}/${grant.tenantId}/v2.0`,
      iat: nowInS,
      nbf: nowInS,
      exp: nowInS + access.expires_in,
      oid: grant.userId,
      sub: grant.userId,
      tid: grant.tenantId,
      name: user?.displayName ?? grant.userId,
      preferred_username: user?.userPrincipalName ?? grant.userId,
      // Entra puts the app roles assigned to the user in the ID token too.
      roles: user?.portalRoles ?? [],
      ...(grant.nonce === undefined ? {} : { nonce: grant.nonce }),
      ver: '2.0',
    });
    const refreshToken = randomBytes(32).toString('base64url');
    this.#refreshTokens.set(refreshToken, {
      tenantId: grant.tenantId,
      userId: grant.userId,
      clientId: grant.clientId,
      scope: grant.scope,
      expiresAtInMs: this.#options.clock.nowInMs() + REFRESH_LIFETIME_IN_MS,
    });
    sendJson(res, 200, {
      token_type: 'Bearer',
      scope: apiScopes.join(' ') || grant.scope,
      expires_in: access.expires_in,
      ext_expires_in: access.expires_in,
      access_token: access.access_token,
      refresh_token: refreshToken,
      id_token: idToken,
      client_info: clientInfo(grant.userId, grant.tenantId),
    });
  }
}

/** Why an authorization request cannot be served, in Entra's words; undefined when it can. */
function authorizeProblem(params: URLSearchParams): string | undefined {
  if ((params.get('client_id') ?? '') === '') return 'AADSTS900144: client_id is required.';
  const redirect = params.get('redirect_uri') ?? '';
  if (!isHttpUrl(redirect)) return 'AADSTS50011: redirect_uri must be an http or https URL.';
  if (params.get('response_type') !== 'code')
    return 'AADSTS70005: only response_type=code is supported (authorization code with PKCE).';
  if ((params.get('code_challenge') ?? '') === '' || params.get('code_challenge_method') !== 'S256')
    return 'AADSTS9002325: Proof Key for Code Exchange (S256) is required for single-page apps.';
  return undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function clientInfo(userId: string, tenantId: string): string {
  return Buffer.from(JSON.stringify({ uid: userId, utid: tenantId })).toString('base64url');
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} - Teams simulator</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#242424}
h1{font-size:1.5rem}ul{list-style:none;padding:0}li{margin:.5rem 0}
button{width:100%;text-align:left;padding:.75rem 1rem;border:1px solid #d1d1d1;border-radius:4px;background:#fff;cursor:pointer;display:grid;gap:.15rem;font:inherit}
button:hover,button:focus{border-color:#0f6cbd;outline:2px solid #0f6cbd}span{color:#616161;font-size:.875rem}</style></head>
<body><main><h1>${title}</h1>${body}</main></body></html>`;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(html)),
    'cache-control': 'no-store',
  });
  res.end(html);
}

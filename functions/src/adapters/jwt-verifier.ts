/**
 * Verifies RS256 bearer JWTs against signing keys published through OpenID metadata.
 * Generic: the calling webhook (Teams, `iss` api.botframework.com) and the admin API (users'
 * Entra tokens) each build one with their own issuers, audiences and tenant allow-list.
 *
 * `jose` parses the token, imports the published keys and checks the RS256 signature; this file
 * keeps what is ours: where the keys come from and how long a copy serves (including while the
 * metadata endpoint is down), and the claim rules with their reasons.
 *
 * A sender reuses one token for many requests (Teams signs one per bot and tenant and sends it
 * with every notification until it nears expiry), so a token whose signature verified is
 * remembered with the key that verified it: the same token string under the same imported key is
 * not verified again (the result could not differ), while the claims (expiry, issuer, audience,
 * tenant) are checked on every request. A key refresh imports new key objects, so nothing
 * verified under a key the metadata no longer lists is honoured past the refresh. This keeps the
 * webhook's hot path free of a signature check (WebCrypto's runs on the thread pool: a round trip
 * through the event loop per notification, and about four times the CPU of a synchronous check).
 */
import {
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  importJWK,
  type CryptoKey,
  type JWK,
} from 'jose';
import type { TokenVerification, TokenVerifier } from '../domain/token-verifier';

export interface JwtVerifierOptions {
  readonly openIdMetadataUrl: string;
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  /** Empty: any tenant is accepted. */
  readonly allowedTenantIds: readonly string[];
  /** Default 5 minutes. */
  readonly clockSkewInMs?: number;
  /** Keys are re-read after this age. Default 2 hours. */
  readonly keysRefreshIntervalInMs?: number;
  /** Cached keys stay usable this long past their refresh time while the metadata endpoint fails. Default 24 hours. */
  readonly keysMaxStaleInMs?: number;
  /** An unknown `kid` triggers at most one refresh per this interval. Default 60 s. */
  readonly unknownKidRefreshIntervalInMs?: number;
  /** Verified tokens remembered (the oldest forgotten first). Default 1,000; 0 disables. */
  readonly verifiedTokenCacheSize?: number;
  /** Default: global fetch with a 5 s timeout. */
  readonly fetchJson?: (url: string) => Promise<unknown>;
  /** Epoch ms. Default Date.now. */
  readonly now?: () => number;
}

interface KeySet {
  /** By `kid`, and by `x5t` where it differs (tokens may name their key either way). */
  readonly keys: ReadonlyMap<string, CryptoKey>;
  readonly fetchedAtMs: number;
}

const TENANT_CLAIM_URI = 'http://schemas.microsoft.com/identity/claims/tenantid';
const ALGORITHM = 'RS256';

/** The token's header and claims, decoded (not verified); undefined when it is not a JWT. */
function decode(
  token: string,
): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    return undefined;
  }
}

async function defaultFetchJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`metadata request answered ${response.status}`);
  return response.json();
}

export class OpenIdJwtVerifier implements TokenVerifier {
  readonly #options: JwtVerifierOptions;
  readonly #now: () => number;
  readonly #fetchJson: (url: string) => Promise<unknown>;
  #keySet: KeySet | undefined;
  #refreshing: Promise<KeySet> | undefined;
  #lastForcedRefreshMs = Number.NEGATIVE_INFINITY;
  /** Tokens whose signature verified, with the key object that verified each. */
  readonly #verified = new Map<string, CryptoKey>();

  constructor(options: JwtVerifierOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#fetchJson = options.fetchJson ?? defaultFetchJson;
  }

  /** Loads the keys ahead of the first request; failures are left for `verify` to report. */
  async warmUp(): Promise<void> {
    await this.#getKeys(false).catch(() => undefined);
  }

  async verify(authorizationHeader: string | undefined): Promise<TokenVerification> {
    const invalid = (reason: string): TokenVerification => ({ isValid: false, reason });
    const match = /^bearer\s+(\S+)$/i.exec(authorizationHeader?.trim() ?? '');
    if (match?.[1] === undefined) return invalid('missingBearerToken');
    const jwt = match[1];
    if (jwt.split('.').length !== 3) return invalid('malformedToken');
    const decoded = decode(jwt);
    if (decoded === undefined) return invalid('malformedToken');
    const { header, claims } = decoded;
    if (header.alg !== ALGORITHM) return invalid('unsupportedAlgorithm');
    const kid =
      typeof header.kid === 'string'
        ? header.kid
        : typeof header.x5t === 'string'
          ? header.x5t
          : undefined;
    if (kid === undefined) return invalid('missingKeyId');

    let key: CryptoKey | undefined;
    try {
      key = (await this.#getKeys(false)).keys.get(kid);
      if (
        key === undefined &&
        this.#now() - this.#lastForcedRefreshMs >=
          (this.#options.unknownKidRefreshIntervalInMs ?? 60_000)
      ) {
        this.#lastForcedRefreshMs = this.#now();
        key = (await this.#getKeys(true)).keys.get(kid);
      }
    } catch {
      return invalid('signingKeysUnavailable');
    }
    if (key === undefined) return invalid('unknownKeyId');

    if (this.#verified.get(jwt) !== key) {
      try {
        await compactVerify(jwt, key, { algorithms: [ALGORITHM] });
      } catch (error) {
        return invalid(
          error instanceof errors.JOSEAlgNotAllowed ? 'unsupportedAlgorithm' : 'badSignature',
        );
      }
      this.#rememberVerified(jwt, key);
    }

    const now = this.#now();
    const skew = this.#options.clockSkewInMs ?? 5 * 60_000;
    if (typeof claims.exp !== 'number') return invalid('missingExpiry');
    if (claims.exp * 1000 + skew < now) return invalid('expired');
    if (typeof claims.nbf === 'number' && claims.nbf * 1000 - skew > now)
      return invalid('notYetValid');

    const issuer = typeof claims.iss === 'string' ? claims.iss : '';
    if (!this.#options.issuers.includes(issuer)) return invalid('wrongIssuer');
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const audience = audiences.find(
      (aud): aud is string => typeof aud === 'string' && this.#options.audiences.includes(aud),
    );
    if (audience === undefined) return invalid('wrongAudience');

    const tenantRaw = claims.tid ?? claims[TENANT_CLAIM_URI] ?? claims.tenantId;
    const tenantId = typeof tenantRaw === 'string' ? tenantRaw : '';
    if (tenantId === '') return invalid('missingTenant');
    const allowed = this.#options.allowedTenantIds;
    if (allowed.length > 0 && !allowed.some((t) => t.toLowerCase() === tenantId.toLowerCase())) {
      return invalid('tenantNotServed');
    }
    const subjectRaw = claims.oid ?? claims.appid ?? claims.azp ?? claims.sub;
    return {
      isValid: true,
      token: {
        issuer,
        audience,
        tenantId,
        subject: typeof subjectRaw === 'string' ? subjectRaw : '',
        roles: Array.isArray(claims.roles)
          ? claims.roles.filter((r): r is string => typeof r === 'string')
          : [],
        expiresAt: new Date(claims.exp * 1000),
        claims,
      },
    };
  }

  #rememberVerified(jwt: string, key: CryptoKey): void {
    const capacity = this.#options.verifiedTokenCacheSize ?? 1_000;
    if (capacity <= 0) return;
    this.#verified.delete(jwt);
    this.#verified.set(jwt, key);
    if (this.#verified.size > capacity)
      this.#verified.delete(this.#verified.keys().next().value as string);
  }

  async #getKeys(force: boolean): Promise<KeySet> {
    const current = this.#keySet;
    const refreshInterval = this.#options.keysRefreshIntervalInMs ?? 2 * 60 * 60_000;
    const age = current === undefined ? Infinity : this.#now() - current.fetchedAtMs;
    if (current !== undefined && !force && age < refreshInterval) return current;
    try {
      this.#refreshing ??= this.#load().finally(() => {
        this.#refreshing = undefined;
      });
      const loaded = await this.#refreshing;
      this.#keySet = loaded;
      return loaded;
    } catch (error) {
      // Bounded fallback: keep serving the last good keys while the endpoint is down.
      const maxStale = this.#options.keysMaxStaleInMs ?? 24 * 60 * 60_000;
      if (current !== undefined && age < refreshInterval + maxStale) return current;
      throw error;
    }
  }

  async #load(): Promise<KeySet> {
    const metadata = await this.#fetchJson(this.#options.openIdMetadataUrl);
    const jwksUri = (metadata as { jwks_uri?: unknown } | null)?.jwks_uri;
    if (typeof jwksUri !== 'string') throw new Error('OpenID metadata has no jwks_uri');
    const jwks = (await this.#fetchJson(jwksUri)) as { keys?: unknown } | null;
    const keys = new Map<string, CryptoKey>();
    for (const jwk of Array.isArray(jwks?.keys) ? (jwks.keys as JWK[]) : []) {
      if (jwk.kty !== 'RSA' || typeof jwk.kid !== 'string') continue;
      try {
        // Imported once per refresh, not per token: verification then costs the signature only.
        const key = await importJWK({ kty: jwk.kty, n: jwk.n, e: jwk.e }, ALGORITHM);
        if (!isCryptoKey(key)) continue;
        keys.set(jwk.kid, key);
        if (typeof jwk.x5t === 'string' && jwk.x5t !== jwk.kid) keys.set(jwk.x5t, key);
      } catch {
        // A malformed key is skipped; the others stay usable.
      }
    }
    return { keys, fetchedAtMs: this.#now() };
  }
}

function isCryptoKey(key: CryptoKey | Uint8Array): key is CryptoKey {
  return !(key instanceof Uint8Array);
}

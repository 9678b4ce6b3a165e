import type { EnvReader } from '@attest/core';

/** What the portal (web/) needs to sign users in; served to the browser as `portal/config.json`. */
export interface PortalConfig {
  /** Folder of the built single-page app. */
  readonly staticDir: string;
  /** Entra app (client) id of the portal's SPA registration. */
  readonly clientId: string;
  /** `https://login.microsoftonline.com/<tenant>` or the local simulator's equivalent. */
  readonly authority: string;
  /** Scopes the portal asks for; the first names the admin API (its audience). */
  readonly scopes: readonly string[];
}

/**
 * `ATTEST_PORTAL_DIR` (default `web/dist` of this repository), `ATTEST_PORTAL_CLIENT_ID` (default
 * the app id), `ATTEST_PORTAL_AUTHORITY` (default the first admin token issuer without `/v2.0`),
 * `ATTEST_PORTAL_SCOPES` (default `<first admin audience>/.default`).
 */
export function readPortalConfig(
  reader: EnvReader,
  defaults: {
    readonly appId: string;
    readonly adminIssuers: readonly string[];
    readonly adminAudiences: readonly string[];
    readonly defaultStaticDir: string;
  },
): PortalConfig {
  const issuer = defaults.adminIssuers[0] ?? '';
  const authority =
    reader.url('ATTEST_PORTAL_AUTHORITY', { required: false }) ?? issuer.replace(/\/v2\.0\/?$/, '');
  const audience = defaults.adminAudiences[0] ?? defaults.appId;
  return {
    staticDir: reader.stringOr('ATTEST_PORTAL_DIR', defaults.defaultStaticDir),
    clientId: reader.stringOr('ATTEST_PORTAL_CLIENT_ID', defaults.appId),
    authority,
    scopes: reader.list('ATTEST_PORTAL_SCOPES', [`${audience}/.default`]),
  };
}

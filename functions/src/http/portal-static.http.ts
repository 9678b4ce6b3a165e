/**
 * The portal's static files (`GET /api/portal/{*path}`): the built single-page app from
 * `web/dist`, with content types, `index.html` for any path that is not a file (the app routes
 * in the browser), and `config.json` with the public sign-in settings. No token: these are the
 * same for everyone and hold no data; every data call the app makes goes to the admin API.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { ErrorCode } from '@attest/core';
import type { PortalConfig } from '../config/portal-config';
import { problem } from './problem';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers every portal file carries: no framing by other sites, no sniffing. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export function createPortalStaticHandler(config: PortalConfig): HttpHandler {
  const root = normalize(config.staticDir);
  const readAsset = async (relative: string): Promise<Buffer | undefined> => {
    const path = normalize(join(root, relative));
    if (path !== root && !path.startsWith(root + sep)) return undefined;
    return readFile(path).catch(() => undefined);
  };
  return async (request): Promise<HttpResponseInit> => {
    const relative = decodeURIComponent(request.params.path ?? '').replace(/^\/+/, '');
    if (relative === 'config.json')
      return {
        status: 200,
        headers: { ...SECURITY_HEADERS, 'cache-control': 'no-cache' },
        jsonBody: {
          clientId: config.clientId,
          authority: config.authority,
          scopes: config.scopes,
        },
      };
    const isAsset = extname(relative) !== '';
    const bytes = isAsset ? await readAsset(relative) : await readAsset('index.html');
    if (bytes === undefined)
      return isAsset
        ? problem(
            404,
            ErrorCode.NotFound,
            `[ATT_NOT_FOUND] no portal file ${relative.slice(0, 100)}`,
          )
        : problem(
            503,
            ErrorCode.ConfigInvalid,
            '[ATT_CONFIG_INVALID] the portal is not built: run npm run build',
          );
    return {
      status: 200,
      headers: {
        ...SECURITY_HEADERS,
        'content-type':
          CONTENT_TYPES[extname(isAsset ? relative : 'index.html')] ?? 'application/octet-stream',
        // Bundles are named by content hash; index.html must be fetched again to find new ones.
        'cache-control': /\.[0-9A-Z]{8}\.(js|css)$/.test(relative)
          ? 'public, max-age=31536000, immutable'
          : 'no-cache',
      },
      body: bytes,
    };
  };
}

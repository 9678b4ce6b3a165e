/**
 * The two storage calls the writer pipeline makes for every block of every stream, Put Block and
 * Put Block List, as plain REST requests over keep-alive connections. The Azure SDK's request
 * pipeline (policies, tracing, URL parsing, per-call client objects) costs several hundred
 * microseconds of CPU per request, which at one block per stream per second is most of the host's
 * budget; these requests cost a small fraction of that. Everything else keeps using the SDK.
 *
 * Authentication: Shared Key when the connection string carries an account key (Azurite, and
 * accounts that allow it), else a bearer token from the managed identity (Azure), cached until
 * shortly before it expires. REST reference: https://learn.microsoft.com/rest/api/storageservices/put-block
 * and https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key.
 */
import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { TokenCredential } from '@azure/identity';

/** The service version sent with every request (the one the installed SDK speaks). */
const SERVICE_VERSION = '2026-02-06';
const STORAGE_SCOPE = 'https://storage.azure.com/.default';

export interface BlockWriteClient {
  stageBlock(container: string, blobName: string, blockId: string, bytes: Buffer): Promise<void>;
  commitBlockList(container: string, blobName: string, blockIds: readonly string[], contentType: string): Promise<void>;
  /** Closes idle connections; idempotent. */
  close(): void;
}

/** A storage answer other than success; `statusCode` decides whether it is retried. */
export class BlobRestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
  ) {
    super(`storage answered ${statusCode}${code !== '' ? ` ${code}` : ''}`);
    this.name = 'BlobRestError';
  }
}

export interface BlockWriteClientOptions {
  /** A storage connection string with `AccountName` and `AccountKey` (Shared Key). */
  readonly connectionString?: string;
  /** The blob endpoint (`https://{account}.blob.core.windows.net`) for token authentication. */
  readonly accountUrl?: string;
  readonly credential?: TokenCredential;
  /** Per-request timeout; a request that takes longer fails as a transient error. Default 30 000. */
  readonly requestTimeoutInMs?: number;
  /** Connections kept per storage endpoint. Default 64. */
  readonly maxSockets?: number;
}

interface SharedKey {
  readonly accountName: string;
  readonly key: Buffer;
}

/** Parses what the fast path needs from a connection string; undefined when it has no account key. */
export function parseSharedKeyConnectionString(connectionString: string): { endpoint: URL; sharedKey: SharedKey } | undefined {
  const parts = new Map<string, string>();
  for (const part of connectionString.split(';')) {
    const at = part.indexOf('=');
    if (at > 0) parts.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const accountName = parts.get('accountname');
  const accountKey = parts.get('accountkey');
  if (accountName === undefined || accountKey === undefined) return undefined;
  const blobEndpoint =
    parts.get('blobendpoint') ?? `${parts.get('defaultendpointsprotocol') ?? 'https'}://${accountName}.blob.${parts.get('endpointsuffix') ?? 'core.windows.net'}`;
  return { endpoint: new URL(blobEndpoint), sharedKey: { accountName, key: Buffer.from(accountKey, 'base64') } };
}

/** Percent-encodes each segment of a blob path, keeping the slashes. */
function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function createBlockWriteClient(options: BlockWriteClientOptions): BlockWriteClient {
  const parsed = options.connectionString !== undefined ? parseSharedKeyConnectionString(options.connectionString) : undefined;
  const endpoint = parsed?.endpoint ?? new URL(options.accountUrl ?? '');
  const sharedKey = parsed?.sharedKey;
  if (sharedKey === undefined && options.credential === undefined) throw new Error('a shared key connection string or a token credential is needed');
  const isHttps = endpoint.protocol === 'https:';
  const maxSockets = options.maxSockets ?? 64;
  const agent = isHttps ? new HttpsAgent({ keepAlive: true, maxSockets }) : new HttpAgent({ keepAlive: true, maxSockets });
  const send = isHttps ? httpsRequest : httpRequest;
  const timeoutInMs = options.requestTimeoutInMs ?? 30_000;
  // Path-style endpoints (Azurite) carry the account in the path; keep it without a trailing slash.
  const basePath = endpoint.pathname.replace(/\/$/, '');
  let token: { value: string; refreshAfter: number } | undefined;

  const authorization = async (method: string, path: string, query: readonly [string, string][], headers: Record<string, string>, contentLength: number): Promise<string> => {
    if (sharedKey === undefined) {
      if (token === undefined || Date.now() >= token.refreshAfter) {
        const fresh = await options.credential!.getToken(STORAGE_SCOPE);
        if (fresh === null) throw new Error('no storage token from the managed identity');
        token = { value: fresh.token, refreshAfter: fresh.expiresOnTimestamp - 120_000 };
      }
      return `Bearer ${token.value}`;
    }
    const canonicalHeaders = Object.keys(headers)
      .filter((name) => name.startsWith('x-ms-'))
      .sort()
      .map((name) => `${name}:${headers[name]}\n`)
      .join('');
    const canonicalQuery = [...query]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `\n${name}:${value}`)
      .join('');
    const contentType = headers['content-type'] ?? '';
    const stringToSign = `${method}\n\n\n${contentLength === 0 ? '' : contentLength}\n\n${contentType}\n\n\n\n\n\n\n${canonicalHeaders}/${sharedKey.accountName}${path}${canonicalQuery}`;
    return `SharedKey ${sharedKey.accountName}:${createHmac('sha256', sharedKey.key).update(stringToSign, 'utf8').digest('base64')}`;
  };

  const put = async (container: string, blobName: string, query: readonly [string, string][], body: Buffer, extraHeaders: Record<string, string>): Promise<void> => {
    const path = `${basePath}/${encodeURIComponent(container)}/${encodePath(blobName)}`;
    const headers: Record<string, string> = { ...extraHeaders, 'x-ms-date': new Date().toUTCString(), 'x-ms-version': SERVICE_VERSION };
    headers.authorization = await authorization('PUT', path, query, headers, body.length);
    headers['content-length'] = String(body.length);
    const search = query.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
    await new Promise<void>((resolve, reject) => {
      const request = send(
        { agent, method: 'PUT', protocol: endpoint.protocol, hostname: endpoint.hostname, port: endpoint.port, path: `${path}?${search}`, headers },
        (response: IncomingMessage) => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            response.resume();
            response.once('end', resolve);
            response.once('error', reject);
            return;
          }
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('error', reject);
          response.once('end', () => {
            const code = response.headers['x-ms-error-code'];
            const text = Buffer.concat(chunks).toString('utf8');
            reject(new BlobRestError(status, typeof code === 'string' ? code : (/<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '')));
          });
        },
      );
      request.setTimeout(timeoutInMs, () => request.destroy(new Error(`storage request timed out after ${timeoutInMs} ms`)));
      request.once('error', reject);
      request.end(body);
    });
  };

  return {
    stageBlock(container, blobName, blockId, bytes) {
      return put(container, blobName, [['blockid', blockId], ['comp', 'block']], bytes, {});
    },
    commitBlockList(container, blobName, blockIds, contentType) {
      const xml = `<?xml version="1.0" encoding="utf-8"?><BlockList>${blockIds.map((id) => `<Latest>${id}</Latest>`).join('')}</BlockList>`;
      return put(container, blobName, [['comp', 'blocklist']], Buffer.from(xml, 'utf8'), { 'content-type': 'application/xml', 'x-ms-blob-content-type': contentType });
    },
    close() {
      agent.destroy();
    },
  };
}

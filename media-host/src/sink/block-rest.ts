/**
 * The host's most frequent storage requests, Put Block and Put Block List (each stream, every
 * commit) and Append Block (each session's custody journal, every commit), sent as plain REST
 * requests over a pool of keep-alive sockets ({@link Http1Pool}), with the same
 * authentication as the SDK client they sit beside: Shared Key (signed with the SDK's
 * `StorageSharedKeyCredential`, locally from the connection string) or a bearer token from an
 * `@azure/identity` credential (managed identity in Azure). Every other request goes through
 * `@azure/storage-blob`. Why: measured on the media host, a Put Block through the SDK pipeline
 * cost several times the CPU of the same request sent here (`docs/media-storage.md`).
 *
 * Failures keep the semantics of {@link isTransientStorageError}: an answer with a status rejects
 * with a {@link StorageRequestError} carrying `statusCode` and the service's error `code`
 * (408/429/5xx retried, other 4xx not); no answer (refused, reset, timeout) rejects with a
 * `TransportError` without status (retried).
 */
import type { TokenCredential } from '@azure/core-auth';
import type { StorageSharedKeyCredential } from '@azure/storage-blob';
import { Http1Pool, type Http1Response } from './http1-pool';
import { TransportError } from './keep-alive-http-client';

/** The REST API version sent (one Azurite and Blob Storage both serve). */
export const BLOB_API_VERSION = '2025-01-05';
const STORAGE_SCOPE = 'https://storage.azure.com/.default';

/** A storage answer that is not a success: `statusCode` and the service's error code. */
export class StorageRequestError extends Error {
  override readonly name = 'StorageRequestError';
  readonly statusCode: number;
  readonly code: string;
  constructor(operation: string, statusCode: number, code: string) {
    super(`${operation} answered ${statusCode} ${code}`);
    this.statusCode = statusCode;
    this.code = code;
  }
}

export type BlockRestAuth =
  | {
      readonly kind: 'sharedKey';
      readonly credential: Pick<StorageSharedKeyCredential, 'accountName' | 'computeHMACSHA256'>;
    }
  | { readonly kind: 'token'; readonly credential: TokenCredential };

export interface BlockRestOptions {
  readonly auth: BlockRestAuth;
  /** Sockets kept per storage endpoint at most. Default 64. */
  readonly maxSockets?: number;
  /** Default 30 000. */
  readonly requestTimeoutInMs?: number;
  /** Wall clock for `x-ms-date` and token expiry (tests). */
  readonly now?: () => number;
}

export interface BlockRest {
  /** Put Block to `blobUrl` (the blob's URL without query, as the SDK client gives it). */
  putBlock(blobUrl: string, blockId: string, bytes: Buffer): Promise<void>;
  /** Put Block List: exactly `blockIds` as the blob's content (`Latest` of each). */
  putBlockList(blobUrl: string, blockIds: readonly string[], contentType: string): Promise<void>;
  /**
   * Append Block: `bytes` at the end of the append blob at `blobUrl`. A blob that does not exist
   * answers 404 (a {@link StorageRequestError}); creating it is left to the SDK (once a blob).
   */
  appendBlock(blobUrl: string, bytes: Buffer): Promise<void>;
  /** Closes the sockets; idempotent. */
  close(): void;
}

/** The Shared Key string to sign for a request with no Content-* headers but length and type. */
export function sharedKeyStringToSign(
  accountName: string,
  method: string,
  url: URL,
  contentLength: number,
  contentType: string,
  msHeaders: Readonly<Record<string, string>>,
): string {
  const canonicalHeaders = Object.keys(msHeaders)
    .map((name) => name.toLowerCase())
    .sort()
    .map((name) => `${name}:${msHeaders[name]!.trim()}\n`)
    .join('');
  const query = [...url.searchParams.entries()]
    .map(([name, value]) => [name.toLowerCase(), value] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, value]) => `\n${name}:${value}`)
    .join('');
  return [
    method,
    '', // Content-Encoding
    '', // Content-Language
    contentLength === 0 ? '' : String(contentLength),
    '', // Content-MD5
    contentType,
    '', // Date (x-ms-date is sent)
    '', // If-Modified-Since
    '', // If-Match
    '', // If-None-Match
    '', // If-Unmodified-Since
    '', // Range
    `${canonicalHeaders}/${accountName}${url.pathname}${query}`,
  ].join('\n');
}

const errorCodeOf = (response: Http1Response): string => {
  const header = response.headers.get('x-ms-error-code');
  if (header !== undefined && header !== '') return header;
  return /<Code>([^<]*)<\/Code>/.exec(response.body.toString('utf8'))?.[1] ?? 'Unknown';
};

export function createBlockRest(options: BlockRestOptions): BlockRest {
  const timeoutInMs = options.requestTimeoutInMs ?? 30_000;
  const now = options.now ?? Date.now;
  let token: { value: string; refreshAfter: number } | undefined;
  let tokenRequest: Promise<string> | undefined;
  const pools = new Map<string, Http1Pool>();

  const bearer = async (credential: TokenCredential): Promise<string> => {
    if (token !== undefined && now() < token.refreshAfter) return token.value;
    tokenRequest ??= (async () => {
      try {
        const access = await credential.getToken(STORAGE_SCOPE);
        if (access === null) throw new TransportError('no storage token', 'NO_TOKEN');
        // Refreshed 5 minutes before it expires.
        token = { value: access.token, refreshAfter: access.expiresOnTimestamp - 5 * 60_000 };
        return access.token;
      } finally {
        tokenRequest = undefined;
      }
    })();
    return tokenRequest;
  };

  const send = async (
    operation: string,
    url: URL,
    body: Buffer,
    contentType: string,
    extraHeaders: Record<string, string>,
  ): Promise<void> => {
    const msHeaders: Record<string, string> = {
      'x-ms-date': new Date(now()).toUTCString(),
      'x-ms-version': BLOB_API_VERSION,
      ...extraHeaders,
    };
    const headers: Record<string, string> = { ...msHeaders };
    if (contentType !== '') headers['content-type'] = contentType;
    const auth = options.auth;
    if (auth.kind === 'sharedKey') {
      const toSign = sharedKeyStringToSign(
        auth.credential.accountName,
        'PUT',
        url,
        body.length,
        contentType,
        msHeaders,
      );
      headers.authorization = `SharedKey ${auth.credential.accountName}:${auth.credential.computeHMACSHA256(toSign)}`;
    } else {
      headers.authorization = `Bearer ${await bearer(auth.credential)}`;
    }
    let pool = pools.get(url.origin);
    if (pool === undefined) {
      pool = new Http1Pool(url, { maxSockets: options.maxSockets ?? 64 });
      pools.set(url.origin, pool);
    }
    let lines = '';
    for (const name in headers) lines += `${name}: ${headers[name]!}\r\n`;
    const response = await pool.request(
      'PUT',
      `${url.pathname}${url.search}`,
      lines,
      body,
      timeoutInMs,
    );
    if (response.status < 200 || response.status >= 300)
      throw new StorageRequestError(operation, response.status, errorCodeOf(response));
  };

  return {
    putBlock(blobUrl, blockId, bytes) {
      const url = new URL(blobUrl);
      url.searchParams.set('comp', 'block');
      url.searchParams.set('blockid', blockId);
      return send('Put Block', url, bytes, '', {});
    },
    putBlockList(blobUrl, blockIds, contentType) {
      const url = new URL(blobUrl);
      url.searchParams.set('comp', 'blocklist');
      // Block ids are base64: nothing in them needs escaping in XML.
      const xml = `<?xml version="1.0" encoding="utf-8"?><BlockList>${blockIds.map((id) => `<Latest>${id}</Latest>`).join('')}</BlockList>`;
      return send(
        'Put Block List',
        url,
        Buffer.from(xml, 'utf8'),
        'application/xml; charset=utf-8',
        { 'x-ms-blob-content-type': contentType },
      );
    },
    appendBlock(blobUrl, bytes) {
      const url = new URL(blobUrl);
      url.searchParams.set('comp', 'appendblock');
      return send('Append Block', url, bytes, '', {});
    },
    close() {
      for (const pool of pools.values()) pool.close();
      pools.clear();
    },
  };
}

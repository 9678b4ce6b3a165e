/**
 * Counts this process's HTTP requests to storage accounts (Azurite), by account, service and
 * operation, through Node's `http.client.request.start` diagnostics channel: every Azure SDK
 * request goes through Node's http module, so nothing in product code is wrapped. Counts are
 * independent of load, so they can be compared across runs on a busy machine.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

export type StorageCounts = Record<string, number>;

/** `{ account: connection string }`; the endpoints' host:port pairs identify the requests. */
export function countStorageRequests(accounts: Readonly<Record<string, string>>): {
  snapshot(): StorageCounts;
} {
  const endpoints = new Map<string, { account: string; service: string }>();
  for (const [account, connection] of Object.entries(accounts)) {
    for (const [key, service] of [
      ['BlobEndpoint', 'blob'],
      ['QueueEndpoint', 'queue'],
      ['TableEndpoint', 'table'],
    ] as const) {
      const url = new RegExp(`${key}=([^;]+)`).exec(connection)?.[1];
      if (url !== undefined) endpoints.set(new URL(url).host, { account, service });
    }
  }
  const counts: StorageCounts = {};
  subscribe('http.client.request.start', (message) => {
    const request = (message as { request: ClientRequest }).request;
    const host = String(request.getHeader('host') ?? `${request.host}`);
    const endpoint = endpoints.get(host);
    if (endpoint === undefined) return;
    const name = `${endpoint.account}.${endpoint.service}.${operationOf(endpoint.service, request.method, request.path)}`;
    counts[name] = (counts[name] ?? 0) + 1;
  });
  return { snapshot: () => ({ ...counts }) };
}

/** The storage operation a request performs, from its method, path and query. */
export function operationOf(service: string, method: string, path: string): string {
  const [pathname = '', query = ''] = path.split('?');
  const comp = /(?:^|&)comp=([^&]+)/.exec(query)?.[1];
  if (service === 'table') {
    if (pathname.endsWith('$batch')) return 'batch';
    const isEntity = /\(.*\)$/.test(decodeURIComponent(pathname));
    if (method === 'GET') return isEntity ? 'getEntity' : 'queryEntities';
    if (method === 'POST') return /\/Tables$/i.test(pathname) ? 'createTable' : 'insertEntity';
    if (method === 'PUT') return 'upsertReplace';
    if (method === 'MERGE' || method === 'PATCH') return 'merge';
    if (method === 'DELETE') return 'deleteEntity';
  }
  if (service === 'queue') {
    const isMessage = /\/messages\/[^/]+$/.test(pathname);
    if (method === 'POST') return 'putMessage';
    if (method === 'GET') return query.includes('peekonly=true') ? 'peekMessages' : 'getMessages';
    if (method === 'DELETE') return isMessage ? 'deleteMessage' : 'clearOrDelete';
    if (method === 'PUT') return isMessage ? 'updateMessage' : 'createQueue';
  }
  if (service === 'blob') {
    if (comp !== undefined) return `${method.toLowerCase()}:${comp}`;
    if (method === 'PUT') return 'putBlob';
    if (method === 'GET') return 'getBlob';
    if (method === 'HEAD') return 'getProperties';
    if (method === 'DELETE') return 'deleteBlob';
  }
  return `${method.toLowerCase()}:other`;
}

/** (after - before) / calls, per name, rounded; names with no requests in between are left out. */
export function perCall(
  before: StorageCounts,
  after: StorageCounts,
  calls: number,
): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, count] of Object.entries(after)) {
    const delta = count - (before[name] ?? 0);
    if (delta > 0) result[name] = Number((delta / Math.max(1, calls)).toFixed(2));
  }
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The sum of every name's per-call figure. */
export const totalOf = (counts: Readonly<Record<string, number>>): number =>
  Number(
    Object.values(counts)
      .reduce((sum, n) => sum + n, 0)
      .toFixed(2),
  );

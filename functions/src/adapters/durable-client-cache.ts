/**
 * One `DurableClient` per distinct durable client binding value, instead of one per invocation.
 * `df.getClient` deep-copies the binding, validates each of its URLs and builds an HTTP client:
 * about a millisecond of CPU on every webhook notification, and the binding is the same for every
 * invocation of a host (task hub, management URLs, the host's key). A binding that changes (a
 * rotated key) gets its own client; the oldest is forgotten beyond `maxEntries`.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableClient } from 'durable-functions';

export interface DurableClientCacheOptions {
  /** Builds a client; default `df.getClient`. */
  readonly getClient?: (context: InvocationContext) => DurableClient;
  /** Distinct bindings remembered. Default 4. */
  readonly maxEntries?: number;
}

const isDurableClientInput = (input: { type: string }): boolean =>
  input.type === 'durableClient' || input.type === 'orchestrationClient';

/** Returns `(context) => DurableClient`, building a client only for a binding value not seen yet. */
export function createDurableClientCache(
  options: DurableClientCacheOptions = {},
): (context: InvocationContext) => DurableClient {
  const getClient = options.getClient ?? df.getClient;
  const maxEntries = options.maxEntries ?? 4;
  const clients = new Map<string, DurableClient>();
  return (context) => {
    const input = context.options.extraInputs.find(isDurableClientInput);
    const value = input === undefined ? undefined : context.extraInputs.get(input);
    // No binding value: let the SDK report what is missing.
    if (value === undefined || value === null) return getClient(context);
    const key = typeof value === 'string' ? value : JSON.stringify(value);
    const cached = clients.get(key);
    if (cached !== undefined) return cached;
    const client = getClient(context);
    clients.set(key, client);
    if (clients.size > maxEntries) clients.delete(clients.keys().next().value as string);
    return client;
  };
}

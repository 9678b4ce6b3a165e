/**
 * A page's data and actions: `useLoad` (loading, error and data states, optional auto refresh),
 * `useResource` (the same for one admin API GET) and `useAction` (an action's error and
 * whether it runs).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Api } from './api';

export type Load<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'error'; readonly error: Error }
  | { readonly state: 'ready'; readonly data: T; readonly loadedAt: Date };

export function useLoad<T>(
  fetcher: () => Promise<T>,
  deps: readonly unknown[],
  options: { readonly refreshInMs?: number } = {},
): Load<T> & { reload(): void } {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const generation = useRef(0);
  const run = useCallback(fetcher, deps);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    run().then(
      (data) => {
        if (mine === generation.current) setLoad({ state: 'ready', data, loadedAt: new Date() });
      },
      (error: unknown) => {
        if (mine === generation.current)
          setLoad({
            state: 'error',
            error: error instanceof Error ? error : new Error(String(error)),
          });
      },
    );
  }, [run]);
  useEffect(() => {
    setLoad({ state: 'loading' });
    reload();
    if (options.refreshInMs === undefined) return undefined;
    const timer = setInterval(reload, options.refreshInMs);
    return () => clearInterval(timer);
  }, [reload, options.refreshInMs]);
  return { ...load, reload };
}

/** One admin API resource (GET `path`), loaded again when the path changes. */
export function useResource<T>(
  api: Api,
  path: string,
  options: { readonly refreshInMs?: number } = {},
): Load<T> & { reload(): void } {
  return useLoad(() => api.get<T>(path), [api, path], options);
}

/**
 * Runs a page's actions (a POST, a download): clears the last error first, keeps the error an
 * action ends with for `Failure` to show, and says which action (by key) is running.
 */
export function useAction(): {
  readonly error: Error | undefined;
  readonly running: string | undefined;
  run(action: () => Promise<void>, key?: string): Promise<void>;
} {
  const [error, setError] = useState<Error | undefined>();
  const [running, setRunning] = useState<string | undefined>();
  const run = useCallback(async (action: () => Promise<void>, key?: string) => {
    setError(undefined);
    setRunning(key);
    try {
      await action();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setRunning(undefined);
    }
  }, []);
  return { error, running, run };
}
